"""The miners' error hierarchy: every message says what was expected, what was found and what to do."""

from __future__ import annotations


class MinerError(Exception):
    """Base of every error a miner raises on purpose; the CLIs turn it into exit code 2."""


class MinerVersionMismatchError(MinerError):
    """The installed library version lies outside the envelope of the library's SSOT file."""

    def __init__(self, *, library: str, installed: str, envelope: str, role: str, ssot: str) -> None:
        super().__init__(
            f"{library} {installed} is installed, but the {role} miner's envelope in {ssot} is "
            f"'{envelope}'. Check the library's release notes for validator changes, update the "
            f"miner if needed, then widen miner_pins.{role} in {ssot}."
        )


class MinerVersionUndeclaredError(MinerError):
    """The installed library version is not one the library's SSOT file keeps a corpus of."""

    def __init__(self, *, library: str, installed: str, declared: list[str], ssot: str) -> None:
        super().__init__(
            f"{library} {installed} is installed, but {ssot} declares only {', '.join(declared)}. Add it under "
            f"versions: (its miner_pins and landmarks), with its requirements_{installed}.in, lock and corpus "
            "target (docs/corpus.md, 'Adding a library version')."
        )


class MinerLandmarkMissingError(MinerError):
    """A class, method or function the miner is told to read is not in the library."""

    def __init__(self, *, library: str, version: str, expected: str, found: str, ssot: str) -> None:
        super().__init__(
            f"{library} {version}: expected {expected}, found {found}. The library was refactored: "
            f"update the landmark in {ssot} (and the miner, if the validator moved or changed shape)."
        )


class SchemaError(MinerError):
    """A corpus, staging or SSOT file is malformed."""

    def __init__(self, path: str, problem: str, *, rule_id: str | None = None) -> None:
        where = f"{path}: rule {rule_id!r}" if rule_id else path
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.rule_id = rule_id
        self.problem = problem

"""The agreement suite's data and arithmetic: case files, verdicts, the report.

A case file (`<library>_cases.yaml`) is a list of configs taken from material nobody
on the project wrote (the libraries' own tests and docs, real models' configs):

    - id: generation-config-greedy-two-sequences
      source: "huggingface/transformers tests/generation/test_configuration_utils.py test_validate"
      config:
        GenerationConfig: {do_sample: false, num_beams: 1, num_return_sequences: 2}

No case says what the library makes of it: that verdict is computed live, by
agreement_test.py, every time. This module only reads cases and compares verdicts,
so it runs without either library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MESSAGE_WIDTH = 160


class CaseFileError(Exception):
    """A case file that cannot be measured: malformed, a duplicate id, a missing source."""


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    section: str  # the config class, by its short name (GenerationConfig)
    kwargs: Mapping[str, Any]


def parse_cases(data: Any, path: str) -> list[Case]:
    """The cases of a loaded case file, in file order; every problem names the entry and the fix."""
    if not isinstance(data, list) or not data:
        raise CaseFileError(f"{path}: expected a non-empty list of {{id, source, config}} entries")
    cases: list[Case] = []
    seen: set[str] = set()
    for index, entry in enumerate(data):
        where = f"{path}: entry {index}"
        if not isinstance(entry, Mapping) or set(entry) != {"id", "source", "config"}:
            raise CaseFileError(f"{where}: expected exactly the keys id, source and config")
        case_id, source, config = entry["id"], entry["source"], entry["config"]
        if not isinstance(case_id, str) or not _ID.match(case_id):
            raise CaseFileError(f"{where}: id {case_id!r} must be a lower-case slug (a-z, 0-9, -)")
        if case_id in seen:
            raise CaseFileError(f"{where}: id {case_id!r} is used twice; give each case its own id")
        seen.add(case_id)
        if not isinstance(source, str) or not source.strip():
            raise CaseFileError(f"{where} ({case_id}): source must say where the config comes from")
        if not isinstance(config, Mapping) or len(config) != 1:
            raise CaseFileError(f"{where} ({case_id}): config must map exactly one class name to its kwargs")
        ((section, kwargs),) = config.items()
        names_ok = isinstance(kwargs, Mapping) and all(isinstance(name, str) for name in kwargs)
        if not isinstance(section, str) or not names_ok:
            raise CaseFileError(f"{where} ({case_id}): config must be {{ClassName: {{argument: value, ...}}}}")
        cases.append(Case(case_id, source.strip(), section, dict(kwargs)))
    return cases


def load_cases(path: str | Path) -> list[Case]:
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise CaseFileError(f"{path}: not valid YAML: {err}") from None
    return parse_cases(data, str(path))


def one_line(text: str, width: int = _MESSAGE_WIDTH) -> str:
    """A message on one line, whitespace collapsed, cut to `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@dataclass(frozen=True)
class LibraryVerdict:
    """What the library did with a case: raised (with the exception's type and first words) or accepted."""

    raises: bool
    exception: str = ""  # "ValueError: …" when raises


@dataclass(frozen=True)
class CheckerVerdict:
    """What the checker said: its findings as "severity id", or why it gave no answer (a refusal, a crash)."""

    findings: tuple[str, ...] = ()
    failure: str = ""  # "ConfigError: …" when the checker gave no findings at all

    @property
    def raises(self) -> bool:
        """The checker says the library will raise: at least one `error` finding."""
        return any(finding.startswith("error ") for finding in self.findings)


@dataclass(frozen=True)
class Outcome:
    case: Case
    library: LibraryVerdict
    checker: CheckerVerdict

    @property
    def agrees(self) -> bool:
        return not self.checker.failure and self.library.raises == self.checker.raises

    @property
    def cause(self) -> str:
        """Which way a disagreement goes (empty when the verdicts agree)."""
        if self.agrees:
            return ""
        if self.checker.failure:
            return "checker gave no answer"
        if self.checker.raises:
            return "false error (the library accepts it)"
        return "missed raise (the library raises)"


@dataclass(frozen=True)
class Summary:
    library: str
    outcomes: tuple[Outcome, ...]
    unmeasured: tuple[tuple[Case, str], ...] = ()  # cases of a class the environment cannot build, and why

    @property
    def agreement(self) -> float:
        return sum(o.agrees for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def disagreements(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.agrees]

    @property
    def false_errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.checker.raises and not o.library.raises]


def report(summary: Summary) -> str:
    """The per-library report: figures first, then every disagreement, grouped by cause, in case order."""
    outcomes = summary.outcomes
    raising = sum(o.library.raises for o in outcomes)
    lines = [
        f"AGREEMENT {summary.library}: {len(outcomes)} cases measured ({raising} the library raises on, "
        f"{len(outcomes) - raising} it accepts), agreement {summary.agreement:.1%} "
        f"({len(outcomes) - len(summary.disagreements)}/{len(outcomes)}), "
        f"{len(summary.false_errors)} false error(s)",
    ]
    for case, why in summary.unmeasured:
        lines.append(f"  unmeasured {case.id}: {case.section} cannot be built here ({why})")
    causes = sorted({o.cause for o in summary.disagreements})
    for cause in causes:
        group = [o for o in summary.disagreements if o.cause == cause]
        lines.append(f"  {cause}: {len(group)}")
        for outcome in group:
            library = f"raises {outcome.library.exception}" if outcome.library.raises else "accepts"
            checker = outcome.checker.failure or (", ".join(outcome.checker.findings) or "no finding")
            lines += [
                f"    {outcome.case.id}",
                f"      source:  {outcome.case.source}",
                f"      config:  {outcome.case.section} {dict(outcome.case.kwargs)}",
                f"      library: {library}",
                f"      checker: {checker}",
            ]
    return "\n".join(lines)


def exception_text(err: BaseException) -> str:
    return one_line(f"{type(err).__name__}: {err}")


def findings_text(findings: Sequence[Any]) -> tuple[str, ...]:
    """The checker's findings as "severity id" (their order is the checker's: most severe first)."""
    return tuple(f"{finding.severity} {finding.id}" for finding in findings)

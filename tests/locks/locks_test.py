"""Every lock file pins, with hashes, everything its requirements.in asks for.

Regenerating a lock needs PyPI (`bazel run //<package>:requirements.update`, or
`requirements_<version>.update` for a mined library's version); this check does
not, so it runs in every `bazel test //...`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# The mined libraries: one lock per version, miners/<library>/requirements_<version>.in.
MINED = ("transformers", "vllm")
MINED_LOCKS = {
    str(source): str(source.with_name(source.name.replace(".in", "_lock.txt")))
    for library in MINED
    for source in sorted(Path("miners", library).glob("requirements_*.in"))
}
LOCKS = {
    "tools/python/requirements.in": "tools/python/requirements_lock.txt",
    "engines/onnxruntime/requirements_1.22.in": "engines/onnxruntime/requirements_1.22_lock.txt",
    "engines/onnxruntime/requirements_1.32.in": "engines/onnxruntime/requirements_1.32_lock.txt",
    "tests/zoo/requirements.in": "tests/zoo/requirements_lock.txt",
} | MINED_LOCKS


def requirements_of(path: Path) -> list[Requirement]:
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            found += requirements_of(path.parent / line[3:].strip())
        else:
            found.append(Requirement(line))
    return found


def pins_of(path: Path) -> dict[str, tuple[str, list[str]]]:
    pins: dict[str, tuple[str, list[str]]] = {}
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)\s*(.*)$", line.strip())
        if match:
            name, version, rest = match.groups()
            pins[canonicalize_name(name)] = (version, re.findall(r"--hash=sha256:([0-9a-f]{64})", rest))
    return pins


@pytest.mark.parametrize(("source", "lock"), sorted(LOCKS.items()))
def test_lock_pins_every_requirement_with_hashes(source, lock):
    pins = pins_of(Path(lock))
    assert pins, f"{lock} pins nothing"
    for name, (version, hashes) in sorted(pins.items()):
        assert hashes, f"{lock}: {name}=={version} has no --hash; regenerate it with the .update target"
    for requirement in requirements_of(Path(source)):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} does not pin {name} (asked for by {source}); regenerate the lock"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside {requirement.specifier} from {source}; regenerate the lock"
        )


@pytest.mark.parametrize("library", MINED)
def test_each_version_the_ssot_declares_has_its_own_lock_of_that_version(library):
    declared = sorted(yaml.safe_load(Path("miners", library, "versions.yaml").read_text(encoding="utf-8"))["versions"])
    locked = {}
    for source, lock in MINED_LOCKS.items():
        if Path(source).parent.name == library:
            version = Path(source).name.removeprefix("requirements_").removesuffix(".in")
            locked[version] = pins_of(Path(lock))
    assert sorted(locked) == declared, (
        f"miners/{library}/versions.yaml declares {declared}, the locks are of {sorted(locked)}: "
        "each version needs requirements_<version>.in and its lock (docs/corpus.md)"
    )
    for version, pins in locked.items():
        assert pins[library][0] == version, f"requirements_{version}_lock.txt pins {library}=={pins[library][0]}"
        assert "torch" in pins  # BitsAndBytesConfig and vLLM do not construct without it


def test_every_torch_locked_is_a_cpu_build():
    # PyPI's torch for Linux is a CUDA build of several GB; every hub runs on the CPU and
    # locks the CPU build, which the machine's pip configuration supplies (docs/corpus.md).
    for lock in LOCKS.values():
        pin = pins_of(Path(lock)).get("torch")
        if pin:
            assert pin[0].endswith("+cpu"), f"{lock} pins torch=={pin[0]}, not a CPU build (torch==X+cpu)"


def test_locks_name_no_extras():
    # rules_python 0.22 turns a self-referencing extra into a dependency cycle (tools/python/pip_lock.py).
    for lock in LOCKS.values():
        assert not re.search(r"^[A-Za-z0-9._-]+\[", Path(lock).read_text(encoding="utf-8"), re.MULTILINE), lock

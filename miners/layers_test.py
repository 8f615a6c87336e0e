"""Layers: each miner stands on the shared modules alone, so one can change without the others.

The shared layer (miners/*.py, miners/schema, miners/introspect) imports no
miner; a miner (static, dynamic, lifts) imports no other miner.
"""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

MINERS = ("miners.static", "miners.dynamic", "miners.lifts")
# Package -> what its modules must not import.
FORBIDDEN = {
    "miners": MINERS,
    "miners.schema": MINERS,
    "miners.introspect": MINERS,
    **{miner: tuple(other for other in MINERS if other != miner) for miner in MINERS},
}


def imports_of(source: str, package: str) -> set[str]:
    """Every module a source imports, anywhere in it; `from a import b` counts as `a` and `a.b`."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def violations(source: str, package: str) -> list[str]:
    return sorted(
        name
        for name in imports_of(source, package)
        for forbidden in FORBIDDEN[package]
        if name == forbidden or name.startswith(forbidden + ".")
    )


def modules(package: str) -> list[pathlib.Path]:
    """The package's own modules (not its subpackages', not tests), as shipped in its library."""
    folder = pathlib.Path(importlib.import_module(package).__file__).parent
    return sorted(path for path in folder.glob("*.py") if not path.name.endswith("_test.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_layer_imports_a_miner_it_must_not(package):
    found = modules(package)
    assert found, f"no modules of {package} in the runfiles: check the test's deps"
    problems = {path.name: violations(path.read_text(encoding="utf-8"), package) for path in found}
    problems = {name: names for name, names in problems.items() if names}
    assert not problems, f"{package} must not import {', '.join(FORBIDDEN[package])}; it does: {problems}"


@pytest.mark.parametrize(
    "source",
    [
        "from miners.static.conditions import plain_value",
        "import miners.static.source",
        "from miners import static",
        "from ..static import miner",
        "def later():\n    from miners.static.source import relative_path",
    ],
)
def test_every_spelling_of_a_forbidden_import_is_found(source):
    assert violations(source, "miners.dynamic")
    assert not violations(source.replace("static", "introspect"), "miners.dynamic")

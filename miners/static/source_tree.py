"""Reading a library that cannot be imported here, from its source tree alone.

TensorRT-LLM imports TensorRT and CUDA at module level, so on a machine without
them the static miner reads its release archive instead: the version from the
package's `version.py`, classes from the module files, and a namespace built
from each module's top-level statements — literal constants by value, imported
names as `ImportedName` (their dotted path), which is what `isinstance` checks
and message templates need. Nothing is executed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from miners.errors import MinerLandmarkMissingError
from miners.ssot import LibrarySpec, NativeType
from miners.static.conditions import Scope, Untranslatable, constant_value
from miners.static.source import ModuleSource


@dataclass(frozen=True)
class ImportedName:
    """A name a module imports, known by its dotted path only."""

    qualname: str


_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


class SourceTree:
    """A library's source: `root/<package>/...`, as in its release archive."""

    def __init__(self, spec: LibrarySpec, root: str) -> None:
        self.spec, self.root = spec, Path(root)

    def _missing(self, expected: str, found: str, version: str = "(source)") -> MinerLandmarkMissingError:
        return MinerLandmarkMissingError(
            library=self.spec.library, version=version, expected=expected, found=found, ssot=self.spec.path
        )

    def version(self) -> str:
        package = self.spec.distribution.replace("-", "_")
        path = self.root / package / "version.py"
        match = _VERSION.search(path.read_text(encoding="utf-8")) if path.exists() else None
        if match is None:
            raise self._missing(f"__version__ in {package}/version.py", "no version")
        return match.group(1)

    def module_source(self, native: NativeType) -> ModuleSource:
        relative = native.module.replace(".", "/")
        for candidate in (f"{relative}.py", f"{relative}/__init__.py"):
            path = self.root / candidate
            if path.exists():
                return ModuleSource(module=None, tree=ast.parse(path.read_text(encoding="utf-8")), path=candidate)
        raise self._missing(f"module {native.module} ({relative}.py)", "no such file in the source tree")

    @staticmethod
    def namespace(source: ModuleSource) -> dict[str, Any]:
        """Top-level names of a module: imports by path, literal constants by value."""
        names: dict[str, Any] = {}
        package = source.path.rsplit("/", 1)[0].replace("/", ".")
        for node in source.tree.body:
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base]) if base else ".".join(parent)
                for alias in node.names:
                    names[alias.asname or alias.name] = ImportedName(f"{base}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    names[alias.asname or alias.name.split(".")[0]] = ImportedName(alias.name)
            elif isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                names[node.name] = ImportedName(f"{package}.{node.name}")
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                try:
                    names[node.targets[0].id] = constant_value(node.value, Scope(names))
                except Untranslatable:
                    names.pop(node.targets[0].id, None)
        return names

    @staticmethod
    def class_constants(classdef: ast.ClassDef, namespace: dict[str, Any]) -> dict[str, Any]:
        """Class-level literal constants that no method overwrites on the instance."""
        stored = {n.attr for n in ast.walk(classdef) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)}
        constants: dict[str, Any] = {}
        for node in classdef.body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if isinstance(target, ast.Name) and target.id not in stored and not target.id.startswith("__"):
                try:
                    constants[target.id] = constant_value(node.value, Scope(namespace))
                except Untranslatable:
                    continue
        return constants

"""Reading a library's source: the module AST and its landmarks (classes, methods)."""

from __future__ import annotations

import ast
import inspect
import sys
from dataclasses import dataclass
from types import ModuleType

from miners.errors import MinerLandmarkMissingError
from miners.introspect.module_paths import relative_path
from miners.ssot import LibrarySpec, NativeType


@dataclass(frozen=True)
class ModuleSource:
    module: ModuleType | None  # None when read from a source tree
    tree: ast.Module
    path: str  # relative to the library's install root, e.g. transformers/generation/utils.py


def load_module_source(module: ModuleType) -> ModuleSource:
    return ModuleSource(module=module, tree=ast.parse(inspect.getsource(module)), path=relative_path(module))


class Landmarks:
    """Finds the classes and methods the SSOT names, failing loudly when one is gone."""

    def __init__(self, spec: LibrarySpec, version: str) -> None:
        self.spec = spec
        self.version = version

    def _missing(self, expected: str, found: str) -> MinerLandmarkMissingError:
        return MinerLandmarkMissingError(
            library=self.spec.library, version=self.version, expected=expected, found=found, ssot=self.spec.path
        )

    def module_of(self, native: NativeType, cls: type) -> ModuleType:
        if cls.__module__ != native.module:
            raise self._missing(
                f"{native.name} defined in module {native.module}", f"it is defined in {cls.__module__}"
            )
        return sys.modules[cls.__module__]

    def find_class(self, source: ModuleSource, native: NativeType) -> ast.ClassDef:
        for node in source.tree.body:
            if isinstance(node, ast.ClassDef) and node.name == native.class_name:
                return node
        raise self._missing(f"class {native.class_name} in {source.path}", "no such class definition")

    def find_method(self, classdef: ast.ClassDef, name: str, source: ModuleSource) -> ast.FunctionDef:
        method = find_method(classdef, name)
        if method is None:
            raise self._missing(f"method {classdef.name}.{name} in {source.path}", "no such method")
        return method


def find_method(classdef: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    for node in classdef.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node  # type: ignore[return-value]
    return None

"""Class defaults, read without constructing anything.

What a field is when a config does not set it: the constructor's constant
parameter defaults, dataclass field defaults, and (transformers style)
`self.x = kwargs.pop("x", <constant>)` in `__init__`. Non-constant defaults
are left out — the checker then treats the field as unknown.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from typing import Any

from miners.static.conditions import Scope, Untranslatable, constant_value, plain_value


def _plain_or_none(value: Any) -> tuple[bool, Any]:
    try:
        return True, plain_value(value)
    except Untranslatable:
        return False, None


def class_defaults(cls: type, init: ast.FunctionDef | None, scope: Scope) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    if dataclasses.is_dataclass(cls):
        for item in dataclasses.fields(cls):
            if item.name.startswith("_") or item.default is dataclasses.MISSING:
                continue
            ok, value = _plain_or_none(item.default)
            if ok:
                defaults[item.name] = value
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        for name, param in signature.parameters.items():
            if name == "self" or param.default is inspect.Parameter.empty or name.startswith("_"):
                continue
            if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                continue
            ok, value = _plain_or_none(param.default)
            if ok:
                defaults[name] = value
    if init is not None and init.args.kwarg is not None:
        kwargs = init.args.kwarg.arg
        for node in ast.walk(init):
            key_default = _kwargs_pop(node, kwargs)
            if key_default is None:
                continue
            key, default = key_default
            if key.startswith("_"):
                continue
            try:
                defaults.setdefault(key, constant_value(default, scope))
            except Untranslatable:
                continue
    return {name: defaults[name] for name in sorted(defaults)}


def _kwargs_pop(node: ast.AST, kwargs: str) -> tuple[str, ast.expr] | None:
    """`kwargs.pop("x", default)` / `kwargs.get("x", default)`: ("x", default)."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("pop", "get")
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == kwargs
        and len(node.args) == 2
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return None
    return node.args[0].value, node.args[1]

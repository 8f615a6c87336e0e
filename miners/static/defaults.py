"""Class defaults, read without constructing anything.

What a field is when a config does not set it: its declared default
(constructor parameter, dataclass or pydantic field; miners.introspect) and,
transformers style, `self.x = kwargs.pop("x", <constant>)` in `__init__`.
Non-constant defaults are left out — the checker then treats the field as unknown.
"""

from __future__ import annotations

import ast
from typing import Any

from miners.introspect.declarations import declared_fields
from miners.static.conditions import Scope, Untranslatable, constant_value


def class_defaults(cls: type, init: ast.FunctionDef | None, scope: Scope) -> dict[str, Any]:
    defaults = {name: field.default for name, field in declared_fields(cls).items() if field.has_default}
    if init is not None and init.args.kwarg is not None:
        kwargs = init.args.kwarg.arg
        for node in ast.walk(init):
            key_default = _kwargs_pop(node, kwargs)
            if key_default is None or key_default[0].startswith("_"):
                continue
            try:
                defaults.setdefault(key_default[0], constant_value(key_default[1], scope))
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

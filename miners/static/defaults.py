"""Class facts, read without constructing anything: defaults, declared fields, nested configs.

What a field is when a config does not set it: its declared default
(constructor parameter, dataclass, pydantic or msgspec field; miners.introspect)
and, transformers style, `self.x = kwargs.pop("x", <constant>)` in `__init__`.
Non-constant defaults are left out — the checker then treats the field as unknown.
The fields a class declares are those, plus every key its `__init__` reads out of
`**kwargs`, whatever its default, and the public attributes it sets.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from miners.introspect.declarations import declared_fields, nested_fields
from miners.schema.rule import ClassFacts
from miners.static.conditions import Scope, Untranslatable, constant_value


def class_facts(
    cls: type, init: ast.FunctionDef | None, scope: Scope, natives: Mapping[str, type], nested: Mapping[str, str]
) -> ClassFacts:
    """`natives` maps native type names to their classes (a field annotated with one takes
    that config); `nested` holds the SSOT's own nested declarations, which win."""
    found_nested = nested_fields(cls, natives, nested)
    fields = set(declared_fields(cls)) | set(_init_keys(init)) | set(found_nested)
    return ClassFacts(
        defaults=class_defaults(cls, init, scope),
        fields=tuple(sorted(fields)),
        nested=found_nested,
    )


def _init_keys(init: ast.FunctionDef | None) -> list[str]:
    """Keys `__init__` reads out of `**kwargs`, and the public attributes it sets: a config
    saved with `to_dict()` carries those back as keywords (`quant_method`)."""
    if init is None:
        return []
    keys = []
    for node in ast.walk(init):
        if init.args.kwarg is not None:
            found = _kwargs_pop(node, init.args.kwarg.arg, with_default=False)
            if found is not None:
                keys.append(found[0])
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            keys += [
                t.attr
                for t in targets
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
            ]
    return [key for key in keys if not key.startswith("_")]


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


def _kwargs_pop(node: ast.AST, kwargs: str, *, with_default: bool = True) -> tuple[str, ast.expr | None] | None:
    """`kwargs.pop("x", default)` / `kwargs.get("x", default)`: ("x", default); without
    `with_default`, also `kwargs.pop("x")` (default None)."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("pop", "get")
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == kwargs
        and (len(node.args) == 2 or (not with_default and len(node.args) == 1))
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return None
    return node.args[0].value, (node.args[1] if len(node.args) == 2 else None)

"""The plain types a config field is declared with, read from annotations (objects or source text).

`list[str] | None` -> {"list"}; `float` -> {"float"}; `str | torch.dtype | None`
-> {"str", "other"}. Example configs use these so a probe is of a type the
field takes: a dict field gets a dict, not the integer 1.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import typing
from typing import Any

PLAIN = ("bool", "dict", "float", "int", "list", "str", "tuple")
_ALIASES = {"Dict": "dict", "List": "list", "Tuple": "tuple", "Sequence": "list", "Mapping": "dict"}


def _from_source(text: str) -> set[str]:
    try:
        expr = ast.parse(text, mode="eval").body
    except SyntaxError:
        return {"other"}
    return _from_expr(expr)


def _from_expr(expr: ast.expr) -> set[str]:
    if isinstance(expr, ast.Constant):
        return set() if expr.value is None else _from_source(expr.value) if isinstance(expr.value, str) else {"other"}
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return _from_expr(expr.left) | _from_expr(expr.right)
    if isinstance(expr, ast.Subscript):
        base = expr.value.attr if isinstance(expr.value, ast.Attribute) else getattr(expr.value, "id", "")
        items = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
        if base in ("Optional", "Union"):
            return set().union(*(_from_expr(i) for i in items))
        if base == "Annotated":
            return _from_expr(items[0])
        if base == "Literal":
            return {
                _plain_name(type(ast.literal_eval(i)))
                for i in items
                if not (isinstance(i, ast.Constant) and i.value is None)
            }
        return {_ALIASES.get(base, base)} & set(PLAIN) or {"other"}
    name = expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", "")
    if name == "None":
        return set()
    name = _ALIASES.get(name, name)
    return {name} if name in PLAIN else {"other"}


def _plain_name(cls: type) -> str:
    return cls.__name__ if cls.__name__ in PLAIN else "other"


def _from_object(annotation: Any) -> set[str]:
    if annotation is None or annotation is type(None):
        return set()
    if isinstance(annotation, str):
        return _from_source(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _from_object(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return {_plain_name(type(v)) for v in typing.get_args(annotation) if v is not None}
    if origin is typing.Union or (origin is not None and origin.__name__ == "UnionType"):
        return set().union(*(_from_object(a) for a in typing.get_args(annotation)))
    if origin is not None:
        return {_plain_name(origin)}
    if isinstance(annotation, type):
        return {_plain_name(annotation)}
    return {"other"}


def field_types(cls: type) -> dict[str, frozenset[str]]:
    """Field -> plain type names, for the fields whose annotation says anything."""
    found: dict[str, set[str]] = {}
    pydantic_fields = getattr(cls, "__pydantic_fields__", None)
    if isinstance(pydantic_fields, dict):
        for name, info in pydantic_fields.items():
            found[name] = _from_object(info.annotation)
    elif dataclasses.is_dataclass(cls):
        for item in dataclasses.fields(cls):
            found[item.name] = _from_object(item.type)
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        parameters = {}
    for name, param in parameters.items():
        if name != "self" and param.annotation is not inspect.Parameter.empty and name not in found:
            found[name] = _from_object(param.annotation)
    return {name: frozenset(types) for name, types in sorted(found.items()) if types}

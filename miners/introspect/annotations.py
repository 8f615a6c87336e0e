"""Reading `Literal[...]` allowlists out of annotations, as objects or as source text.

`Literal["a", "b"]`, `Optional[Literal[...]]`, `Literal[...] | None` and
`Annotated[Literal[...], ...]` all give the allowed values, and whether None
is allowed too. Anything else (a plain type, a union with other types) gives
None: no allowlist can be read from it.
"""

from __future__ import annotations

import ast
import types
import typing
from typing import Any

from miners.introspect.values import NotPlainData, plain_value

Allowlist = tuple[list[Any], bool]


def literal_values(annotation: Any) -> Allowlist | None:
    if isinstance(annotation, str):
        return _from_source(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return literal_values(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return _plain(typing.get_args(annotation)), False
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            inner = literal_values(members[0])
            if inner is not None:
                return inner[0], True
    return None


def _plain(values: tuple[Any, ...]) -> list[Any]:
    return [plain_value(v) for v in values]


def _from_source(text: str) -> Allowlist | None:
    try:
        expr = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    return _from_expr(expr)


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _name(expr: ast.expr) -> str:
    return expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", "")


def _from_expr(expr: ast.expr) -> Allowlist | None:
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        sides = [expr.left, expr.right]
        others = [s for s in sides if not _is_none(s)]
        if len(others) == 1 and len(sides) == 2:
            inner = _from_expr(others[0])
            return (inner[0], True) if inner is not None else None
        return None
    if not isinstance(expr, ast.Subscript):
        return None
    name, index = _name(expr.value), expr.slice
    items = index.elts if isinstance(index, ast.Tuple) else [index]
    if name == "Literal":
        try:
            return [plain_value(ast.literal_eval(item)) for item in items], False
        except (ValueError, NotPlainData):
            return None
    if name == "Optional" and len(items) == 1:
        inner = _from_expr(items[0])
        return (inner[0], True) if inner is not None else None
    if name == "Union":
        others = [i for i in items if not _is_none(i)]
        if len(others) == 1:
            inner = _from_expr(others[0])
            return (inner[0], len(others) < len(items) or inner[1]) if inner is not None else None
    if name == "Annotated" and items:
        return _from_expr(items[0])
    return None

"""Message templates: the static text of a library's message, with `{}` where it varies.

The template syntax and its matching live in miners.schema.template.
"""

from __future__ import annotations

import ast
import re
import string

from miners.schema.template import PLACEHOLDER, static_pieces
from miners.static.conditions import Const, Scope, Untranslatable, constant_value

# A template needs this much static text to identify its message.
MIN_STATIC_CHARS = 8


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _value_text(expr: ast.expr, scope: Scope) -> str:
    """Static text for a value known at mining time (an unrolled loop variable), else a placeholder."""
    try:
        value = constant_value(expr, scope)
    except Untranslatable:
        return PLACEHOLDER
    bound = isinstance(expr, ast.Name) and isinstance(scope.aliases.get(expr.id), Const)
    if bound and isinstance(value, (str, int, float)):
        return _escape(str(value))
    if isinstance(value, str):
        return _escape(value)
    return PLACEHOLDER


def _format_call(base: str, call: ast.Call, scope: Scope) -> str:
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    out = []
    auto_index = 0
    for literal, name, spec, conversion in string.Formatter().parse(base):
        out.append(_escape(literal))
        if name is None:
            continue
        if name == "":
            expr = call.args[auto_index] if auto_index < len(call.args) else None
            auto_index += 1
        elif name.isdigit():
            index = int(name)
            expr = call.args[index] if index < len(call.args) else None
        else:
            expr = keywords.get(name)
        out.append(_value_text(expr, scope) if expr is not None and not spec and not conversion else PLACEHOLDER)
    return "".join(out)


def _template(expr: ast.expr, scope: Scope) -> str:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return _escape(expr.value)
    if isinstance(expr, ast.JoinedStr):
        parts = []
        for value in expr.values:
            if isinstance(value, ast.Constant):
                parts.append(_escape(str(value.value)))
            elif isinstance(value, ast.FormattedValue) and value.format_spec is None and value.conversion == -1:
                parts.append(_value_text(value.value, scope))
            else:
                parts.append(PLACEHOLDER)
        return "".join(parts)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _template(expr.left, scope) + _template(expr.right, scope)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "format":
        base = expr.func.value
        try:
            text = constant_value(base, scope)
        except Untranslatable:
            return PLACEHOLDER
        if isinstance(text, str):
            return _format_call(text, expr, scope)
        return PLACEHOLDER
    if isinstance(expr, ast.Name) and expr.id in scope.locals:
        return _template(scope.locals[expr.id], scope)
    return _value_text(expr, scope)


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]")


def template_of(expr: ast.expr, scope: Scope, *, printf: bool = False) -> str:
    """The template of a message expression, or Untranslatable when too little of it is static.

    With `printf`, `%s`-style conversions (filled in by the logger) are placeholders too."""
    text = _template(expr, scope)
    if printf:
        text = _PRINTF.sub(PLACEHOLDER, text).replace("%%", "%")
    text = re.sub(r"(?:\{\})+", PLACEHOLDER, text)
    if len(static_pieces(text)) == 0 or sum(len(p) for p in static_pieces(text)) < MIN_STATIC_CHARS:
        raise Untranslatable(f"message has too little static text: {ast.unparse(expr)[:120]}")
    return text

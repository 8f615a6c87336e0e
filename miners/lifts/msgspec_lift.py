"""msgspec lift: `Meta(ge=..., lt=..., multiple_of=...)` constraints and `Literal[...]` on Struct fields.

msgspec checks constraints when it decodes or converts (`msgspec.convert`), not
when a Struct is constructed directly, so a native type mined this way is
replayed with `construct: msgspec.convert` in its SSOT. A Struct without
constraints (vLLM's SamplingParams today) lifts to no rules at all.
"""

from __future__ import annotations

from typing import Any

from miners.lifts.constraints import Constraint, Lifted, lift_all

_OPERATORS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def applies(cls: type) -> bool:
    try:
        import msgspec
    except ImportError:
        return False
    return isinstance(cls, type) and issubclass(cls, msgspec.Struct)


def _field_constraints(name: str, info: Any, allows_none: bool = False) -> list[Constraint]:
    import msgspec

    if isinstance(info, msgspec.inspect.UnionType):
        members = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        if len(members) == 1:
            return _field_constraints(name, members[0], allows_none=len(members) < len(info.types))
        return []
    if isinstance(info, msgspec.inspect.LiteralType):
        return [Constraint(name, "literal", list(info.values), allows_none)]
    found = []
    for kind in ("gt", "ge", "lt", "le", "multiple_of"):
        value = getattr(info, kind, None)
        if value is not None:
            found.append(Constraint(name, kind, value, allows_none))
    return found


def constraints(cls: type) -> list[Constraint]:
    import msgspec

    info = msgspec.inspect.type_info(cls)
    found: list[Constraint] = []
    for item in sorted(info.fields, key=lambda f: f.name):
        if not item.name.startswith("_"):
            found += _field_constraints(item.name, item.type)
    return found


def _template(constraint: Constraint) -> str:
    where = f" - at `$.{constraint.field}`"
    if constraint.kind == "literal":
        return "Invalid enum value {}" + where
    if constraint.kind == "multiple_of":
        return "Expected `{}` that's a multiple of {}" + where
    return f"Expected `{{}}` {_OPERATORS[constraint.kind]} {{}}" + where


def lift(cls: type) -> list[Lifted]:
    return lift_all(cls, constraints(cls), _template)


EXCEPTION_TYPE = "ValidationError"

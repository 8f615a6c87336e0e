"""Pydantic lift: `Field(gt=..., le=...)` / annotated-types metadata and `Literal[...]` annotations.

Works on pydantic v2 models and pydantic dataclasses alike (both carry
`__pydantic_fields__`). The library's message is pydantic's own: the field's
name on one line, then "Input should be ... [type=<error type>, ...".
"""

from __future__ import annotations

from miners.introspect.annotations import literal_values
from miners.lifts.constraints import Constraint, Lifted, lift_all

_BOUNDS = {"gt": "Gt", "ge": "Ge", "lt": "Lt", "le": "Le", "multiple_of": "MultipleOf"}
_PHRASES = {
    "gt": ("greater than", "greater_than"),
    "ge": ("greater than or equal to", "greater_than_equal"),
    "lt": ("less than", "less_than"),
    "le": ("less than or equal to", "less_than_equal"),
    "multiple_of": ("a multiple of", "multiple_of"),
}


def applies(cls: type) -> bool:
    return isinstance(getattr(cls, "__pydantic_fields__", None), dict)


def constraints(cls: type) -> list[Constraint]:
    found: list[Constraint] = []
    for name, info in sorted(cls.__pydantic_fields__.items()):
        if name.startswith("_"):
            continue
        for meta in info.metadata:
            for kind, class_name in _BOUNDS.items():
                if type(meta).__name__ == class_name:
                    found.append(Constraint(name, kind, getattr(meta, kind)))
        literal = literal_values(info.annotation)
        if literal is not None:
            values, allows_none = literal
            found.append(Constraint(name, "literal", values, allows_none))
    return found


def _template(constraint: Constraint) -> str:
    if constraint.kind == "literal":
        return f"{constraint.field}{{}}Input should be {{}} [type=literal_error,"
    phrase, error_type = _PHRASES[constraint.kind]
    return f"{constraint.field}{{}}Input should be {phrase} {{}} [type={error_type},"


def lift(cls: type) -> list[Lifted]:
    return lift_all(cls, constraints(cls), _template)


EXCEPTION_TYPE = "ValidationError"

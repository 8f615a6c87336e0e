"""Dataclass lift: `Literal[...]` allowlists on the fields of a plain dataclass.

Plain dataclasses carry no numeric bounds, so this lift yields value
allowlists only. Whether the library enforces them at construction is up to
the library (a `__post_init__` check, a strict-dataclass decorator); the gate
replays each one and quarantines those it does not. The message is unknown in
advance, so the template is the field's name, which any useful message names.
"""

from __future__ import annotations

import dataclasses

from miners.introspect.annotations import literal_values
from miners.lifts.constraints import Constraint, Lifted, lift_all


def applies(cls: type) -> bool:
    return dataclasses.is_dataclass(cls) and not hasattr(cls, "__pydantic_fields__")


def constraints(cls: type) -> list[Constraint]:
    found: list[Constraint] = []
    for item in sorted(dataclasses.fields(cls), key=lambda f: f.name):
        if item.name.startswith("_"):
            continue
        # Annotations may be strings (`from __future__ import annotations`): read them as source.
        literal = literal_values(item.type)
        if literal is not None:
            values, allows_none = literal
            found.append(Constraint(item.name, "literal", values, allows_none))
    return found


def lift(cls: type) -> list[Lifted]:
    return lift_all(cls, constraints(cls), lambda c: c.field)


EXCEPTION_TYPE = None  # whatever the library raises

"""What every lift shares: a declared constraint, turned into a rule that fires on the *invalid* side.

A `Gt(0)` constraint says valid values are `> 0`, so the rule's predicate is
`<= 0`; a `Literal["a", "b"]` annotation becomes `not_in ["a", "b"]` (with None
allowed when the annotation is Optional). Getting this polarity wrong is the
known defect of an earlier miner of this design; the gate's predicate check
catches it, and so does `lifts_test.py`.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from miners.schema.predicate import Atom, Predicate

# The comparison that fires when a bound is broken.
INVALID_SIDE = {"gt": "<=", "ge": "<", "lt": ">=", "le": ">", "multiple_of": "not_divisible_by"}


@dataclass(frozen=True)
class Constraint:
    """One declared constraint on one field: a bound, or an allowlist of literal values."""

    field: str
    kind: str  # gt | ge | lt | le | multiple_of | literal
    value: Any  # the bound, or the list of allowed values
    allows_none: bool = False

    def predicate(self) -> Predicate:
        if self.kind == "literal":
            allowed = list(self.value) + ([None] if self.allows_none and None not in self.value else [])
            return Atom(self.field, "not_in", allowed)
        return Atom(self.field, INVALID_SIDE[self.kind], self.value)


@dataclass(frozen=True)
class Lifted:
    """A constraint with the library's message for breaking it, and where it is declared."""

    constraint: Constraint
    message_template: str
    line: int


def field_lines(cls: type) -> dict[str, int]:
    """Source line of each annotated field in the class body (the class line when unknown)."""
    try:
        lines, start = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return {}
    tree = ast.parse(textwrap.dedent("".join(lines)))
    classdef = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
    if classdef is None:
        return {}
    found = {"": start + classdef.lineno - 1}
    for node in classdef.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = start + node.lineno - 1
    return found


def lift_all(cls: type, constraints: list[Constraint], template: Callable[[Constraint], str]) -> list[Lifted]:
    lines = field_lines(cls)
    default_line = lines.get("", 1)
    return [Lifted(c, template(c), lines.get(c.field, default_line)) for c in constraints]

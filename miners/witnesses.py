"""Witnesses: the example configs a rule carries.

From a predicate alone, find `kwargs_positive` (the predicate holds, so the
library must object) and `kwargs_negative` (one field changed so that it does
not hold, so the library must accept). Candidate values come from the
constants the predicate compares each field with, in those constants' own
types — a field compared with 0.0 is probed with floats, never with a bool —
and the search is exhaustive over a bounded, deterministic order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from miners.schema.predicate import PRESENCE, Atom, Predicate, Ref, evaluate, fields_of


class _Omit:
    def __repr__(self) -> str:
        return "<omit>"


OMIT = _Omit()  # the field is left out of the kwargs

MAX_ASSIGNMENTS = 200_000

# One value of each plain type, for type tests.
TYPE_SAMPLES: dict[str, Any] = {
    "str": "invalid",
    "int": 7,
    "float": 0.5,
    "bool": True,
    "list": [1],
    "dict": {"key": 1},
    "NoneType": None,
}


@dataclass(frozen=True)
class Witnesses:
    positive: dict[str, Any]
    negative: dict[str, Any]


def _atoms(predicate: Predicate) -> Iterator[Atom]:
    if isinstance(predicate, Atom):
        yield predicate
    else:
        for term in predicate.terms:
            yield from _atoms(term)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _neighbours(value: int | float) -> list[Any]:
    if isinstance(value, int):
        return [value, value + 1, value - 1, value + 2]
    return [value, value + 0.5, value - 0.5, value + 1.0, value / 2 if value else 0.25]


def _fresh(field: str, taken: list[Any]) -> list[Any]:
    """Values of the same types as `taken` but not among them."""
    fresh: list[Any] = []
    if any(isinstance(v, str) for v in taken):
        fresh.append(f"not_a_valid_{field}")
    numbers = [v for v in taken if _is_number(v)]
    if numbers:
        top = max(numbers)
        fresh.append(top + 1 if all(isinstance(v, int) for v in numbers) else top + 1.0)
    return fresh


def _key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, repr(value))


def candidates(predicate: Predicate, field: str) -> list[Any]:
    """Values to try for `field`, most telling first, without type-confused duplicates."""
    pool: list[Any] = []
    partners: list[str] = []
    for atom in _atoms(predicate):
        value = atom.value
        if isinstance(value, Ref) and field in (atom.field, value.field):
            partners.append(value.field if atom.field == field else atom.field)
            continue
        if atom.field != field:
            continue
        if atom.op in PRESENCE:
            pool += [OMIT, None]
        elif atom.op in ("in", "not_in"):
            members = [v for v in value if v is not None] + [v for v in value if v is None]
            pool += (_fresh(field, value) + members) if atom.op == "not_in" else (members + _fresh(field, value))
        elif atom.op in ("type_is", "type_is_not"):
            names = value if isinstance(value, list) else [value]
            others = [sample for name, sample in TYPE_SAMPLES.items() if name not in names]
            inside = [TYPE_SAMPLES[n] for n in names if n in TYPE_SAMPLES]
            pool += (others + inside) if atom.op == "type_is_not" else (inside + others)
        elif isinstance(value, bool):
            pool += [value, not value]
        elif _is_number(value):
            pool += _neighbours(value)
        elif isinstance(value, str):
            pool += [value, f"not_{value}"]
        else:
            pool.append(value)
    if partners:
        # Compared with another field: small values of the kind both fields are compared with.
        related = {field, *partners}
        constants = [a.value for a in _atoms(predicate) if a.field in related and _is_number(a.value)]
        floats = any(isinstance(v, float) for v in constants)
        pool += [1.0, 2.0, 3.0, 4.0] if floats else [1, 2, 3, 4]
    seen: set[tuple[str, str]] = set()
    unique = []
    for value in pool:
        if _key(value) not in seen:
            seen.add(_key(value))
            unique.append(value)
    return unique


def _kwargs(fields: list[str], values: tuple[Any, ...]) -> dict[str, Any]:
    return {f: v for f, v in zip(fields, values, strict=False) if v is not OMIT}


def derive(predicate: Predicate, primary: str | None = None) -> Witnesses | None:
    """A positive and a minimal negative config for the predicate, or None if none was found."""
    fields = fields_of(predicate)
    pools = [candidates(predicate, f) for f in fields]
    if not all(pools):
        return None
    positive: tuple[Any, ...] | None = None
    for values in itertools.islice(itertools.product(*pools), MAX_ASSIGNMENTS):
        if evaluate(predicate, _kwargs(fields, values)):
            positive = values
            break
    if positive is None:
        return None
    # Change one field, the primary one first, so the pair pins down the rule.
    order = sorted(range(len(fields)), key=lambda i: (fields[i] != primary, i))
    for index in order:
        # A negative that differs by a real value says more than one that differs
        # by None; and a switched-off flag (False) trips fewer unrelated checks
        # than a switched-on one.
        for value in sorted(pools[index], key=lambda v: (v is None or v is OMIT, v is True)):
            if _key(value) == _key(positive[index]):
                continue
            trial = (*positive[:index], value, *positive[index + 1 :])
            if not evaluate(predicate, _kwargs(fields, trial)):
                return Witnesses(_kwargs(fields, positive), _kwargs(fields, trial))
    return None

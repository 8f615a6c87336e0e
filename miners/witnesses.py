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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from miners.introspect.declarations import Declared
from miners.schema.predicate import (
    FALSY,
    FINITENESS,
    ITEM,
    NEXT,
    PAIR_PARTS,
    PRESENCE,
    AllOf,
    Atom,
    Each,
    Predicate,
    Ref,
    evaluate,
    fields_of,
)


class _Omit:
    def __repr__(self) -> str:
        return "<omit>"


OMIT = _Omit()  # the field is left out of the kwargs

MAX_ASSIGNMENTS = 20_000

# One value of each plain type, for type tests.
TYPE_SAMPLES: dict[str, Any] = {
    # A wrongly typed value that still compares (a float for an int) gets past earlier
    # range checks to the type check itself, so numbers come first.
    "float": 0.5,
    "int": 7,
    "str": "invalid",
    "bool": True,
    "list": [1],
    "dict": {},
    "NoneType": None,
}


@dataclass(frozen=True)
class Witnesses:
    positive: dict[str, Any]
    negative: dict[str, Any]


def _atoms(predicate: Predicate) -> Iterator[Atom]:
    """The atoms on the config's own fields (a quantifier's `where` tests its elements)."""
    if isinstance(predicate, Atom):
        yield predicate
    elif isinstance(predicate, Each):
        yield from (a for a in _atoms(predicate.where) if not a.field.startswith("$"))
    else:
        for term in predicate.terms:
            yield from _atoms(term)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _neighbours(value: int | float) -> list[Any]:
    if isinstance(value, int):
        return [value, value + 1, value - 1, value + 2, value - 2]
    return [value, value + 0.5, value - 0.5, value + 1.0, value / 2 if value else 0.25]


def _fresh(field: str, taken: list[Any]) -> list[Any]:
    """Values of the same types as `taken` but not among them (some value, if there is no type to go by)."""
    fresh: list[Any] = []
    if any(isinstance(v, str) for v in taken):
        fresh.append(f"not_a_valid_{field.lstrip('$')}")
    numbers = [v for v in taken if _is_number(v)]
    if numbers:
        step = 1 if all(isinstance(v, int) for v in numbers) else 1.0
        fresh += [max(numbers) + step, min(numbers) - step]
    if any(isinstance(v, bool) for v in taken):
        fresh += [b for b in (True, False) if not any(v is b for v in taken)]
    return fresh or [1, "value"]


def other_than(value: Any) -> Any:
    """A value of the same type as `value` but different (1 when `value` is None)."""
    if isinstance(value, bool):
        return not value
    if _is_number(value):
        return value + 1
    if isinstance(value, str):
        return f"not_{value}" if value else "value"
    return 1


def _key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, repr(value))


# A sample value of each declared plain type, for fields the predicate says little about.
_SAMPLES = {"int": 1, "float": 0.5, "str": "value", "bool": True, "list": [], "dict": {}, "tuple": []}


def _fits_type(value: Any, types: frozenset[str]) -> bool:
    """Whether a candidate is of a type the field is declared with (None and omission always are)."""
    if value is None or value is OMIT or "other" in types:
        return True
    if isinstance(value, bool):
        return "bool" in types
    if isinstance(value, int):
        return bool(types & {"int", "float"})
    if isinstance(value, float):
        return "float" in types
    if isinstance(value, str):
        return "str" in types
    if isinstance(value, list):
        return bool(types & {"list", "tuple"})
    if isinstance(value, dict):
        return "dict" in types
    return True


def _quantifiers(predicate: Predicate, field: str) -> Iterator[Each]:
    """The conditions on the elements of `field`, each as a quantifier (an atom with an element
    part is one whose `where` is a single test)."""
    if isinstance(predicate, Each):
        if predicate.field == field:
            yield predicate
    elif isinstance(predicate, Atom):
        if predicate.field == field and predicate.of not in (None, "length", "any_item", "all_items"):
            yield Each(field, predicate.of, Atom(ITEM, predicate.op, predicate.value))
    else:
        for term in predicate.terms:
            yield from _quantifiers(term, field)


# Values for a mapping's entries when the rule says nothing about them: a one-number list first,
# the commonest shape of a mapping-valued config field (histogram buckets, per-module settings).
_ENTRY_VALUES: list[Any] = [[1.0], [1], "value", 1, [], None]
_MAX_PAIRS = 16


def _keys_for(context: Predicate, field: str) -> list[Any]:
    """Keys for a mapping field: the members of the allowlists its key conditions name (a rule that
    fires on a key `not_in` them), then one more."""
    keys: list[Any] = []
    for each in _quantifiers(context, field):
        where = each.where
        if each.of in ("any_key", "all_keys") and isinstance(where, Atom) and where.op == "not_in":
            keys += [k for k in where.value if isinstance(k, str)]
    return [*keys, "key"]


def _element_values(each: Each, context: Predicate) -> list[Any]:
    """Values of the field that test a condition on its elements, both sides of it."""
    if each.of in PAIR_PARTS:
        firsts, seconds = candidates(each.where, ITEM), candidates(each.where, NEXT)
        pairs = [[a, b] for a, b in itertools.islice(itertools.product(firsts, seconds), _MAX_PAIRS)]
        return [p for p in pairs if OMIT not in p] + [[1], []]
    where = each.where
    truthiness = isinstance(where, Atom) and where.op in ("in", "not_in") and where.value == list(FALSY)
    if truthiness and each.of in ("any_value", "all_values"):
        # A mapping's values are most often lists (of bounds, of names), then strings and numbers.
        items: list[Any] = [[], [1.0], "", "value", 0, 1, None]
    else:
        items = [v for v in candidates(where, ITEM) if v is not OMIT]
    if each.of == "upper":
        return [v for item in items if isinstance(item, str) for v in (item, item.lower())] + [1]
    if each.of == "first":
        return [f"{item}value" if isinstance(item, str) else [item] for item in items] + ["", []]
    if each.of in ("any_key", "all_keys"):
        return [{k: v} for k in items if isinstance(k, str) for v in _ENTRY_VALUES] + [{}]
    if each.of in ("any_value", "all_values"):
        keys = _keys_for(context, each.field)
        return [{k: v} for v in items for k in keys[:3]] + [{}]
    return [[item] for item in items] + [[]]


def _values_for(atom: Atom, field: str) -> list[Any]:
    """Values that test one atom on `field`: both sides of it, most telling first."""
    if atom.op in FINITENESS:
        return [float("inf"), float("nan"), 1.0] if atom.of is None else [[float("inf")], [1.0], []]
    if atom.of in ("any_item", "all_items"):
        # One-item lists of the values that test the item, and the empty list (no item at all).
        if atom.op in ("in", "not_in") and atom.value == list(FALSY):
            # An item's truthiness: items are most often strings (stop words), then numbers.
            items: list[Any] = ["", "value", 0, 1]
        else:
            items = _values_for(Atom(field, atom.op, atom.value), field)
        return [[item] for item in items if item is not OMIT] + [[]]
    if atom.of == "length":
        if not _is_number(atom.value):
            return [[], [1], [1, 1]]
        return [[1] * n for n in _neighbours(int(atom.value)) if n >= 0]
    value = atom.value
    if atom.op in PRESENCE:
        return [OMIT, None]
    if atom.op in ("in", "not_in") and value == list(FALSY):
        # A truthiness test: the truthy side is True, and its falsy side is False or None.
        return [True, False, None]
    if atom.op in ("in", "not_in"):
        members = [v for v in value if v is not None] + [v for v in value if v is None]
        return (_fresh(field, value) + members) if atom.op == "not_in" else (members + _fresh(field, value))
    if atom.op in ("type_is", "type_is_not"):
        names = value if isinstance(value, list) else [value]
        others = [sample for name, sample in TYPE_SAMPLES.items() if name not in names]
        inside = [TYPE_SAMPLES[n] for n in names if n in TYPE_SAMPLES]
        return (others + inside) if atom.op == "type_is_not" else (inside + others)
    if isinstance(value, bool):
        return [value, not value]
    if _is_number(value):
        return _neighbours(value)
    if isinstance(value, str):
        return [value, f"not_{value}"]
    return [value]


def _partner_values(predicate: Predicate, field: str, partners: list[str]) -> list[Any]:
    """For a field compared with other fields: small values, and the constants those fields are
    compared with, of the kind (int or float) the fields are compared with."""
    related = {field, *partners}
    constants = [a.value for a in _atoms(predicate) if a.field in related and _is_number(a.value)]
    pool: list[Any] = [1.0, 2.0, 3.0, 4.0] if any(isinstance(v, float) for v in constants) else [1, 2, 3, 4]
    for atom in _atoms(predicate):
        if atom.field in partners and atom.op in ("in", "not_in") and isinstance(atom.value, list):
            pool += [v for v in atom.value if _is_number(v)]
        elif atom.field in partners and atom.of is None and _is_number(atom.value):
            pool.append(atom.value)
    return pool


def _among(value: Any, choices: Sequence[Any]) -> bool:
    return any(type(value) is type(c) and value == c for c in choices)


def _tests_choices(predicate: Predicate, field: str, choices: Sequence[Any]) -> bool:
    """Whether the predicate is (or contains) the field's allowlist itself: it rejects every
    declared choice's complement, so an example outside the choices is the point."""
    for atom in _atoms(predicate):
        if atom.field == field and atom.op == "not_in" and all(_among(c, atom.value) for c in choices if c is not None):
            return True
    return False


def candidates(predicate: Predicate, field: str, declared: Declared | None = None) -> list[Any]:
    """Values to try for `field`, most telling first, without type-confused duplicates.

    With the field's declaration, values of other types, and values outside a `Literal`'s
    choices, are left out and its default and choices are tried too — unless the predicate
    itself tests the field's type or membership, where such a value is the point."""
    declared = declared or Declared()
    types = declared.types
    pool: list[Any] = []
    partners: list[str] = []
    for atom in _atoms(predicate):
        if isinstance(atom.value, Ref) and field in (atom.field, atom.value.field):
            partners.append(atom.value.field if atom.field == field else atom.field)
        elif atom.field == field and atom.of in (None, "length", "any_item", "all_items"):
            pool += _values_for(atom, field)
    for each in _quantifiers(predicate, field):
        pool += _element_values(each, predicate)
    numbers = sorted({a.value for a in _atoms(predicate) if a.field == field and a.of is None and _is_number(a.value)})
    for low, high in itertools.pairwise(numbers):
        # Between two bounds (`0 < x < 1`): the midpoint, a float unless it is whole.
        middle = (low + high) / 2
        pool.append(int(middle) if middle == int(middle) and isinstance(low, int) and isinstance(high, int) else middle)
    if partners:
        pool += _partner_values(predicate, field, partners)
    if all(value is None or value is OMIT for value in pool):
        # Only compared with None: any value will do; one of the declared type if known,
        # else an int, the commonest config value.
        pool += [_SAMPLES[t] for t in sorted(types) if t in _SAMPLES] or [1, "value"]
    tests_type = any(a.field == field and a.op in ("type_is", "type_is_not") for a in _atoms(predicate))
    if declared.has_default:
        pool.append(declared.default)
    if declared.has_sample:
        pool.append(declared.sample)
    if types and not tests_type:
        # A value the predicate itself compares the field with is the point, whatever the
        # declaration says (`if self.logprobs is True` on an int field).
        compared = [a.value for a in _atoms(predicate) if a.field == field and a.of is None]
        pool = [value for value in pool if _fits_type(value, types) or _among(value, compared)]
    if declared.choices is not None and not tests_type and not _tests_choices(predicate, field, declared.choices):
        pool = [v for v in pool if v is OMIT or _among(v, declared.choices)]
        pool += list(declared.choices)
    seen: set[tuple[str, str]] = set()
    unique = []
    for value in pool:
        if _key(value) not in seen:
            seen.add(_key(value))
            unique.append(value)
    return unique


def _kwargs(fields: list[str], values: tuple[Any, ...]) -> dict[str, Any]:
    return {f: v for f, v in zip(fields, values, strict=False) if v is not OMIT}


def _first(pools: list[list[Any]], accept: Any, prefer: Any, limit: int = MAX_ASSIGNMENTS) -> tuple[Any, ...] | None:
    """The first assignment `accept` takes, preferring those `prefer` also takes."""
    fallback = None
    for values in itertools.islice(itertools.product(*pools), limit):
        if accept(values):
            if prefer(values):
                return values
            if fallback is None:
                fallback = values
    return fallback


def derive(
    predicate: Predicate,
    primary: str | None = None,
    base: Mapping[str, Any] | None = None,
    avoid: Sequence[Predicate] = (),
    declared: Mapping[str, Declared] | None = None,
) -> Witnesses | None:
    """A positive and a minimal negative config for the predicate, or None if none was found.

    `base` holds arguments every construction needs; the predicate's own fields
    override them. `avoid` holds the predicates of the class's other error rules:
    examples that also trip one of those would make the library object for
    another reason, so values that trip none are preferred. `declared` are the fields'
    declarations (miners.introspect.declarations); a negative prefers a field's default,
    which the library accepts on its own.
    """
    fields = fields_of(predicate)
    context = AllOf((predicate, *avoid)) if avoid else predicate
    declared = declared or {}
    pools = [candidates(context, f, declared.get(f)) for f in fields]
    if not all(pools):
        return None
    common = {k: v for k, v in (base or {}).items() if k not in fields}

    def config(values: tuple[Any, ...]) -> dict[str, Any]:
        return {**common, **_kwargs(fields, values)}

    def clean(values: tuple[Any, ...]) -> bool:
        return not any(evaluate(other, config(values)) for other in avoid)

    positive = _first(pools, lambda values: evaluate(predicate, config(values)), clean)
    if positive is None:
        return None
    # Change one field, the primary one first, so the pair pins down the rule.
    # A negative that differs by a real value says more than one that differs by
    # None; a switched-off flag (False) trips fewer unrelated checks than a
    # switched-on one; and one that trips no other rule is best.
    trials = []
    for index in sorted(range(len(fields)), key=lambda i: (fields[i] != primary, i)):
        field = declared.get(fields[index])
        for value in sorted(
            pools[index],
            key=lambda v, f=field: (
                not (f is not None and f.has_default and _key(v) == _key(f.default)),
                v is None or v is OMIT,
                v is True,
            ),
        ):
            if _key(value) != _key(positive[index]):
                trials.append((*positive[:index], value, *positive[index + 1 :]))
    refuting = [t for t in trials if not evaluate(predicate, config(t))]
    if not refuting:
        return None
    negative = next((t for t in refuting if clean(t)), refuting[0])
    return Witnesses(config(positive), config(negative))

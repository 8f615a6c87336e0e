"""Predicate algebra: negation, simplification and contradictions, on predicates alone.

`simplify` writes a predicate the way a reader would: nesting flattened,
equality chains folded into lists, implied `!= None` guards and always-true
alternatives dropped, and bounds on one field narrowed to the single interval
they leave. `negate` is exact on known values (miners.schema.predicate's
NEGATION, and PART_NEGATION for an atom on a field's items); `is_contradiction`
finds a conjunction holding an atom and its negation, which no config satisfies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from miners.schema.predicate import (
    ITEM,
    NEGATION,
    PAIR_PARTS,
    PART_NEGATION,
    PRESENCE,
    AllOf,
    AnyOf,
    Atom,
    Each,
    Predicate,
    Ref,
)


def negate(predicate: Predicate) -> Predicate:
    if isinstance(predicate, Each):
        # not (any element holds P) is (every element holds not P).
        return Each(predicate.field, PART_NEGATION[predicate.of], negate(predicate.where))
    if isinstance(predicate, Atom):
        part = PART_NEGATION[predicate.of] if predicate.of is not None else None
        return Atom(predicate.field, NEGATION[predicate.op], predicate.value, part)
    if isinstance(predicate, AllOf):
        return AnyOf(tuple(negate(t) for t in predicate.terms))
    return AllOf(tuple(negate(t) for t in predicate.terms))


# --- simplification -----------------------------------------------------------


def quantified(field: str, part: str, where: Predicate) -> Predicate:
    """`where` over the elements of the field's part, in its simplest form: any element meeting
    `a or b` is any meeting a or any meeting b (every element meeting `a and b`, likewise), and a
    plain test of the element is an atom with `of`."""
    pairs = part in PAIR_PARTS
    if isinstance(where, Atom):
        plain = (
            where.field == ITEM
            and where.of is None
            and where.op not in PRESENCE
            and not pairs
            and not (isinstance(where.value, Ref) and where.value.field.startswith("$"))
        )
        return Atom(field, where.op, where.value, part) if plain else Each(field, part, where)
    splits = AnyOf if part.startswith("any_") else AllOf
    if isinstance(where, splits):
        return splits(tuple(quantified(field, part, term) for term in where.terms))
    return Each(field, part, where)


def _false_for_none(term: Predicate, field: str) -> bool:
    """Whether the term cannot hold when `field` is None (so `field != None` beside it is redundant)."""
    if isinstance(term, AllOf):
        return any(_false_for_none(t, field) for t in term.terms)
    if isinstance(term, AnyOf):
        return all(_false_for_none(t, field) for t in term.terms)
    if isinstance(term, Each):
        return term.field == field  # None has no elements
    op, value = term.op, term.value
    if term.of is not None and term.field == field:
        return True  # a length or items: None has neither
    if isinstance(value, Ref) and value.field == field:
        # Compared with the field: an ordering on None cannot hold.
        return op in ("<", "<=", ">", ">=", "divisible_by", "not_divisible_by")
    if term.field != field:
        return False
    if op in ("<", "<=", ">", ">=", "divisible_by", "not_divisible_by"):
        return True
    if op == "==":
        return not isinstance(value, Ref) and value is not None
    if op == "in":
        return isinstance(value, list) and None not in value
    if op == "not_in":
        return isinstance(value, list) and None in value
    if op == "type_is":
        names = value if isinstance(value, list) else [value]
        return "NoneType" not in names
    return False


def _dedupe(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _merge_values(atoms: list[Atom], group_op: str, list_op: str) -> list[Atom]:
    """Folds `f == a`, `f == b`, `f in [c]` on one field into `f in [a, b, c]` (and likewise != / not_in)."""
    grouped: dict[str, list[Any]] = {}
    order: list[Atom | str] = []
    for atom in atoms:
        foldable = (atom.op == group_op and not isinstance(atom.value, Ref)) or atom.op == list_op
        if not foldable:
            order.append(atom)
            continue
        if atom.field not in grouped:
            grouped[atom.field] = []
            order.append(atom.field)
        values = atom.value if atom.op == list_op else [atom.value]
        grouped[atom.field].extend(values)
    result = []
    for entry in order:
        if isinstance(entry, Atom):
            result.append(entry)
            continue
        values = _dedupe(grouped[entry])
        if len(values) == 1:
            result.append(Atom(entry, group_op, values[0]))
        else:
            result.append(Atom(entry, list_op, values))
    return result


# --- numeric intervals: `t > 2.0 and (t <= 0 or t >= 0.01)` is `t > 2.0` -------------

_INF = float("inf")
Interval = tuple[float, bool, float, bool]  # low, low included, high, high included


def _interval(atom: Atom) -> Interval | None:
    value = atom.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return {
        "<": (-_INF, False, value, False),
        "<=": (-_INF, False, value, True),
        ">": (value, False, _INF, False),
        ">=": (value, True, _INF, False),
        "==": (value, True, value, True),
    }.get(atom.op)


def _intersect(a: Interval, b: Interval) -> Interval | None:
    low = max((a[0], not a[1]), (b[0], not b[1]))
    high = min((a[2], a[3]), (b[2], b[3]))
    interval = (low[0], not low[1], high[0], high[1])
    if interval[0] > interval[2] or (interval[0] == interval[2] and not (interval[1] and interval[3])):
        return None
    return interval


def _interval_atoms(field: str, interval: Interval) -> list[Atom]:
    low, low_in, high, high_in = interval
    if low == high:
        return [Atom(field, "==", low)]
    atoms = []
    if low != -_INF:
        atoms.append(Atom(field, ">=" if low_in else ">", low))
    if high != _INF:
        atoms.append(Atom(field, "<=" if high_in else "<", high))
    return atoms


def _narrow_intervals(atoms: list[Atom], others: list[Predicate]) -> tuple[list[Atom], list[Predicate]]:
    """Where a conjunction bounds a field and also has `any` of bounds on it, and only one of
    those alternatives can hold within the bounds, write the result as plain bounds."""
    for term in list(others):
        if not isinstance(term, AnyOf) or not all(isinstance(t, Atom) and _interval(t) for t in term.terms):
            continue
        fields = {t.field for t in term.terms}  # type: ignore[union-attr]
        if len(fields) != 1:
            continue
        (name,) = fields
        bounds = [a for a in atoms if a.field == name and _interval(a)]
        if not bounds:
            continue
        conjunction: Interval | None = (-_INF, False, _INF, False)
        for atom in bounds:
            conjunction = _intersect(conjunction, _interval(atom)) if conjunction else None  # type: ignore[arg-type]
        if conjunction is None:
            continue
        pieces = [p for t in term.terms if (p := _intersect(conjunction, _interval(t))) is not None]  # type: ignore[arg-type]
        if len(pieces) != 1:
            continue
        atoms = [a for a in atoms if a not in bounds] + _interval_atoms(name, pieces[0])
        others = [o for o in others if o is not term]
    return atoms, others


def _complementary(terms: Iterable[Predicate]) -> bool:
    """Whether the terms hold an atom and its negation (so `all` of them is false, `any` true)."""
    atoms = [t for t in terms if isinstance(t, Atom)]
    return any(negate(a) in atoms for a in atoms)


def is_contradiction(predicate: Predicate) -> bool:
    return isinstance(predicate, AllOf) and _complementary(predicate.terms)


def simplify(predicate: Predicate) -> Predicate:
    """Flattens nesting, folds equality chains into lists, drops implied `!= None` atoms and
    always-true alternatives (`x == None or x != None`) from conjunctions; a quantifier whose
    condition is one plain test of the element is written as an atom with `of`."""
    if isinstance(predicate, Atom):
        return predicate
    if isinstance(predicate, Each):
        return quantified(predicate.field, predicate.of, simplify(predicate.where))
    kind = type(predicate)
    terms: list[Predicate] = []
    for term in (simplify(t) for t in predicate.terms):
        if type(term) is kind:
            terms.extend(term.terms)  # type: ignore[union-attr]
        elif kind is AllOf and isinstance(term, AnyOf) and _complementary(term.terms):
            continue
        else:
            terms.append(term)
    terms = _dedupe(terms)
    if not terms:
        # Only always-true alternatives: keep the first, it is true.
        return simplify(predicate.terms[0]) if kind is AllOf else predicate
    # Atoms on a field's length or items are left as they are: folding them with atoms on
    # the field's value would change what they test.
    atoms = [t for t in terms if isinstance(t, Atom) and t.of is None]
    others = [t for t in terms if not (isinstance(t, Atom) and t.of is None)]
    if kind is AnyOf:
        atoms = _merge_values(atoms, "==", "in")
    else:
        atoms, others = _narrow_intervals(atoms, others)
        atoms = _merge_values(atoms, "!=", "not_in")
        # `x == b` makes `x != a` and `x not_in [a, ...]` (without b) redundant.
        pinned = {a.field: a.value for a in atoms if a.op == "==" and not isinstance(a.value, Ref)}
        atoms = [
            a
            for a in atoms
            if not (
                a.field in pinned
                and (
                    (a.op == "!=" and a.value != pinned[a.field])
                    or (a.op == "not_in" and pinned[a.field] not in a.value)
                )
            )
        ]
        atoms = [
            a
            for a in atoms
            if not (
                a.op == "!=" and a.value is None and any(_false_for_none(t, a.field) for t in atoms + others if t != a)
            )
        ]
    ordered = atoms + others
    if len(ordered) == 1:
        return ordered[0]
    return kind(tuple(ordered))

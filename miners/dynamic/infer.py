"""Predicate inference: which of seven templates separates the rows that said a message from those that did not.

For one message class, the *triggering* rows said it and the *clean* rows
constructed without raising and without saying it; rows that raised
something else are censored (the library stopped before it could say it).
A candidate predicate fits when it is true on every triggering row and false
on every clean row. The templates, in order of preference:

1. cross-field divisibility   a not_divisible_by @b
2. cross-field comparison     a > @b (and <, <=, >=)
3. cross-field equality gate  a == V and b == W
4. type allowlist             a type_is_not [types accepted]
5. single-field range         a <= t  /  a >= t
6. single-field equality      a == V
7. value allowlist            a not_in [values accepted]

Every fitting candidate is kept (recall first); the miner then re-probes each
with values from outside the grid, and the gate replays the survivors.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from miners.dynamic.probe import Row
from miners.schema.predicate import AllOf, Atom, Predicate, Ref, evaluate
from miners.ssot import Cluster, ProbeField

_NUMERIC = ("int", "float")
_TYPE_NAMES = {bool: "bool", int: "int", float: "float", str: "str"}


@dataclass(frozen=True)
class Evidence:
    """The rows of one message class, split by what the library did."""

    triggering: tuple[Row, ...]
    clean: tuple[Row, ...]
    defaults: Mapping[str, Any]

    def fits(self, predicate: Predicate) -> bool:
        return all(evaluate(predicate, r.kwargs, self.defaults) for r in self.triggering) and not any(
            evaluate(predicate, r.kwargs, self.defaults) for r in self.clean
        )

    def values(self, field: str, rows: Sequence[Row]) -> list[Any]:
        seen: list[Any] = []
        for row in rows:
            value = row.kwargs.get(field, self.defaults.get(field))
            if not any(type(v) is type(value) and v == value for v in seen):
                seen.append(value)
        return seen


def _sortable(values: Sequence[Any]) -> list[Any]:
    return sorted((v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)), key=float)


def _divisibility(fields: Sequence[ProbeField]) -> Iterator[Predicate]:
    ints = [f.name for f in fields if f.type == "int"]
    for a, b in itertools.permutations(ints, 2):
        yield Atom(a, "not_divisible_by", Ref(b))


def _comparisons(fields: Sequence[ProbeField]) -> Iterator[Predicate]:
    numeric = [f.name for f in fields if f.type in _NUMERIC]
    for a, b in itertools.combinations(numeric, 2):
        for op in (">", ">=", "<", "<="):
            yield Atom(a, op, Ref(b))


def _equality_gates(fields: Sequence[ProbeField], evidence: Evidence) -> Iterator[Predicate]:
    for a, b in itertools.combinations([f.name for f in fields], 2):
        for va in evidence.values(a, evidence.triggering):
            for vb in evidence.values(b, evidence.triggering):
                yield AllOf((Atom(a, "==", va), Atom(b, "==", vb)))


def _type_allowlists(fields: Sequence[ProbeField], evidence: Evidence) -> Iterator[Predicate]:
    for field in fields:
        accepted = sorted(
            {_TYPE_NAMES.get(type(v), type(v).__name__) for v in evidence.values(field.name, evidence.clean)}
        )
        if accepted:
            yield Atom(field.name, "type_is_not", accepted if len(accepted) > 1 else accepted[0])


def _ranges(fields: Sequence[ProbeField], evidence: Evidence) -> Iterator[Predicate]:
    for field in fields:
        if field.type not in _NUMERIC:
            continue
        bad = _sortable(evidence.values(field.name, evidence.triggering))
        if bad:
            # The canonical form names the boundary value the library rejects.
            yield Atom(field.name, "<=", bad[-1])
            yield Atom(field.name, ">=", bad[0])


def _equalities(fields: Sequence[ProbeField], evidence: Evidence) -> Iterator[Predicate]:
    for field in fields:
        for value in evidence.values(field.name, evidence.triggering):
            yield Atom(field.name, "==", value)


def _allowlists(fields: Sequence[ProbeField], evidence: Evidence) -> Iterator[Predicate]:
    for field in fields:
        # No fresh string can stand for a valid value the SSOT does not name, so a string
        # allowlist is only inferred over a domain the SSOT declares complete.
        if field.type == "str" and not field.complete:
            continue
        accepted = sorted(
            evidence.values(field.name, evidence.clean), key=lambda v: (v is not None, type(v).__name__, v)
        )
        if len(accepted) == 1:
            yield Atom(field.name, "!=", accepted[0])
        elif accepted:
            yield Atom(field.name, "not_in", accepted)


def candidates(cluster: Cluster, evidence: Evidence) -> list[tuple[str, Predicate]]:
    """Every (template, predicate) that fits the evidence, in template order."""
    if not evidence.triggering or not evidence.clean:
        return []
    generators = (
        ("divisibility", _divisibility(cluster.fields)),
        ("comparison", _comparisons(cluster.fields)),
        ("equality_gate", _equality_gates(cluster.fields, evidence)),
        ("type_allowlist", _type_allowlists(cluster.fields, evidence)),
        ("range", _ranges(cluster.fields, evidence)),
        ("equality", _equalities(cluster.fields, evidence)),
        ("value_allowlist", _allowlists(cluster.fields, evidence)),
    )
    found: list[tuple[str, Predicate]] = []
    for name, predicates in generators:
        for predicate in predicates:
            if evidence.fits(predicate) and predicate not in [p for _, p in found]:
                found.append((name, predicate))
    return found

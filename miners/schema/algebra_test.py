"""Predicate algebra: negation, simplification and contradictions keep a predicate's meaning."""

from __future__ import annotations

import itertools

import pytest

from miners.schema.algebra import is_contradiction, negate, simplify
from miners.schema.predicate import NEGATION, AllOf, AnyOf, Atom, Predicate, Ref, evaluate, fields_of

# Values each field takes in the equivalence checks: None, both sides of every bound used below, a string.
VALUES = (None, -1, 0, 0.005, 0.5, 1, 1.5, 2, 2.5, 3, 4, "fast")


def configs(predicate: Predicate):
    fields = fields_of(predicate)
    for values in itertools.product(VALUES, repeat=len(fields)):
        yield dict(zip(fields, values, strict=True))


def same_meaning(a: Predicate, b: Predicate) -> bool:
    return all(evaluate(a, config) == evaluate(b, config) for config in configs(AllOf((a, b))))


@pytest.mark.parametrize("op", sorted(NEGATION))
def test_negated_atoms_take_the_opposite_operator(op):
    value = None if op in ("present", "absent") else ["int"] if op.startswith("type") else [1] if "in" in op else 2
    assert negate(Atom("a", op, value)) == Atom("a", NEGATION[op], value)


def test_negating_an_atom_on_items_swaps_the_quantifier():
    any_negative = Atom("sizes", "<", 0, "any_item")
    assert negate(any_negative) == Atom("sizes", ">=", 0, "all_items")
    assert negate(Atom("stop", "<=", 2, "length")) == Atom("stop", ">", 2, "length")
    for sizes in ([], [1, 2], [1, -1], [-1, -2]):
        assert evaluate(negate(any_negative), {"sizes": sizes}) is not evaluate(any_negative, {"sizes": sizes})


def test_negation_follows_de_morgan_and_is_exact_on_known_values():
    predicate = AllOf((Atom("a", ">", 1), AnyOf((Atom("b", "==", 0), Atom("a", "<=", Ref("b"))))))
    negated = negate(predicate)
    assert negated == AnyOf((Atom("a", "<=", 1), AllOf((Atom("b", "!=", 0), Atom("a", ">", Ref("b"))))))
    assert negate(negated) == predicate
    numbers = [-1, 0, 1, 2, 3]
    for a, b in itertools.product(numbers, numbers):
        assert evaluate(negated, {"a": a, "b": b}) is not evaluate(predicate, {"a": a, "b": b})


# (predicate, what simplify makes of it)
CASES = [
    pytest.param(
        AllOf((AllOf((Atom("a", ">", 1), Atom("b", "<", 2))), Atom("a", ">", 1))),
        AllOf((Atom("a", ">", 1), Atom("b", "<", 2))),
        id="nesting-flattened-duplicates-dropped",
    ),
    pytest.param(AllOf((Atom("a", ">", 1),)), Atom("a", ">", 1), id="one-term-group"),
    pytest.param(AnyOf((Atom("n", "==", None), Atom("n", "==", 1))), Atom("n", "in", [None, 1]), id="equality-chain"),
    pytest.param(
        AnyOf((Atom("n", "==", 1), Atom("n", "in", [2, 1]), Atom("m", "==", 0))),
        AnyOf((Atom("n", "in", [1, 2]), Atom("m", "==", 0))),
        id="equalities-and-lists-merge-per-field",
    ),
    pytest.param(
        AllOf((Atom("n", "!=", None), Atom("n", "not_in", [1, 2]))),
        Atom("n", "not_in", [None, 1, 2]),
        id="inequality-chain",
    ),
    pytest.param(
        AnyOf((Atom("a", "==", Ref("b")), Atom("a", "==", 1))),
        AnyOf((Atom("a", "==", Ref("b")), Atom("a", "==", 1))),
        id="field-references-are-not-folded",
    ),
    pytest.param(AllOf((Atom("a", "!=", None), Atom("a", "<=", 0))), Atom("a", "<=", 0), id="implied-none-guard"),
    pytest.param(
        AllOf((Atom("a", "!=", None), AnyOf((Atom("a", "<", 0), Atom("a", "in", [3, 4]))))),
        AnyOf((Atom("a", "<", 0), Atom("a", "in", [3, 4]))),
        id="none-guard-implied-by-every-alternative",
    ),
    pytest.param(
        AllOf((Atom("s", "!=", None), Atom("s", "<", 2, "length"))),
        Atom("s", "<", 2, "length"),
        id="none-guard-implied-by-a-length",
    ),
    pytest.param(
        AllOf((Atom("a", "!=", None), Atom("a", "type_is_not", "int"))),
        AllOf((Atom("a", "!=", None), Atom("a", "type_is_not", "int"))),
        id="a-type-test-holds-for-none",
    ),
    pytest.param(
        AllOf((Atom("x", "==", 2), Atom("x", "!=", 1), Atom("x", "not_in", [1, 3]))),
        Atom("x", "==", 2),
        id="pinned-value",
    ),
    pytest.param(
        AllOf((AnyOf((Atom("x", "==", None), Atom("x", "!=", None))), Atom("y", ">", 1))),
        Atom("y", ">", 1),
        id="always-true-alternative",
    ),
    pytest.param(
        AllOf((Atom("t", ">", 2.0), AnyOf((Atom("t", "<=", 0), Atom("t", ">=", 0.01))))),
        Atom("t", ">", 2.0),
        id="interval-one-alternative-left",
    ),
    pytest.param(
        AllOf((Atom("t", ">=", 0), Atom("t", "<=", 1), AnyOf((Atom("t", "<", 0.5), Atom("t", ">", 3))))),
        AllOf((Atom("t", ">=", 0), Atom("t", "<", 0.5))),
        id="interval-narrowed",
    ),
    pytest.param(
        AllOf((Atom("t", ">=", 1), Atom("t", "<=", 2), AnyOf((Atom("t", "<", 1), Atom("t", ">=", 2))))),
        Atom("t", "==", 2),
        id="interval-narrowed-to-a-point",
    ),
    pytest.param(
        AllOf((Atom("t", ">=", 0), AnyOf((Atom("t", "<", 1), Atom("t", ">", 2))))),
        AllOf((Atom("t", ">=", 0), AnyOf((Atom("t", "<", 1), Atom("t", ">", 2))))),
        id="interval-two-alternatives-left",
    ),
]


@pytest.mark.parametrize(("predicate", "simplified"), CASES)
def test_simplify_writes_the_same_predicate_plainly(predicate, simplified):
    assert simplify(predicate) == simplified
    assert same_meaning(predicate, simplified)
    assert simplify(simplified) == simplified


def test_contradictions_are_an_atom_beside_its_negation():
    assert is_contradiction(AllOf((Atom("a", ">", 3), Atom("b", "==", 1), Atom("a", "<=", 3))))
    # A branch that cannot run: `if x is None and x is not None` (the walker skips what it overwrites).
    assert is_contradiction(simplify(AllOf((Atom("x", "==", None), Atom("x", "!=", None)))))
    # Only an atom and its exact negation count: disjoint bounds are for the witnesses to find.
    assert not is_contradiction(AllOf((Atom("a", ">", 3), Atom("a", "<", 2))))
    assert not is_contradiction(AnyOf((Atom("a", ">", 3), Atom("a", "<=", 3))))
    assert not is_contradiction(Atom("a", ">", 3))

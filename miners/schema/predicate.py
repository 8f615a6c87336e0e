"""Predicates: the condition under which a library objects to a config.

A predicate is an atom, or `all` / `any` of predicates. An atom compares one
field with a value from a closed operator vocabulary. A string value starting
with `@` names another field (`@num_beams`); a literal string that starts with
`@` is written with the `@` doubled (`@@text`).

In YAML:

    all:
      - {field: num_return_sequences, op: ">", value: 1}
      - any:
          - {field: num_beams, op: "==", value: null}
          - {field: num_beams, op: "==", value: 1}

An atom may test a part of the field instead of the field itself, with `of`:
`length` compares the field's length (of a string, list or mapping);
`any_item` / `all_items` test the items of a list field (of a string: its
characters, as Python iterates it), true when any item (every item) passes
the comparison:

    {field: stop, of: any_item, op: in, value: [null, false, "", [], {}]}

A rule fires when its predicate is true. Fields are looked up in the config
first, then in the class defaults when given; a field found in neither is
unknown, and every atom on an unknown field is false except `absent`. An atom
with `of` on a value that has no length, or no items, is false too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
MEMBERSHIP = ("in", "not_in")
DIVISIBILITY = ("divisible_by", "not_divisible_by")
TYPE_TESTS = ("type_is", "type_is_not")
PRESENCE = ("present", "absent")
OPERATORS = COMPARISONS + MEMBERSHIP + DIVISIBILITY + TYPE_TESTS + PRESENCE

# What part of the field an atom tests (`of`); absent: the field's value itself.
PARTS = ("length", "any_item", "all_items")
# Negating an atom on items swaps the quantifier: not (any item < 0) is (every item >= 0).
PART_NEGATION = {"length": "length", "any_item": "all_items", "all_items": "any_item"}

# The operator that is true exactly when the given one is false (on known values).
NEGATION = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    ">=": "<",
    ">": "<=",
    "<=": ">",
    "in": "not_in",
    "not_in": "in",
    "divisible_by": "not_divisible_by",
    "not_divisible_by": "divisible_by",
    "type_is": "type_is_not",
    "type_is_not": "type_is",
    "present": "absent",
    "absent": "present",
}

# The operator with its operands swapped: `a < @b` is `b > @a`.
MIRROR = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}

REF_PREFIX = "@"

# Python's falsy plain values: `x in FALSY` is `not x` for plain data (membership
# compares with ==, and 0 == 0.0 == False, so zeros are covered too).
FALSY: tuple = (None, False, "", [], {})


class PredicateError(ValueError):
    """A predicate is malformed; the message names the problem."""


class _Missing:
    """A field neither in the config nor in the defaults."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


@dataclass(frozen=True)
class Ref:
    """A reference to another field of the same config."""

    field: str


@dataclass(frozen=True)
class Atom:
    field: str
    op: str
    value: Any = None
    of: str | None = None  # one of PARTS, or None for the field's value

    def fields(self) -> Iterator[str]:
        yield self.field
        if isinstance(self.value, Ref):
            yield self.value.field


@dataclass(frozen=True)
class AllOf:
    terms: tuple[Predicate, ...]

    def fields(self) -> Iterator[str]:
        for term in self.terms:
            yield from term.fields()


@dataclass(frozen=True)
class AnyOf:
    terms: tuple[Predicate, ...]

    def fields(self) -> Iterator[str]:
        for term in self.terms:
            yield from term.fields()


Predicate = Atom | AllOf | AnyOf


def fields_of(predicate: Predicate) -> list[str]:
    """The fields a predicate reads, in first-use order, without repeats."""
    return list(dict.fromkeys(predicate.fields()))


# --- (de)serialisation -------------------------------------------------------


def _decode_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(REF_PREFIX):
        if value.startswith(REF_PREFIX * 2):
            return value[1:]
        if len(value) == 1:
            raise PredicateError("a field reference '@' names no field")
        return Ref(value[1:])
    return value


def _encode_value(value: Any) -> Any:
    if isinstance(value, Ref):
        return REF_PREFIX + value.field
    if isinstance(value, str) and value.startswith(REF_PREFIX):
        return REF_PREFIX + value
    return value


def _is_plain_data(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_plain_data(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain_data(v) for k, v in value.items())
    return False


def from_data(data: Any) -> Predicate:
    """Builds a predicate from its YAML form; raises PredicateError naming the problem."""
    if not isinstance(data, Mapping):
        raise PredicateError(f"a predicate must be a mapping, got {type(data).__name__}: {data!r}")
    keys = set(data)
    for combinator, cls in (("all", AllOf), ("any", AnyOf)):
        if combinator in keys:
            if keys != {combinator}:
                raise PredicateError(f"'{combinator}' takes no sibling keys, got {sorted(keys)}")
            terms = data[combinator]
            if not isinstance(terms, list) or not terms:
                raise PredicateError(f"'{combinator}' needs a non-empty list of predicates")
            return cls(tuple(from_data(term) for term in terms))
    if "op" not in keys or "field" not in keys:
        raise PredicateError(f"an atom needs 'field' and 'op', got keys {sorted(keys)}")
    unknown = keys - {"field", "op", "value", "of"}
    if unknown:
        raise PredicateError(f"unknown atom keys {sorted(unknown)}")
    op, field, part = data["op"], data["field"], data.get("of")
    if part is not None and part not in PARTS:
        raise PredicateError(f"unknown 'of' {part!r}; known parts: {', '.join(PARTS)}")
    if part is not None and op in PRESENCE:
        raise PredicateError(f"operator {op!r} tests the field itself and takes no 'of'")
    if part == "length" and op not in COMPARISONS + MEMBERSHIP:
        raise PredicateError(f"a length is compared (==, <, in, ...), not tested with {op!r}")
    if op not in OPERATORS:
        raise PredicateError(f"unknown operator {op!r}; known operators: {', '.join(OPERATORS)}")
    if not isinstance(field, str) or not field.isidentifier():
        raise PredicateError(f"'field' must be an identifier, got {field!r}")
    if op in PRESENCE:
        if "value" in keys:
            raise PredicateError(f"operator {op!r} takes no value")
        return Atom(field, op)
    if "value" not in keys:
        raise PredicateError(f"operator {op!r} needs a value")
    raw = data["value"]
    if not _is_plain_data(raw):
        raise PredicateError(f"value {raw!r} is not plain YAML data")
    value = _decode_value(raw)
    if op in MEMBERSHIP:
        if not isinstance(value, list):
            raise PredicateError(f"operator {op!r} needs a list value, got {raw!r}")
    elif op in TYPE_TESTS:
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(n, str) and n for n in names):
            raise PredicateError(f"operator {op!r} needs a type name or a list of them, got {raw!r}")
    elif (
        op in DIVISIBILITY
        and not isinstance(value, Ref)
        and (isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0)
    ):
        raise PredicateError(f"operator {op!r} needs a non-zero number or a field reference, got {raw!r}")
    return Atom(field, op, value, part)


def to_data(predicate: Predicate) -> dict[str, Any]:
    if isinstance(predicate, Atom):
        data: dict[str, Any] = {"field": predicate.field, "op": predicate.op}
        if predicate.of is not None:
            data["of"] = predicate.of
        if predicate.op not in PRESENCE:
            data["value"] = _encode_value(predicate.value)
        return data
    key = "all" if isinstance(predicate, AllOf) else "any"
    return {key: [to_data(term) for term in predicate.terms]}


def normalised(predicate: Predicate) -> str:
    """A canonical text of the predicate: `all`/`any` terms and membership lists sorted, one-term
    groups flattened, and a comparison of two fields written with the fields in name order."""

    def norm(p: Predicate) -> Any:
        if isinstance(p, Atom):
            if isinstance(p.value, Ref) and p.op in MIRROR and p.of is None and p.value.field < p.field:
                # One comparison of two fields has two spellings (`a > @b`, `b < @a`): keep one.
                p = Atom(p.value.field, MIRROR[p.op], Ref(p.field))
            data = to_data(p)
            if p.op in MEMBERSHIP:
                # A membership list is a set: its order is not part of the rule, and a
                # one-element list is an (in)equality.
                values = sorted(data["value"], key=lambda v: json.dumps(v, sort_keys=True))
                if len(values) == 1:
                    data["op"], data["value"] = ("==" if p.op == "in" else "!="), values[0]
                    return data
                data["value"] = values
            return data
        terms = sorted((norm(t) for t in p.terms), key=lambda t: json.dumps(t, sort_keys=True))
        if len(terms) == 1:
            return terms[0]
        return {"all" if isinstance(p, AllOf) else "any": terms}

    return json.dumps(norm(predicate), sort_keys=True, separators=(",", ":"))


# --- evaluation ---------------------------------------------------------------


def _type_names(value: Any) -> set[str]:
    names = set()
    for cls in type(value).__mro__:
        names.add(cls.__name__)
        names.add(f"{cls.__module__}.{cls.__qualname__}")
    return names


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare(op: str, left: Any, right: Any) -> bool:
    try:
        if op == "==":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        # An ordering between unorderable values (None < 0) cannot hold.
        return False


def _contains(container: list[Any], item: Any) -> bool:
    try:
        return item in container
    except TypeError:
        return False


def _evaluate_atom(atom: Atom, lookup: Any) -> bool:
    if atom.op == "present":
        return lookup.is_set(atom.field)
    if atom.op == "absent":
        return not lookup.is_set(atom.field)
    value = lookup(atom.field)
    if value is MISSING:
        return False
    operand = atom.value
    if isinstance(operand, Ref):
        operand = lookup(operand.field)
        if operand is MISSING:
            return False
    if atom.of == "length":
        if not isinstance(value, (str, list, tuple, dict)):
            return False
        return _test(atom.op, len(value), operand)
    if atom.of in ("any_item", "all_items"):
        # As Python iterates them, since the rules come from `any(... for x in self.f)`: a
        # string's items are its characters.
        if not isinstance(value, (list, tuple, str)):
            return False
        quantifier = any if atom.of == "any_item" else all
        return quantifier(_test(atom.op, item, operand) for item in value)
    return _test(atom.op, value, operand)


def _test(op: str, value: Any, operand: Any) -> bool:
    """One comparison, membership, divisibility or type test of a (known) value."""
    if op in COMPARISONS:
        return _compare(op, value, operand)
    if op in MEMBERSHIP:
        if not isinstance(operand, (list, tuple, set, frozenset)):
            return False
        inside = _contains(list(operand), value)
        return inside if op == "in" else not inside
    if op in DIVISIBILITY:
        if not (_is_number(value) and _is_number(operand)) or operand == 0:
            return False
        divisible = value % operand == 0
        return divisible if op == "divisible_by" else not divisible
    names = operand if isinstance(operand, list) else [operand]
    matches = bool(_type_names(value) & set(names))
    return matches if op == "type_is" else not matches


class _Lookup:
    def __init__(self, values: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
        self._values = values
        self._defaults = defaults

    def __call__(self, field: str) -> Any:
        if field in self._values:
            return self._values[field]
        return self._defaults.get(field, MISSING)

    def is_set(self, field: str) -> bool:
        return field in self._values


def evaluate(predicate: Predicate, values: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> bool:
    """True when the predicate holds for a config with these values (over these defaults)."""
    lookup = _Lookup(values, defaults or {})

    def run(p: Predicate) -> bool:
        if isinstance(p, Atom):
            return _evaluate_atom(p, lookup)
        if isinstance(p, AllOf):
            return all(run(t) for t in p.terms)
        return any(run(t) for t in p.terms)

    return run(predicate)

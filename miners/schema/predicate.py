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
`first` tests its first element (of a string: its first character); `upper`
tests a string upper-cased (a library that parses `Enum[value.upper()]` takes any case);
`any_item` / `all_items` test the items of a list field (of a string: its
characters, as Python iterates it), true when any item (every item) passes
the comparison; `any_key` / `all_keys` and `any_value` / `all_values` test a
mapping's keys and values:

    {field: stop, of: any_item, op: in, value: [null, false, "", [], {}]}

A condition on each element that is more than one comparison is a quantifier:
`of` with `where`, a predicate over the element, which it names `$item` (a
quantifier inside `where` names its own element `$item` in turn). `any_pair` /
`all_pairs` walk a list's adjacent pairs, the second element named `$next`:

    {field: custom_ops, of: any_item, where: {all: [
        {field: $item, op: not_in, value: [all, none]},
        {field: $item, of: length, op: "<", value: 2}]}}
    {field: buckets, of: any_value, where:
        {field: $item, of: any_pair, where: {field: $item, op: ">=", value: "@$next"}}}

`finite` / `not_finite` test that a number is (is not) finite; like `present`
and `absent` they take no value.

A rule fires when its predicate is true. Fields are looked up in the config
first, then in the class defaults when given; a field found in neither is
unknown, and every atom on an unknown field is false except `absent`. An atom
with `of` on a value that has no length, or no items, is false too.
"""

from __future__ import annotations

import itertools
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
FINITENESS = ("finite", "not_finite")
UNARY = PRESENCE + FINITENESS  # operators that take no value
OPERATORS = COMPARISONS + MEMBERSHIP + DIVISIBILITY + TYPE_TESTS + PRESENCE + FINITENESS

# What part of the field an atom tests (`of`); absent: the field's value itself.
PARTS = (
    "length",
    "first",
    "upper",
    "any_item",
    "all_items",
    "any_key",
    "all_keys",
    "any_value",
    "all_values",
    "any_pair",
    "all_pairs",
)
ELEMENT_PARTS = PARTS[3:]  # the quantified parts, which a `where` may follow
PAIR_PARTS = ("any_pair", "all_pairs")  # tested only with a `where`, over `$item` and `$next`
# Negating an atom on elements swaps the quantifier: not (any item < 0) is (every item >= 0).
PART_NEGATION = {
    "length": "length",
    "first": "first",
    "upper": "upper",
    "any_item": "all_items",
    "all_items": "any_item",
    "any_key": "all_keys",
    "all_keys": "any_key",
    "any_value": "all_values",
    "all_values": "any_value",
    "any_pair": "all_pairs",
    "all_pairs": "any_pair",
}
# The names a quantifier's `where` gives its element (and, over pairs, the element after it).
ITEM = "$item"
NEXT = "$next"

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
    "finite": "not_finite",
    "not_finite": "finite",
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


@dataclass(frozen=True)
class Each:
    """A quantifier: `where` holds for any (every) element of the field's part `of`."""

    field: str
    of: str  # one of ELEMENT_PARTS
    where: Predicate

    def fields(self) -> Iterator[str]:
        yield self.field
        # `where` reads the element, and may compare it with other fields of the config (or,
        # while a miner builds it, with an outer loop's element).
        yield from (name for name in self.where.fields() if name not in (ITEM, NEXT))


Predicate = Atom | AllOf | AnyOf | Each


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


def _field_name(field: Any, elements: tuple[str, ...]) -> str:
    if isinstance(field, str) and (field.isidentifier() or field in elements):
        return field
    where = f" (inside `where`: {', '.join(elements)} too)" if elements else ""
    raise PredicateError(f"'field' must be an identifier{where}, got {field!r}")


def from_data(data: Any, _elements: tuple[str, ...] = ()) -> Predicate:
    """Builds a predicate from its YAML form; raises PredicateError naming the problem."""
    if not isinstance(data, Mapping):
        raise PredicateError(f"a predicate must be a mapping, got {type(data).__name__}: {data!r}")
    keys = set(data)
    for combinator, cls in (("all", AllOf), ("any", AnyOf)):
        if combinator in keys:
            if keys != {combinator}:
                raise PredicateError(f"'{combinator}' takes no sibling keys, got {sorted(keys, key=str)}")
            terms = data[combinator]
            if not isinstance(terms, list) or not terms:
                raise PredicateError(f"'{combinator}' needs a non-empty list of predicates")
            return cls(tuple(from_data(term, _elements) for term in terms))
    if "where" in keys:
        if keys != {"field", "of", "where"}:
            raise PredicateError(f"a quantifier has exactly the keys field, of and where, got {sorted(keys, key=str)}")
        if data["of"] not in ELEMENT_PARTS:
            raise PredicateError(f"a quantifier's 'of' must be one of {', '.join(ELEMENT_PARTS)}, got {data['of']!r}")
        elements = (ITEM, NEXT) if data["of"] in PAIR_PARTS else (ITEM,)
        return Each(_field_name(data["field"], _elements), data["of"], from_data(data["where"], elements))
    return _atom_from_data(data, _elements)


def _atom_from_data(data: Mapping[str, Any], _elements: tuple[str, ...]) -> Atom:
    keys = set(data)
    if "op" not in keys or "field" not in keys:
        raise PredicateError(f"an atom needs 'field' and 'op', got keys {sorted(keys, key=str)}")
    unknown = keys - {"field", "op", "value", "of"}
    if unknown:
        raise PredicateError(f"unknown atom keys {sorted(unknown, key=str)}")
    op, part = data["op"], data.get("of")
    if op not in OPERATORS:
        raise PredicateError(f"unknown operator {op!r}; known operators: {', '.join(OPERATORS)}")
    if part is not None and part not in PARTS:
        raise PredicateError(f"unknown 'of' {part!r}; known parts: {', '.join(PARTS)}")
    if part is not None and op in PRESENCE:
        raise PredicateError(f"operator {op!r} tests the field itself and takes no 'of'")
    if part == "length" and op not in COMPARISONS + MEMBERSHIP:
        raise PredicateError(f"a length is compared (==, <, in, ...), not tested with {op!r}")
    if part in PAIR_PARTS:
        raise PredicateError(f"a pair is tested with `where` ({ITEM} against {NEXT}), not with {op!r}")
    field = _field_name(data["field"], _elements)
    if op in UNARY:
        if "value" in keys:
            raise PredicateError(f"operator {op!r} takes no value")
        return Atom(field, op, None, part)
    if "value" not in keys:
        raise PredicateError(f"operator {op!r} needs a value")
    raw = data["value"]
    if not _is_plain_data(raw):
        raise PredicateError(f"value {raw!r} is not plain YAML data")
    value = _decode_value(raw)
    if isinstance(value, Ref):
        _field_name(value.field, _elements)
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
    if isinstance(predicate, Each):
        return {"field": predicate.field, "of": predicate.of, "where": to_data(predicate.where)}
    if isinstance(predicate, Atom):
        data: dict[str, Any] = {"field": predicate.field, "op": predicate.op}
        if predicate.of is not None:
            data["of"] = predicate.of
        if predicate.op not in UNARY:
            data["value"] = _encode_value(predicate.value)
        return data
    key = "all" if isinstance(predicate, AllOf) else "any"
    return {key: [to_data(term) for term in predicate.terms]}


def normalised(predicate: Predicate) -> str:
    """A canonical text of the predicate: `all`/`any` terms and membership lists sorted, one-term
    groups flattened, and a comparison of two fields written with the fields in name order."""

    def norm(p: Predicate) -> Any:
        if isinstance(p, Each):
            return {"field": p.field, "of": p.of, "where": norm(p.where)}
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


def elements(value: Any, part: str) -> list[Any] | None:
    """The elements a quantified part walks, or None when the value has no such part. Items
    are as Python iterates them, since the rules come from `any(... for x in self.f)`: a
    string's items are its characters. A pair is (element, the element after it)."""
    if part == "first":
        return [value[0]] if isinstance(value, (list, tuple, str)) and value else None
    if part == "upper":
        return [value.upper()] if isinstance(value, str) else None
    if part in ("any_item", "all_items"):
        # A mapping's items, as Python iterates it, are its keys.
        return list(value) if isinstance(value, (list, tuple, str, Mapping)) else None
    if part in PAIR_PARTS:
        return list(itertools.pairwise(value)) if isinstance(value, (list, tuple)) else None
    if not isinstance(value, Mapping):
        return None
    return list(value.keys() if part in ("any_key", "all_keys") else value.values())


def _quantifier(part: str) -> Any:
    return any if part.startswith("any_") else all


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
    if atom.of is not None:
        parts = elements(value, atom.of)
        if parts is None:
            return False
        return _quantifier(atom.of)(_test(atom.op, item, operand) for item in parts)
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
    if op in FINITENESS:
        if not isinstance(value, (int, float)):
            return False  # math.isfinite() takes numbers only (a bool is one)
        # An int is finite, however large (math.isfinite() overflows past a float's range).
        return (isinstance(value, int) or math.isfinite(value)) == (op == "finite")
    if op in DIVISIBILITY:
        if not (_is_number(value) and _is_number(operand)) or operand == 0:
            return False
        try:
            divisible = value % operand == 0
        except OverflowError:
            # An int past a float's range, by a float: Python itself cannot compute it, so no
            # rule about it can be known to hold.
            return False
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


class _ElementLookup:
    """Inside a quantifier's `where`: the element's names, then the config's fields."""

    def __init__(self, names: Mapping[str, Any], outer: Any) -> None:
        self._names = names
        self._outer = outer

    def __call__(self, field: str) -> Any:
        if field.startswith("$"):
            return self._names.get(field, MISSING)
        return self._outer(field)

    def is_set(self, field: str) -> bool:
        return field in self._names if field.startswith("$") else self._outer.is_set(field)


def _run(p: Predicate, lookup: Any) -> bool:
    if isinstance(p, Atom):
        return _evaluate_atom(p, lookup)
    if isinstance(p, Each):
        value = lookup(p.field)
        parts = None if value is MISSING else elements(value, p.of)
        if parts is None:
            return False
        pairs = p.of in PAIR_PARTS
        return _quantifier(p.of)(
            _run(p.where, _ElementLookup({ITEM: e[0], NEXT: e[1]} if pairs else {ITEM: e}, lookup)) for e in parts
        )
    if isinstance(p, AllOf):
        return all(_run(t, lookup) for t in p.terms)
    return any(_run(t, lookup) for t in p.terms)


def evaluate(predicate: Predicate, values: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> bool:
    """True when the predicate holds for a config with these values (over these defaults)."""
    return _run(predicate, _Lookup(values, defaults or {}))

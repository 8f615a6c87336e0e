"""The predicate vocabulary: every operator's semantics, combinators, references, malformed input."""

from __future__ import annotations

import pytest

from miners.schema.predicate import (
    OPERATORS,
    AllOf,
    AnyOf,
    Atom,
    PredicateError,
    Ref,
    evaluate,
    fields_of,
    from_data,
    normalised,
    to_data,
)


def atom(field, op, value=None):
    data = {"field": field, "op": op}
    if op not in ("present", "absent", "finite", "not_finite"):
        data["value"] = value
    return from_data(data)


@pytest.mark.parametrize(
    ("op", "value", "config", "expected"),
    [
        ("==", 1, {"x": 1}, True),
        ("==", 1, {"x": 2}, False),
        ("==", None, {"x": None}, True),
        ("!=", None, {"x": 0}, True),
        ("!=", None, {"x": None}, False),
        ("<", 0, {"x": -1}, True),
        ("<", 0, {"x": 0}, False),
        ("<=", 0, {"x": 0}, True),
        (">", 1.5, {"x": 2}, True),
        (">", 1.5, {"x": 1.5}, False),
        (">=", 2, {"x": 2}, True),
        ("in", ["a", "b"], {"x": "a"}, True),
        ("in", ["a", "b"], {"x": "c"}, False),
        ("not_in", ["a", None], {"x": "c"}, True),
        ("not_in", ["a", None], {"x": None}, False),
        ("divisible_by", 4, {"x": 8}, True),
        ("divisible_by", 4, {"x": 6}, False),
        ("not_divisible_by", 4, {"x": 6}, True),
        ("not_divisible_by", 4, {"x": 8}, False),
        ("type_is", "int", {"x": 3}, True),
        ("type_is", "int", {"x": "3"}, False),
        ("type_is", ["float", "str"], {"x": "3"}, True),
        ("type_is_not", "float", {"x": 3}, True),
        ("type_is_not", "NoneType", {"x": None}, False),
        ("present", None, {"x": None}, True),
        ("present", None, {}, False),
        ("absent", None, {}, True),
        ("absent", None, {"x": 1}, False),
        ("finite", None, {"x": 1.5}, True),
        ("finite", None, {"x": float("inf")}, False),
        ("finite", None, {"x": "1.5"}, False),
        ("not_finite", None, {"x": float("nan")}, True),
        ("not_finite", None, {"x": float("-inf")}, True),
        ("not_finite", None, {"x": 3}, False),
        ("not_finite", None, {"x": None}, False),
    ],
)
def test_operator_semantics(op, value, config, expected):
    assert evaluate(atom("x", op, value), config) is expected


def test_every_operator_is_covered():
    # The parametrised table above exercises each operator; keep them in step.
    covered = {"==", "!=", "<", "<=", ">", ">=", "in", "not_in", "divisible_by", "not_divisible_by"}
    covered |= {"type_is", "type_is_not", "present", "absent", "finite", "not_finite"}
    assert covered == set(OPERATORS)


def test_bool_is_an_int_like_isinstance():
    # type_is follows isinstance, as the libraries' own checks do.
    assert evaluate(atom("x", "type_is", "int"), {"x": True})


def test_unorderable_comparison_is_false_not_an_error():
    assert evaluate(atom("x", "<", 0), {"x": None}) is False
    assert evaluate(atom("x", ">", 0), {"x": "a"}) is False


def test_unknown_fields_make_atoms_false_except_absent():
    for op, value in (("==", None), ("!=", 1), ("<", 1), ("in", [1]), ("not_in", [1]), ("type_is_not", "int")):
        assert evaluate(atom("x", op, value), {}) is False
    assert evaluate(atom("x", "absent"), {}) is True


def test_defaults_fill_unset_fields_but_do_not_make_them_present():
    rule = atom("x", "==", None)
    assert evaluate(rule, {}, defaults={"x": None}) is True
    assert evaluate(atom("x", "present"), {}, defaults={"x": None}) is False


def test_field_references():
    rule = atom("a", ">", "@b")
    assert rule == Atom("a", ">", Ref("b"))
    assert evaluate(rule, {"a": 3, "b": 2})
    assert not evaluate(rule, {"a": 2, "b": 2})
    assert not evaluate(rule, {"a": 3})  # the referenced field is unknown
    assert evaluate(atom("a", "not_divisible_by", "@b"), {"a": 5, "b": 2})
    assert fields_of(rule) == ["a", "b"]


def test_doubled_at_is_a_literal_string():
    rule = atom("a", "==", "@@home")
    assert rule.value == "@home"
    assert to_data(rule)["value"] == "@@home"
    assert evaluate(rule, {"a": "@home"})


def test_all_and_any():
    data = {
        "all": [
            {"field": "n", "op": ">", "value": 1},
            {"any": [{"field": "b", "op": "==", "value": None}, {"field": "b", "op": "==", "value": 1}]},
        ]
    }
    rule = from_data(data)
    assert isinstance(rule, AllOf) and isinstance(rule.terms[1], AnyOf)
    assert evaluate(rule, {"n": 2, "b": None})
    assert evaluate(rule, {"n": 2, "b": 1})
    assert not evaluate(rule, {"n": 2, "b": 4})
    assert not evaluate(rule, {"n": 1, "b": 1})
    assert to_data(rule) == data


def test_normalised_ignores_term_order():
    a = {"field": "a", "op": "==", "value": 1}
    b = {"field": "b", "op": "<", "value": 2}
    assert normalised(from_data({"all": [a, b]})) == normalised(from_data({"all": [b, a]}))
    assert normalised(from_data({"all": [a]})) == normalised(from_data(a))
    assert normalised(from_data({"all": [a, b]})) != normalised(from_data({"any": [a, b]}))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"field": "x", "op": "≈", "value": 1}, "unknown operator '≈'"),
        ({"field": "x", "op": "between", "value": [1, 2]}, "unknown operator 'between'"),
        ({"field": "x", "op": "=="}, "needs a value"),
        ({"field": "x", "op": "present", "value": 1}, "takes no value"),
        ({"field": "x", "op": "in", "value": 3}, "needs a list value"),
        ({"field": "x", "op": "divisible_by", "value": 0}, "non-zero number"),
        ({"field": "x", "op": "type_is", "value": 3}, "type name"),
        ({"field": "1x", "op": "==", "value": 1}, "identifier"),
        ({"op": "==", "value": 1}, "needs 'field' and 'op'"),
        ({"field": "x", "op": "==", "value": 1, "note": "hi"}, "unknown atom keys"),
        ({"all": []}, "non-empty list"),
        ({"all": [{"field": "x", "op": "absent"}], "any": []}, "no sibling keys"),
        (["x", "==", 1], "must be a mapping"),
        ({"field": "x", "op": "==", "value": "@"}, "names no field"),
        ({"field": "x", "op": "==", "value": float("nan")}, "not plain YAML data"),
    ],
)
def test_malformed_predicates_are_rejected_with_the_problem(data, problem):
    with pytest.raises(PredicateError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        from_data(data)


def test_parts_of_a_field():
    stop_empty = from_data({"field": "stop", "of": "any_item", "op": "in", "value": ["", None]})
    assert evaluate(stop_empty, {"stop": ["a", ""]})
    assert not evaluate(stop_empty, {"stop": ["a"]})
    assert not evaluate(stop_empty, {"stop": []})
    # A string's items are its characters, as Python iterates it; a number has no items.
    assert not evaluate(stop_empty, {"stop": ""})
    assert evaluate(from_data({"field": "ids", "of": "any_item", "op": "type_is_not", "value": "int"}), {"ids": "ab"})
    assert not evaluate(stop_empty, {"stop": 5})
    every_positive = from_data({"field": "ids", "of": "all_items", "op": ">", "value": 0})
    assert evaluate(every_positive, {"ids": [1, 2]})
    assert evaluate(every_positive, {"ids": []})
    assert not evaluate(every_positive, {"ids": [1, -1]})
    longer = from_data({"field": "keys", "of": "length", "op": ">", "value": "@n"})
    assert evaluate(longer, {"keys": [1, 2, 3], "n": 2})
    assert not evaluate(longer, {"keys": 5, "n": 2})
    assert to_data(stop_empty) == {"field": "stop", "of": "any_item", "op": "in", "value": ["", None]}


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"field": "x", "of": "items", "op": "==", "value": 1}, "unknown 'of'"),
        ({"field": "x", "of": "length", "op": "absent"}, "takes no 'of'"),
        ({"field": "x", "of": "length", "op": "type_is", "value": "int"}, "a length is compared"),
    ],
)
def test_malformed_parts(data, problem):
    with pytest.raises(PredicateError, match=problem):
        from_data(data)


def test_a_comparison_of_two_fields_has_one_normal_form():
    a = from_data({"field": "max_tokens", "op": "<", "value": "@min_tokens"})
    b = from_data({"field": "min_tokens", "op": ">", "value": "@max_tokens"})
    assert normalised(a) == normalised(b)


# --- quantifiers: a condition on each element -----------------------------------

CUSTOM_OPS_SYNTAX = {
    "field": "custom_ops",
    "of": "any_item",
    "where": {
        "all": [
            {"field": "$item", "op": "not_in", "value": ["all", "none"]},
            {
                "any": [
                    {"field": "$item", "of": "length", "op": "<", "value": 2},
                    {"field": "$item", "of": "first", "op": "not_in", "value": ["+", "-"]},
                ]
            },
        ]
    },
}

STRICTLY_INCREASING = {
    "field": "buckets",
    "of": "any_value",
    "where": {"field": "$item", "of": "any_pair", "where": {"field": "$item", "op": ">=", "value": "@$next"}},
}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"custom_ops": ["quant_fp8"]}, True),
        ({"custom_ops": ["+"]}, True),
        ({"custom_ops": ["all", "+rms_norm", "-silu"]}, False),
        ({"custom_ops": []}, False),
        ({"custom_ops": None}, False),
        ({}, False),
    ],
)
def test_quantifier_over_a_compound_condition(config, expected):
    assert evaluate(from_data(CUSTOM_OPS_SYNTAX), config) is expected


@pytest.mark.parametrize(
    ("buckets", "expected"),
    [
        ({"a": [1.0, 2.0], "b": [16, 8]}, True),
        ({"a": [1.0, 1.0]}, True),
        ({"a": [1.0, 2.0, 5.0]}, False),
        ({"a": []}, False),
        ({}, False),
    ],
)
def test_pairs_of_the_values_of_a_mapping(buckets, expected):
    assert evaluate(from_data(STRICTLY_INCREASING), {"buckets": buckets}) is expected


def test_quantifier_round_trips_and_reads_only_its_own_field():
    for data in (CUSTOM_OPS_SYNTAX, STRICTLY_INCREASING):
        predicate = from_data(data)
        assert to_data(predicate) == data
        assert from_data(to_data(predicate)) == predicate
    assert fields_of(from_data(STRICTLY_INCREASING)) == ["buckets"]


def test_keys_and_values_of_a_mapping():
    unknown_key = from_data({"field": "d", "of": "any_key", "op": "not_in", "value": ["a", "b"]})
    empty_value = from_data({"field": "d", "of": "any_value", "op": "in", "value": [[], None]})
    assert evaluate(unknown_key, {"d": {"a": [1], "c": [1]}})
    assert not evaluate(unknown_key, {"d": {"a": [1]}})
    assert evaluate(empty_value, {"d": {"a": []}})
    assert not evaluate(empty_value, {"d": {"a": [1]}})
    assert not evaluate(unknown_key, {"d": ["c"]})  # a list has no keys


def test_element_names_only_inside_where():
    with pytest.raises(PredicateError, match="identifier"):
        from_data({"field": "$item", "op": "==", "value": 1})
    with pytest.raises(PredicateError, match="where"):
        from_data({"field": "x", "of": "any_pair", "op": "==", "value": 1})
    with pytest.raises(PredicateError, match="quantifier"):
        from_data({"field": "x", "of": "length", "where": {"field": "$item", "op": "==", "value": 1}})
    with pytest.raises(PredicateError, match="takes no value"):
        from_data({"field": "x", "op": "finite", "value": 1})


def test_upper_tests_a_string_upper_cased():
    rule = from_data({"field": "backend", "of": "upper", "op": "not_in", "value": ["AUTO", "FLASH_ATTN"]})
    assert not evaluate(rule, {"backend": "Flash_Attn"})
    assert evaluate(rule, {"backend": "flash-attn"})
    assert not evaluate(rule, {"backend": 3})  # not a string: no upper-cased form

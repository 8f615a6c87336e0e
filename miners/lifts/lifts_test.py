"""Lifts on known classes: every lifted rule fires on the invalid side, and the library agrees."""

from __future__ import annotations

import pytest

from corpus.gate import check_rule
from miners import witnesses
from miners.introspect.annotations import literal_values
from miners.lifts import dataclass_lift, msgspec_lift, pydantic_lift
from miners.lifts.constraints import Constraint
from miners.replay import replay
from miners.schema.predicate import Atom, evaluate
from miners.schema.rule import Rule, Source
from miners.ssot import NativeType
from miners.testdata import demo_configs as demo


def test_polarity_fires_on_the_invalid_side():
    # Gt(0) means valid values are > 0: the rule fires on <= 0, never on the valid side.
    rule = Constraint("workers", "gt", 0).predicate()
    assert rule == Atom("workers", "<=", 0)
    assert evaluate(rule, {"workers": 0}) and not evaluate(rule, {"workers": 1})
    assert Constraint("d", "ge", 0.0).predicate() == Atom("d", "<", 0.0)
    assert Constraint("d", "lt", 1).predicate() == Atom("d", ">=", 1)
    assert Constraint("d", "le", 1).predicate() == Atom("d", ">", 1)
    assert Constraint("b", "multiple_of", 16).predicate() == Atom("b", "not_divisible_by", 16)
    assert Constraint("m", "literal", ["a"], allows_none=True).predicate() == Atom("m", "not_in", ["a", None])


def test_pydantic_constraints():
    assert pydantic_lift.applies(demo.PydanticConfig)
    found = {(c.field, c.kind): c for c in pydantic_lift.constraints(demo.PydanticConfig)}
    assert sorted(found) == [
        ("block", "multiple_of"),
        ("dropout", "ge"),
        ("dropout", "le"),
        ("dtype", "literal"),
        ("mode", "literal"),
        ("workers", "gt"),
    ]
    assert found[("mode", "literal")].allows_none
    assert not found[("dtype", "literal")].allows_none


def test_msgspec_constraints_and_none_for_a_struct_without_meta():
    found = sorted((c.field, c.kind, c.value) for c in msgspec_lift.constraints(demo.MsgspecConfig))
    assert found == [
        ("kind", "literal", ["a", "b"]),
        ("n", "ge", 1),
        ("temperature", "gt", 0.0),
        ("temperature", "le", 2.0),
    ]
    # A Struct with no Meta constraints lifts to nothing; no rules are invented.
    assert msgspec_lift.applies(demo.PlainStruct)
    assert msgspec_lift.constraints(demo.PlainStruct) == []


def test_dataclass_literals_from_string_annotations():
    found = {c.field: c for c in dataclass_lift.constraints(demo.LiteralDataclass)}
    assert found["policy"].value == ["fifo", "lru"] and not found["policy"].allows_none
    assert found["style"].value == ["short", "long"] and found["style"].allows_none
    assert not dataclass_lift.applies(demo.PydanticConfig)


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("Literal['a', 'b']", (["a", "b"], False)),
        ("Literal['a'] | None", (["a"], True)),
        ("Optional[Literal[1, 2]]", ([1, 2], True)),
        ("typing.Union[Literal['x'], None]", (["x"], True)),
        ("Annotated[Literal['q'], 'meta']", (["q"], False)),
        ("int", None),
        ("Literal['a'] | int", None),
    ],
)
def test_literal_values_from_source_text(annotation, expected):
    assert literal_values(annotation) == expected


def lifted_rules(module, cls, producer, construct="call"):
    native = NativeType(f"{cls.__module__}.{cls.__name__}", cls.__module__, (), (), {}, construct)
    items = module.lift(cls)
    predicates = [item.constraint.predicate() for item in items]
    rules = []
    for item, predicate in zip(items, predicates, strict=True):
        found = witnesses.derive(predicate, item.constraint.field, avoid=[p for p in predicates if p != predicate])
        rules.append(
            Rule(
                id=f"demo.{cls.__name__}.{item.constraint.field}_{item.constraint.kind}",
                native_type=native.name,
                severity="error",
                predicate=predicate,
                kwargs_positive=found.positive,
                kwargs_negative=found.negative,
                message_template=item.message_template,
                emission="raise",
                source=Source("demo_configs.py", cls.__name__, item.line),
                added_by=producer,
                exception_type=module.EXCEPTION_TYPE,
            )
        )
    return native, rules


@pytest.mark.parametrize(
    ("module", "cls", "producer", "construct"),
    [
        (pydantic_lift, demo.PydanticConfig, "lift:pydantic", "call"),
        (msgspec_lift, demo.MsgspecConfig, "lift:msgspec", "msgspec.convert"),
    ],
)
def test_lifted_rules_pass_the_gate_against_the_real_library(module, cls, producer, construct):
    native, rules = lifted_rules(module, cls, producer, construct)
    assert rules
    for rule in rules:

        def run(rule, kwargs):
            return replay(cls, native, kwargs, library="demo")

        assert check_rule(rule, run).failures == (), rule.id


def test_an_unenforced_literal_is_caught_by_the_gate():
    native, rules = lifted_rules(dataclass_lift, demo.LiteralDataclass, "lift:dataclass")
    verdicts = {
        r.id: check_rule(r, lambda rule, kwargs: replay(demo.LiteralDataclass, native, kwargs, library="demo"))
        for r in rules
    }
    assert verdicts["demo.LiteralDataclass.policy_literal"].failures == ()
    # `style` is annotated Literal but nothing checks it: the gate refuses to ship the rule.
    assert verdicts["demo.LiteralDataclass.style_literal"].failures[0].startswith("positive_triggers")

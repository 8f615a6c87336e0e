"""Staging: a candidate becomes a rule with example configs and a unique id, or a dropped entry."""

from __future__ import annotations

import dataclasses

import pytest

from miners import witnesses
from miners.schema.predicate import AllOf, Atom, evaluate
from miners.schema.rule import Dropped, Rule, Source
from miners.staging import Candidate, Derived, Stager

SOURCE = Source(path="demo/config.py", method="Config.validate", line=12)
SIZE = Candidate(
    native_type="demo.Config",
    predicate=Atom("size", "<=", 0),
    message_template="`size` must be positive, got {}",
    primary="size",
    source=SOURCE,
    condition="self.size <= 0",
    found_by="conditional_raise",
    added_by="static",
    exception_type="ValueError",
)
NO_EXAMPLES = "no example pair"


def stage(stager: Stager, candidate: Candidate, examples: witnesses.Witnesses | Derived) -> Rule | Dropped:
    return stager.stage(candidate, examples, no_examples=NO_EXAMPLES)


def test_derived_examples_make_a_rule_named_after_its_field():
    rule = stage(Stager("demo"), SIZE, Derived(base={"name": "demo"}))
    assert isinstance(rule, Rule)
    assert rule.id == "demo.Config.size_le_0"
    assert evaluate(rule.predicate, rule.kwargs_positive) and not evaluate(rule.predicate, rule.kwargs_negative)
    # Every construction needs the base arguments; the pair differs in the rule's field only.
    assert rule.kwargs_positive["name"] == rule.kwargs_negative["name"] == "demo"
    assert (rule.native_type, rule.source, rule.message_template) == (SIZE.native_type, SOURCE, SIZE.message_template)
    assert (rule.added_by, rule.severity, rule.emission) == ("static", "error", "raise")
    assert rule.exception_type == "ValueError"


def test_derived_examples_avoid_the_class_s_other_candidates():
    zero = Atom("size", "==", 0)
    alone = stage(Stager("demo"), SIZE, Derived(base={}))
    beside = stage(Stager("demo"), SIZE, Derived(base={}, avoid=[zero]))
    assert evaluate(zero, alone.kwargs_positive)  # the nearest value, without the other rule
    assert evaluate(SIZE.predicate, beside.kwargs_positive) and not evaluate(zero, beside.kwargs_positive)


def test_ids_stay_unique_across_one_library_and_take_the_suffix():
    stager = Stager("demo")
    first = stage(stager, SIZE, Derived(base={}))
    second = stage(stager, SIZE, Derived(base={}))
    warning = stage(stager, dataclasses.replace(SIZE, id_suffix="_warning"), Derived(base={}))
    assert [first.id, second.id, warning.id] == [
        "demo.Config.size_le_0",
        "demo.Config.size_le_0_2",
        "demo.Config.size_le_0_warning",
    ]
    assert stager.taken == {first.id, second.id, warning.id}


def test_a_candidate_without_examples_is_dropped_and_takes_no_id():
    stager = Stager("demo")
    contradiction = dataclasses.replace(SIZE, predicate=AllOf((Atom("size", ">", 3), Atom("size", "<", 2))))
    dropped = stage(stager, contradiction, Derived(base={}))
    assert dropped == Dropped(SOURCE, "self.size <= 0", f"conditional_raise: {NO_EXAMPLES}")
    assert stager.taken == frozenset()
    assert stage(stager, SIZE, Derived(base={})).id == "demo.Config.size_le_0"


def test_given_examples_are_kept_as_given():
    given = witnesses.Witnesses(positive={"size": -3, "mode": "fast"}, negative={"size": 5, "mode": "fast"})
    rule = stage(Stager("demo"), SIZE, given)
    assert (rule.kwargs_positive, rule.kwargs_negative) == (given.positive, given.negative)


@pytest.mark.parametrize(
    ("positive", "negative"),
    [
        ({"size": 1}, {"size": 2}),  # the predicate does not hold for the positive example
        ({"size": 0}, {"size": -1}),  # it holds for the negative one too
        ({}, {"size": 1}),  # an unset field is unknown: the predicate is false
    ],
)
def test_given_examples_that_do_not_tell_the_rule_apart_are_dropped(positive, negative):
    stager = Stager("demo")
    dropped = stage(stager, SIZE, witnesses.Witnesses(positive, negative))
    assert isinstance(dropped, Dropped) and dropped.reason == f"conditional_raise: {NO_EXAMPLES}"
    assert stager.taken == frozenset()


def test_effects_and_observed_messages_reach_the_rule():
    normalise = dataclasses.replace(
        SIZE,
        message_template="",
        emission="normalise",
        severity="warn",
        exception_type=None,
        normalises_to={"mode": "auto"},
        observed_messages=("size was -1",),
    )
    rule = stage(Stager("demo"), normalise, Derived(base={}))
    assert rule.normalises_to == {"mode": "auto"} and rule.observed_messages == ("size was -1",)
    assert (rule.emission, rule.severity, rule.exception_type) == ("normalise", "warn", None)


def test_a_message_with_no_fixed_text_is_dropped_not_shipped():
    # `raise ValueError(msg)` with msg computed elsewhere: the template would match any message.
    stager = Stager("demo")
    dropped = stage(stager, dataclasses.replace(SIZE, message_template="{}"), Derived(base={}))
    assert dropped == Dropped(SOURCE, "self.size <= 0", "conditional_raise: the message has no fixed text ('{}')")
    assert stager.taken == frozenset()

"""The static miner's parts on small validator shapes: translation, walking, messages, witnesses."""

from __future__ import annotations

import ast
import itertools
import math
import textwrap

import pytest

from miners import witnesses
from miners.naming import rule_id
from miners.schema.algebra import simplify
from miners.schema.predicate import FALSY, AllOf, AnyOf, Atom, Ref, evaluate, from_data, to_data
from miners.schema.template import matches
from miners.static.conditions import Field, Scope, Untranslatable, translate
from miners.static.detectors import DEFAULT_DETECTORS
from miners.static.messages import template_of
from miners.static.walker import Callables, Walker


class Special:
    pass


GLOBALS = {
    "MODES": ("fast", "slow"),
    "LIMIT": 8,
    "Special": Special,
    "KNOWN": ("a",),
    "math": math,
    "pairwise": itertools.pairwise,
}


def cond(text: str, **locals_: str) -> object:
    scope = Scope(dict(GLOBALS), locals={k: ast.parse(v, mode="eval").body for k, v in locals_.items()})
    return simplify(translate(ast.parse(text, mode="eval").body, scope))


def test_comparisons_and_mirrors():
    assert cond("self.a <= 0") == Atom("a", "<=", 0)
    assert cond("0 < self.a") == Atom("a", ">", 0)
    assert cond("self.a > self.b") == Atom("a", ">", Ref("b"))
    assert cond("self.a is None") == Atom("a", "==", None)
    assert cond("self.a is not True") == Atom("a", "!=", True)


def test_none_guards_are_dropped_when_implied():
    assert cond("self.a is not None and self.a <= 0") == Atom("a", "<=", 0)
    # a type test does not exclude None, so the guard stays
    assert cond("self.a is not None and not isinstance(self.a, int)") == AllOf(
        (Atom("a", "!=", None), Atom("a", "type_is_not", "int"))
    )


def test_chained_comparison_and_negation():
    assert cond("not (0.0 < self.w < 1.0)") == AnyOf((Atom("w", "<=", 0.0), Atom("w", ">=", 1.0)))


def test_membership_resolves_module_and_local_constants():
    assert cond("self.mode not in MODES") == Atom("mode", "not_in", ["fast", "slow"])
    assert cond("self.mode in allowed", allowed="MODES + ('auto',)") == Atom("mode", "in", ["fast", "slow", "auto"])
    assert cond("self.mode not in {None, True, 'never'}") == Atom("mode", "not_in", [None, True, "never"])


def test_equality_chains_fold_into_lists():
    assert cond("self.n is None or self.n == 1") == Atom("n", "in", [None, 1])
    assert cond("not (self.n is None or self.n == 1)") == Atom("n", "not_in", [None, 1])


def test_divisibility_type_and_presence():
    assert cond("self.a % self.b != 0") == Atom("a", "not_divisible_by", Ref("b"))
    assert cond("self.a % 4 == 0") == Atom("a", "divisible_by", 4)
    assert cond("isinstance(self.a, (int, float))") == Atom("a", "type_is", ["int", "float"])
    assert cond("not isinstance(self.a, Special)") == Atom("a", "type_is_not", f"{__name__}.Special")
    assert cond("hasattr(self, 'streamer')") == Atom("streamer", "present")


def test_truthiness_is_exact_for_plain_values():
    falsy = cond("not self.flag")
    for value in (None, False, 0, 0.0, "", [], {}):
        assert evaluate(falsy, {"flag": value}), value
    for value in (True, 1, 0.5, "x", [0], {"k": 0}):
        assert not evaluate(falsy, {"flag": value}), value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("self._ready", "private state"),
        ("self.a == unknown_name", "not a known constant"),
        ("len(self.a) > 3.5", "a length compared with something other than a number"),
        ("any(x > 1 for x in self.a if x)", "filters"),
        ("self.a.startswith('xy')", "one-character prefixes"),
        ("self.a.endswith('x')", "opaque"),
        ("self.a > unknown_name", "not a known constant"),
        ("self.a + 1 > 3", "not a constant"),
    ],
)
def test_untranslatable_conditions_say_why(text, reason):
    with pytest.raises(Untranslatable, match=reason):
        cond(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("any(not s for s in self.stop)", {"field": "stop", "of": "any_item", "op": "in", "value": list(FALSY)}),
        (
            "not all(isinstance(t, int) for t in self.ids)",
            {"field": "ids", "of": "any_item", "op": "type_is_not", "value": "int"},
        ),
        ("len(self.keys) != 2", {"field": "keys", "of": "length", "op": "!=", "value": 2}),
        ("3 < len(self.keys)", {"field": "keys", "of": "length", "op": ">", "value": 3}),
        (
            "any(t < 0 or t > 9 for t in self.ids)",
            {
                "any": [
                    {"field": "ids", "of": "any_item", "op": "<", "value": 0},
                    {"field": "ids", "of": "any_item", "op": ">", "value": 9},
                ]
            },
        ),
    ],
)
def test_items_and_lengths_translate(text, expected):
    assert to_data(cond(text)) == expected


def test_an_item_compared_with_another_field():
    assert to_data(cond("any(t > self.limit for t in self.ids)")) == {
        "field": "ids",
        "of": "any_item",
        "op": ">",
        "value": "@limit",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "any(op not in ('all', 'none') and (len(op) < 2 or op[0] not in ('+', '-')) for op in self.ops)",
            {
                "field": "ops",
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
            },
        ),
        (
            "any(a >= b for a, b in pairwise(self.sizes))",
            {"field": "sizes", "of": "any_pair", "where": {"field": "$item", "op": ">=", "value": "@$next"}},
        ),
        (
            "any(a >= b for a, b in zip(self.sizes, self.sizes[1:]))",
            {"field": "sizes", "of": "any_pair", "where": {"field": "$item", "op": ">=", "value": "@$next"}},
        ),
        (
            "any(k not in KNOWN for k in self.table)",
            {"field": "table", "of": "any_item", "op": "not_in", "value": ["a"]},
        ),
        (
            "any(not v for k, v in self.table.items())",
            {"field": "table", "of": "any_value", "op": "in", "value": list(FALSY)},
        ),
        ("not math.isfinite(self.t)", {"field": "t", "op": "not_finite"}),
        ("self.name.startswith(('+', '-'))", {"field": "name", "of": "first", "op": "in", "value": ["+", "-"]}),
    ],
)
def test_quantifiers_translate(text, expected):
    assert to_data(simplify(cond(text))) == expected


def test_a_condition_on_keys_and_values_together_is_untranslatable():
    with pytest.raises(Untranslatable, match="keys and values together"):
        cond("any(k == v for k, v in self.table.items())")


SOURCE = textwrap.dedent(
    """
    def validate(self, strict=False):
        if self.size <= 0:
            raise ValueError(f"`size` must be positive, got {self.size}")
        if self.mode not in MODES:
            raise ValueError("`mode` must be one of " + str(MODES))
        if self.beams is None or self.beams == 1:
            if self.count > 1:
                raise ValueError("greedy decoding returns one sequence, not {}".format(self.count))
        elif self.count > self.beams:
            raise ValueError(f"`count` ({self.count}) must be at most `beams` ({self.beams})")
        names = ("streamer", "logits_processor")
        for name in names:
            if hasattr(self, name):
                raise ValueError(f"`{name}` is an argument of generate(), not of the config")
        if strict:
            raise ValueError("strict mode found issues")
        if self.window is None:
            return
        if self.window % self.chunk != 0:
            raise ValueError(f"`window` must be divisible by `chunk`")
    """
)


def walk(source=SOURCE, callables=None, **scope_args):
    function = ast.parse(source).body[0]
    scope = Scope(dict(GLOBALS), params=frozenset({"strict"}), **scope_args)
    return Walker(DEFAULT_DETECTORS, callables).walk(function, scope, "Config.validate")


def test_walker_collects_path_conditions():
    found = walk()
    assert [f.finding.line for f in found] == [4, 6, 9, 11, 15, 15, 17, 21]
    by_line = {}
    for f in found:
        by_line.setdefault(f.finding.line, []).append(f)
    greedy = by_line[9][0]
    assert [c.text for c in greedy.conditions] == ["self.beams is None or self.beams == 1", "self.count > 1"]
    beams = by_line[11][0]
    assert beams.conditions[0].text.startswith("not (")
    # The earlier `if ...: raise` checks are siblings, not guards.
    assert [c.text for c in by_line[6][0].conditions] == ["self.mode not in MODES"]
    # `if self.window is None: return` guards what follows.
    assert [c.text for c in by_line[21][0].conditions] == ["not (self.window is None)", "self.window % self.chunk != 0"]
    # `if strict:` reads only the validator's argument.
    assert by_line[17][0].conditions[0].argument_gate


LOOPS = textwrap.dedent(
    """
    def validate(self):
        for family, buckets in self.buckets.items():
            if family not in KNOWN:
                raise ValueError(f"unknown family {family!r}")
            if not isinstance(buckets, list):
                continue
            for bound in buckets:
                if not math.isfinite(bound) or bound <= 0:
                    raise ValueError(f"bound {bound!r} must be finite and greater than 0")
            if any(a >= b for a, b in pairwise(buckets)):
                raise ValueError("bounds must be strictly increasing")
        for op in self.ops:
            if op not in ("all", "none") and (len(op) < 2 or op[0] not in ("+", "-")):
                raise ValueError(f"invalid op {op}")
        for key, value in self.table.items():
            if key == value:
                raise ValueError("a key maps to itself")
        for low in self.lows:
            for high in self.highs:
                if high < low:
                    raise ValueError("a high below a low")
    """
)


def test_loops_over_fields_become_quantifiers():
    found = {f.finding.line: f for f in walk(LOOPS)}
    predicates = {
        line: to_data(simplify(AllOf(tuple(c.predicate for c in f.conditions))))
        for line, f in found.items()
        if all(c.predicate is not None for c in f.conditions)
    }
    assert predicates[5] == {"field": "buckets", "of": "any_key", "op": "not_in", "value": ["a"]}
    # `continue` guards what follows it in the body; the inner loop is a quantifier of its own.
    assert predicates[10] == {
        "field": "buckets",
        "of": "any_value",
        "where": {
            "all": [
                {"field": "$item", "op": "type_is", "value": "list"},
                {
                    "any": [
                        {"field": "$item", "of": "any_item", "op": "not_finite"},
                        {"field": "$item", "of": "any_item", "op": "<=", "value": 0},
                    ]
                },
            ]
        },
    }
    assert predicates[12]["where"]["all"][1] == {
        "field": "$item",
        "of": "any_pair",
        "where": {"field": "$item", "op": ">=", "value": "@$next"},
    }
    assert predicates[15]["field"] == "ops"
    assert predicates[15]["of"] == "any_item"
    # A condition on a key and its value together has no form in the vocabulary: dropped, with the reason.
    (problem,) = [c.problem for c in found[18].conditions if c.predicate is None]
    assert "keys and values together" in problem
    # An inner loop comparing its element with the outer loop's: no quantifier says that exactly.
    (problem,) = [c.problem for c in found[22].conditions if c.predicate is None]
    assert "reads the outer loop's element" in problem


def test_loops_over_constants_are_unrolled_into_messages():
    found = [f for f in walk() if f.finding.line == 15]
    templates = [template_of(f.finding.message, f.scope) for f in found]
    assert templates == [
        "`streamer` is an argument of generate(), not of the config",
        "`logits_processor` is an argument of generate(), not of the config",
    ]
    assert [f.conditions[0].predicate for f in found] == [
        Atom("streamer", "present"),
        Atom("logits_processor", "present"),
    ]


def test_message_templates():
    found = {f.finding.line: f for f in walk()}
    assert template_of(found[4].finding.message, found[4].scope) == "`size` must be positive, got {}"
    assert template_of(found[6].finding.message, found[6].scope) == "`mode` must be one of {}"
    assert template_of(found[9].finding.message, found[9].scope) == "greedy decoding returns one sequence, not {}"
    assert matches("`count` ({}) must be at most `beams` ({})", "`count` (5) must be at most `beams` (2)")
    assert not matches("`count` ({}) must be at most `beams` ({})", "`beams` (2) must be at most `count` (5)")
    with pytest.raises(Untranslatable, match="too little static text"):
        template_of(ast.parse("f'{x}: {y}'", mode="eval").body, Scope({}))


def test_literal_braces_survive():
    template = template_of(ast.parse("'use {key: value} pairs'", mode="eval").body, Scope({}))
    assert template == "use {{key: value}} pairs"
    assert matches(template, "error: use {key: value} pairs here")


DETECTORS = textwrap.dedent(
    """
    def post_init(self, user_set=None):
        minor_issues = {}
        if self.temperature != 1.0 and _should_warn("temperature", user_set):
            minor_issues["temperature"] = f"`temperature` is set to {self.temperature} but ignored"
        if self.legacy is not None:
            warnings.warn("`legacy` is deprecated", FutureWarning)
        if self.desc_act and self.group_aware:
            self.group_aware = False
            logger.warning("`group_aware` was disabled: it is not compatible with `desc_act`")
        if self.backend is None:
            self.backend = "auto"
        if self._private:
            raise ValueError("never reported: private state")
    """
)


def test_every_detector_and_the_argument_gate():
    import logging
    import warnings

    globals_ = {"warnings": warnings, "logger": logging.getLogger("demo"), "_should_warn": lambda *a: True}
    function = ast.parse(DETECTORS).body[0]
    scope = Scope(globals_, params=frozenset({"user_set"}))
    found = Walker(DEFAULT_DETECTORS).walk(function, scope, "Config.post_init")
    kinds = [(f.finding.detector, f.finding.line) for f in found if f.conditions]
    assert kinds == [
        ("minor_issues_dict_assign", 5),
        ("conditional_warnings_warn", 7),
        ("conditional_self_assign", 9),
        ("conditional_logger_warning", 10),
        ("conditional_self_assign", 12),
        ("conditional_raise", 14),
    ]
    minor = found[0]
    # `_should_warn(..., user_set)` reads only the validator's argument: set aside, not guessed.
    assert [c.argument_gate for c in minor.conditions] == [False]
    assert minor.conditions[0].predicate == Atom("temperature", "!=", 1.0)
    assert minor.finding.target == "temperature"
    assign = next(f for f in found if f.finding.line == 9)
    assert (assign.finding.target, assign.finding.value, assign.finding.value_known) == ("group_aware", False, True)
    assert found[-1].conditions[0].problem == "reads private state _private"


HELPERS = textwrap.dedent(
    """
    def _verify_count(n, limit):
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}.")
        if n > limit:
            raise ValueError(f"n must be at most {limit}, got {n}.")

    class Config:
        def _check_mode(self):
            if self.mode not in MODES:
                raise ValueError(f"mode must be one of {MODES}")

        def validate(self):
            _verify_count(self.n, LIMIT)
            self._check_mode()
    """
)


def test_depth_one_into_module_functions_and_methods():
    tree = ast.parse(HELPERS)
    function, classdef = tree.body
    methods = {m.name: m for m in classdef.body}
    callables = Callables(
        "Config", methods={"_check_mode": methods["_check_mode"]}, functions={"_verify_count": function}
    )
    found = Walker(DEFAULT_DETECTORS, callables).walk(methods["validate"], Scope(dict(GLOBALS)), "Config.validate")
    assert [(f.function, f.conditions[0].predicate) for f in found] == [
        ("_verify_count", Atom("n", "<", 1)),
        ("_verify_count", Atom("n", ">", 8)),  # `limit` bound to the module constant LIMIT
        ("Config._check_mode", Atom("mode", "not_in", ["fast", "slow"])),
    ]


def test_setter_value_is_the_field():
    setter = ast.parse(
        "def load_in_4bit(self, value):\n"
        "    if self.load_in_8bit and value:\n"
        "        raise ValueError('load_in_4bit and load_in_8bit are both True')\n"
    ).body[0]
    scope = Scope(dict(GLOBALS), aliases={"value": Field("load_in_4bit")})
    (found,) = Walker(DEFAULT_DETECTORS).walk(setter, scope, "Config.load_in_4bit.setter")
    assert simplify(found.conditions[0].predicate) == AllOf(
        (Atom("load_in_8bit", "not_in", list(FALSY)), Atom("load_in_4bit", "not_in", list(FALSY)))
    )


def test_checks_after_a_rewrite_are_not_about_the_config():
    source = textwrap.dedent(
        """
        def post_init(self):
            self.bits = int(self.bits)
            if not isinstance(self.bits, int):
                raise TypeError("`bits` must be convertible to an int")
            if self.group is None:
                self.group = 32
            if self.group not in [32, 64]:
                raise ValueError("`group` must be 32 or 64")
        """
    )
    found = {f.finding.line: f for f in walk(source)}
    assert "rewritten at line 3" in found[5].conditions[0].problem
    # Only a group the config really set is checked: None was filled in before.
    assert simplify(found[9].conditions[0].predicate) == Atom("group", "not_in", [32, 64, None])


@pytest.mark.parametrize(
    "predicate",
    [
        {"field": "size", "op": "<=", "value": 0},
        {"field": "w", "op": "<", "value": 0.5},
        {"field": "mode", "op": "not_in", "value": ["fast", "slow"]},
        {"field": "a", "op": "not_divisible_by", "value": "@b"},
        {"field": "a", "op": "type_is_not", "value": "int"},
        {"field": "s", "op": "present"},
        {"all": [{"field": "count", "op": ">", "value": 1}, {"field": "beams", "op": "in", "value": [None, 1]}]},
        {
            "all": [
                {"field": "count", "op": ">", "value": "@beams"},
                {"field": "beams", "op": "not_in", "value": [None, 1]},
            ]
        },
        {"any": [{"field": "w", "op": "<=", "value": 0.0}, {"field": "w", "op": ">=", "value": 1.0}]},
    ],
)
def test_witnesses_satisfy_and_refute_the_predicate(predicate):
    rule = from_data(predicate)
    found = witnesses.derive(rule)
    assert found is not None
    assert evaluate(rule, found.positive)
    assert not evaluate(rule, found.negative)
    changed = {
        k
        for k in found.positive.keys() | found.negative.keys()
        if found.positive.get(k, "?") != found.negative.get(k, "??")
    }
    assert len(changed) == 1  # a minimal pair


def test_witnesses_are_type_correct():
    found = witnesses.derive(from_data({"field": "w", "op": "<", "value": 0.5}))
    assert type(found.positive["w"]) is float and type(found.negative["w"]) is float
    found = witnesses.derive(from_data({"field": "n", "op": ">", "value": 3}))
    assert type(found.positive["n"]) is int and type(found.negative["n"]) is int


def test_contradictions_have_no_witness():
    contradiction = from_data({"all": [{"field": "a", "op": ">", "value": 3}, {"field": "a", "op": "<", "value": 2}]})
    assert witnesses.derive(contradiction) is None


def test_rule_ids_name_the_field_and_test():
    beams = from_data(
        {"all": [{"field": "count", "op": ">", "value": 1}, {"field": "count", "op": ">", "value": "@beams"}]}
    )
    assert rule_id("lib", "lib.Config", beams, "`count` ({}) too big", set()) == "lib.Config.count_gt_beams"
    taken = {"lib.Config.count_gt_beams"}
    assert rule_id("lib", "lib.Config", beams, "`count` ({}) too big", taken) == "lib.Config.count_gt_beams__count_gt_1"
    window = from_data({"any": [{"field": "w", "op": "<=", "value": 0.0}, {"field": "w", "op": ">=", "value": 1.0}]})
    assert rule_id("lib", "lib.C", window, "", set()) == "lib.C.w_le_0_0_or_ge_1_0"


def test_witnesses_for_quantifiers_trip_only_their_own_rule():
    known = from_data({"field": "b", "of": "any_key", "op": "not_in", "value": ["lat", "tok"]})
    empty = from_data({"field": "b", "of": "any_value", "op": "in", "value": list(FALSY)})
    rising = from_data(
        {
            "field": "b",
            "of": "any_value",
            "where": {"field": "$item", "of": "any_pair", "where": {"field": "$item", "op": ">=", "value": "@$next"}},
        }
    )
    rules = [known, empty, rising]
    for rule in rules:
        others = [o for o in rules if o is not rule]
        found = witnesses.derive(rule, avoid=others)
        assert found is not None
        assert evaluate(rule, found.positive) and not evaluate(rule, found.negative)
        # A value rule's example uses a key the key rule allows, so only this rule fires.
        assert not any(evaluate(o, found.positive) for o in others)
    finite = witnesses.derive(from_data({"field": "t", "op": "not_finite"}))
    assert finite is not None and not math.isfinite(finite.positive["t"]) and math.isfinite(finite.negative["t"])

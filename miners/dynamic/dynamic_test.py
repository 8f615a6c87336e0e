"""The dynamic miner on a class with known rules: it finds them, and the overfitting guard holds."""

from __future__ import annotations

import enum

import pydantic
import pytest

from miners.dynamic import infer, messages, probe
from miners.dynamic.miner import mine_native
from miners.schema.predicate import Atom, Ref, evaluate, from_data, to_data
from miners.ssot import Cluster, NativeType, ProbeField
from miners.staging import Stager
from miners.testdata.demo_configs import ProbedConfig


def native(*clusters):
    return NativeType("demo.ProbedConfig", "demo", (), (), {}, "call", clusters)


SIZES = Cluster("sizes", (ProbeField("k", "int"), ProbeField("n", "int")))
MODES = Cluster("modes", (ProbeField("mode", "str", ("fast", "slow"), complete=True),))
RATIO = Cluster("ratio", (ProbeField("ratio", "float"),))


def test_values_are_typed_and_start_unset():
    assert probe.field_values(ProbeField("x", "bool")) == [probe.OMIT, False, True]
    floats = probe.field_values(ProbeField("x", "float"))
    assert all(isinstance(v, float) for v in floats[1:])  # a bool is not a float
    ints = probe.field_values(ProbeField("x", "int", (16, True)))
    assert 16 in ints and not any(isinstance(v, bool) for v in ints[1:])
    assert not set(probe.fresh_values(ProbeField("x", "int"))) & set(ints[1:])


def test_large_clusters_are_sampled_deterministically():
    big = Cluster("big", tuple(ProbeField(f"f{i}", "int") for i in range(6)))
    first, second = probe.grid(big), probe.grid(big)
    assert first == second
    assert 100 < len(first) <= probe.SAMPLES


def test_message_classes_ignore_the_values_quoted():
    strings = {"not_a_valid_value"}
    a = messages.template("n must be at least 1, got -1", strings)
    b = messages.template("n must be at least 1, got 0.", strings)
    assert a == b.rstrip(".") == "n must be at least {}, got {}"
    assert messages.template("unknown mode 'not_a_valid_value'", strings) == "unknown mode '{}'"


def by_predicate(rules):
    return {str(r.predicate): r for r in rules}


def test_finds_range_divisibility_allowlist_and_warning():
    rules, _ = mine_native(ProbedConfig, native(SIZES, MODES, RATIO), Stager("demo"))
    predicates = [r.predicate for r in rules]
    assert Atom("n", "<=", 0) in predicates  # the canonical form of `n < 1` on ints
    assert Atom("n", "not_divisible_by", Ref("k")) in predicates
    assert Atom("mode", "not_in", ["fast", "slow"]) in predicates
    warning = next(r for r in rules if r.severity == "warn")
    assert warning.predicate == Atom("ratio", ">=", 1.5) and warning.emission == "warnings.warn"
    for rule in rules:
        assert evaluate(rule.predicate, rule.kwargs_positive) and not evaluate(rule.predicate, rule.kwargs_negative)
        assert rule.added_by == "dynamic" and rule.observed_messages


def test_allowlists_that_only_describe_the_grid_are_dropped():
    rules, dropped = mine_native(ProbedConfig, native(SIZES), Stager("demo"))
    # `n not_in [1, 2, 3, 4, 8]` fits the grid but fresh values (5, 7, ...) say otherwise.
    assert Atom("n", "not_in", [1, 2, 3, 4, 8]) not in [r.predicate for r in rules]
    assert any("outside the grid" in d.reason for d in dropped)


def test_open_string_domains_get_no_allowlist():
    open_modes = Cluster("modes", (ProbeField("mode", "str", ("fast",)),))
    rules, _ = mine_native(ProbedConfig, native(open_modes), Stager("demo"))
    assert not [r for r in rules if r.predicate.op == "not_in"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # n rejected at 0 and below: a range, not an equality.
        ([({"n": 0}, True), ({"n": -1}, True), ({"n": 2}, False), ({"n": 4}, False)], Atom("n", "<=", 0)),
    ],
)
def test_templates_fit_exactly(rows, expected):
    made = [
        probe.Row(kwargs, "builtins.ValueError" if bad else None, "x" if bad else None, (), ()) for kwargs, bad in rows
    ]
    evidence = infer.Evidence(tuple(r for r in made if r.raised), tuple(r for r in made if not r.raised), {})
    cluster = Cluster("c", (ProbeField("n", "int"),))
    found = [p for _, p in infer.candidates(cluster, evidence)]
    assert expected in found
    assert from_data({"field": "n", "op": "==", "value": 0}) not in found  # does not explain -1


class TypedConfig:
    """Checks its types itself, as vLLM's SamplingParams does: `n` must be an int, `stop` a list of
    strings; `scale` is converted with float(), so a numeric string gets through."""

    def __init__(self, n: int = 1, stop: list | None = None, scale: float = 1.0) -> None:
        if not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if stop is not None and not isinstance(stop, list):
            raise TypeError(f"stop must be a list, got {stop!r}")
        self.n, self.stop, self.scale = n, stop, float(scale)


def typed_native():
    return NativeType("demo.TypedConfig", "demo", (), (), {}, "call", ())


def test_type_rules_name_only_types_refused_for_every_sample():
    from miners.dynamic.types import probe_types
    from miners.introspect.declarations import declared_fields

    def run(kwargs):
        return probe.probe(TypedConfig, typed_native(), kwargs, "demo")

    found = {f.field: f for f in probe_types(run, {}, declared_fields(TypedConfig), [])}
    # bool is an int to isinstance(), so n takes True: only non-numbers are refused.
    assert found["n"].refused == ("float", "str", "list", "dict", "NoneType")
    assert found["n"].template == "n must be an int, got {}"
    assert found["stop"].refused == ("float", "int", "str", "bool", "dict")
    assert found["stop"].negative == {"stop": None}
    # float("7") and float(True) work: a str or a bool is not always refused, so no rule says so.
    assert set(found["scale"].refused) == {"list", "dict", "NoneType"}


def test_no_type_rules_for_a_class_that_cannot_be_built():
    from miners.dynamic.types import probe_types

    class NeedsModel:
        def __init__(self, model: str = "remote/model", n: int = 1) -> None:
            raise OSError("cannot resolve the model offline")

    def run(kwargs):
        return probe.probe(NeedsModel, typed_native(), kwargs, "demo")

    from miners.introspect.declarations import declared_fields

    assert probe_types(run, {}, declared_fields(NeedsModel), []) == []


class Backend(enum.Enum):
    FLASH_ATTN = "flash_attn"
    TRITON = "triton"


class Mode(enum.IntEnum):
    NONE = 0
    COMPILE = 3


class EnumConfig(pydantic.BaseModel):
    """Parses its enums the way vLLM's configs do: names in any case, "auto" for None."""

    backend: Backend | None = None
    fallback: Backend | None = None
    mode: Mode = Mode.NONE

    @pydantic.field_validator("backend", mode="before")
    @classmethod
    def _backend(cls, value):
        if isinstance(value, str):
            if value.lower() == "auto":
                return None
            if value.upper() not in Backend.__members__:
                raise ValueError(f"Unknown backend: {value.upper()!r}")
            return Backend[value.upper()]
        return value

    @pydantic.field_validator("fallback", mode="before")
    @classmethod
    def _fallback(cls, value):
        return Backend[value.upper()] if isinstance(value, str) else value  # a bare KeyError


def test_enum_rules_list_the_spellings_the_library_takes():
    from miners.dynamic.enums import probe_enum

    def run(kwargs):
        return probe.probe(EnumConfig, typed_native(), kwargs, "demo")

    (backend,) = probe_enum(run, {}, "backend", Backend, None)
    # The validator upper-cases: "Flash_attn" is taken too, so the rule tests the value upper-cased.
    assert to_data(backend.predicate) == {
        "all": [
            {"field": "backend", "op": "type_is", "value": "str"},
            {"field": "backend", "of": "upper", "op": "not_in", "value": ["AUTO", "FLASH_ATTN", "TRITON"]},
        ]
    }
    assert not evaluate(backend.predicate, {"backend": "Flash_Attn"})
    assert evaluate(backend.predicate, {"backend": "flash-attn"})
    assert backend.positive == {"backend": "not_a_valid_backend"}
    assert backend.negative == {"backend": None}
    # The message echoes the value upper-cased: it is a placeholder, not fixed text.
    assert backend.template.startswith("{} validation error for EnumConfig")
    assert "Unknown backend: '{}'" in backend.template
    # A bare KeyError('NOT_A_VALID_FALLBACK') is still told apart by its type and its quotes.
    (fallback,) = probe_enum(run, {}, "fallback", Backend, None)
    assert (fallback.exception_type, fallback.template) == ("builtins.KeyError", "'{}'")
    # An IntEnum takes its values, and pydantic refuses its names: an integer outside them is refused.
    found = {to_data(f.predicate)["all"][0]["value"]: f for f in probe_enum(run, {}, "mode", Mode, Mode.NONE)}
    assert sorted(found) == ["int"]
    assert found["int"].positive == {"mode": 4}

"""The gate against the live library, and the fixpoint test: each check catches its malformed rule.

If any of the four checks were removed from corpus/gate.py, the case built to
trip it here would pass the gate and this test would fail.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from corpus.gate import (
    CHECKS,
    boundary_points,
    check_rule,
    on_save_severity,
    placeholders,
    reduce_subsumed,
    run_gate,
    unknown_field_handling,
)
from miners import ssot
from miners.errors import SchemaError
from miners.replay import replay
from miners.schema.predicate import Atom, from_data
from miners.schema.rule import CorpusFile, load_corpus
from miners.static.miner import mine

SSOT = "miners/transformers/versions.yaml"


@pytest.fixture(scope="module")
def spec():
    return ssot.load(SSOT)


@pytest.fixture(scope="module")
def mined(spec):
    return mine(spec)


@pytest.fixture(scope="module")
def run(spec):
    classes = {n.name: spec.import_class(n, spec.installed_version()) for n in spec.native_types}

    def replayer(rule, kwargs):
        native = spec.native_type(rule.native_type)
        return replay(classes[native.name], native, kwargs, library=spec.library)

    return replayer


def rule_by_id(mined, suffix):
    return next(r for r in mined.rules if r.id.endswith(suffix))


# Statically mined rules that cannot pass (pinned with their reasons in transformers_corpus_test.py):
# post_init checks the type of bnb_4bit_compute_dtype after __init__ has already turned a
# string into getattr(torch, string), so the string positive never reaches that check.
KNOWN_QUARANTINE = (
    "transformers.BitsAndBytesConfig.bnb_4bit_compute_dtype_type_is_not_dtype__bnb_4bit_compute_dtype_ne_none",
)


def test_every_mined_rule_passes(mined, run):
    for rule in mined.rules:
        if rule.id not in KNOWN_QUARANTINE:
            assert check_rule(rule, run).failures == (), rule.id


def test_the_known_quarantine_is_still_mined(mined):
    # An exemption must not outlive the rule it was made for.
    assert set(KNOWN_QUARANTINE) <= {r.id for r in mined.rules}


# One malformed variant of a good rule per gate check, each built to trip that
# check and no other, so removing any one check lets its case through.
FIXPOINT = {
    # The library raises, with the right message, but not the declared type.
    "positive_triggers": lambda r: r.with_changes(exception_type="TypeError"),
    "message_matches_template": lambda r: r.with_changes(message_template="`max_new_tokens` must be a prime number"),
    "negative_does_not_trigger": lambda r: r.with_changes(
        kwargs_negative={"max_new_tokens": -3},
        predicate=from_data(
            {
                "all": [
                    {"field": "max_new_tokens", "op": "<=", "value": 0},
                    {"field": "max_new_tokens", "op": "not_in", "value": [-3]},
                ]
            }
        ),
    ),
    # The inverted-lift defect: a predicate that fires on the valid side (a membership test,
    # which boundary_holds does not move across, so only this check sees it).
    "predicate_consistent": lambda r: r.with_changes(
        predicate=from_data({"field": "max_new_tokens", "op": "in", "value": [1, 2]})
    ),
    # A threshold too narrow: both examples agree with it, but -1 is refused as well.
    "boundary_holds": lambda r: r.with_changes(
        kwargs_positive={"max_new_tokens": -3},
        predicate=from_data({"field": "max_new_tokens", "op": "<=", "value": -2}),
    ),
}


def test_fixpoint_covers_every_check():
    assert set(FIXPOINT) == set(CHECKS)


@pytest.mark.parametrize("check", CHECKS)
def test_fixpoint_each_check_catches_its_case(mined, run, check):
    good = rule_by_id(mined, "max_new_tokens_le_0")
    verdict = check_rule(FIXPOINT[check](good), run)
    failed = {failure.split(":", 1)[0] for failure in verdict.failures}
    assert failed == {check}, verdict.failures


@pytest.mark.parametrize("check", CHECKS)
def test_fixpoint_without_the_check_its_case_would_ship(mined, run, check):
    # What removing the check from the gate would do: its malformed rule passes.
    good = rule_by_id(mined, "max_new_tokens_le_0")
    weakened = {name: function for name, function in CHECKS.items() if name != check}
    assert check_rule(FIXPOINT[check](good), run, weakened).failures == ()


def test_an_accepted_positive_fails_positive_triggers(mined, run):
    rule = rule_by_id(mined, "max_new_tokens_le_0").with_changes(
        kwargs_positive={"max_new_tokens": 5},
        predicate=from_data({"field": "max_new_tokens", "op": ">=", "value": 5}),
    )
    failed = [f.split(":")[0] for f in check_rule(rule, run).failures]
    assert failed == ["positive_triggers", "message_matches_template", "boundary_holds"]


def test_gate_refuses_a_corpus_from_another_version(spec, mined):
    stale = CorpusFile(library="transformers", library_version="5.22.0", rules=mined.rules)
    with pytest.raises(SchemaError, match=r"mined from transformers 5\.22\.0 but 5\.23\.0 is installed"):
        run_gate(spec, stale, "merged.yaml")


def test_gate_cli_on_a_malformed_corpus_exits_2_and_writes_nothing(tmp_path, mined):
    merged = tmp_path / "merged.yaml"
    mined.write(merged)
    text = merged.read_text(encoding="utf-8").replace("op: <=", "op: approximately", 1)
    merged.write_text(text, encoding="utf-8")
    validated, quarantine = tmp_path / "v.yaml", tmp_path / "q.yaml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "corpus.gate",
            "--ssot",
            SSOT,
            "--corpus",
            str(merged),
            "--validated",
            str(validated),
            "--quarantine",
            str(quarantine),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"{merged}: rule 'transformers." in result.stderr
    assert "unknown operator 'approximately'" in result.stderr
    assert not validated.exists() and not quarantine.exists()


def test_gate_writes_validated_and_quarantine(tmp_path, spec, mined):
    broken = FIXPOINT["predicate_consistent"](rule_by_id(mined, "max_new_tokens_le_0"))
    others = tuple(r for r in mined.rules if r.id != broken.id)
    validated, quarantine = run_gate(spec, CorpusFile("transformers", "5.23.0", rules=(*others, broken)), "m.yaml")
    assert {r.id for r in validated.rules} == {r.id for r in others if r.id not in KNOWN_QUARANTINE}
    assert broken.id in [q.rule.id for q in quarantine.quarantined]
    quarantine.write(tmp_path / "q.yaml")
    again = {q.rule.id: q for q in load_corpus(tmp_path / "q.yaml").quarantined}
    assert again[broken.id].reasons[0].startswith("predicate_consistent:")
    # Quarantine files are compared byte for byte: no memory addresses in them.
    assert " at 0x" not in (tmp_path / "q.yaml").read_text(encoding="utf-8")


def test_boundary_points_step_in_the_examples_kind():
    assert boundary_points(Atom("n", "<", 0), 5) == [-1, 0, 1]
    assert boundary_points(Atom("t", "<=", -0.5), 0.25) == [-0.501, -0.5, -0.499]
    assert boundary_points(Atom("t", ">", 0), 2) == [-1, 0, 1]
    assert boundary_points(Atom("t", ">", 0), 2.0) == [-0.001, 0.0, 0.001]


def test_the_predicate_is_evaluated_over_the_class_defaults(mined, run):
    # Without defaults the negative leaves max_new_tokens unset and the predicate is false;
    # with a default that trips it, a checker would fire on every config that leaves it unset.
    good = rule_by_id(mined, "max_new_tokens_le_0").with_changes(kwargs_negative={})
    assert check_rule(good, run, defaults={}).failures == ()
    failures = check_rule(good, run, defaults={"max_new_tokens": 0}).failures
    assert [f.split(":")[0] for f in failures] == ["predicate_consistent"], failures


def test_placeholders_name_the_field_the_message_shows(mined, run):
    # The dynamic miner's template of this message: both numbers vary.
    rule = rule_by_id(mined, "max_new_tokens_le_0").with_changes(
        message_template="`max_new_tokens` must be greater than {}, but is {}."
    )
    # `must be greater than 0, but is {value}`: the boundary replays move the value, not the 0.
    assert check_rule(rule, run).rule.placeholders == (None, "max_new_tokens")
    # One replay cannot tell the constant 0 from a value of 0.
    zero = {"max_new_tokens": 0}
    assert placeholders(rule, [(zero, run(rule, zero))]) == ("max_new_tokens", "max_new_tokens")


def test_a_narrower_rule_with_the_same_message_is_merged(mined):
    broad = rule_by_id(mined, "max_new_tokens_le_0")
    narrow = broad.with_changes(
        id="transformers.GenerationConfig.max_new_tokens_le_minus_2",
        added_by="dynamic",
        kwargs_positive={"max_new_tokens": -3},
        predicate=from_data({"field": "max_new_tokens", "op": "<=", "value": -2}),
    )
    # On integers `< 1` is `<= 0`: equivalent, so the rule first in the producers' order stays.
    same = broad.with_changes(
        id="transformers.GenerationConfig.max_new_tokens_lt_1",
        added_by="dynamic",
        predicate=from_data({"field": "max_new_tokens", "op": "<", "value": 1}),
    )
    other_message = narrow.with_changes(id="transformers.GenerationConfig.other", message_template="something else")
    kept, merged = reduce_subsumed([broad, narrow, same, other_message], {})
    assert [r.id for r in kept] == [broad.id, other_message.id]
    assert kept[0].cross_validated_by == ("dynamic",)
    assert sorted(q.rule.id for q in merged) == sorted([narrow.id, same.id])
    assert all(q.reasons[0].startswith(f"merged: {broad.id}") for q in merged)


def test_unknown_keywords_are_refused_or_stored(spec):
    from miners.replay import replay

    def runner(name):
        native = spec.native_type(name)
        cls = spec.import_class(native, spec.installed_version())
        return lambda kwargs: replay(cls, native, {**native.constructor_kwargs, **kwargs}, library="transformers")

    # GenerationConfig keeps unknown keys as attributes; a dataclass refuses them.
    assert unknown_field_handling(runner("transformers.GenerationConfig")) == "dormant"
    assert unknown_field_handling(runner("transformers.ContinuousBatchingConfig")) == "error"


def test_saving_raises_what_construction_only_logs(spec, mined):
    # GenerationConfig's minor issues: logged when the config is built, refused by save_pretrained.
    classes = {n.name: spec.import_class(n, spec.installed_version()) for n in spec.native_types}

    def save(rule, kwargs):
        native = spec.native_type(rule.native_type)
        return replay(classes[native.name], native, kwargs, library=spec.library, calls=native.on_save)

    minor = rule_by_id(mined, "GenerationConfig.temperature_ne_1_0_ignored")
    assert (minor.severity, on_save_severity(minor, save)) == ("dormant", "error")
    # Saving adds nothing to a rule that already raises on construction.
    raising = next(r for r in mined.rules if r.native_type.endswith("GenerationConfig") and r.severity == "error")
    assert on_save_severity(raising, save) is None
    # Nor where saving makes no strict call at all.
    assert (
        on_save_severity(
            minor,
            lambda rule, kwargs: replay(
                classes[minor.native_type], spec.native_type(minor.native_type), kwargs, library=spec.library, calls=()
            ),
        )
        is None
    )


# The same proof for every other emission kind: per kind, a good rule the static miner finds,
# and per check one malformed variant of it that the check catches. Where a variant trips
# more checks than its own, the table says which: a positive example the library says nothing
# on is both "emitted nothing" and "said no such message", since those checks read one channel.
FALSY = [None, False, "", [], {}]
EMISSION_FIXPOINT = {
    "logger": (
        "ContinuousBatchingConfig.block_size_ne_none_warning",
        {
            "positive_triggers": (
                lambda r: r.with_changes(
                    kwargs_positive={"block_size": None, "page_size": 16},
                    kwargs_negative={"block_size": None},
                    predicate=from_data({"field": "page_size", "op": "in", "value": [16]}),
                ),
                {"message_matches_template"},
            ),
            "message_matches_template": (
                lambda r: r.with_changes(message_template="block_size is deprecated: it is never read"),
                set(),
            ),
            "negative_does_not_trigger": (
                lambda r: r.with_changes(
                    kwargs_negative={"block_size": 2},
                    predicate=from_data({"field": "block_size", "op": "not_in", "value": [None, 2]}),
                ),
                set(),
            ),
            "predicate_consistent": (
                lambda r: r.with_changes(predicate=from_data({"field": "block_size", "op": "==", "value": None})),
                set(),
            ),
            # block_size >= 2 is too narrow: 1 is warned about as well.
            "boundary_holds": (
                lambda r: r.with_changes(
                    kwargs_positive={"block_size": 2},
                    predicate=from_data({"field": "block_size", "op": ">=", "value": 2}),
                ),
                set(),
            ),
        },
    ),
    "warnings.warn": (
        "GenerationConfig.continuous_batching_config_ne_none_warning",
        {
            "positive_triggers": (
                lambda r: r.with_changes(
                    kwargs_positive={"continuous_batching_config": None, "use_cache": True},
                    kwargs_negative={"continuous_batching_config": None, "use_cache": False},
                    predicate=from_data({"field": "use_cache", "op": "==", "value": True}),
                ),
                {"message_matches_template"},
            ),
            "message_matches_template": (
                lambda r: r.with_changes(message_template="Passing ContinuousBatchingConfig is fine"),
                set(),
            ),
            "negative_does_not_trigger": (
                lambda r: r.with_changes(
                    kwargs_negative={"continuous_batching_config": 2},
                    predicate=from_data({"field": "continuous_batching_config", "op": "not_in", "value": [None, 2]}),
                ),
                set(),
            ),
            "predicate_consistent": (
                lambda r: r.with_changes(
                    predicate=from_data({"field": "continuous_batching_config", "op": "==", "value": None})
                ),
                set(),
            ),
            "boundary_holds": (
                lambda r: r.with_changes(
                    kwargs_positive={"continuous_batching_config": 2},
                    predicate=from_data({"field": "continuous_batching_config", "op": ">=", "value": 2}),
                ),
                set(),
            ),
        },
    ),
    "minor_issues": (
        "GenerationConfig.pad_token_id_lt_0_ignored",
        {
            "positive_triggers": (
                lambda r: r.with_changes(
                    kwargs_positive={"pad_token_id": 5},
                    kwargs_negative={"pad_token_id": 6},
                    predicate=from_data({"field": "pad_token_id", "op": "in", "value": [5]}),
                ),
                {"message_matches_template"},
            ),
            "message_matches_template": (
                lambda r: r.with_changes(message_template="`pad_token_id` should be prime but got {}."),
                set(),
            ),
            "negative_does_not_trigger": (
                lambda r: r.with_changes(
                    kwargs_negative={"pad_token_id": -2},
                    predicate=from_data({"field": "pad_token_id", "op": "in", "value": [-1]}),
                ),
                set(),
            ),
            "predicate_consistent": (
                lambda r: r.with_changes(predicate=from_data({"field": "pad_token_id", "op": "in", "value": [0]})),
                set(),
            ),
            # pad_token_id < -1 is too narrow: -1 is an issue as well.
            "boundary_holds": (
                lambda r: r.with_changes(
                    kwargs_positive={"pad_token_id": -2},
                    predicate=from_data({"field": "pad_token_id", "op": "<", "value": -1}),
                ),
                set(),
            ),
        },
    ),
    "normalise": (
        "GPTQConfig.act_group_aware_is_truthy_normalised",
        {
            # The field already holds the value the rule says the library sets: nothing changed.
            "positive_triggers": (
                lambda r: r.with_changes(
                    kwargs_positive={"act_group_aware": False, "bits": 4, "desc_act": True},
                    kwargs_negative={"act_group_aware": False, "bits": 4, "desc_act": False},
                    predicate=from_data({"field": "desc_act", "op": "not_in", "value": FALSY}),
                ),
                set(),
            ),
            "message_matches_template": (lambda r: r.with_changes(normalises_to={"act_group_aware": None}), set()),
            "negative_does_not_trigger": (
                lambda r: r.with_changes(
                    kwargs_negative={"act_group_aware": True, "bits": 8, "desc_act": True},
                    predicate=from_data(
                        {
                            "all": [
                                {"field": "act_group_aware", "op": "not_in", "value": FALSY},
                                {"field": "bits", "op": "in", "value": [4]},
                            ]
                        }
                    ),
                ),
                set(),
            ),
            "predicate_consistent": (
                lambda r: r.with_changes(predicate=from_data({"field": "act_group_aware", "op": "in", "value": FALSY})),
                set(),
            ),
            # bits >= 4 is too narrow: with 3 bits act_group_aware is turned off as well.
            "boundary_holds": (
                lambda r: r.with_changes(
                    predicate=from_data(
                        {
                            "all": [
                                {"field": "act_group_aware", "op": "not_in", "value": FALSY},
                                {"field": "desc_act", "op": "not_in", "value": FALSY},
                                {"field": "bits", "op": ">=", "value": 4},
                            ]
                        }
                    )
                ),
                set(),
            ),
        },
    ),
}
EMISSION_CASES = [(emission, check) for emission, (_, cases) in sorted(EMISSION_FIXPOINT.items()) for check in cases]


def test_every_emission_kind_has_a_case_per_check():
    assert set(EMISSION_FIXPOINT) == {"logger", "warnings.warn", "minor_issues", "normalise"}
    assert all(set(cases) == set(CHECKS) for _, cases in EMISSION_FIXPOINT.values())


@pytest.mark.parametrize(("emission", "check"), EMISSION_CASES)
def test_emission_fixpoint_each_check_catches_its_case(mined, run, emission, check):
    suffix, cases = EMISSION_FIXPOINT[emission]
    good = rule_by_id(mined, suffix)
    assert good.emission == emission and check_rule(good, run).failures == ()
    mutate, also = cases[check]
    verdict = check_rule(mutate(good), run)
    failed = {failure.split(":", 1)[0] for failure in verdict.failures}
    assert failed == {check} | also, verdict.failures


@pytest.mark.parametrize(
    ("emission", "check"), [(e, c) for e, c in EMISSION_CASES if not EMISSION_FIXPOINT[e][1][c][1]]
)
def test_emission_fixpoint_without_the_check_its_case_would_ship(mined, run, emission, check):
    suffix, cases = EMISSION_FIXPOINT[emission]
    weakened = {name: function for name, function in CHECKS.items() if name != check}
    assert check_rule(cases[check][0](rule_by_id(mined, suffix)), run, weakened).failures == ()

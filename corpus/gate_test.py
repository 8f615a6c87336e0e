"""The gate against the live library, and the fixpoint test: each check catches its malformed rule.

If any of the four checks were removed from corpus/gate.py, the case built to
trip it here would pass the gate and this test would fail.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from corpus.gate import CHECKS, check_rule, run_gate
from miners import ssot
from miners.errors import SchemaError
from miners.replay import replay
from miners.schema.predicate import from_data
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


# Replays that cannot pass here (pinned rule by rule in transformers_corpus_test.py):
# BitsAndBytesConfig builds torch dtypes in its constructor, and the hub has no torch.
KNOWN_QUARANTINE = ("transformers.BitsAndBytesConfig",)


def test_every_mined_rule_passes(mined, run):
    for rule in mined.rules:
        if rule.native_type not in KNOWN_QUARANTINE:
            assert check_rule(rule, run).failures == (), rule.id


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
                    {"field": "max_new_tokens", "op": "!=", "value": -3},
                ]
            }
        ),
    ),
    # The inverted-lift defect: a predicate that fires on the valid side.
    "predicate_consistent": lambda r: r.with_changes(
        predicate=from_data({"field": "max_new_tokens", "op": ">", "value": 0})
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
    assert failed == ["positive_triggers", "message_matches_template"]


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
    assert {r.id for r in validated.rules} == {r.id for r in others if r.native_type not in KNOWN_QUARANTINE}
    assert broken.id in [q.rule.id for q in quarantine.quarantined]
    quarantine.write(tmp_path / "q.yaml")
    again = {q.rule.id: q for q in load_corpus(tmp_path / "q.yaml").quarantined}
    assert again[broken.id].reasons[0].startswith("predicate_consistent:")
    # Quarantine files are compared byte for byte: no memory addresses in them.
    assert " at 0x" not in (tmp_path / "q.yaml").read_text(encoding="utf-8")

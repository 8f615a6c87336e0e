"""What `//corpus:transformers` ships: the figures the foundation promises, measured on the build output."""

from __future__ import annotations

from pathlib import Path

from miners.schema.rule import load_corpus

VALIDATED = "corpus/transformers.invariants.validated.yaml"
QUARANTINE = "corpus/transformers.quarantine.yaml"


def test_at_least_ten_error_rules_from_generation_config_validate():
    corpus = load_corpus(VALIDATED)
    assert corpus.library == "transformers" and corpus.library_version == "5.23.0"
    errors = [
        r
        for r in corpus.rules
        if r.severity == "error" and r.source.method == "GenerationConfig.validate" and r.added_by == "static"
    ]
    assert len(errors) >= 10, sorted(r.id for r in corpus.rules)


def test_at_least_45_validated_rules():
    assert len(load_corpus(VALIDATED).rules) >= 45


def test_bits_and_bytes_rules_validate_with_the_hubs_torch():
    # BitsAndBytesConfig builds torch dtypes before any of its checks runs: without torch
    # in @pypi_transformers every one of its rules fails with a NameError instead.
    rules = [r for r in load_corpus(VALIDATED).rules if r.native_type == "transformers.BitsAndBytesConfig"]
    assert len([r for r in rules if r.severity == "error"]) >= 12, sorted(r.id for r in rules)


# What the gate refuses to ship, and why, rule by rule.
PRE_TRAINED = "transformers.PreTrainedConfig."
BITS_AND_BYTES = "transformers.BitsAndBytesConfig."
EXPECTED_QUARANTINE = {
    # transformers annotates problem_type as a Literal but never checks it.
    PRE_TRAINED + "problem_type_not_in_allowed": "positive_triggers: kwargs_positive was accepted",
    # post_init checks the type after __init__ has turned a string into getattr(torch, string),
    # so a string positive fails in __init__ (an AttributeError) and never reaches the check.
    BITS_AND_BYTES + "bnb_4bit_compute_dtype_type_is_not_dtype__bnb_4bit_compute_dtype_ne_none": (
        "positive_triggers: raised AttributeError (\"module 'torch' has no attribute"
    ),
}


def test_quarantine_holds_exactly_the_known_cases():
    quarantine = load_corpus(QUARANTINE)
    for entry in quarantine.quarantined:
        rule, reasons = entry.rule, entry.reasons
        if reasons[0].startswith("merged: "):
            # Not a failure: the gate merged it into a broader rule with the same message.
            continue
        assert rule.id in EXPECTED_QUARANTINE, (rule.id, reasons)
        assert reasons[0].startswith(EXPECTED_QUARANTINE[rule.id]), (rule.id, reasons)
    assert EXPECTED_QUARANTINE.keys() <= {q.rule.id for q in quarantine.quarantined}


def test_outputs_hold_no_absolute_paths():
    for path in (VALIDATED, QUARANTINE):
        text = Path(path).read_text(encoding="utf-8")
        for marker in ("/root/", "/home/", "/tmp/", "execroot", "site-packages"):  # noqa: S108 - searched for, not used
            assert marker not in text, (path, marker)

"""What `//corpus:transformers_<version>` ships, for each version: the figures the foundation
promises, measured on the build output."""

from __future__ import annotations

from pathlib import Path

import pytest

from miners.schema.rule import load_corpus

VERSIONS = ("4.57.3", "5.0.0", "5.23.0")


def validated(version: str) -> str:
    return f"corpus/transformers_{version}.invariants.validated.yaml"


def quarantined(version: str) -> str:
    return f"corpus/transformers_{version}.quarantine.yaml"


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


def test_at_least_ten_error_rules_from_generation_config_validate(version):
    corpus = load_corpus(validated(version))
    assert corpus.library == "transformers" and corpus.library_version == version
    errors = [
        r
        for r in corpus.rules
        if r.severity == "error" and r.source.method == "GenerationConfig.validate" and r.added_by == "static"
    ]
    assert len(errors) >= 10, sorted(r.id for r in corpus.rules)


def test_at_least_45_validated_rules(version):
    assert len(load_corpus(validated(version)).rules) >= 45


def test_minor_issues_are_logged_on_construction_and_refused_on_save(version):
    # Both versions' save_pretrained runs validate(strict=True) first.
    rules = [r for r in load_corpus(validated(version)).rules if r.emission == "minor_issues"]
    assert len(rules) >= 10
    assert {(r.severity, r.on_save) for r in rules} == {("dormant", "error")}


def test_bits_and_bytes_rules_validate_with_the_hubs_torch(version):
    # BitsAndBytesConfig builds torch dtypes before any of its checks runs: without torch
    # in the hub every one of its rules fails with a NameError instead.
    rules = [r for r in load_corpus(validated(version)).rules if r.native_type == "transformers.BitsAndBytesConfig"]
    assert len([r for r in rules if r.severity == "error"]) >= 12, sorted(r.id for r in rules)


# What the gate refuses to ship, and why, rule by rule.
BITS_AND_BYTES = "transformers.BitsAndBytesConfig."
EVERY_VERSION = {
    # post_init checks the type after __init__ has turned a string into getattr(torch, string),
    # so a string positive fails in __init__ (an AttributeError) and never reaches the check.
    BITS_AND_BYTES + "bnb_4bit_compute_dtype_type_is_not_dtype__bnb_4bit_compute_dtype_ne_none": (
        "positive_triggers: raised AttributeError (\"module 'torch' has no attribute"
    ),
}
EXPECTED_QUARANTINE = {
    "4.57.3": EVERY_VERSION
    | {
        # 4.57 checks the installed autoawq's version before fuse_max_seq_len; the hub has none.
        "transformers.AwqConfig.fuse_max_seq_len_eq_none": "negative_does_not_trigger: kwargs_negative raised",
    },
    # 5.0's PreTrainedConfig still checks problem_type in __init__, as 4.57's did.
    "5.0.0": EVERY_VERSION,
    "5.23.0": EVERY_VERSION
    | {
        # 5.x annotates problem_type as a Literal but never checks it (4.57's __init__ did).
        "transformers.PreTrainedConfig.problem_type_not_in_allowed": "positive_triggers: kwargs_positive was accepted",
    },
}


def test_quarantine_holds_exactly_the_known_cases(version):
    expected = EXPECTED_QUARANTINE[version]
    quarantine = load_corpus(quarantined(version))
    for entry in quarantine.quarantined:
        rule, reasons = entry.rule, entry.reasons
        if reasons[0].startswith("merged: "):
            # Not a failure: the gate merged it into a broader rule with the same message.
            continue
        assert rule.id in expected, (rule.id, reasons)
        assert reasons[0].startswith(expected[rule.id]), (rule.id, reasons)
    assert expected.keys() <= {q.rule.id for q in quarantine.quarantined}


def test_outputs_hold_no_absolute_paths(version):
    for path in (validated(version), quarantined(version)):
        text = Path(path).read_text(encoding="utf-8")
        for marker in ("/root/", "/home/", "/tmp/", "execroot", "site-packages"):  # noqa: S108 - searched for, not used
            assert marker not in text, (path, marker)

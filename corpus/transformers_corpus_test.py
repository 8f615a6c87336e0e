"""What `//corpus:transformers` ships: the figures the foundation promises, measured on the build output."""

from __future__ import annotations

from pathlib import Path

from miners.schema.rule import load_corpus

VALIDATED = "corpus/transformers/invariants.validated.yaml"
QUARANTINE = "corpus/transformers/quarantine.yaml"


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


def test_quarantine_holds_only_replays_that_need_torch():
    # BitsAndBytesConfig's constructor builds torch dtypes before any check runs,
    # and the transformers hub has no torch: its rules cannot be replayed here.
    quarantine = load_corpus(QUARANTINE)
    for entry in quarantine.quarantined:
        assert entry.rule.native_type == "transformers.BitsAndBytesConfig", (entry.rule.id, entry.reasons)
        assert any("name 'torch' is not defined" in reason for reason in entry.reasons), entry.reasons


def test_outputs_hold_no_absolute_paths():
    for path in (VALIDATED, QUARANTINE):
        text = Path(path).read_text(encoding="utf-8")
        for marker in ("/root/", "/home/", "/tmp/", "execroot", "site-packages"):  # noqa: S108 - searched for, not used
            assert marker not in text, (path, marker)

"""What `//corpus:vllm` ships, measured on the build output."""

from __future__ import annotations

from collections import Counter

from miners.schema.rule import load_corpus

VALIDATED = "corpus/vllm.invariants.validated.yaml"
QUARANTINE = "corpus/vllm.quarantine.yaml"
ENGINE_ARGS = "vllm.engine.arg_utils.EngineArgs"


def test_at_least_80_validated_rules():
    corpus = load_corpus(VALIDATED)
    assert corpus.library == "vllm" and corpus.library_version == "0.32.0"
    assert len(corpus.rules) >= 80


def test_sampling_params_and_config_classes_are_covered():
    natives = Counter(r.native_type for r in load_corpus(VALIDATED).rules)
    assert natives["vllm.SamplingParams"] >= 15
    config_classes = [n for n in natives if n.startswith("vllm.config.")]
    assert len(config_classes) >= 15, natives
    # The module helper _verify_num_sequences is followed from SamplingParams.__post_init__.
    sources = {r.source.method for r in load_corpus(VALIDATED).rules}
    assert "_verify_num_sequences" in sources


def test_every_producer_contributes():
    producers = Counter(r.added_by for r in load_corpus(VALIDATED).rules)
    assert producers["static"] and producers["lift:pydantic"] and producers["dynamic"]


def test_engine_args_is_quarantined_with_its_reason():
    quarantine = load_corpus(QUARANTINE)
    engine_args = [q for q in quarantine.quarantined if q.rule.native_type == ENGINE_ARGS]
    assert engine_args, "EngineArgs' lifted Literal rules are expected in the quarantine"
    assert not [r for r in load_corpus(VALIDATED).rules if r.native_type == ENGINE_ARGS]

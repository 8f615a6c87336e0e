"""What `//corpus:vllm_<version>` ships, for each version, measured on the build output."""

from __future__ import annotations

from collections import Counter

import pytest

from miners.schema.rule import load_corpus

VERSIONS = ("0.31.0", "0.32.0")
ENGINE_ARGS = "vllm.engine.arg_utils.EngineArgs"


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


def validated(version: str) -> str:
    return f"corpus/vllm_{version}.invariants.validated.yaml"


def test_at_least_80_validated_rules(version):
    corpus = load_corpus(validated(version))
    assert corpus.library == "vllm" and corpus.library_version == version
    assert len(corpus.rules) >= 80


def test_histogram_buckets_are_checked_from_0_32_on(version):
    # ObservabilityConfig.custom_histogram_buckets came with 0.32.
    rules = [r for r in load_corpus(validated(version)).rules if r.native_type == "vllm.config.ObservabilityConfig"]
    bucket_rules = [r for r in rules if "custom_histogram_buckets" in r.id]
    assert rules and (len(bucket_rules) >= 3 if version == "0.32.0" else not bucket_rules), sorted(r.id for r in rules)


def test_sampling_params_and_config_classes_are_covered(version):
    path = validated(version)
    natives = Counter(r.native_type for r in load_corpus(path).rules)
    assert natives["vllm.SamplingParams"] >= 15
    config_classes = [n for n in natives if n.startswith("vllm.config.")]
    assert len(config_classes) >= 15, natives
    # The module helper _verify_num_sequences is followed from SamplingParams.__post_init__.
    sources = {r.source.method for r in load_corpus(path).rules}
    assert "_verify_num_sequences" in sources


def test_every_producer_contributes(version):
    producers = Counter(r.added_by for r in load_corpus(validated(version)).rules)
    assert producers["static"] and producers["lift:pydantic"] and producers["dynamic"]


def test_engine_args_is_quarantined_with_its_reason(version):
    quarantine = load_corpus(f"corpus/vllm_{version}.quarantine.yaml")
    engine_args = [q for q in quarantine.quarantined if q.rule.native_type == ENGINE_ARGS]
    assert engine_args, "EngineArgs' lifted Literal rules are expected in the quarantine"
    assert not [r for r in load_corpus(validated(version)).rules if r.native_type == ENGINE_ARGS]

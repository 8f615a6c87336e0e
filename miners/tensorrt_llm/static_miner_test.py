"""The TensorRT-LLM static miner, on a fixture with TensorRT-LLM's validator shapes, read as source only."""

from __future__ import annotations

import sys

import pytest

from miners import ssot
from miners.errors import MinerLandmarkMissingError, MinerVersionMismatchError
from miners.schema.predicate import Atom, Ref
from miners.static.miner import mine

SSOT = "miners/tensorrt_llm/versions.yaml"
FIXTURE = "miners/tensorrt_llm/testdata/source"


@pytest.fixture(scope="module")
def corpus():
    return mine(ssot.load(SSOT), source_root=FIXTURE)


def by_line(corpus, line):
    return [r for r in corpus.rules if r.source.line == line]


def test_reads_source_without_importing(corpus):
    assert "tensorrt_llm" not in sys.modules and "torch" not in sys.modules
    assert corpus.library == "tensorrt_llm" and corpus.library_version == "0.21.0"
    assert all(r.source.path == "tensorrt_llm/llmapi/llm_args.py" for r in corpus.rules)


def test_field_validator_raise_on_the_field_itself(corpus):
    (rule,) = [r for r in corpus.rules if r.source.method == "BaseLlmArgs.validate_model"]
    assert rule.severity == "error" and rule.exception_type == "ValueError"
    # isinstance against names imported in the module resolves to their dotted paths.
    assert rule.predicate == Atom("model", "type_is_not", ["str", "pathlib.Path"])
    assert rule.message_template == "Invalid model: {}"


def test_model_validator_raises_warns_and_clamps(corpus):
    predicates = {(r.severity, r.emission): r for r in corpus.rules if "runtime_params" in r.source.method}
    clamp = predicates[("dormant", "normalise")]
    assert clamp.normalises_to == {"max_beam_width": 1}
    warning = predicates[("warn", "logger")]
    assert "is clamped to 1 with the {} backend" in warning.message_template
    raises = [r.predicate for r in corpus.rules if r.emission == "raise" and "runtime_params" in r.source.method]
    assert Atom("max_beam_width", ">", 8) in raises  # a module constant, read from source
    assert Atom("max_input_len", ">", Ref("max_seq_len")) in raises


def test_cross_field_and_default_fills(corpus):
    predicates = [r.predicate for r in corpus.rules if r.source.method == "BaseLlmArgs.validate_parallel_config"]
    assert Atom("tensor_parallel_size", "<", 1) in predicates
    reasons = [d.reason for d in corpus.dropped]
    assert any("fills in a default for self.moe_expert_parallel_size" in r for r in reasons)
    # tp * pp is arithmetic on fields: not in the vocabulary, dropped with the reason.
    assert any("tensor_parallel_size * self.pipeline_parallel_size" in d.condition for d in corpus.dropped)


def test_hardware_gated_checks_are_not_corpus_rules(corpus):
    assert not [r for r in corpus.rules if r.source.method == "BaseLlmArgs.validate_dtype"]
    assert any("torch.cuda" in d.reason or "torch.cuda" in d.condition for d in corpus.dropped)


def test_version_and_landmarks_fail_loudly(tmp_path):
    spec = ssot.load(SSOT)
    (tmp_path / "tensorrt_llm").mkdir()
    (tmp_path / "tensorrt_llm" / "version.py").write_text('__version__ = "1.0.0"\n', encoding="utf-8")
    with pytest.raises(MinerVersionMismatchError, match=r"tensorrt_llm 1\.0\.0"):
        mine(spec, source_root=str(tmp_path))
    (tmp_path / "tensorrt_llm" / "version.py").write_text('__version__ = "0.21.3"\n', encoding="utf-8")
    with pytest.raises(MinerLandmarkMissingError, match=r"module tensorrt_llm\.llmapi\.llm_args"):
        mine(spec, source_root=str(tmp_path))

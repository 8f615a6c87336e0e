"""The checker on the failure classes it used to miss, against the checked-in corpora.

Each case is a config the library itself refuses (or silently ignores); the agreement
suite (tests/agreement) replays such configs against the live library, these pin
the reasons: class defaults, nested configs, list items, types, unknown keys.
"""

from __future__ import annotations

import pytest

from tools.check import check_config, load_library_corpus


@pytest.fixture(scope="module")
def transformers():
    return load_library_corpus("transformers")


@pytest.fixture(scope="module")
def vllm():
    return load_library_corpus("vllm")


def errors(findings):
    return [f for f in findings if f.severity == "error"]


def test_a_rule_that_depends_on_a_default_fires_and_says_so(vllm):
    # vLLM: max_tokens defaults to 16, and min_tokens may not exceed it.
    (finding,) = [
        f for f in errors(check_config(vllm, {"SamplingParams": {"min_tokens": 32}})) if "max_tokens" in f.fields
    ]
    assert finding.path == ("SamplingParams", "min_tokens")
    assert "max_tokens defaults to 16" in finding.notes
    assert check_config(vllm, {"SamplingParams": {"min_tokens": 8}}) == []


@pytest.mark.parametrize(
    "watermarking, field",
    [
        ({"greenlist_ratio": 1.5}, "greenlist_ratio"),
        ({"seeding_scheme": "nonsense"}, "seeding_scheme"),
        ({"context_width": 0}, "context_width"),
    ],
)
def test_nested_configs_are_checked_at_their_path(transformers, watermarking, field):
    found = errors(check_config(transformers, {"GenerationConfig": {"watermarking_config": watermarking}}))
    assert [f.path for f in found] == [("GenerationConfig", "watermarking_config", field)], [f.id for f in found]
    assert found[0].native_type == "transformers.WatermarkingConfig"
    assert found[0].key == f"watermarking_config.{field}"


def test_a_value_that_is_not_a_config_where_one_is_expected(transformers):
    found = errors(check_config(transformers, {"GenerationConfig": {"watermarking_config": 42}}))
    assert [f.path for f in found] == [("GenerationConfig", "watermarking_config")], [f.id for f in found]
    valid = {"GenerationConfig": {"watermarking_config": {"greenlist_ratio": 0.25}}}
    assert errors(check_config(transformers, valid)) == []


def test_rules_about_list_items(vllm):
    (finding,) = errors(check_config(vllm, {"SamplingParams": {"stop": [""]}}))
    assert finding.path == ("SamplingParams", "stop")
    assert finding.rule.predicate.of == "any_item"
    assert errors(check_config(vllm, {"SamplingParams": {"stop": ["###"]}})) == []


def test_type_rules(vllm, transformers):
    found = errors(check_config(vllm, {"SamplingParams": {"stop_token_ids": "not_a_list"}}))
    assert [f.path for f in found] == [("SamplingParams", "stop_token_ids")], [f.id for f in found]
    assert errors(check_config(vllm, {"SamplingParams": {"stop_token_ids": [2, 3]}})) == []
    found = errors(check_config(transformers, {"BitsAndBytesConfig": {"load_in_8bit": 1}}))
    assert [f.path for f in found] == [("BitsAndBytesConfig", "load_in_8bit")], [f.id for f in found]
    assert errors(check_config(transformers, {"BitsAndBytesConfig": {"load_in_8bit": True}})) == []


def test_off_boundary_and_duplicate_rules_are_gone(vllm):
    ids = {r.id for r in vllm.rules}
    for gone in (
        "vllm.SamplingParams.temperature_le_minus_0_5",
        "vllm.SamplingParams.min_tokens_le_minus_1",
    ):
        assert gone not in ids
    both = {"vllm.SamplingParams.max_tokens_lt_min_tokens", "vllm.SamplingParams.min_tokens_gt_max_tokens"}
    assert len(both & ids) <= 1
    # Just across the boundary: -0.01 is refused, 0.0 is not.
    assert errors(check_config(vllm, {"SamplingParams": {"temperature": -0.01}}))
    assert errors(check_config(vllm, {"SamplingParams": {"temperature": 0.0}})) == []


def test_a_typo_is_found_with_a_suggestion(transformers, vllm):
    (typo,) = check_config(transformers, {"GenerationConfig": {"temprature": 0.7}})
    assert (typo.severity, typo.path) == ("dormant", ("GenerationConfig", "temprature"))
    assert typo.fix == "did you mean `temperature`?"
    (typo,) = check_config(vllm, {"SamplingParams": {"temprature": 0.7}})
    assert (typo.severity, typo.fix) == ("error", "did you mean `temperature`?")
    # The library's own bookkeeping keys are not typos.
    assert check_config(transformers, {"GenerationConfig": {"_from_model_config": True}}) == []


def test_messages_show_the_users_values(transformers):
    (finding,) = errors(check_config(transformers, {"GenerationConfig": {"max_new_tokens": 0}}))
    assert "but is 0." in finding.message, finding.message

"""The CPU-build part of check_renovate's contract, on configs and hub inputs built here."""

from __future__ import annotations

from tools.ci.check_renovate import cpu_build_errors

TORCH_CPU = {
    "matchFileNames": ["miners/vllm/requirements.in"],
    "matchPackageNames": ["torch"],
    "registryUrls": ["https://cpu-builds.invalid/whl/cpu"],
}
VLLM_IN = "-r ../../tools/python/project_runtime.in\nvllm==0.32.0\ntorch==2.13.0+cpu\n"


def test_a_cpu_pin_with_a_registry_rule_passes():
    assert cpu_build_errors({"packageRules": [TORCH_CPU]}, {"miners/vllm/requirements.in": VLLM_IN}) == []


def test_a_cpu_pin_in_a_file_the_rule_does_not_match_is_reported():
    errors = cpu_build_errors(
        {"packageRules": [TORCH_CPU]},
        {"miners/vllm/requirements.in": VLLM_IN, "miners/transformers/requirements.in": "torch==2.13.0+cpu\n"},
    )
    assert errors == [
        "miners/transformers/requirements.in: pins a CPU build of torch, but no packageRule with registryUrls "
        "matches torch there; add miners/transformers/requirements.in to the matchFileNames of the rule that "
        "looks torch up where its CPU builds are served"
    ]


def test_a_rule_without_registry_urls_does_not_count():
    rule = {k: v for k, v in TORCH_CPU.items() if k != "registryUrls"}
    assert len(cpu_build_errors({"packageRules": [rule]}, {"miners/vllm/requirements.in": VLLM_IN})) == 1


def test_only_local_cpu_builds_need_a_rule():
    hub_texts = {
        "a/requirements.in": "torch==2.13.0\n# torch==2.13.0+cpu, once\ntransformers==5.23.0\n",
        "b/requirements.in": "torchcpu==1.0\nonnxruntime==1.32.0  # the +cpu of nothing\n",
    }
    assert cpu_build_errors({"packageRules": []}, hub_texts) == []


def test_each_cpu_pin_is_reported_once_per_file():
    errors = cpu_build_errors({}, {"r.in": "torch==2.13.0+cpu\njaxlib == 0.4.1+cpu ; python_version > '3'\n"})
    assert [e.split(",")[0] for e in errors] == ["r.in: pins a CPU build of jaxlib", "r.in: pins a CPU build of torch"]

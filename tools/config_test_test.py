"""config_test's verdicts: each case runs a config_test target's launcher, as `bazel test` would.

A `version` there is no corpus for fails at analysis time (config_test_analysis_test.bzl)."""

from __future__ import annotations

import os
import subprocess

import pytest

CONFIGS = "tools/testdata/configs"

# case: (exit status, what the log must say)
CASES = {
    "error": (
        1,
        [
            # No version given: the checker names the corpus it chose.
            "corpus: transformers==",
            f"{CONFIGS}/valid_sampling.yaml: no rule fires",
            f"{CONFIGS}/zero_new_tokens.yaml: 1 rule(s) fire",
            "error   transformers.GenerationConfig.max_new_tokens_le_0",
            "fix: e.g. max_new_tokens=1",
        ],
    ),
    "dormant": (0, ["dormant transformers.GenerationConfig.temperature_ne_1_0_ignored"]),
    # --strict reports the stricter of the two severities: save_pretrained refuses this config.
    "dormant_strict": (
        1,
        [
            "error   transformers.GenerationConfig.temperature_ne_1_0_ignored",
            "note: raises on save_pretrained (on_save: error)",
        ],
    ),
    "unknown_class": (
        2,
        [
            f"error: {CONFIGS}/zero_new_tokens.yaml: unknown config class 'transformers.GenerationConfig' for vllm; known classes:"
        ],
    ),
    "not_yaml": (2, ["error: tools/testdata/broken/not_yaml.yaml: not valid YAML"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_test_verdict_and_log(case, tmp_path):
    status, lines = CASES[case]
    launcher = os.path.abspath(os.environ[f"CONFIG_TEST_{case.upper()}"])
    # From elsewhere, as Bazel may start a test: the launcher finds the runfiles itself.
    run = subprocess.run([launcher], capture_output=True, text=True, cwd=tmp_path, check=False)
    log = run.stdout + run.stderr
    assert run.returncode == status, log
    for line in lines:
        assert line in log
    assert "Traceback" not in log

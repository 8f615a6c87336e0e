"""The checker: its reports, its errors, and agreement with transformers itself on hand-written configs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tools.check import ConfigError, check_config, load_library_corpus, read_config

CONFIGS = sorted(Path("tools/testdata/configs").iterdir())
# transformers' one-line summary of ignored flags (the details go to INFO): a `dormant` signal.
IGNORED_SUMMARY = "The following generation flags are not valid and may be ignored"


@pytest.fixture(scope="module")
def corpus():
    return load_library_corpus("transformers")


def library_verdict(native: str, kwargs: dict) -> set[str]:
    """What transformers does with a config: {"error"} if it refuses it, else the subset of
    {"warn", "dormant"} it shows — warnings, and flags it ignores (the minor issues that
    GenerationConfig's strict validation turns into errors)."""
    import transformers
    from transformers.generation import configuration_utils

    cls = getattr(transformers, native.rsplit(".", 1)[-1])
    logger = logging.getLogger("transformers")
    records: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())
    saved, logger.handlers = logger.handlers, [handler]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            configuration_utils.logging.get_logger  # noqa: B018 - transformers' logger is set up on import
            logging.Logger.warning_once.cache_clear()
            try:
                instance = cls(**kwargs)
                if hasattr(instance, "validate") and cls is not transformers.GenerationConfig:
                    instance.validate()
            except Exception:  # a refusal is the verdict
                return {"error"}
    finally:
        logger.handlers = saved
    verdict = set()
    said = [str(w.message) for w in caught] + records
    if any(IGNORED_SUMMARY not in text for text in said):
        verdict.add("warn")
    if cls is transformers.GenerationConfig:
        try:
            instance.validate(strict=True)
        except ValueError:
            verdict.add("dormant")
    return verdict


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_checker_agrees_with_transformers(corpus, path):
    config = read_config(str(path))
    ((native, kwargs),) = config.items()
    findings = check_config(corpus, config, str(path))
    severities = {f.severity for f in findings}
    expected = library_verdict(native, kwargs)
    if expected == {"error"}:
        assert "error" in severities, [f.rule.id for f in findings]
    else:
        assert severities == expected, [f.rule.id for f in findings]


def test_the_hand_written_configs_cover_every_severity_and_valid_ones(corpus):
    seen = set()
    for path in CONFIGS:
        findings = check_config(corpus, read_config(str(path)), str(path))
        seen |= {f.severity for f in findings} or {"valid"}
    assert seen == {"error", "warn", "dormant", "valid"}
    assert len(CONFIGS) >= 10


def test_report_names_rule_fields_message_and_fix(corpus):
    (finding,) = [f for f in check_config(corpus, {"GenerationConfig": {"max_new_tokens": 0}}) if f.severity == "error"]
    assert finding.rule.id == "transformers.GenerationConfig.max_new_tokens_le_0"
    assert finding.fields == ["max_new_tokens"]
    # The library's constant stays `…`; the config's own value is filled in.
    assert finding.message == "`max_new_tokens` must be greater than …, but is 0."
    assert finding.fix == "e.g. max_new_tokens=1"
    assert finding.path == ("GenerationConfig", "max_new_tokens")


def test_unknown_class_and_malformed_files_are_clear_errors(corpus, tmp_path):
    with pytest.raises(
        ConfigError, match=r"unknown config class 'GenConfig' for transformers; known classes: .*GenerationConfig"
    ):
        check_config(corpus, {"GenConfig": {}}, "c.yaml")
    with pytest.raises(ConfigError, match="expected a mapping of argument names to values"):
        check_config(corpus, {"GenerationConfig": [1, 2]}, "c.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("GenerationConfig: {temperature: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        read_config(str(bad))


def run_cli(*args):
    return subprocess.run([sys.executable, "tools/check.py", *args], capture_output=True, text=True, check=False)


def test_cli_exit_codes_and_json(tmp_path):
    ok = run_cli("--library", "transformers", "tools/testdata/configs/valid_sampling.yaml")
    assert ok.returncode == 0, ok.stderr
    assert "no rule fires" in ok.stdout
    failing = run_cli(
        "--library",
        "transformers",
        "--format",
        "json",
        "tools/testdata/configs/zero_new_tokens.yaml",
        "tools/testdata/configs/greedy_with_temperature.yaml",
    )
    assert failing.returncode == 1
    report = json.loads(failing.stdout)
    assert report["tools/testdata/configs/zero_new_tokens.yaml"][0] == {
        "fields": ["max_new_tokens"],
        "fix": "e.g. max_new_tokens=1",
        "id": "transformers.GenerationConfig.max_new_tokens_le_0",
        "message": "`max_new_tokens` must be greater than …, but is 0.",
        "path": ["transformers.GenerationConfig", "max_new_tokens"],
        "severity": "error",
        # Where the key is in the file (tools/check_input_test.py checks the locating itself).
        "file": "tools/testdata/configs/zero_new_tokens.yaml",
        "line": 2,
        "column": 3,
    }
    assert {f["severity"] for f in report["tools/testdata/configs/greedy_with_temperature.yaml"]} == {"dormant"}
    bad = tmp_path / "broken.json"
    bad.write_text("{", encoding="utf-8")
    broken = run_cli("--library", "transformers", str(bad))
    assert broken.returncode == 2
    assert "not valid JSON" in broken.stderr and "Traceback" not in broken.stderr
    unknown = run_cli("--library", "vllm2", str(bad))
    assert unknown.returncode == 2 and "no corpus for library 'vllm2'" in unknown.stderr


def test_cli_version_pin(corpus):
    valid = "tools/testdata/configs/valid_sampling.yaml"
    pinned = run_cli("--library", f"transformers=={corpus.library_version}", valid)
    assert pinned.returncode == 0, pinned.stderr
    other = run_cli("--library", "transformers==4.0.0", valid)
    assert other.returncode == 2
    assert (
        f"no corpus for transformers==4.0.0; transformers versions there are: {corpus.library_version}" in other.stderr
    )
    malformed = run_cli("--library", "transformers>=5", valid)
    assert malformed.returncode == 2 and "expected LIBRARY or LIBRARY==VERSION" in malformed.stderr
    assert "Traceback" not in other.stderr + malformed.stderr


def test_cli_strict_fails_on_any_finding():
    dormant_only = "tools/testdata/configs/greedy_with_temperature.yaml"
    lenient = run_cli("--library", "transformers", dormant_only)
    assert lenient.returncode == 0 and "dormant" in lenient.stdout
    strict = run_cli("--library", "transformers", "--strict", dormant_only)
    assert strict.returncode == 1 and strict.stdout == lenient.stdout
    clean = run_cli("--library", "transformers", "--strict", "tools/testdata/configs/valid_sampling.yaml")
    assert clean.returncode == 0, clean.stdout

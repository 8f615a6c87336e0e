"""The checker on configs whose verdict depends on the transformers version, beside the version itself.

Runs once per hub (//tools:check_version_<version>_test). Each case is a config that one
version rejects and the other accepts, found by //corpus:transformers.diff (corpus/
transformers/changes.md) and confirmed here against the installed library: constructing
the class is the truth, and the checker, told `--library transformers==<installed>`, must
agree. Told nothing but `--library transformers`, it must find the installed version
itself (importlib.metadata) and say so.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json

import pytest
import yaml

from tools.check import main

INSTALLED = importlib.metadata.version("transformers")

# (class, kwargs, the versions that reject it), one of each kind of change the diff finds.
CASES = {
    # Predicate changed: 5.x takes every bit width from 2 to 8; 4.57 only 2, 3, 4 and 8.
    "autoround_5_bits": ("AutoRoundConfig", {"bits": 5}, {"4.57.3"}),
    # Removed: 4.57 refuses use_model_defaults as a GenerationConfig argument; 5.x takes it.
    "use_model_defaults": ("GenerationConfig", {"use_model_defaults": True}, {"4.57.3"}),
    # Added: the ensemble weight must lie in (0, 1) since 5.x; 4.57 has no such parameter and keeps it.
    "ensemble_weight_above_1": ("GenerationConfig", {"assistant_ensemble_weight": 1.5}, {"5.23.0"}),
    # A class renamed: 4.57's PretrainedConfig checks problem_type in __init__; 5.x's
    # PreTrainedConfig only annotates it.
    "unknown_problem_type": ("PretrainedConfig", {"problem_type": "ranking"}, {"4.57.3"}),
}


def library_rejects(class_name: str, kwargs: dict) -> bool:
    cls = getattr(importlib.import_module("transformers"), class_name)
    try:
        cls(**kwargs)
    except (ValueError, TypeError):
        return True
    return False


def checked(tmp_path, capsys, spec: str, class_name: str, kwargs: dict) -> tuple[int, dict, str]:
    config = tmp_path / "job.yaml"
    config.write_text(yaml.safe_dump({class_name: kwargs}))
    status = main(["--library", spec, "--format", "json", str(config)])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_installed_versions_verdict(case, tmp_path, capsys):
    class_name, kwargs, rejected_by = CASES[case]
    if class_name == "PretrainedConfig" and INSTALLED.startswith("5."):
        class_name = "PreTrainedConfig"  # the 5.x spelling; 5.x keeps the old name as an alias
    rejects = INSTALLED in rejected_by
    assert library_rejects(class_name, kwargs) == rejects, f"transformers {INSTALLED} changed its mind on {case}"
    status, report, _ = checked(tmp_path, capsys, f"transformers=={INSTALLED}", class_name, kwargs)
    assert (report["library_version"], report["version_source"]) == (INSTALLED, "requested")
    (findings,) = report["files"].values()
    errors = [f["id"] for f in findings if f["severity"] == "error"]
    assert (status == 1) == rejects and bool(errors) == rejects, (case, INSTALLED, findings)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_other_version_gives_the_other_verdict(case, tmp_path, capsys):
    # The same config, checked against the version that is not installed here.
    class_name, kwargs, rejected_by = CASES[case]
    (other,) = {"4.57.3", "5.23.0"} - {INSTALLED}
    if class_name == "PretrainedConfig" and other.startswith("5."):
        class_name = "PreTrainedConfig"
    status, report, _ = checked(tmp_path, capsys, f"transformers=={other}", class_name, kwargs)
    assert report["library_version"] == other
    assert (status == 1) == (other in rejected_by), (case, other, report)


# Message changed: both versions refuse a fractional codebook count, each in its own words.
MESSAGES = {"4.57.3": "num_codebooks must be a float", "5.23.0": "num_codebooks must be an int"}


@pytest.mark.parametrize("version", sorted(MESSAGES))
def test_each_version_says_what_that_version_says(version, tmp_path, capsys):
    kwargs = {"num_codebooks": 0.5}
    if version == INSTALLED:
        with pytest.raises(TypeError, match=MESSAGES[version]):
            importlib.import_module("transformers").AqlmConfig(**kwargs)
    status, report, _ = checked(tmp_path, capsys, f"transformers=={version}", "AqlmConfig", kwargs)
    (findings,) = report["files"].values()
    assert status == 1 and any(MESSAGES[version] in f["message"] for f in findings), findings


def test_without_a_version_the_installed_one_is_used(tmp_path, capsys):
    status, report, err = checked(tmp_path, capsys, "transformers", "AutoRoundConfig", {"bits": 5})
    assert (report["library_version"], report["version_source"]) == (INSTALLED, "installed")
    assert INSTALLED in err
    assert (status == 1) == (INSTALLED == "4.57.3")

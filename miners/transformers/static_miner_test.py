"""The static miner on the real transformers, and its fail-loud contract."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from miners import ssot
from miners.errors import MinerLandmarkMissingError, MinerVersionMismatchError
from miners.static.miner import mine

SSOT = "miners/transformers/versions.yaml"


def installed_view() -> dict:
    """The SSOT as the hub's transformers version sees it (the file its miners read)."""
    data = yaml.safe_load(Path(SSOT).read_text(encoding="utf-8"))
    return ssot.resolve(data, importlib.metadata.version("transformers"), SSOT)


def spec_with(tmp_path: Path, **changes) -> str:
    data = installed_view()
    for dotted, value in changes.items():
        target = data
        *parents, last = dotted.split("/")
        for key in parents:
            target = target[key]
        target[last] = value
    path = tmp_path / "versions.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_generation_config_validate_yields_at_least_ten_error_rules():
    corpus = mine(ssot.load(SSOT))
    validate_errors = [
        r for r in corpus.rules if r.source.method == "GenerationConfig.validate" and r.severity == "error"
    ]
    assert len(validate_errors) >= 10, [r.id for r in corpus.rules]
    ids = {r.id for r in corpus.rules}
    assert "transformers.GenerationConfig.max_new_tokens_le_0" in ids
    assert "transformers.GenerationConfig.num_return_sequences_gt_num_beams" in ids
    for rule in corpus.rules:
        assert rule.source.path.startswith("transformers/") and rule.source.path.endswith(".py")
        assert rule.message_template or rule.emission == "normalise"


def test_untranslatable_checks_are_logged_not_guessed():
    corpus = mine(ssot.load(SSOT))
    by_line = {(d.source.method, d.source.line): d.reason for d in corpus.dropped}
    # `if len(minor_issues) > 0: if strict: raise ...` reads no field of the config.
    assert "reads local state" in by_line[("GenerationConfig.validate", 880)]
    # The suppress_tokens subset test goes through a local set and an opaque method call.
    assert "forced_tokens" in by_line[("GenerationConfig.validate", 841)]
    # SinqConfig converts `nbits` with int() before checking its type: that check is about
    # the library's own value, not the config's.
    assert "rewritten at line" in by_line[("SinqConfig.post_init", 2019)]


def test_every_detector_contributes():
    corpus = mine(ssot.load(SSOT))
    emissions = {r.emission for r in corpus.rules}
    assert emissions == {"raise", "warnings.warn", "logger", "minor_issues", "normalise"}
    # Depth 1: the property setters of BitsAndBytesConfig are read too.
    assert any(r.source.method == "BitsAndBytesConfig.load_in_4bit.setter" for r in corpus.rules)


def test_out_of_envelope_version_fails_loudly(tmp_path):
    path = spec_with(tmp_path, **{"miner_pins/static": ">=4.57,<5"})
    with pytest.raises(MinerVersionMismatchError) as caught:
        mine(ssot.load(path))
    message = str(caught.value)
    assert "transformers 5.23.0 is installed" in message
    assert ">=4.57,<5" in message and path in message
    assert "widen miner_pins.static" in message


def test_missing_method_is_a_landmark_error(tmp_path):
    path = spec_with(tmp_path, **{"native_types/transformers.GenerationConfig/validators": ["validate", "check_all"]})
    with pytest.raises(
        MinerLandmarkMissingError,
        match=r"expected method GenerationConfig.check_all in transformers/generation/configuration_utils.py, found no such method",
    ):
        mine(ssot.load(path))


def test_missing_class_is_a_landmark_error(tmp_path):
    data = installed_view()
    data["native_types"]["transformers.GenerationConfigV2"] = data["native_types"]["transformers.GenerationConfig"]
    path = tmp_path / "versions.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(MinerLandmarkMissingError, match=r"expected class transformers\.GenerationConfigV2"):
        mine(ssot.load(str(path)))


def test_moved_class_is_a_landmark_error(tmp_path):
    path = spec_with(tmp_path, **{"native_types/transformers.GenerationConfig/module": "transformers.generation.utils"})
    with pytest.raises(
        MinerLandmarkMissingError, match=r"it is defined in transformers\.generation\.configuration_utils"
    ):
        mine(ssot.load(path))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"miner_pins/static": ">=4.57,<5"}, "MinerVersionMismatchError"),
        ({"native_types/transformers.GenerationConfig/validators": ["gone"]}, "MinerLandmarkMissingError"),
        ({"miner_pins/static": "five"}, "is not a version specifier"),
    ],
)
def test_cli_fails_with_exit_2_and_writes_nothing(tmp_path, changes, expected):
    out = tmp_path / "staging.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "miners.static", "--ssot", spec_with(tmp_path, **changes), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["versions.yaml"]

"""The shipped CPU engines as built: manifests, keys, and the verifier's hit / tampered / missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engines import artifacts, verify

# One platform's published directory: engines, sidecars and manifest.json.
MANIFEST = Path(os.environ["FLEET_MANIFEST"])


@pytest.fixture
def pulled(tmp_path: Path) -> Path:
    """A copy of the platform's directory, as a device would pull it."""
    device = tmp_path / "device"
    device.mkdir()
    data = json.loads(MANIFEST.read_text())
    shutil.copy(MANIFEST, device / "manifest.json")
    for record in data["engines"]:
        for name in (record["engine"]["file"], record["engine"]["file"] + ".sha256"):
            shutil.copy(MANIFEST.parent / name, device / name)
    for path in device.iterdir():
        path.chmod(0o644)
    return device


def statuses(directory: Path) -> dict[str, str]:
    return {result["engine"]: result["status"] for result in verify.verify_manifest(directory / "manifest.json")}


def test_manifest_describes_every_engine():
    data = json.loads(MANIFEST.read_text())
    names = [record["engine"]["file"] for record in data["engines"]]
    assert names == sorted(names) and len(names) == 3
    for record in data["engines"]:
        parsed = artifacts.parse_engine_file_name(record["engine"]["file"])
        assert parsed["model"] == record["model"]["name"] and parsed["tag"] == record["tag"]
        assert set(record["versions"]) == {"numpy", "onnx", "onnxruntime"}
        assert record["hardware"]["onnxruntime"] in record["versions"]["onnxruntime"]
        assert artifacts.sha256_file(MANIFEST.parent / record["engine"]["file"]) == record["engine"]["sha256"]


def test_same_graph_different_weights_get_different_keys():
    records = {record["model"]["name"]: record for record in json.loads(MANIFEST.read_text())["engines"]}
    mlp, mlp_b = records["mlp"], records["mlp_b"]
    assert mlp["model"]["inputs"] == mlp_b["model"]["inputs"] and mlp["settings"] == mlp_b["settings"]
    assert mlp["model"]["sha256"] != mlp_b["model"]["sha256"]
    assert mlp["key"] != mlp_b["key"]
    assert mlp["engine"]["sha256"] != mlp_b["engine"]["sha256"]


def test_untouched_engines_are_hits(pulled):
    assert set(statuses(pulled).values()) == {"hit"}


def test_tampered_engine(pulled):
    engine = next(pulled.glob("mlp__*"))
    data = bytearray(engine.read_bytes())
    data[len(data) // 2] ^= 0xFF
    engine.write_bytes(bytes(data))
    assert statuses(pulled)[engine.name] == "tampered"


def test_tampered_or_missing_sidecar(pulled):
    engine = next(pulled.glob("convnet__*.onnx"))
    sidecar = engine.with_name(engine.name + ".sha256")
    sidecar.write_text(artifacts.sidecar_text("0" * 64, engine.name))
    assert statuses(pulled)[engine.name] == "tampered"
    sidecar.unlink()
    assert statuses(pulled)[engine.name] == "tampered"


def test_missing_and_unlisted_engines(pulled):
    engine = next(pulled.glob("mlp_b__*.onnx"))
    engine.rename(pulled / engine.name.replace("mlp_b__", "other__"))
    found = statuses(pulled)
    assert found[engine.name] == "missing"
    assert found[engine.name.replace("mlp_b__", "other__")] == "unlisted"


def test_verifier_runs_as_a_plain_script(pulled):
    """Devices run engines/verify.py with a bare python3: no Bazel, no third-party packages."""
    script = Path(verify.__file__)
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "RUNFILES"))}
    ok = subprocess.run(
        [sys.executable, "-I", str(script), str(pulled)], capture_output=True, text=True, env=clean, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("3 hit, 0 tampered, 0 missing, 0 unlisted")
    next(pulled.glob("*.sha256")).unlink()
    bad = subprocess.run(
        [sys.executable, "-I", str(script), str(pulled)], capture_output=True, text=True, env=clean, check=False
    )
    assert bad.returncode == 1 and "1 tampered" in bad.stdout

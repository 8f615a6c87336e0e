"""The shipped engines for this host as built: the device manifest, keys, classes, and the verifier."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from engines import artifacts, verify

# The host device's published directory (//fleet:fleet.host): engines, sidecars and manifest.json.
MANIFEST = next(Path(path) for path in os.environ["FLEET_FILES"].split() if path.endswith("/manifest.json"))
MODELS = ("convnet", "mlp", "mlp_b")


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
    uses = data["device"]["uses"]
    assert sorted(uses) == list(MODELS)
    assert names == sorted(names) == sorted(name for files in uses.values() for name in files)
    for record in data["engines"]:
        parsed = artifacts.parse_engine_file_name(record["engine"]["file"])
        assert parsed["model"] == record["model"]["name"] and parsed["tag"] == record["tag"]
        assert set(record["versions"]) == {"numpy", "onnx", "onnxruntime"}
        assert record["hardware"]["onnxruntime"] in record["versions"]["onnxruntime"]
        assert artifacts.sha256_file(MANIFEST.parent / record["engine"]["file"]) == record["engine"]["sha256"]


def test_the_host_uses_its_isa_tied_engine_then_the_portable_one():
    data = json.loads(MANIFEST.read_text())
    device, records = data["device"], {record["engine"]["file"]: record for record in data["engines"]}
    assert data["platform"] == "@kiln//platforms:host" and device["name"] == "host"
    isa, cpu = device["hardware"]["cpu_isa"], device["hardware"]["cpu"]
    for model, files in device["uses"].items():
        kinds = [(records[name]["hardware"]["cpu_isa"], records[name]["settings"]["options"]) for name in files]
        portable = ("none", {"graph_optimization_level": "extended"})
        # A host with a known ISA level prefers the engine laid out for it; every host has the portable one.
        assert kinds == ([(isa, {"graph_optimization_level": "all"})] if isa != "none" else []) + [portable], model
        assert files[-1] == f"{model}__{cpu}_ort1.32_fp32.onnx"


def operator_domains(engine: Path) -> set[str]:
    return {node.domain for node in onnx.load(str(engine)).graph.node}


def test_the_portable_engine_has_no_isa_specific_layout():
    data = json.loads(MANIFEST.read_text())
    tied, portable = data["device"]["uses"]["convnet"][0], data["device"]["uses"]["convnet"][-1]
    assert "com.microsoft.nchwc" not in operator_domains(MANIFEST.parent / portable)
    if tied != portable:
        # At the `all` level the convolutions move to the NCHWc layout of this host's ISA.
        assert "com.microsoft.nchwc" in operator_domains(MANIFEST.parent / tied)


def test_same_graph_different_weights_get_different_keys():
    data = json.loads(MANIFEST.read_text())
    portable = {model: files[-1] for model, files in data["device"]["uses"].items()}
    records = {
        record["model"]["name"]: record for record in data["engines"] if record["engine"]["file"] in portable.values()
    }
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
    count = len(json.loads((pulled / "manifest.json").read_text())["engines"])
    assert ok.stdout.strip().endswith(f"{count} hit, 0 tampered, 0 missing, 0 unlisted")
    next(pulled.glob("*.sha256")).unlink()
    bad = subprocess.run(
        [sys.executable, "-I", str(script), str(pulled)], capture_output=True, text=True, env=clean, check=False
    )
    assert bad.returncode == 1 and "1 tampered" in bad.stdout

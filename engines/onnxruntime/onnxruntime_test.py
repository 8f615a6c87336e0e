"""The ONNX Runtime compile tool on real models, on this host: outputs, keys, and every refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import onnx
import onnxruntime
import pytest

from engines import artifacts
from engines.compile import driver
from engines.hardware import host

MLP = Path(os.environ["MLP_MODEL"])
MLP_B = Path(os.environ["MLP_B_MODEL"])
CONVNET = Path(os.environ["CONVNET_MODEL"])
RUNTIME = ".".join(onnxruntime.__version__.split(".")[:2])
ISA = host.detect().cpu_isa
TAG = f"{ISA}_ort{RUNTIME}"
MLP_PROFILE = {"input": {"min": [1, 64], "opt": [8, 64], "max": [32, 64]}}


def compile_model(
    out: Path, model: Path, *, name="mlp", precision="fp32", profiles=(MLP_PROFILE,), require=None, options=(), tag=TAG
):
    arguments, engine = driver.command_line(
        model=model,
        model_name=name,
        platform="//platforms:test",
        required=require or {"cpu": "x86_64", "cpu_isa": ISA, "onnxruntime": RUNTIME},
        precision=precision,
        profiles=profiles,
        options=dict(option.split("=", 1) for option in options),
        tag=tag,
        out_dir=out,
        extension="onnx",
    )
    result = subprocess.run(
        [sys.executable, "-m", "engines.onnxruntime.compile", *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)},
    )
    return result, engine


def test_engine_sidecar_and_record(tmp_path):
    result, engine = compile_model(
        tmp_path,
        CONVNET,
        name="convnet",
        profiles=({"input": {"min": [1, 3, 32, 32], "opt": [4, 3, 32, 32], "max": [8, 3, 32, 32]}},),
    )
    assert result.returncode == 0, result.stderr
    digest = artifacts.sha256_file(engine)
    assert artifacts.parse_sidecar(engine.with_name(engine.name + ".sha256").read_text()) == (digest, engine.name)
    record = json.loads(engine.with_name(engine.name + ".json").read_text())
    assert record["engine"]["sha256"] == digest
    assert record["model"]["sha256"] == artifacts.sha256_file(CONVNET)
    assert record["versions"]["onnxruntime"] == onnxruntime.__version__
    assert record["settings"]["options"] == {"graph_optimization_level": "all"}
    assert record["validation"]["ran_at"] == [{"input": [4, 3, 32, 32]}]
    # At the `all` level the convolutions are rewritten to the ISA-specific NCHWc layout.
    assert b"com.microsoft.nchwc" in engine.read_bytes()


def test_same_inputs_same_bytes(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    (result_a, engine_a), (result_b, engine_b) = compile_model(first, MLP), compile_model(second, MLP)
    assert result_a.returncode == result_b.returncode == 0
    assert engine_a.read_bytes() == engine_b.read_bytes()


def test_same_graph_different_weights_different_engines(tmp_path):
    (ra, engine_a), (rb, engine_b) = compile_model(tmp_path / "a", MLP), compile_model(tmp_path / "b", MLP_B)
    assert ra.returncode == rb.returncode == 0
    record_a, record_b = (json.loads(e.with_name(e.name + ".json").read_text()) for e in (engine_a, engine_b))
    assert record_a["model"]["inputs"] == record_b["model"]["inputs"]
    assert record_a["key"] != record_b["key"]
    assert record_a["engine"]["sha256"] != record_b["engine"]["sha256"]


def test_int8_weights(tmp_path):
    result, engine = compile_model(tmp_path, MLP, precision="int8")
    assert result.returncode == 0, result.stderr
    operators = {node.op_type for node in onnx.load(str(engine)).graph.node}
    assert any("Quantize" in op or "Integer" in op for op in operators), operators


def assert_refused(result, out: Path, *fragments: str):
    assert result.returncode == 2, result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_truncated_model(tmp_path):
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(MLP.read_bytes()[: MLP.stat().st_size // 2])
    result, _ = compile_model(tmp_path / "out", truncated)
    assert_refused(result, tmp_path / "out", "truncated.onnx is not a readable ONNX file")


def test_unknown_precision(tmp_path):
    result, _ = compile_model(tmp_path, MLP, precision="fp9")
    assert_refused(
        result, tmp_path, "precision 'fp9' is not supported by the onnxruntime backend; use one of fp32, int8"
    )


def test_profile_min_above_max(tmp_path):
    result, _ = compile_model(tmp_path, MLP, profiles=({"input": {"min": [64, 64], "opt": [8, 64], "max": [32, 64]}},))
    assert_refused(result, tmp_path, "axis 0: need min <= opt <= max, got 64, 8, 32")


def test_profile_for_missing_input_or_fixed_axis(tmp_path):
    result, _ = compile_model(tmp_path, MLP, profiles=({"tokens": {"min": [1, 64], "opt": [8, 64], "max": [32, 64]}},))
    assert_refused(result, tmp_path, "names input 'tokens', but model mlp has inputs ['input']")
    result, _ = compile_model(tmp_path, MLP, profiles=({"input": {"min": [1, 32], "opt": [8, 64], "max": [32, 64]}},))
    assert_refused(result, tmp_path, "axis 1 is fixed at 64 in the model")


def test_runtime_mismatch(tmp_path):
    other = "1.22" if RUNTIME != "1.22" else "1.32"
    result, _ = compile_model(tmp_path, MLP, require={"cpu": "x86_64", "cpu_isa": ISA, "onnxruntime": other})
    assert_refused(
        result, tmp_path, f"onnxruntime: the platform wants {other}, this host has {onnxruntime.__version__}"
    )


# The x86-64 level below this host's, and one above it (None at the ends).
_X86 = ["x86-64-v2", "x86-64-v3", "x86-64-v4"]
LOWER = _X86[_X86.index(ISA) - 1] if ISA in _X86[1:] else None
HIGHER = _X86[_X86.index(ISA) + 1] if ISA in _X86[:-1] else None


@pytest.mark.parametrize("other", [level for level in (LOWER, HIGHER) if level], ids=str)
def test_isa_tied_build_needs_the_exact_level(tmp_path, other):
    wanted = {"cpu": "x86_64", "cpu_isa": other, "onnxruntime": RUNTIME}
    result, _ = compile_model(tmp_path / "all", MLP, require=wanted)
    assert_refused(result, tmp_path / "all", f"cpu_isa: the platform wants {other}, this host has {ISA}")
    # Without layout optimizations the graph does not depend on the ISA: a host may build for a lower level.
    result, _ = compile_model(
        tmp_path / "extended", MLP, require=wanted, options=("graph_optimization_level=extended",)
    )
    assert (result.returncode == 0) == (other == LOWER), result.stderr


PORTABLE = {"cpu": "x86_64", "cpu_isa": "none", "onnxruntime": RUNTIME}
PORTABLE_TAG = f"x86_64_ort{RUNTIME}"


def test_a_portable_engine_is_built_at_the_extended_level_on_any_host(tmp_path):
    convnet = {"input": {"min": [1, 3, 32, 32], "opt": [4, 3, 32, 32], "max": [8, 3, 32, 32]}}
    result, engine = compile_model(
        tmp_path, CONVNET, name="convnet", profiles=(convnet,), require=PORTABLE, tag=PORTABLE_TAG
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(engine.with_name(engine.name + ".json").read_text())
    assert record["settings"]["options"] == {"graph_optimization_level": "extended"}
    assert record["hardware"]["cpu_isa"] == "none"
    domains = {node.domain for node in onnx.load(str(engine)).graph.node}
    assert "com.microsoft.nchwc" not in domains and "com.microsoft" in domains  # fused, but in no ISA's layout


def test_a_portable_engine_refuses_a_layout_level(tmp_path):
    result, _ = compile_model(
        tmp_path, MLP, require=PORTABLE, tag=PORTABLE_TAG, options=("graph_optimization_level=all",)
    )
    assert_refused(result, tmp_path, "graph_optimization_level=all lays the graph out", "names no ISA level")


def test_unknown_option(tmp_path):
    result, _ = compile_model(tmp_path, MLP, options=("workspace=1",))
    assert_refused(
        result, tmp_path, "builder option 'workspace=1': the onnxruntime backend accepts graph_optimization_level"
    )

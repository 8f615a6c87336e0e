"""The ONNX Runtime compile tool on real models, on this host: outputs, keys, and every refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

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
    # Checked against the source model at the profile's min, opt and max shapes.
    assert record["validation"]["ran_at"] == [
        {"input": [1, 3, 32, 32]},
        {"input": [4, 3, 32, 32]},
        {"input": [8, 3, 32, 32]},
    ]
    assert record["validation"]["precision"] == "fp32"
    assert record["validation"]["max_abs_diff"] < 1e-4
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


# Models users bring, built here only to break one thing each (the model zoo suite,
# //tests/zoo, compiles real ones).


def _matmul_model(
    path: Path, *, domain="", op="MatMul", weights=None, inputs=None, external=None, opset=17, ir_version=8
):
    """x[batch, 4] @ w[4, 2], with the knobs a refusal needs."""
    weight = numpy_helper.from_array(np.arange(8, dtype=np.float32).reshape(4, 2) if weights is None else weights, "w")
    if external is not None:
        location, length = external
        weight.ClearField("raw_data")
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("length", str(length))):
            weight.external_data.add(key=key, value=value)
    graph = helper.make_graph(
        [helper.make_node(op, ["x", "w"], ["y"], name="project", domain=domain)],
        "g",
        inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        [weight],
    )
    imports = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(graph, opset_imports=imports, ir_version=ir_version)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path


BATCH = {"x": {"min": [1, 4], "opt": [2, 4], "max": [8, 4]}}


def test_custom_operator_domain(tmp_path):
    model = _matmul_model(tmp_path / "custom.onnx", domain="com.example", op="FancyMatMul")
    result, _ = compile_model(tmp_path / "out", model, name="custom", profiles=(BATCH,))
    assert_refused(
        result,
        tmp_path / "out",
        "node 'project' (FancyMatMul, domain 'com.example') is a custom operator",
        "re-export the model without custom operators",
    )


def test_unknown_operator(tmp_path):
    model = _matmul_model(tmp_path / "unknown.onnx", op="NoSuchMatMul")
    result, _ = compile_model(tmp_path / "out", model, name="unknown", profiles=(BATCH,))
    assert_refused(result, tmp_path / "out", "unknown.onnx is not a valid ONNX model", "NoSuchMatMul")


def test_external_data_missing_escaping_or_short(tmp_path):
    model = _matmul_model(tmp_path / "m.onnx", external=("m.onnx.data", 32))
    result, _ = compile_model(tmp_path / "out", model, name="m", profiles=(BATCH,))
    assert_refused(
        result,
        tmp_path / "out",
        "tensor 'w' keeps its data in 'm.onnx.data', which is not beside the model",
        "give the file to the engine as model_data",
    )
    (tmp_path / "m.onnx.data").write_bytes(b"\0" * 16)
    result, _ = compile_model(tmp_path / "out", model, name="m", profiles=(BATCH,))
    assert_refused(result, tmp_path / "out", "at bytes 0..32, but the file has 16 bytes")
    escaping = _matmul_model(tmp_path / "e.onnx", external=("../secrets.bin", 32))
    result, _ = compile_model(tmp_path / "out", escaping, name="e", profiles=(BATCH,))
    assert_refused(result, tmp_path / "out", "which is not a path inside the model's directory")


def test_external_data_weights_end_up_inline(tmp_path):
    model = _matmul_model(tmp_path / "m.onnx", external=("m.onnx.data", 32))
    data = tmp_path / "m.onnx.data"
    data.write_bytes(np.arange(8, dtype=np.float32).tobytes())
    arguments, engine = driver.command_line(
        model=model,
        model_name="m",
        platform="//platforms:test",
        required={"cpu": "x86_64", "cpu_isa": ISA, "onnxruntime": RUNTIME},
        precision="fp32",
        profiles=(BATCH,),
        tag=TAG,
        out_dir=tmp_path / "out",
        extension="onnx",
    )
    result = subprocess.run(
        [sys.executable, "-m", "engines.onnxruntime.compile", *arguments, "--model-data", str(data)],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(engine.with_name(engine.name + ".json").read_text())
    assert record["model"]["external_data"] == [
        {"file": "m.onnx.data", "sha256": artifacts.sha256_file(data), "size": 32}
    ]
    data.unlink()  # the engine runs without it
    session = onnxruntime.InferenceSession(str(engine), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"x": np.ones((1, 4), np.float32)})
    assert output.tolist() == [[12.0, 16.0]]


def test_model_larger_than_an_engine_can_be(tmp_path):
    size = 2**31 + 2**20
    model = _matmul_model(tmp_path / "huge.onnx", external=("huge.onnx.data", size))
    with open(tmp_path / "huge.onnx.data", "wb") as stream:
        stream.truncate(size)  # sparse: nothing is read before the refusal
    result, _ = compile_model(tmp_path / "out", model, name="huge", profiles=(BATCH,))
    assert_refused(result, tmp_path / "out", "huge.onnx has 2.00 GiB of graph and weights", "limits to 2 GiB")


def test_initializers_listed_as_inputs_are_weights(tmp_path):
    # IR version 3, as older exporters and the ONNX model zoo write: every weight is also a graph input.
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
        helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 2]),
    ]
    model = _matmul_model(tmp_path / "ir3.onnx", inputs=inputs, opset=8, ir_version=3)
    result, engine = compile_model(tmp_path / "out", model, name="ir3", profiles=())
    assert result.returncode == 0, result.stderr
    record = json.loads(engine.with_name(engine.name + ".json").read_text())
    assert record["model"]["inputs"] == {"x": [1, 4]}
    assert record["model"]["initializers_listed_as_inputs"] == 1
    session = onnxruntime.InferenceSession(str(engine), providers=["CPUExecutionProvider"])
    assert [value.name for value in session.get_inputs()] == ["x"]


def test_non_tensor_input(tmp_path):
    sequence = helper.make_tensor_sequence_value_info("x", TensorProto.FLOAT, None)
    model = _matmul_model(tmp_path / "seq.onnx", inputs=[sequence])
    result, _ = compile_model(tmp_path / "out", model, name="seq", profiles=())
    assert_refused(result, tmp_path / "out", "input 'x' is a sequence_type, not a tensor")


def test_profile_must_cover_every_dynamic_input_and_agree_on_named_dims(tmp_path):
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4]),
        helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", 4]),
    ]
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "mask"], ["y"])],
        "g",
        inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
    )
    model = tmp_path / "two.onnx"
    model.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    )
    result, _ = compile_model(tmp_path / "out", model, name="two", profiles=(BATCH,))
    assert_refused(result, tmp_path / "out", "profile 0 gives no shapes for input(s) ['mask'] of model two")
    other = {"mask": {"min": [1, 4], "opt": [4, 4], "max": [8, 4]}}
    result, _ = compile_model(tmp_path / "out", model, name="two", profiles=(BATCH | other,))
    assert_refused(
        result, tmp_path / "out", "dimension 'batch' is 1/4/8 (min/opt/max) in input 'mask' but 1/2/8 in input 'x'"
    )


def test_int8_of_float16_weights(tmp_path):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["batch", 4])]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="project")],
        "g",
        inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, ["batch", 2])],
        [numpy_helper.from_array(np.ones((4, 2), np.float16), "w")],
    )
    model = tmp_path / "half.onnx"
    model.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    )
    result, engine = compile_model(tmp_path / "fp32", model, name="half", profiles=(BATCH,))
    assert result.returncode == 0, result.stderr
    tolerance = json.loads(engine.with_name(engine.name + ".json").read_text())["validation"]["tolerance"]
    assert tolerance["float16"] == {"atol": 0.01, "rtol": 0.01}
    result, _ = compile_model(tmp_path / "int8", model, name="half", precision="int8", profiles=(BATCH,))
    assert_refused(result, tmp_path / "int8", "the model's weights are already 16-bit floats (1 tensors, e.g. 'w')")


def test_newer_format_than_the_runtime(tmp_path):
    newer = _matmul_model(tmp_path / "ir.onnx", ir_version=99)
    result, _ = compile_model(tmp_path / "out", newer, name="ir", profiles=(BATCH,))
    assert_refused(result, tmp_path / "out", "ir_version 99")
    newer = _matmul_model(tmp_path / "opset.onnx", opset=99)
    result, _ = compile_model(tmp_path / "out", newer, name="opset", profiles=(BATCH,))
    assert_refused(result, tmp_path / "out", "opset")


def _unary_model(path: Path, op: str, element_type: int) -> Path:
    graph = helper.make_graph(
        [helper.make_node(op, ["x"], ["y"], name="activation")],
        "g",
        [helper.make_tensor_value_info("x", element_type, [1, 4])],
        [helper.make_tensor_value_info("y", element_type, [1, 4])],
    )
    path.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    )
    return path


def test_operator_without_a_cpu_kernel(tmp_path):
    # Relu takes int16 in ONNX; ONNX Runtime's CPU kernels do not.
    model = _unary_model(tmp_path / "relu16.onnx", "Relu", TensorProto.INT16)
    result, _ = compile_model(tmp_path / "out", model, name="relu16", profiles=())
    assert_refused(
        result,
        tmp_path / "out",
        "has no CPU kernel for an operator of the model",
        "Could not find an implementation for Relu(14) node with name 'activation'",
    )


def test_graph_that_is_not_well_typed(tmp_path):
    model = _unary_model(tmp_path / "sqrt8.onnx", "Sqrt", TensorProto.UINT8)
    result, _ = compile_model(tmp_path / "out", model, name="sqrt8", profiles=())
    assert_refused(result, tmp_path / "out", "the model is not well-typed", "(Sqrt) in node (activation)")

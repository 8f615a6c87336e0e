"""ONNX Runtime (CPU) backend: an offline-optimized model for one CPU platform.

ONNX Runtime applies graph optimizations when it loads a model and can save the
result, so the saved model loads without redoing them. At the `all` level the
saved graph uses NCHWc layouts whose block size MLAS picks from the host's ISA
(16 floats with AVX-512, 8 with AVX2), and contrib operators of this ONNX Runtime
release: the file is tied to the ISA level and the runtime version, which is why
both are constraints of the platform and checked against the host here. Up to the
`extended` level the saved graph bakes in no layout: a platform without an ISA
level (a portable class, e.g. //platforms/class:x86_64_ort1.32) gets that level,
and any host of the architecture builds it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.message import DecodeError

from engines.compile.driver import EngineBuildError, Settings
from engines.hardware import host as host_probe

# Keep build logs to what matters: no telemetry, and warnings only from sessions we configure.
ort.disable_telemetry_events()
ort.set_default_logger_severity(3)

_LEVELS = {
    name.removeprefix("ORT_ENABLE_").lower(): level
    for name, level in ort.GraphOptimizationLevel.__members__.items()
    if name.startswith("ORT_ENABLE_")
}

# Levels whose saved graph depends on the host's ISA (layout transformations).
_ISA_TIED = {"layout", "all"}

# Numeric agreement of the optimized engine with the source model, per precision.
_TOLERANCE = {"fp32": (1e-4, 1e-3)}

_ELEMENT_TYPES = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
}


class OnnxRuntimeBackend:
    name = "onnxruntime"
    extension = "onnx"
    precisions = ("fp32", "int8")
    options: ClassVar[dict[str, tuple[str, ...] | None]] = {"graph_optimization_level": tuple(sorted(_LEVELS))}

    def default_options(self, required: dict[str, str]) -> dict[str, str]:
        portable = required.get("cpu_isa", "none") == "none"
        return {"graph_optimization_level": "extended" if portable else "all"}

    def check(self, settings: Settings) -> None:
        level = _level(settings)
        if level in _ISA_TIED and settings.required.get("cpu_isa", "none") == "none":
            raise EngineBuildError(
                f"graph_optimization_level={level} lays the graph out for the ISA level of the host that builds it, "
                "but this platform names no ISA level (a portable engine); use extended or lower, or build for a "
                "platform with a cpu_isa"
            )

    def model_inputs(self, model: Path) -> dict[str, list[int | str]]:
        proto = _load(model)
        initializers = {tensor.name for tensor in proto.graph.initializer}
        inputs = {}
        for value in proto.graph.input:
            if value.name in initializers:
                continue
            dims = value.type.tensor_type.shape.dim
            inputs[value.name] = [
                dim.dim_value if dim.HasField("dim_value") else (dim.dim_param or "?") for dim in dims
            ]
        return inputs

    def host(self) -> tuple[dict[str, str], tuple[str, ...]]:
        facts = host_probe.detect()
        described = {key: value for key, value in facts.as_dict().items() if key != "notes"}
        return described | {"onnxruntime": ort.__version__}, facts.notes

    def exact_isa(self, settings: Settings) -> bool:
        return _level(settings) in _ISA_TIED

    def versions(self) -> dict[str, str]:
        return {"numpy": np.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__}

    def build(self, model: Path, settings: Settings, scratch: Path) -> tuple[bytes, dict[str, object]]:
        source = model
        if settings.precision == "int8":
            # Weights to int8 with per-tensor scales computed from the weights
            # themselves (dynamic quantization needs no calibration data).
            from onnxruntime.quantization import QuantType, quantize_dynamic

            source = scratch / "quantized.onnx"
            logging.disable(logging.WARNING)  # its advice to pre-process is noise in a build log
            try:
                quantize_dynamic(str(model), str(source), weight_type=QuantType.QInt8)
            finally:
                logging.disable(logging.NOTSET)

        optimized = scratch / "optimized.onnx"
        options = _session_options(_LEVELS[_level(settings)])
        options.optimized_model_filepath = str(optimized)
        for dim_param, value in sorted(_fixed_dimensions(self.model_inputs(model), settings).items()):
            options.add_free_dimension_override_by_name(dim_param, value)
        try:
            ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # ORT raises its own Fail/InvalidGraph/... types
            raise EngineBuildError(f"onnxruntime could not optimize the model: {error}") from None
        validation = _validate(model, optimized, self.model_inputs(model), settings)
        return optimized.read_bytes(), validation


def _level(settings: Settings) -> str:
    return settings.options["graph_optimization_level"]


def _load(model: Path) -> onnx.ModelProto:
    try:
        proto = onnx.load(str(model))
        onnx.checker.check_model(proto)
    except DecodeError as error:
        raise EngineBuildError(f"{model.name} is not a readable ONNX file (truncated or corrupt?): {error}") from None
    except (onnx.checker.ValidationError, ValueError, OSError) as error:
        raise EngineBuildError(f"{model.name} is not a valid ONNX model: {error}") from None
    return proto


def _session_options(level: object) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    # One thread: results (and the validation figures recorded) do not depend on the host's core count.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return options


def _fixed_dimensions(inputs: dict[str, list[int | str]], settings: Settings) -> dict[str, int]:
    """Symbolic dimensions a single profile pins (min == opt == max): ONNX Runtime can specialise on them."""
    if len(settings.profiles) != 1:
        return {}
    fixed: dict[str, int] = {}
    for name, (lo, opt, hi) in settings.profiles[0].shapes.items():
        for axis, dim in enumerate(inputs.get(name, [])):
            if isinstance(dim, str) and dim != "?" and lo[axis] == opt[axis] == hi[axis]:
                fixed[dim] = lo[axis]
    return fixed


def _validation_shapes(inputs: dict[str, list[int | str]], settings: Settings) -> list[dict[str, list[int]]]:
    if settings.profiles:
        return [
            {name: list(shapes[1]) for name, shapes in sorted(profile.shapes.items())} for profile in settings.profiles
        ]
    return [
        {
            name: [dim if isinstance(dim, int) and dim > 0 else 1 for dim in shape]
            for name, shape in sorted(inputs.items())
        }
    ]


def _validate(
    model: Path, optimized: Path, inputs: dict[str, list[int | str]], settings: Settings
) -> dict[str, object]:
    """Run the engine and the source model on the same seeded inputs at each profile's opt shape."""
    proto = onnx.load(str(model))
    types = {value.name: value.type.tensor_type.elem_type for value in proto.graph.input}
    reference = ort.InferenceSession(
        str(model), _session_options(ort.GraphOptimizationLevel.ORT_DISABLE_ALL), providers=["CPUExecutionProvider"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engine = ort.InferenceSession(
            str(optimized),
            _session_options(ort.GraphOptimizationLevel.ORT_DISABLE_ALL),
            providers=["CPUExecutionProvider"],
        )
    rng = np.random.default_rng(0)
    worst = 0.0
    checked = []
    for shapes in _validation_shapes(inputs, settings):
        feeds = {}
        for name, shape in shapes.items():
            dtype = _ELEMENT_TYPES.get(types.get(name), np.float32)
            data = rng.standard_normal(shape) if np.issubdtype(dtype, np.floating) else rng.integers(0, 4, shape)
            feeds[name] = data.astype(dtype)
        expected = reference.run(None, feeds)
        actual = engine.run(None, feeds)
        for want, got in zip(expected, actual, strict=True):
            if want.shape != got.shape or not np.all(np.isfinite(got)):
                raise EngineBuildError(
                    f"the optimized model gives output shape {got.shape} (or non-finite values) "
                    f"where the model gives {want.shape}"
                )
            worst = max(
                worst, float(np.max(np.abs(want.astype(np.float64) - got.astype(np.float64)))) if want.size else 0.0
            )
            if settings.precision in _TOLERANCE:
                atol, rtol = _TOLERANCE[settings.precision]
                if not np.allclose(got, want, atol=atol, rtol=rtol):
                    raise EngineBuildError(
                        f"the optimized model disagrees with the source model at input shapes {shapes} "
                        f"(max |diff| {worst:.3g})"
                    )
        checked.append(shapes)
    return {"max_abs_diff": float(f"{worst:.6g}"), "ran_at": checked}

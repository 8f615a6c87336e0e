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

import contextlib
import io
import logging
import os
import re
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnx

# Before the import: ONNX Runtime's Linux telemetry starts when the module loads (and
# Bazel actions and tests set these already, tools/bazel/python_tool_action.bzl).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ORT_TELEMETRY_DISABLED", "1")
import onnxruntime as ort

from engines.compile.driver import EngineBuildError, Settings
from engines.hardware import host as host_probe
from engines.onnxruntime import model as models
from engines.onnxruntime import validate

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


def _runtime_domains() -> set[str]:
    """The operator domains this ONNX Runtime's CPU kernels implement."""
    from onnxruntime.capi import onnxruntime_pybind11_state as native

    return {kernel.domain for kernel in native.get_all_opkernel_def() if kernel.provider == "CPUExecutionProvider"}


class OnnxRuntimeBackend:
    name = "onnxruntime"
    extension = "onnx"
    precisions = ("fp32", "int8")
    options: ClassVar[dict[str, tuple[str, ...] | None]] = {"graph_optimization_level": tuple(sorted(_LEVELS))}

    def __init__(self) -> None:
        self._read: dict[Path, tuple[onnx.ModelProto, dict[str, int]]] = {}
        # Seconds per phase of the last build, for tools/bench (never part of an output).
        self.timings: dict[str, float] = {}

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

    def _structure(self, model: Path) -> tuple[onnx.ModelProto, dict[str, int]]:
        """The model's graph (without external bytes) and its external data files, checked once."""
        if model not in self._read:
            try:
                proto = models.read_structure(model)
                data = models.external_data(model, proto)
                models.check_size(model, data)
            except models.ModelError as error:
                raise EngineBuildError(str(error)) from None
            self._read[model] = (proto, data)
        return self._read[model]

    def model_inputs(self, model: Path) -> dict[str, list[int | str]]:
        try:
            return models.inputs(self._structure(model)[0])
        except models.ModelError as error:
            raise EngineBuildError(str(error)) from None

    def model_facts(self, model: Path) -> dict[str, object]:
        proto, _data = self._structure(model)
        facts: dict[str, object] = {"nodes": models.node_count(proto), "opsets": _opsets(proto)}
        stripped = models.initializer_inputs(proto)
        if stripped:
            facts["initializers_listed_as_inputs"] = len(stripped)
        return facts

    def host(self) -> tuple[dict[str, str], tuple[str, ...]]:
        facts = host_probe.detect()
        described = {key: value for key, value in facts.as_dict().items() if key != "notes"}
        return described | {"onnxruntime": ort.__version__}, facts.notes

    def exact_isa(self, settings: Settings) -> bool:
        return _level(settings) in _ISA_TIED

    def versions(self) -> dict[str, str]:
        return {"numpy": np.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__}

    def build(self, model: Path, settings: Settings, scratch: Path) -> tuple[bytes, dict[str, object]]:
        proto, _data = self._structure(model)
        runtime = f"ONNX Runtime {ort.__version__}"
        try:
            models.check_operators(proto, _runtime_domains(), runtime)
            source = models.prepare(model, proto, scratch)
        except models.ModelError as error:
            raise EngineBuildError(str(error)) from None
        # The numeric check's reference: the user's file as given, or, when the runtime
        # cannot open that (external data behind Bazel's symbolic links), its inline copy.
        reference = source if models.has_external_data(proto) else model
        started = time.perf_counter()
        if settings.precision == "int8":
            halves = models.half_precision_weights(proto)
            if halves:
                raise EngineBuildError(
                    f"precision int8: the model's weights are already 16-bit floats ({len(halves)} tensors, e.g. "
                    f"{halves[0]!r}), which {runtime}'s int8 quantizer does not take; build it at fp32, or "
                    "quantize the float32 export of the model"
                )
            source = _quantized(source, scratch)
        optimized = scratch / "optimized.onnx"
        options = _session_options(_LEVELS[_level(settings)])
        options.optimized_model_filepath = str(optimized)
        for dim_param, value in sorted(_fixed_dimensions(self.model_inputs(model), settings).items()):
            options.add_free_dimension_override_by_name(dim_param, value)
        try:
            ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # ORT raises its own Fail/InvalidGraph/NotImplemented types
            raise EngineBuildError(_runtime_refusal(runtime, error)) from None
        validating = time.perf_counter()
        try:
            validation = validate.compare(
                reference,
                optimized,
                inputs=self.model_inputs(model),
                types=models.element_types(proto),
                profiles=settings.profiles,
                precision=settings.precision,
                session=_reference_session,
            )
        except validate.Disagreement as error:
            raise EngineBuildError(str(error)) from None
        except Exception as error:  # the engine or the source failing to run on valid inputs
            raise EngineBuildError(f"running the model to check the engine failed: {_first_line(error)}") from None
        self.timings = {"optimize": validating - started, "validate": time.perf_counter() - validating}
        return optimized.read_bytes(), validation


def _opsets(proto: onnx.ModelProto) -> dict[str, int]:
    return {opset.domain or "ai.onnx": opset.version for opset in sorted(proto.opset_import, key=lambda o: o.domain)}


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _runtime_reason(error: Exception) -> str:
    """ONNX Runtime's message without its error-code prefix, scratch path and C++ source location."""
    text = _first_line(error)
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    text = re.sub(r"^Load model from \S+ failed:", "", text)
    return re.sub(r"^/\S+:\d+ .*?\) (?=[A-Z])", "", text)


def _runtime_refusal(runtime: str, error: Exception) -> str:
    """ONNX Runtime's reason, with what to do for the failures users meet."""
    text = _runtime_reason(error)
    if "Could not find an implementation for" in text:
        return (
            f"{runtime} has no CPU kernel for an operator of the model ({text}); export it at "
            "an opset or with operators this release implements, or build with a newer onnxruntime"
        )
    if "Unsupported model IR version" in text:
        return (
            f"the model's ONNX IR version is newer than {runtime} reads ({text}); save it with "
            "an older IR version, or build for a platform with a newer onnxruntime"
        )
    if "Type Error" in text:
        return (
            f"the model is not well-typed: {text}; the exporter wrote an invalid graph "
            "(onnx.checker.check_model(model, full_check=True) shows it too): re-export it, e.g. at another opset"
        )
    if "opset" in text.lower() and ("not supported" in text or "under development" in text):
        return f"{runtime} does not support the model's opset ({text}); convert the model to an older opset"
    return f"onnxruntime could not optimize the model: {text}"


def _quantized(source: Path, scratch: Path) -> Path:
    """Weights to int8 (dynamic quantization: per-tensor scales from the weights, no calibration data).

    First ONNX Runtime's own pre-processing (shape inference and constant folding), so
    weights an exporter computes in the graph are initializers the quantizer can see.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source, scratch = source.absolute(), scratch.absolute()
    prepared, quantized = scratch / "pre-quantization.onnx", scratch / "quantized.onnx"
    logging.disable(logging.WARNING)  # the quantizer's advice is noise in a build log
    try:
        # In the scratch directory: the pre-processing leaves temporary files in the working directory.
        with (
            contextlib.chdir(scratch),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            try:
                quant_pre_process(str(source), str(prepared))
            except Exception:  # symbolic shape inference does not cover every operator
                quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
            quantize_dynamic(str(prepared), str(quantized), weight_type=QuantType.QInt8)
    except Exception as error:
        raise EngineBuildError(f"int8 quantization failed: {_first_line(error)}; build this model at fp32") from None
    finally:
        logging.disable(logging.NOTSET)
    return quantized


def _level(settings: Settings) -> str:
    return settings.options["graph_optimization_level"]


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


def _reference_session(model: Path) -> ort.InferenceSession:
    return ort.InferenceSession(
        str(model), _session_options(ort.GraphOptimizationLevel.ORT_DISABLE_ALL), providers=["CPUExecutionProvider"]
    )

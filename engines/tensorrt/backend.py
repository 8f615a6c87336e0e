"""TensorRT backend: a serialized plan (.engine) for one GPU platform.

Runs only where TensorRT and the GPU named by the platform are present: the
TensorRT toolchain is `exec_compatible_with` the GPU constraints, and the driver
re-checks the real device (compute capability through the CUDA driver, JetPack,
TensorRT version) before anything is built. TensorRT is imported from the
device's own installation (JetPack's python3-libnvinfer, or the tensorrt wheel
from NVIDIA's index) on first use, so the TensorRT-free parts (plan.py, the host
check) load and are tested anywhere.

Plans are not bit-reproducible (tactic timing); a timing cache pins tactics when
that matters. The first plan built for a key is the one the cache keeps.
"""

from __future__ import annotations

from pathlib import Path

from engines.compile.driver import EngineBuildError, Settings
from engines.hardware import host as host_probe
from engines.tensorrt import plan as planning


def _tensorrt():
    try:
        import tensorrt
    except ImportError as error:
        raise EngineBuildError(
            f"TensorRT's Python API is not importable on this host ({error}); build on the GPU device or worker"
        ) from None
    return tensorrt


class TensorRTBackend:
    name = "tensorrt"
    extension = "engine"
    precisions = planning.PRECISIONS
    options = planning.OPTIONS

    def default_options(self, required: dict[str, str]) -> dict[str, str]:
        return dict(planning.OPTION_DEFAULTS)

    def check(self, settings: Settings) -> None:
        planning.check_class(settings)

    def __init__(self) -> None:
        self._logger = None
        self._host: host_probe.HostFacts | None = None

    def _trt_logger(self, trt):
        if self._logger is None:
            self._logger = trt.Logger(trt.Logger.WARNING)
        return self._logger

    def _parse(self, trt, model: Path, builder, flags: int):
        network = builder.create_network(flags)
        parser = trt.OnnxParser(network, self._trt_logger(trt))
        if not parser.parse(model.read_bytes(), str(model.parent)):
            errors = "; ".join(str(parser.get_error(index)) for index in range(parser.num_errors))
            raise EngineBuildError(
                f"TensorRT's ONNX parser rejected {model.name} (truncated or unsupported?): {errors}"
            )
        return network, parser

    def model_inputs(self, model: Path) -> dict[str, list[int | str]]:
        trt = _tensorrt()
        builder = trt.Builder(self._trt_logger(trt))
        network, _parser = self._parse(trt, model, builder, 0)
        inputs = {}
        for index in range(network.num_inputs):
            tensor = network.get_input(index)
            inputs[tensor.name] = [dim if dim >= 0 else "?" for dim in tensor.shape]
        return inputs

    def model_facts(self, model: Path) -> dict[str, object]:
        return {}

    def host(self) -> tuple[dict[str, str], tuple[str, ...]]:
        facts = self._host = host_probe.detect()
        described = {key: value for key, value in facts.as_dict().items() if key != "notes"}
        return described, facts.notes

    def exact_isa(self, settings: Settings) -> bool:
        return False

    def versions(self) -> dict[str, str]:
        return {"tensorrt": _tensorrt().__version__}

    def build(self, model: Path, settings: Settings, scratch: Path) -> tuple[bytes, dict[str, object]]:
        trt = _tensorrt()
        inputs = self.model_inputs(model)
        dynamic = {name for name, shape in inputs.items() if "?" in shape}
        # The GPU the driver checked the platform against builds the plan (for an
        # Ampere-plus plan, any sm_80+ GPU).
        facts = self._host or host_probe.detect()
        plan = planning.builder_plan(
            settings,
            sm=facts.gpu_sm,
            jetson=settings.required.get("jetpack", "none") != "none",
            dynamic_inputs=dynamic,
        )
        logger = self._trt_logger(trt)
        builder = trt.Builder(logger)
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if plan.strongly_typed else 0
        network, _parser = self._parse(trt, model, builder, flags)

        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, plan.workspace_bytes)
        config.builder_optimization_level = plan.optimization_level
        for flag in plan.builder_flags:
            config.set_flag(getattr(trt.BuilderFlag, flag))
        if plan.hardware_compatibility != "none":
            level = planning.HARDWARE_COMPATIBILITY_LEVELS[plan.hardware_compatibility]
            if not hasattr(trt.HardwareCompatibilityLevel, level):
                raise EngineBuildError(
                    f"TensorRT {trt.__version__} has no HardwareCompatibilityLevel.{level}; give the device another "
                    "gpu_class in //platforms:devices.bzl (device, or ampere_plus on sm_80+)"
                )
            config.hardware_compatibility_level = getattr(trt.HardwareCompatibilityLevel, level)
        for shapes in plan.profiles:
            profile = builder.create_optimization_profile()
            for name, (lo, opt, hi) in sorted(shapes.items()):
                profile.set_shape(name, lo, opt, hi)
            config.add_optimization_profile(profile)
        if plan.calibration_cache is not None:
            config.int8_calibrator = _cache_calibrator(trt, plan.calibration_cache)
        timing_cache = config.create_timing_cache(plan.timing_cache or b"")
        config.set_timing_cache(timing_cache, ignore_mismatch=False)

        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise EngineBuildError("TensorRT's builder returned no engine (see its log above)")
        engine = bytes(serialized)
        runtime = trt.Runtime(logger)
        if plan.version_compatible:
            # A version-compatible plan carries its lean runtime as host code.
            runtime.engine_host_code_allowed = True
        if runtime.deserialize_cuda_engine(engine) is None:
            raise EngineBuildError("the plan TensorRT built does not deserialize on this device")
        return engine, {
            "deserialized": True,
            "hardware_compatibility": plan.hardware_compatibility,
            "profiles": len(plan.profiles),
            "version_compatible": plan.version_compatible,
        }


def _cache_calibrator(trt, cache: bytes):
    """An INT8 calibrator that only replays a calibration cache (no data is read at build time)."""

    class CacheCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            super().__init__()

        def get_batch_size(self) -> int:
            return 1

        def get_batch(self, names):
            return None

        def read_calibration_cache(self) -> bytes:
            return cache

        def write_calibration_cache(self, data) -> None:
            return None

    return CacheCalibrator()

"""What to ask the TensorRT builder for, decided without TensorRT.

Everything here is plain Python so it is tested on machines without TensorRT or a
GPU; backend.py applies the plan to the real builder on the GPU host.
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.compile.driver import EngineBuildError, Settings

DEFAULT_WORKSPACE_BYTES = 1 << 30

# Minimum compute capability per precision (TensorRT's support matrix).
_MIN_SM = {"fp32": 0, "fp16": 53, "bf16": 80, "int8": 61, "fp8": 89}
_BUILDER_FLAG = {"fp16": "FP16", "bf16": "BF16", "int8": "INT8", "fp8": "FP8"}

PRECISIONS = tuple(_MIN_SM)
# Which GPUs and TensorRT releases a plan runs on is the platform's, not an option:
# its tensorrt_hardware_compatibility and tensorrt_version_compatible constraints
# (//platforms:classes.bzl), so the engine's name and key say it.
OPTIONS: dict[str, tuple[str, ...] | None] = {
    "builder_optimization_level": ("0", "1", "2", "3", "4", "5"),
    "strongly_typed": ("false", "true"),
}
OPTION_DEFAULTS = {
    "builder_optimization_level": "3",
    "strongly_typed": "false",
}

# TensorRT's HardwareCompatibilityLevel member per platform setting value.
HARDWARE_COMPATIBILITY_LEVELS = {
    "none": "NONE",
    "same_compute_capability": "SAME_COMPUTE_CAPABILITY",
    "ampere_plus": "AMPERE_PLUS",
}


@dataclass(frozen=True)
class BuilderPlan:
    builder_flags: tuple[str, ...]
    workspace_bytes: int
    optimization_level: int
    hardware_compatibility: str
    version_compatible: bool
    strongly_typed: bool
    profiles: tuple[dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]], ...]
    calibration_cache: bytes | None
    timing_cache: bytes | None


def compute_capability(sm: str) -> int:
    """'sm_87' -> 87."""
    try:
        return int(sm.removeprefix("sm_"))
    except ValueError:
        raise EngineBuildError(f"gpu_sm {sm!r} is not of the form sm_<major><minor>") from None


def check_class(settings: Settings) -> None:
    """Refuse a compatibility class the platform cannot have (before the host is checked)."""
    required = settings.required
    hardware = required.get("tensorrt_hardware_compatibility", "none")
    if hardware not in HARDWARE_COMPATIBILITY_LEVELS:
        raise EngineBuildError(
            f"tensorrt_hardware_compatibility={hardware!r}: use one of {', '.join(HARDWARE_COMPATIBILITY_LEVELS)}"
        )
    if hardware != "none" and required.get("jetpack", "none") != "none":
        raise EngineBuildError(
            f"tensorrt_hardware_compatibility={hardware} is not supported on Jetson "
            "(TensorRT builds Jetson engines for one device)"
        )
    sm = required.get("gpu_sm", "none")
    if hardware == "ampere_plus" and sm != "sm_80":
        raise EngineBuildError(f"an Ampere-plus platform names gpu_sm sm_80 (the class's floor), not {sm}")
    if required.get("tensorrt_version_compatible", "none") not in ("none", "forward"):
        raise EngineBuildError("tensorrt_version_compatible is none or forward")


def builder_plan(settings: Settings, *, sm: str, jetson: bool, dynamic_inputs: set[str]) -> BuilderPlan:
    """Map the engine's settings and its platform's class onto TensorRT builder settings, refusing what cannot work.

    `sm` is the GPU the plan is built on (for an Ampere-plus plan, any sm_80+ GPU).
    """
    check_class(settings)
    capability = compute_capability(sm)
    precision = settings.precision
    # The plan must run on every GPU of its class: an Ampere-plus plan on sm_80 too.
    floor = settings.required.get("gpu_sm", sm)
    for gpu in dict.fromkeys((sm, floor)):
        if compute_capability(gpu) < _MIN_SM[precision]:
            raise EngineBuildError(
                f"precision {precision} needs compute capability >= {_MIN_SM[precision]}; "
                f"{gpu} has {compute_capability(gpu)}"
            )
    options = settings.options
    strongly_typed = options["strongly_typed"] == "true"
    flags = []
    if precision != "fp32":
        if strongly_typed:
            raise EngineBuildError(
                "a strongly typed network takes its precisions from the model; "
                f"drop precision {precision} or strongly_typed"
            )
        flags.append(_BUILDER_FLAG[precision])
    version_compatible = settings.required.get("tensorrt_version_compatible", "none") == "forward"
    if version_compatible:
        flags.append("VERSION_COMPATIBLE")
    hardware = settings.required.get("tensorrt_hardware_compatibility", "none")
    if hardware != "none" and jetson:
        raise EngineBuildError(
            f"tensorrt_hardware_compatibility={hardware} is not supported on Jetson "
            "(TensorRT builds Jetson engines for one device)"
        )
    if hardware == "ampere_plus" and capability < 80:
        raise EngineBuildError(
            f"an Ampere-plus plan is built on an Ampere or later GPU (compute capability >= 80); {sm} has {capability}"
        )
    if hardware == "same_compute_capability" and capability < 75:
        raise EngineBuildError(
            f"a same-compute-capability plan is built on a Turing or later GPU (compute capability >= 75); "
            f"{sm} has {capability}"
        )

    calibration = settings.calibration_cache.read_bytes() if settings.calibration_cache else None
    if precision == "int8" and calibration is None:
        raise EngineBuildError(
            "precision int8 needs a calibration cache (calibration_cache = a file written by a TensorRT calibrator)"
        )
    if precision != "int8" and calibration is not None:
        raise EngineBuildError(f"a calibration cache is only used for int8; precision is {precision}")

    profiles = tuple(profile.shapes for profile in settings.profiles)
    uncovered = sorted(dynamic_inputs - {name for profile in profiles for name in profile})
    if dynamic_inputs and (not profiles or uncovered):
        missing = uncovered or sorted(dynamic_inputs)
        raise EngineBuildError(
            f"inputs {missing} have dynamic dimensions: every optimization profile must give them min/opt/max shapes"
        )
    for index, profile in enumerate(profiles):
        lacking = sorted(dynamic_inputs - set(profile))
        if lacking:
            raise EngineBuildError(f"profile {index} gives no shapes for dynamic inputs {lacking}")

    return BuilderPlan(
        builder_flags=tuple(flags),
        workspace_bytes=settings.workspace_bytes or DEFAULT_WORKSPACE_BYTES,
        optimization_level=int(options["builder_optimization_level"]),
        hardware_compatibility=hardware,
        version_compatible=version_compatible,
        strongly_typed=strongly_typed,
        profiles=profiles,
        calibration_cache=calibration,
        timing_cache=settings.timing_cache.read_bytes() if settings.timing_cache else None,
    )

"""The TensorRT backend's TensorRT-free parts: settings mapping, and refusing to build off-device."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engines.compile import driver
from engines.compile.driver import EngineBuildError, Profile, Settings
from engines.hardware import host
from engines.tensorrt import plan

PROFILE = Profile({"input": ((1, 64), (8, 64), (32, 64))})


AMPERE_PLUS = {"gpu_sm": "sm_80", "tensorrt": "10.13", "tensorrt_hardware_compatibility": "ampere_plus"}


def settings(precision="fp16", profiles=(PROFILE,), calibration=None, required=None, **options):
    return Settings(
        precision=precision,
        profiles=profiles,
        options=plan.OPTION_DEFAULTS | options,
        workspace_bytes=None,
        calibration_cache=calibration,
        required=required or {},
    )


def test_fp16_on_orin():
    built = plan.builder_plan(settings(), sm="sm_87", jetson=True, dynamic_inputs={"input"})
    assert built.builder_flags == ("FP16",)
    assert built.workspace_bytes == plan.DEFAULT_WORKSPACE_BYTES
    assert built.optimization_level == 3
    assert built.profiles == (PROFILE.shapes,)


def test_fp32_sets_no_precision_flag_and_a_version_compatible_platform_sets_its_flag():
    built = plan.builder_plan(
        settings("fp32", required=AMPERE_PLUS | {"tensorrt_version_compatible": "forward"}),
        sm="sm_90",
        jetson=False,
        dynamic_inputs={"input"},
    )
    assert built.builder_flags == ("VERSION_COMPATIBLE",) and built.version_compatible
    assert built.hardware_compatibility == "ampere_plus"


@pytest.mark.parametrize(("precision", "sm"), [("fp8", "sm_87"), ("bf16", "sm_72"), ("fp8", "sm_80")])
def test_precision_the_gpu_lacks_is_refused(precision, sm):
    with pytest.raises(EngineBuildError, match=f"precision {precision} needs compute capability"):
        plan.builder_plan(settings(precision), sm=sm, jetson=False, dynamic_inputs=set())


def test_int8_needs_a_calibration_cache(tmp_path):
    with pytest.raises(EngineBuildError, match="calibration cache"):
        plan.builder_plan(settings("int8"), sm="sm_87", jetson=True, dynamic_inputs={"input"})
    cache = tmp_path / "calibration.cache"
    cache.write_bytes(b"TRT-100300-EntropyCalibration2\ninput: 3c010a14\n")
    built = plan.builder_plan(settings("int8", calibration=cache), sm="sm_87", jetson=True, dynamic_inputs={"input"})
    assert built.builder_flags == ("INT8",) and built.calibration_cache.startswith(b"TRT-")
    with pytest.raises(EngineBuildError, match="only used for int8"):
        plan.builder_plan(settings("fp16", calibration=cache), sm="sm_87", jetson=True, dynamic_inputs={"input"})


def test_the_platform_class_sets_the_hardware_compatibility_level():
    # The class comes from the platform's constraints (--require), never from an option.
    assert "hardware_compatibility" not in plan.OPTIONS and "version_compatible" not in plan.OPTIONS
    for sm in ("sm_80", "sm_86", "sm_89", "sm_90"):
        built = plan.builder_plan(settings(required=AMPERE_PLUS), sm=sm, jetson=False, dynamic_inputs={"input"})
        assert built.hardware_compatibility == "ampere_plus" and plan.HARDWARE_COMPATIBILITY_LEVELS["ampere_plus"] == (
            "AMPERE_PLUS"
        )
    same = {"gpu_sm": "sm_89", "tensorrt": "10.13", "tensorrt_hardware_compatibility": "same_compute_capability"}
    built = plan.builder_plan(settings(required=same), sm="sm_89", jetson=False, dynamic_inputs={"input"})
    assert built.hardware_compatibility == "same_compute_capability" and not built.version_compatible
    default = plan.builder_plan(settings(), sm="sm_87", jetson=True, dynamic_inputs={"input"})
    assert default.hardware_compatibility == "none"


def test_classes_the_gpu_or_board_cannot_have_are_refused():
    with pytest.raises(EngineBuildError, match="not supported on Jetson"):
        plan.builder_plan(
            settings(required=AMPERE_PLUS | {"jetpack": "6.2"}), sm="sm_87", jetson=True, dynamic_inputs={"input"}
        )
    with pytest.raises(EngineBuildError, match="built on an Ampere or later GPU"):
        plan.builder_plan(settings(required=AMPERE_PLUS), sm="sm_75", jetson=False, dynamic_inputs={"input"})
    with pytest.raises(EngineBuildError, match="names gpu_sm sm_80"):
        plan.check_class(settings(required=AMPERE_PLUS | {"gpu_sm": "sm_90"}))
    with pytest.raises(EngineBuildError, match="Turing or later"):
        plan.builder_plan(
            settings(required={"gpu_sm": "sm_72", "tensorrt_hardware_compatibility": "same_compute_capability"}),
            sm="sm_72",
            jetson=False,
            dynamic_inputs={"input"},
        )


def test_a_class_plan_uses_only_precisions_every_gpu_of_the_class_has():
    # FP8 needs sm_89; an Ampere-plus plan also runs on sm_80, so it is refused even when built on an H100.
    with pytest.raises(EngineBuildError, match="precision fp8 needs compute capability >= 89; sm_80 has 80"):
        plan.builder_plan(settings("fp8", required=AMPERE_PLUS), sm="sm_90", jetson=False, dynamic_inputs={"input"})


def test_dynamic_inputs_need_profiles():
    with pytest.raises(EngineBuildError, match="dynamic dimensions"):
        plan.builder_plan(settings(profiles=()), sm="sm_90", jetson=False, dynamic_inputs={"input"})


def test_strongly_typed_takes_precision_from_the_model():
    with pytest.raises(EngineBuildError, match="strongly typed"):
        plan.builder_plan(settings("fp16", strongly_typed="true"), sm="sm_90", jetson=False, dynamic_inputs={"input"})


def test_compile_refuses_this_host_and_writes_nothing(tmp_path):
    """The real compile tool on this (GPU-less) host: a mismatch naming both sides, no output."""
    model = Path(os.environ["MLP_MODEL"])
    # A GPU this host is not (on a host without one, any GPU).
    this_host = host.detect().gpu_sm
    wanted = "sm_90" if this_host == "sm_87" else "sm_87"
    arguments, _engine = driver.command_line(
        model=model,
        model_name="mlp",
        platform="//platforms:jetson_orin_jp6.2_trt10.3",
        required={"gpu_sm": wanted, "jetpack": "6.2", "tensorrt": "10.3"},
        precision="fp16",
        tag="sm87_jp6.2_trt10.3",
        out_dir=tmp_path,
        extension="engine",
    )
    result = subprocess.run(
        [sys.executable, "-m", "engines.tensorrt.compile", *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 2, result.stderr
    assert f"gpu_sm: the platform wants {wanted}, this host has {this_host}" in result.stderr
    assert list(tmp_path.iterdir()) == []

"""The hardware vocabulary: one constraint_setting per property an engine depends on.

Each setting lives in its own package (`//platforms/<setting>:<value>`), so a
constraint value's label says both what it constrains and its value, and rules
can turn a platform back into a hardware description (engines/private/engine.bzl).
Every setting defaults to `none`: a CPU platform has no GPU, a datacenter GPU has
no JetPack.
"""

HARDWARE = {
    # CUDA compute capability of the GPU.
    "gpu_sm": ["sm_72", "sm_80", "sm_86", "sm_87", "sm_89", "sm_90", "sm_100", "sm_101", "sm_110"],
    # Jetson board support package; it does not pin TensorRT (newer TensorRT
    # tarballs install on JetPack 6), so the two are separate settings.
    "jetpack": ["5.1", "6.0", "6.1", "6.2", "7.0"],
    # TensorRT major.minor: a plan runs only on the version that built it.
    "tensorrt": ["8.5", "8.6", "10.3", "10.7", "10.13"],
    # CPU instruction-set level: the x86-64 psABI levels, and the Arm profile of
    # Jetson-class cores. ONNX Runtime's layout optimizations depend on it.
    "cpu_isa": ["x86-64-v2", "x86-64-v3", "x86-64-v4", "armv8-a", "armv8.2-a"],
    # ONNX Runtime major.minor: optimized models may use its contrib operators.
    "onnxruntime": ["1.22", "1.32"],
}

NONE = "none"

def constraint_value_label(setting, value):
    return Label("//platforms/%s:%s" % (setting, value))

ALL_CONSTRAINT_VALUES = [
    constraint_value_label(setting, value)
    for setting, values in HARDWARE.items()
    for value in values + [NONE]
]

def declare_hardware_setting(name):
    """In //platforms/<setting>/BUILD.bazel: the setting and its values (default `none`).

    Args:
      name: the setting, a key of HARDWARE.
    """
    setting = name
    native.constraint_setting(
        name = setting,
        default_constraint_value = ":" + NONE,
        visibility = ["//visibility:public"],
    )
    for value in HARDWARE[setting] + [NONE]:
        native.constraint_value(
            name = value,
            constraint_setting = ":" + setting,
            visibility = ["//visibility:public"],
        )

def exec_properties(hardware):
    """REAPI platform properties for an execution platform with this hardware.

    The same hardware gets the same properties wherever the platform is declared,
    so an action's key does not depend on which runner sent it: every runner
    sends {OSFamily, arch} for ordinary actions, adds ISA for ISA-tied compiles,
    and gpu_sm/jetpack/tensorrt for GPU compiles. Workers advertise the keys of
    what they are (tools/remote/).

    Args:
      hardware: {setting: value}, with "cpu" the CPU architecture (x86_64, aarch64).

    Returns:
      {property: value}.
    """
    properties = {"OSFamily": "linux", "arch": hardware["cpu"]}
    for setting, key in (("cpu_isa", "ISA"), ("gpu_sm", "gpu_sm"), ("jetpack", "jetpack"), ("tensorrt", "tensorrt")):
        if hardware.get(setting, NONE) != NONE:
            properties[key] = hardware[setting]
    return properties

def hardware_tag(hardware):
    """The hardware part of an engine's file name, from {setting: value}.

    GPU: `sm87_jp6.2_trt10.3` (no `jp` off Jetson). CPU: `x86-64-v4_ort1.32`.

    Args:
      hardware: {setting: value}, settings absent or `none` when the platform lacks them.

    Returns:
      The tag, or None when the description names no backend runtime.
    """
    sm = hardware.get("gpu_sm", NONE)
    if sm != NONE:
        if hardware.get("tensorrt", NONE) == NONE:
            return None
        parts = [sm.replace("_", "")]
        if hardware.get("jetpack", NONE) != NONE:
            parts.append("jp" + hardware["jetpack"])
        parts.append("trt" + hardware["tensorrt"])
        return "_".join(parts)
    if hardware.get("onnxruntime", NONE) == NONE or hardware.get("cpu_isa", NONE) == NONE:
        return None
    return "%s_ort%s" % (hardware["cpu_isa"], hardware["onnxruntime"])

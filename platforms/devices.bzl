"""The device kinds engines are built for: one entry per real hardware + runtime combination.

This is the single place a device is described. `declare_devices()` turns each
entry into a target `platform()` (//platforms:<name>); `declare_execution_platforms()`
derives the execution platforms their compiles need (//platforms/exec:<name>), whose
`exec_properties` name the same hardware, so a remote worker advertising them can
run those compiles.

Changing an entry (say Jetson Orin moving from TensorRT 10.3 to 10.7) changes
that platform only, and so rebuilds that platform's engines only.
"""

load(":constraints.bzl", "NONE", "constraint_value_label", "exec_properties", "hardware_tag")

DEVICES = {
    # NVIDIA Jetson AGX/NX Orin, JetPack 6.2 (L4T 36.4.3), its TensorRT 10.3.
    "jetson_orin_jp6.2_trt10.3": {
        "cpu": "aarch64",
        "cpu_isa": "armv8.2-a",
        "gpu_sm": "sm_87",
        "jetpack": "6.2",
        "tensorrt": "10.3",
    },
    # NVIDIA A100 servers with TensorRT 10.13.
    "a100_trt10.13": {
        "cpu": "x86_64",
        "gpu_sm": "sm_80",
        "tensorrt": "10.13",
    },
    # NVIDIA H100 servers with TensorRT 10.13.
    "h100_trt10.13": {
        "cpu": "x86_64",
        "gpu_sm": "sm_90",
        "tensorrt": "10.13",
    },
    # AVX-512 x86-64 servers (x86-64-v4: Xeon Skylake-SP and later, EPYC Zen 4 and
    # later) serving with ONNX Runtime 1.32.
    "x86_64_v4_ort1.32": {
        "cpu": "x86_64",
        "cpu_isa": "x86-64-v4",
        "onnxruntime": "1.32",
    },
    # The same servers where the fleet is still pinned to ONNX Runtime 1.22.
    "x86_64_v4_ort1.22": {
        "cpu": "x86_64",
        "cpu_isa": "x86-64-v4",
        "onnxruntime": "1.22",
    },
}

def device_tag(name):
    return hardware_tag(DEVICES[name])

def is_gpu_device(name):
    return DEVICES[name].get("gpu_sm", NONE) != NONE

def _constraint_values(device):
    values = [
        "@platforms//os:linux",
        "@platforms//cpu:" + device["cpu"],
    ]
    for setting in sorted(device):
        if setting != "cpu":
            values.append(constraint_value_label(setting, device[setting]))
    return values

# buildifier: disable=unnamed-macro
def declare_devices():
    """In //platforms/BUILD.bazel: a target platform() per device."""
    for name in sorted(DEVICES):
        native.platform(
            name = name,
            constraint_values = _constraint_values(DEVICES[name]),
            visibility = ["//visibility:public"],
        )

# buildifier: disable=unnamed-macro
def declare_execution_platforms():
    """In //platforms/exec/BUILD.bazel: the worker kinds engine compiles need.

    * one per GPU device kind (//platforms/exec:<device>): the GPU, JetPack and
      TensorRT the TensorRT toolchain for that device is exec_compatible_with;
    * one per CPU ISA level a CPU device names (//platforms/exec:<level>), for the
      ISA-tied ONNX Runtime compiles.

    All are registered on every runner (MODULE.bazel), after @host_hardware//:default
    (ordinary actions), so each action goes to the same execution platform, with
    the same properties and the same key, on every runner: locally when the host
    is that hardware, or on a remote worker advertising it.
    """
    isa_levels = {}
    for name in sorted(DEVICES):
        device = DEVICES[name]
        if is_gpu_device(name):
            gpu = {setting: device.get(setting, NONE) for setting in ("cpu", "gpu_sm", "jetpack", "tensorrt")}
            native.platform(
                name = name,
                constraint_values = _constraint_values(gpu),
                exec_properties = exec_properties(gpu),
                visibility = ["//visibility:public"],
            )
        elif device.get("cpu_isa", NONE) != NONE:
            isa_levels[device["cpu_isa"]] = device["cpu"]
    for level, cpu in sorted(isa_levels.items()):
        hardware = {"cpu": cpu, "cpu_isa": level}
        native.platform(
            name = level,
            constraint_values = _constraint_values(hardware),
            exec_properties = exec_properties(hardware),
            visibility = ["//visibility:public"],
        )

def declare_gpu_executor_gates(name, flag):
    """One gate per GPU device: available iff its tag is among the `flag`'s values.

    An engine for a GPU device is compatible only where an executor for that
    hardware exists: the local host (detected, see host_hardware.bzl) or a remote
    worker pool named on the command line. Elsewhere it is skipped, and naming it
    explicitly fails with "didn't satisfy constraint
    //platforms:no_executor_for_<tag>".

    Args:
      name: the constraint setting the gates' constraint values belong to.
      flag: the executors flag (//platforms:gpu_executors).
    """
    native.constraint_setting(name = name)
    for device in sorted(DEVICES):
        if not is_gpu_device(device):
            continue
        tag = device_tag(device)
        native.config_setting(
            name = "executor_for_" + tag,
            flag_values = {flag: tag},
        )
        native.constraint_value(
            name = "no_executor_for_" + tag,
            constraint_setting = ":" + name,
        )

def device_compatibility(platform):
    """target_compatible_with for an engine built for `platform` (a label string).

    Devices not declared here are left to toolchain resolution.

    Args:
      platform: the engine's target platform.

    Returns:
      [] or a select() that is incompatible unless an executor for the device's GPU exists.
    """
    label = Label(platform) if type(platform) == "string" else platform
    if label.package != "platforms" or label.name not in DEVICES or not is_gpu_device(label.name):
        return []
    tag = device_tag(label.name)
    return select({
        Label("//platforms:executor_for_" + tag): [],
        "//conditions:default": [Label("//platforms:no_executor_for_" + tag)],
    })

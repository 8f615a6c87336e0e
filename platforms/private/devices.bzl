"""What the declared devices and this host make of the build: platforms, classes, executors.

Devices are declared with `hardware.device` in MODULE.bazel (hardware.bzl), by any
module of the build; @kiln_devices holds them. From them come:

* `@kiln_devices//:<device>`: a target platform() with the device's hardware;
* `//platforms/class:<tag>`: a platform per compatibility class (classes.bzl), the
  platforms engine_set builds engines for, so devices of one class share engines;
* `//platforms/exec:<executor tag>`: the execution platforms engine compiles run on,
  whose `exec_properties` name that hardware for remote workers;
* the executor gates: an engine is compatible only where an executor for its
  hardware exists, this host (always) or one named with --//platforms:executors.

`//platforms:host` is this machine, as @host_hardware probes it, with the ONNX
Runtime release the root module pins (`hardware.host`).

Changing a device (say Jetson Orin moving from TensorRT 10.3 to 10.7) changes that
device's classes only, and so rebuilds their engines only; adding a device of a
class already covered rebuilds nothing.
"""

load("@bazel_skylib//lib:selects.bzl", "selects")
load("@host_hardware//:defs.bzl", "HOST")
load("@kiln_devices//:defs.bzl", _DECLARED = "DEVICES")
load(":classes.bzl", "cpu_classes", "device_classes", "device_hardware", "engine_classes")
load(
    ":constraints.bzl",
    "CPUS",
    "ISA_ARCH",
    "NONE",
    "constraint_values",
    "exec_hardware",
    "exec_properties",
    "executor_providers",
    "executor_tag",
    "host_executor_tags",
)

# {device name: device description} of every device the build's modules declare
# (hardware.device in MODULE.bazel; classes.bzl describes the descriptions).
DEVICES = _DECLARED

# Labels of this repository and of @kiln_devices, to tell their platforms from others.
_KILN = Label("//platforms:host")
_DEVICES_REPO = Label("@kiln_devices//:defs.bzl")

# This machine as a CPU device: the probed architecture and ISA level, and the
# ONNX Runtime release the workspace pins.
HOST_DEVICE = {
    "cpu": HOST["cpu"],
    "cpu_isa": HOST["cpu_isa"],
    "onnxruntime": HOST["onnxruntime"],
}

# The executor tags this host satisfies: it always builds for its own hardware.
HOST_EXECUTORS = host_executor_tags(HOST)

# {class tag: hardware} of the devices (the hardware extension has checked that no
# two devices build one class tag differently).
_DEVICE_CLASSES = engine_classes(DEVICES)

# Every class a platform exists for: all CPU classes, the GPU classes of the devices.
CLASSES = dict(cpu_classes())
CLASSES.update({tag: hardware for tag, hardware in _DEVICE_CLASSES.items() if hardware.get("gpu_sm", NONE) != NONE})

def _gpu_executors():
    """{executor tag: CPU} for every GPU device's own plans and its class's plans."""
    found = {}
    for name in sorted(DEVICES):
        device = DEVICES[name]
        if device.get("gpu_sm", NONE) == NONE:
            continue
        for hardware in [device_hardware(device)] + device_classes(device):
            found[executor_tag(hardware)] = device["cpu"]
    return found

# {executor tag: CPU architecture} of the GPU executors (engines/private/toolchains.bzl).
GPU_EXECUTORS = _gpu_executors()

# Every executor an engine can need: each CPU architecture and ISA level, and the GPUs above.
EXECUTOR_TAGS = sorted(CPUS + list(ISA_ARCH) + list(GPU_EXECUTORS))

# Per executor tag an engine can need, the hardware tags whose executors satisfy it.
EXECUTOR_PROVIDERS = {tag: executor_providers(tag) for tag in EXECUTOR_TAGS}

def device_of(platform):
    """The device a platform label names.

    Args:
      platform: a Label (in a macro, native.package_relative_label of what the user wrote).

    Returns:
      (name, device description) for @kiln_devices//:<device> and //platforms:host, else None.
    """
    label = platform
    if label.repo_name == _KILN.repo_name and label.package == "platforms" and label.name == "host":
        return ("host", HOST_DEVICE)
    if label.repo_name == _DEVICES_REPO.repo_name and label.package == "" and label.name in DEVICES:
        return (label.name, DEVICES[label.name])
    return None

def platform_hardware(platform):
    """The hardware description of a platform label kiln knows, or None for any other.

    Args:
      platform: a Label of @kiln_devices//:<device>, //platforms:host or //platforms/class:<tag>.

    Returns:
      A hardware description, or None.
    """
    device = device_of(platform)
    if device != None:
        return device_hardware(device[1])
    label = platform
    if label.repo_name == _KILN.repo_name and label.package == "platforms/class" and label.name in CLASSES:
        return CLASSES[label.name]
    return None

def unknown_device(what, platform):
    """The error for a platform that is not a device: what is wrong and what to do.

    Args:
      what: the target, for the message ("engine_set edge").
      platform: the platform as the user wrote it.

    Returns:
      The message.
    """
    return ("%s: %s is not a device. Devices are @kiln//platforms:host (this machine) and " +
            "@kiln_devices//:<name> for each hardware.device in MODULE.bazel (declared: %s); " +
            "declare yours there, or use engine() for any other platform.") % (
        what,
        platform,
        ", ".join(sorted(DEVICES)) or "none",
    )

def class_platform(tag):
    """The label of the platform of compatibility class `tag`."""
    return Label("//platforms/class:" + tag)

def executor_compatibility(tag):
    """target_compatible_with for a target that needs an executor `tag`.

    Args:
      tag: an executor tag (constraints.bzl executor_tag).

    Returns:
      [] where this host is such an executor; a select() that is incompatible unless
      --//platforms:executors names one, for the tags kiln gates; [] for any other.
    """
    if tag in HOST_EXECUTORS or tag not in EXECUTOR_PROVIDERS:
        return []
    return select({
        Label("//platforms:executor_for_" + tag): [],
        "//conditions:default": [Label("//platforms:no_executor_for_" + tag)],
    })

def hardware_compatibility(hardware):
    """target_compatible_with for an engine built for `hardware` (None: left to toolchain resolution)."""
    if hardware == None:
        return []
    return executor_compatibility(executor_tag(hardware))

# buildifier: disable=unnamed-macro
def declare_host_platform():
    """In //platforms/BUILD.bazel: //platforms:host, this machine as a target platform."""
    native.platform(
        name = "host",
        constraint_values = constraint_values(HOST_DEVICE),
        visibility = ["//visibility:public"],
    )

# buildifier: disable=unnamed-macro
def declare_class_platforms():
    """In //platforms/class/BUILD.bazel: a platform per compatibility class, named by its tag."""
    for tag in sorted(CLASSES):
        native.platform(
            name = tag,
            constraint_values = constraint_values(CLASSES[tag]),
            visibility = ["//visibility:public"],
        )

# buildifier: disable=unnamed-macro
def declare_execution_platforms():
    """In //platforms/exec/BUILD.bazel: the worker kinds engine compiles need, named by executor tag.

    * one per CPU architecture (`x86_64`): portable ONNX Runtime compiles;
    * one per ISA level (`x86-64-v3`): ISA-tied ONNX Runtime compiles;
    * one per GPU executor of the devices (`sm87_jp6.2_trt10.3`, `sm80+_trt10.13`).

    All are registered on every runner (MODULE.bazel), after @host_hardware//:default
    (ordinary actions), so each action goes to the same execution platform, with
    the same properties and the same key, on every runner: locally when the host
    is that hardware, or on a remote worker advertising it.
    """
    for tag in EXECUTOR_TAGS:
        hardware = exec_hardware(tag, GPU_EXECUTORS.get(tag))
        native.platform(
            name = tag,
            constraint_values = constraint_values(hardware),
            exec_properties = exec_properties(hardware),
            visibility = ["//visibility:public"],
        )

def declare_executor_gates(name, flag):
    """One gate per executor tag: open iff --//platforms:executors names hardware that satisfies it.

    An engine is compatible only where an executor for its hardware exists: this
    host (decided at loading time, executor_compatibility) or an executor named on
    the command line, a remote pool or another local device. Elsewhere it is skipped,
    and naming it explicitly fails with "didn't satisfy constraint
    //platforms:no_executor_for_<tag>".

    Args:
      name: the constraint setting the gates' constraint values belong to.
      flag: the executors flag (//platforms:executors).
    """
    native.constraint_setting(name = name)
    named = {}
    for tag in EXECUTOR_TAGS:
        for provider in EXECUTOR_PROVIDERS[tag]:
            named[provider] = True
    for provider in sorted(named):
        native.config_setting(
            name = "executors_name_" + provider,
            flag_values = {flag: provider},
        )
    for tag in EXECUTOR_TAGS:
        selects.config_setting_group(
            name = "executor_for_" + tag,
            match_any = [":executors_name_" + provider for provider in EXECUTOR_PROVIDERS[tag]],
        )
        native.constraint_value(
            name = "no_executor_for_" + tag,
            constraint_setting = ":" + name,
        )

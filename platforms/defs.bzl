"""Public API of //platforms: kiln's hardware vocabulary and the pure functions over it.

    load("@kiln//platforms:defs.bzl", "HARDWARE", "constraint_values", "exec_properties", "hardware_tag")

    # A platform of your own, e.g. for engine() outside any device:
    platform(
        name = "l4_trt10.13",
        constraint_values = constraint_values({"cpu": "x86_64", "gpu_sm": "sm_89", "tensorrt": "10.13"}),
    )

A hardware description is a dict {setting: value} with "cpu" (x86_64 or aarch64)
and any of the settings in HARDWARE; settings it does not name are `none`. Devices
are declared in MODULE.bazel with the `hardware` extension (extensions.bzl), and
their platforms are @kiln_devices//:<name>; @kiln//platforms:host is the machine
running the build.
"""

load("//platforms/private:classes.bzl", _device_classes = "device_classes")
load(
    "//platforms/private:constraints.bzl",
    _HARDWARE = "HARDWARE",
    _constraint_values = "constraint_values",
    _exec_properties = "exec_properties",
    _executor_tag = "executor_tag",
    _hardware_tag = "hardware_tag",
)
load("//platforms/private:executors.bzl", _ExecutorsInfo = "ExecutorsInfo")

# {setting: [value, ...]}: every hardware setting and the values kiln knows.
HARDWARE = _HARDWARE
ExecutorsInfo = _ExecutorsInfo
constraint_values = _constraint_values
device_classes = _device_classes
exec_properties = _exec_properties
executor_tag = _executor_tag
hardware_tag = _hardware_tag

"""@kiln_devices: the devices every module declares with `hardware.device` (extensions.bzl).

The repository holds:

* `//:<device>`: a target platform() per device, with the device's hardware;
* `//:defs.bzl`: `DEVICES`, {device name: device description}, read at loading time
  by engine_set (a device's compatibility classes decide which engines it gets) and
  by kiln's //platforms/class, //platforms/exec and toolchain packages (a GPU
  device's classes get execution platforms, executor gates and TensorRT toolchains).
"""

load(":classes.bzl", "device_hardware")
load(":constraints.bzl", "constraint_values")

def _starlark_value(value):
    if type(value) == "bool":
        return "True" if value else "False"
    return json.encode(value)

def _starlark(device):
    """A device description as Starlark source (json.encode writes true, not True)."""
    return "{" + ", ".join(["%s: %s" % (json.encode(key), _starlark_value(device[key])) for key in sorted(device)]) + "}"

def _devices_repository_impl(rctx):
    devices = json.decode(rctx.attr.devices)
    declared_in = json.decode(rctx.attr.declared_in)
    platforms = []
    for name in sorted(devices):
        values = [str(label) for label in constraint_values(device_hardware(devices[name]))]
        platforms.append("""\
# Declared in module {module}.
platform(
    name = "{name}",
    constraint_values = {values},
)
""".format(module = declared_in[name], name = name, values = json.encode_indent(values, prefix = "    ", indent = "    ")))
    rctx.file("BUILD.bazel", """\
load("{bzl_library}", "bzl_library")

package(default_visibility = ["//visibility:public"])

bzl_library(
    name = "defs",
    srcs = ["defs.bzl"],
)

""".format(bzl_library = str(Label("@bazel_skylib//:bzl_library.bzl"))) + "\n".join(platforms))
    rctx.file("defs.bzl", """\
\"\"\"The devices the modules of this build declare (hardware.device in their MODULE.bazel).\"\"\"

DEVICES = {{
{devices}}}
""".format(devices = "".join(["    %s: %s,\n" % (json.encode(name), _starlark(devices[name])) for name in sorted(devices)])))

devices_repository = repository_rule(
    implementation = _devices_repository_impl,
    attrs = {
        "declared_in": attr.string(doc = "JSON: {device name: the module that declares it}."),
        "devices": attr.string(doc = "JSON: {device name: device description}, checked by the extension."),
    },
    doc = "Platforms and loading-time descriptions of the declared devices.",
)

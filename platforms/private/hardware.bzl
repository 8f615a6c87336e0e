"""The `hardware` module extension: this host, and the devices engines are built for.

    hardware = use_extension("@kiln//platforms:extensions.bzl", "hardware")
    hardware.host(onnxruntime = "1.32")
    hardware.device(name = "orin_nx", cpu = "aarch64", cpu_isa = "armv8.2-a",
                    gpu_sm = "sm_87", jetpack = "6.2", tensorrt = "10.3")
    use_repo(hardware, "kiln_devices")

Devices are declared here, in MODULE.bazel, and not in a BUILD file, because
everything about them is decided at loading time and across packages: the engines
an engine_set compiles (one per compatibility class of its devices), and the
execution platforms, executor gates and TensorRT toolchains kiln registers for a
GPU device's classes. Every module's devices go into one repository,
@kiln_devices; a device name is declared once in the whole build.
"""

load(":classes.bzl", "check_device", "engine_classes")
load(":constraints.bzl", "HARDWARE", "NONE")
load(":devices_repository.bzl", "devices_repository")
load(":host_hardware.bzl", "DEFAULT_HOST_ONNXRUNTIME", "host_hardware_repository")

def _choices(setting):
    return "`none` or one of " + ", ".join(HARDWARE[setting])

_host = tag_class(
    attrs = {
        "onnxruntime": attr.string(
            mandatory = True,
            doc = "The ONNX Runtime release @kiln//platforms:host builds with: one of " + ", ".join(HARDWARE["onnxruntime"]) + ".",
        ),
    },
    doc = "Pins what @kiln//platforms:host (the machine running the build) uses. The root module's pin wins.",
)

_device = tag_class(
    attrs = {
        "name": attr.string(mandatory = True, doc = "The device's name: its platform is `@kiln_devices//:<name>`, its directory in an engine_set `<set>/<name>/`."),
        "cpu": attr.string(mandatory = True, doc = "The CPU architecture: x86_64 or aarch64."),
        "cpu_isa": attr.string(default = NONE, doc = "The CPU's instruction-set level, for ISA-tied ONNX Runtime engines: " + _choices("cpu_isa") + "."),
        "onnxruntime": attr.string(default = NONE, doc = "A CPU device's ONNX Runtime release: " + _choices("onnxruntime") + "."),
        "gpu_sm": attr.string(default = NONE, doc = "A GPU device's CUDA compute capability: " + _choices("gpu_sm") + "."),
        "tensorrt": attr.string(default = NONE, doc = "A GPU device's TensorRT major.minor: " + _choices("tensorrt") + "."),
        "jetpack": attr.string(default = NONE, doc = "A Jetson's JetPack release: " + _choices("jetpack") + "."),
        "gpu_class": attr.string(
            default = "",
            doc = "Which GPUs its TensorRT plans are built to run on: `device` (only the GPU that builds it; the only choice on Jetson), " +
                  "`same_compute_capability` (every GPU of its compute capability; the default off Jetson) or `ampere_plus` " +
                  "(every sm_80+ GPU: one plan serves A100s, L4s and H100s).",
        ),
        "version_compatible": attr.bool(default = False, doc = "Build its TensorRT plans version-compatible: they also run on later TensorRT releases."),
    },
    doc = "A device kind engines are built for: a CPU with an ONNX Runtime release, or a GPU with a TensorRT version.",
)

def _description(tag):
    """The device description (classes.bzl) of a device tag: the settings it names."""
    device = {"cpu": tag.cpu}
    for setting in ("cpu_isa", "onnxruntime", "gpu_sm", "tensorrt", "jetpack"):
        value = getattr(tag, setting)
        if value != NONE:
            device[setting] = value
    if tag.gpu_class:
        device["gpu_class"] = tag.gpu_class
    if tag.version_compatible:
        device["version_compatible"] = True
    return device

_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-"

def _check_name(name, where):
    if not name or [c for c in name.elems() if c not in _NAME_CHARACTERS] or name.startswith("."):
        fail("hardware.device(name = \"{}\") in {}: a device name is a target name made of letters, digits and _ . + -".format(name, where))
    if name == "host":
        fail("hardware.device(name = \"host\") in {}: `host` is the machine running the build (@kiln//platforms:host); pick another name.".format(where))

def _hardware_impl(module_ctx):
    onnxruntime, pinned = DEFAULT_HOST_ONNXRUNTIME, False
    devices, declared_in = {}, {}

    # Modules are visited root first: the first host pin is the root's, or the nearest one.
    for module in module_ctx.modules:
        where = "module %s" % (module.name or "<root>")
        for tag in module.tags.host:
            if tag.onnxruntime not in HARDWARE["onnxruntime"]:
                fail("hardware.host(onnxruntime = \"{}\") in {}: kiln builds ONNX Runtime {}; pin one of those.".format(
                    tag.onnxruntime,
                    where,
                    ", ".join(HARDWARE["onnxruntime"]),
                ))
            if not pinned:
                onnxruntime, pinned = tag.onnxruntime, True
        for tag in module.tags.device:
            if tag.name in devices:
                fail("hardware.device(name = \"{}\") in {}: {} declares a device of that name already; device names are shared by the whole build (@kiln_devices//:<name>), rename one.".format(
                    tag.name,
                    where,
                    declared_in[tag.name],
                ))
            _check_name(tag.name, where)
            device = _description(tag)
            problem = check_device(tag.name, device)
            if problem:
                fail("hardware.device in {}: {}".format(where, problem))
            devices[tag.name] = device
            declared_in[tag.name] = where

    # What only the whole set shows: a class tag two devices would build differently.
    classes = engine_classes(devices)
    if type(classes) == "string":
        fail("hardware.device: " + classes)
    host_hardware_repository(name = "host_hardware", onnxruntime = onnxruntime)
    devices_repository(
        name = "kiln_devices",
        devices = json.encode(devices),
        declared_in = json.encode(declared_in),
    )

hardware = module_extension(
    implementation = _hardware_impl,
    tag_classes = {
        "device": _device,
        "host": _host,
    },
    doc = "Creates @host_hardware (this machine, probed) and @kiln_devices (every module's declared devices).",
)

"""Compatibility classes: one engine serves every device of its class.

A device (devices.bzl) describes real hardware. The engines it runs are built for
its *classes*, hardware descriptions that leave out what the engine does not
depend on, so that adding a device of a class already covered builds nothing:

* a CPU device runs a *portable* ONNX Runtime engine, keyed on the architecture and
  the ONNX Runtime release (graph optimizations up to the `extended` level, which
  bake in no ISA-specific layout), and an *ISA-tied* one (the `all` level), keyed
  on its exact ISA level, which it prefers;
* a GPU device runs the TensorRT plan of its declared `gpu_class`:
  - `device`: TensorRT's default, a plan for the GPU that built it (the only choice on Jetson);
  - `same_compute_capability`: runs on every GPU of that compute capability (the default off Jetson);
  - `ampere_plus`: runs on every Ampere or later GPU (sm_80+), one plan for A100, A10, L4, H100, ...;
  and with `version_compatible = True` the plan also runs on later TensorRT releases
  (it is keyed on the minimum one).

Pure functions of device descriptions, unit-tested in classes_test.bzl.
"""

load(":constraints.bzl", "CPUS", "HARDWARE", "ISA_ARCH", "NONE", "hardware_tag")

GPU_CLASSES = ["device", "same_compute_capability", "ampere_plus"]

_DEVICE_KEYS = ["cpu", "cpu_isa", "gpu_class", "gpu_sm", "jetpack", "onnxruntime", "tensorrt", "version_compatible"]

def _version(text):
    return [int(part) for part in text.split(".")]

def check_device(name, device):
    """None if `device` is a valid description, else what is wrong with it (naming the device).

    Args:
      name: the device's name, for the message.
      device: {"cpu", "cpu_isa", "onnxruntime"} for a CPU device; {"cpu", "gpu_sm",
        "tensorrt", "jetpack"?, "gpu_class"?, "version_compatible"?} for a GPU device.

    Returns:
      None or an error message.
    """
    for key in sorted(device):
        if key not in _DEVICE_KEYS:
            return "device %s: unknown key '%s' (known: %s)" % (name, key, ", ".join(_DEVICE_KEYS))
    if device.get("cpu") not in CPUS:
        return "device %s: cpu must be one of %s, got %s" % (name, ", ".join(CPUS), device.get("cpu"))
    for setting in ("cpu_isa", "gpu_sm", "jetpack", "onnxruntime", "tensorrt"):
        value = device.get(setting, NONE)
        if value != NONE and value not in HARDWARE[setting]:
            return "device %s: %s %s is not in kiln's hardware vocabulary (known: %s)" % (name, setting, value, ", ".join(HARDWARE[setting]))
    isa = device.get("cpu_isa", NONE)
    if isa != NONE and ISA_ARCH[isa] != device["cpu"]:
        return "device %s: ISA level %s is not an %s level" % (name, isa, device["cpu"])
    gpu = device.get("gpu_sm", NONE) != NONE
    if gpu:
        if device.get("tensorrt", NONE) == NONE:
            return "device %s: a GPU device names its TensorRT version (tensorrt = ...)" % name
        jetson = device.get("jetpack", NONE) != NONE
        gpu_class = device.get("gpu_class", "device" if jetson else "same_compute_capability")
        if gpu_class not in GPU_CLASSES:
            return "device %s: gpu_class must be one of %s, got %s" % (name, ", ".join(GPU_CLASSES), gpu_class)
        if jetson and gpu_class != "device":
            return "device %s: gpu_class %s is not supported on Jetson (TensorRT builds Jetson plans for one device); use 'device'" % (name, gpu_class)
        sm = int(device["gpu_sm"].removeprefix("sm_"))
        if gpu_class == "ampere_plus" and sm < 80:
            return "device %s: gpu_class ampere_plus needs an Ampere or later GPU (sm_80+), it has %s" % (name, device["gpu_sm"])
        if gpu_class == "same_compute_capability" and sm < 75:
            return "device %s: gpu_class same_compute_capability needs a Turing or later GPU (sm_75+), it has %s" % (name, device["gpu_sm"])
        if (gpu_class == "ampere_plus" or device.get("version_compatible", False)) and _version(device["tensorrt"]) < [8, 6]:
            return "device %s: hardware- and version-compatible plans need TensorRT 8.6 or later, it has %s" % (name, device["tensorrt"])
    else:
        for key in ("gpu_class", "jetpack", "tensorrt", "version_compatible"):
            if key in device:
                return "device %s: %s is a GPU setting, but the device names no gpu_sm" % (name, key)
        if device.get("onnxruntime", NONE) == NONE:
            return "device %s: a CPU device names its ONNX Runtime release (onnxruntime = ...)" % name
    return None

def device_hardware(device):
    """The hardware settings of a device description (without its class choices).

    Args:
      device: a device description.

    Returns:
      A hardware description.
    """
    return {key: value for key, value in device.items() if key not in ("gpu_class", "version_compatible")}

def device_classes(device):
    """The compatibility classes of a valid device, in order of preference.

    Args:
      device: a device description (check_device).

    Returns:
      [hardware description, ...]: for a CPU device its ISA-tied class (when it
      names an ISA level) then its portable class; for a GPU device its plan's class.
    """
    if device.get("gpu_sm", NONE) == NONE:
        portable = {"cpu": device["cpu"], "onnxruntime": device["onnxruntime"]}
        if device.get("cpu_isa", NONE) == NONE:
            return [portable]
        return [dict(portable, cpu_isa = device["cpu_isa"]), portable]
    jetson = device.get("jetpack", NONE) != NONE
    gpu_class = device.get("gpu_class", "device" if jetson else "same_compute_capability")
    hardware = {
        "cpu": device["cpu"],
        "gpu_sm": device["gpu_sm"],
        "jetpack": device.get("jetpack", NONE),
        "tensorrt": device["tensorrt"],
        "tensorrt_hardware_compatibility": NONE,
        "tensorrt_version_compatible": "forward" if device.get("version_compatible", False) else NONE,
    }
    if gpu_class == "same_compute_capability":
        hardware["tensorrt_hardware_compatibility"] = "same_compute_capability"
    elif gpu_class == "ampere_plus":
        # One plan for every sm_80+ GPU: the class is named by its floor.
        hardware["gpu_sm"] = "sm_80"
        hardware["tensorrt_hardware_compatibility"] = "ampere_plus"
    return [hardware]

def cpu_classes():
    """Every CPU class the vocabulary can express: {tag: hardware}.

    Portable per (architecture, ONNX Runtime release) and ISA-tied per (ISA level,
    release), so a CPU device of any level finds its classes' platforms.

    Returns:
      {tag: hardware description}.
    """
    classes = {}
    for release in HARDWARE["onnxruntime"]:
        for cpu in CPUS:
            hardware = {"cpu": cpu, "onnxruntime": release}
            classes[hardware_tag(hardware)] = hardware
        for isa in HARDWARE["cpu_isa"]:
            hardware = {"cpu": ISA_ARCH[isa], "cpu_isa": isa, "onnxruntime": release}
            classes[hardware_tag(hardware)] = hardware
    return classes

def engine_classes(devices):
    """The classes that cover `devices`: {tag: hardware}, one entry per distinct engine kind.

    Args:
      devices: {name: device description}.

    Returns:
      {tag: hardware}, or a string saying which devices give one tag two meanings.
    """
    classes, owners = {}, {}
    for name in sorted(devices):
        for hardware in device_classes(devices[name]):
            tag = hardware_tag(hardware)
            if tag in classes and classes[tag] != hardware:
                return "devices %s and %s both need engines tagged %s, but of different kinds (%s vs %s); give one of them another gpu_class" % (
                    owners[tag],
                    name,
                    tag,
                    classes[tag],
                    hardware,
                )
            classes[tag] = hardware
            owners.setdefault(tag, name)
    return classes

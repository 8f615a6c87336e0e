"""engine_set: every model for every device, with the fewest engines that cover them.

Each device's compatibility classes are collected over the set, and
every model is compiled once per class, for the class's platform
(//platforms/class:<tag>). A device then gets a directory of its own with the
engines it runs, preferred first, and a manifest naming them: adding a device of
a class already covered compiles nothing.
"""

# buildifier: disable=bzl-visibility
load("//platforms/private:classes.bzl", "device_classes", "device_hardware", "engine_classes")

# buildifier: disable=bzl-visibility
load("//platforms/private:constraints.bzl", "NONE", "hardware_tag")

# buildifier: disable=bzl-visibility
load("//platforms/private:devices.bzl", "CLASSES", "class_platform", "device_of", "hardware_compatibility", "unknown_device")
load(":engine.bzl", "engine")
load(":engine_manifest.bzl", "engine_manifest")
load(":labels.bzl", "label_text")

def _per_backend(value, backend, what):
    if type(value) == "dict":
        if backend not in value:
            fail("engine_set: %s has no entry for the %s backend (keys: %s)" % (what, backend, sorted(value)))
        return value[backend]
    return value

def _devices(name, platforms):
    """[(label, device name, device)] of the set's platforms; fails, naming the set, for any other."""
    found = []
    for platform in platforms:
        label = native.package_relative_label(platform)
        device = device_of(label)
        if device == None:
            fail(unknown_device("engine_set " + name, platform))
        found.append((label, device[0], device[1]))
    return found

def engine_set(
        name,
        models,
        platforms,
        precision,
        profiles = {},
        model_data = {},
        workspace = None,
        options = {},
        calibration_caches = {},
        timing_cache = None,
        visibility = None):
    """Every model compiled for every device, one engine per compatibility class.

    Targets:
      * `<name>.<model>.<class tag>`: one engine (bazel-bin/<package>/<name>/<class tag>/);
      * `<name>.<device>`: the device's engines, sidecars and manifest.json, under
        bazel-bin/<package>/<name>/<device>/; `<name>.<device>.manifest` is the
        manifest target. The manifest's `device.uses` lists, per model, the engines
        the device runs, preferred first (a CPU device: ISA-tied, then portable).

    A device's targets are compatible only where every engine it needs can be built
    (an executor for its hardware exists: this host, or --@kiln//platforms:executors); elsewhere
    `bazel build //...` skips them and engine_status says why.

    Args:
      name: the set's name (and its output directory).
      models: {model name: ONNX label}.
      platforms: devices: @kiln_devices//:<name> (hardware.device in MODULE.bazel) and
        @kiln//platforms:host (this machine).
      precision: one precision, or {"onnxruntime": ..., "tensorrt": ...}.
      profiles: {model name: [profile, ...]} (see `engine`).
      model_data: {model name: [external data file labels]} (see `engine`).
      workspace: TensorRT workspace (GPU engines only).
      options: {"onnxruntime": {...}, "tensorrt": {...}} builder options.
      calibration_caches: {model name: cache label} for TensorRT int8.
      timing_cache: TensorRT timing cache shared by the set's GPU engines.
      visibility: of the engine and device targets.
    """
    devices = _devices(name, platforms)
    classes = engine_classes({device_name: device for _, device_name, device in devices})
    if type(classes) == "string":
        fail("engine_set %s: %s" % (name, classes))
    for tag in sorted(classes):
        if tag not in CLASSES:
            fail("engine_set %s: no platform for the engine class %s (//platforms/class); kiln builds ONNX Runtime engines for x86_64 and aarch64 only" % (name, tag))
        gpu = classes[tag].get("gpu_sm", NONE) != NONE
        backend = "tensorrt" if gpu else "onnxruntime"
        for model_name, model in sorted(models.items()):
            engine(
                name = "%s.%s.%s" % (name, model_name, tag),
                model = model,
                model_name = model_name,
                model_data = model_data.get(model_name, []),
                platform = class_platform(tag),
                precision = _per_backend(precision, backend, "precision"),
                profiles = profiles.get(model_name, []),
                workspace = workspace if gpu else None,
                options = options.get(backend, {}),
                calibration_cache = calibration_caches.get(model_name) if gpu else None,
                timing_cache = timing_cache if gpu else None,
                out_dir = "%s/%s" % (name, tag),
                visibility = visibility,
            )
    for label, device_name, device in devices:
        if device_name in classes:
            fail("engine_set %s: device %s has the name of an engine class; rename the device" % (name, device_name))
        engines, compatibility = [], []
        for hardware in device_classes(device):
            compatibility = compatibility + hardware_compatibility(hardware)
            engines += [":%s.%s.%s" % (name, model_name, hardware_tag(hardware)) for model_name in sorted(models)]
        engine_manifest(
            name = "%s.%s.manifest" % (name, device_name),
            engines = engines,
            out_dir = "%s/%s" % (name, device_name),
            device = device_name,
            hardware = device_hardware(device),
            platform = label_text(label),
            target_compatible_with = compatibility,
            visibility = visibility,
        )
        native.filegroup(
            name = "%s.%s" % (name, device_name),
            srcs = [":%s.%s.manifest" % (name, device_name)],
            target_compatible_with = compatibility,
            visibility = visibility,
        )

"""Public API: `engine` (one model on one platform) and `engine_set` (models x platforms).

    load("//engines:defs.bzl", "engine", "engine_set")

    engine(
        name = "detector.orin",
        model = "detector.onnx",
        platform = "//platforms:jetson_orin_jp6.2_trt10.3",
        precision = "fp16",
        profiles = ["images:1x3x640x640:4x3x640x640:8x3x640x640"],
        workspace = "2GiB",
    )

Outputs, under bazel-bin/<package>/<out_dir>/ (out_dir defaults to the platform's
name): `<model>__<hardware tag>_<precision>.<engine|onnx>` and its `.sha256`
sidecar (the per-platform manifest.json comes from `engine_manifest`). An engine for a
GPU platform is compatible only where an executor for that GPU exists (see
//platforms:devices.bzl); elsewhere `bazel build //...` skips it.
"""

load("@rules_pkg//pkg:tar.bzl", "pkg_tar")
load("//engines/private:bundle.bzl", "checksums")
load("//engines/private:engine.bzl", _engine_build = "engine_build", _engine_manifest = "engine_manifest", _engine_status = "engine_status", _published_engine = "published_engine")
load("//oci:defs.bzl", "oci_image", "oci_push")
load("//platforms:devices.bzl", "DEVICES", "device_compatibility", "device_tag", "is_gpu_device")

engine_manifest = _engine_manifest

def engine(
        name,
        model,
        platform,
        precision,
        model_name = None,
        profiles = [],
        workspace = None,
        options = {},
        calibration_cache = None,
        timing_cache = None,
        out_dir = None,
        visibility = None,
        tags = []):
    """One engine: `model` compiled for `platform`.

    Args:
      name: target name.
      model: the ONNX file (a label).
      platform: the target platform (a label in //platforms, or any platform
        built from the //platforms constraint settings).
      precision: fp32 | int8 (ONNX Runtime); fp32 | fp16 | bf16 | int8 | fp8 (TensorRT).
      model_name: the model part of the file name; defaults to the file's stem.
      profiles: optimization profiles, each "<input>:<min>:<opt>:<max> ..." with
        shapes like 1x3x224x224 (min <= opt <= max on every axis).
      workspace: TensorRT builder workspace, e.g. "2GiB".
      options: backend builder options (ONNX Runtime: graph_optimization_level;
        TensorRT: builder_optimization_level, hardware_compatibility,
        strongly_typed, version_compatible).
      calibration_cache: TensorRT INT8 calibration cache (required for int8 there).
      timing_cache: TensorRT timing cache, to pin tactic choices.
      out_dir: directory under the package's bazel-bin; defaults to the platform's name.
      visibility: of the public target.
      tags: of the public target.
    """
    platform_name = Label(platform).name if type(platform) == "string" else platform.name
    _engine_build(
        name = name + ".build",
        model = model,
        model_name = model_name,
        platform_label = str(Label(platform) if type(platform) == "string" else platform).replace("@@//", "//"),
        precision = precision,
        profiles = profiles,
        workspace = workspace or "",
        options = options,
        calibration_cache = calibration_cache,
        timing_cache = timing_cache,
        out_dir = out_dir or platform_name,
        target_compatible_with = device_compatibility(platform),
        tags = ["manual"],
        visibility = ["//visibility:private"],
    )
    _published_engine(
        name = name,
        build = ":%s.build" % name,
        platform = platform,
        tags = tags,
        visibility = visibility,
    )

def _per_backend(value, backend, what):
    if type(value) == "dict":
        if backend not in value:
            fail("engine_set: %s has no entry for the %s backend (keys: %s)" % (what, backend, sorted(value)))
        return value[backend]
    return value

def _device_name(what, platform, hint = ""):
    """The device name of a //platforms:<device> label; fails, naming `what`, for any other."""
    name = Label(platform).name
    if Label(platform).package != "platforms" or name not in DEVICES:
        fail("%s: %s is not a device of //platforms:devices.bzl (known: %s)%s" % (what, platform, ", ".join(sorted(DEVICES)), hint))
    return name

def engine_set(
        name,
        models,
        platforms,
        precision,
        profiles = {},
        workspace = None,
        options = {},
        calibration_caches = {},
        timing_cache = None,
        visibility = None):
    """Every model compiled for every platform, with a manifest per platform.

    Targets: `<name>.<model>.<platform>` per engine, `<name>.<platform>.manifest`, and
    `<name>.<platform>` (that platform's engines, sidecars and manifest); files under
    bazel-bin/<package>/<name>/<platform>/.

    Args:
      name: the set's name (and its output directory).
      models: {model name: ONNX label}.
      platforms: device platforms from //platforms:devices.bzl.
      precision: one precision, or {"onnxruntime": ..., "tensorrt": ...}.
      profiles: {model name: [profile, ...]} (see `engine`).
      workspace: TensorRT workspace (GPU platforms only).
      options: {"onnxruntime": {...}, "tensorrt": {...}} builder options.
      calibration_caches: {model name: cache label} for TensorRT int8.
      timing_cache: TensorRT timing cache shared by the set's GPU engines.
      visibility: of the engine and manifest targets.
    """
    for platform in platforms:
        platform_name = _device_name("engine_set %s" % name, platform, "; use engine() for other platforms")
        gpu = is_gpu_device(platform_name)
        backend = "tensorrt" if gpu else "onnxruntime"
        engines = []
        for model_name, model in sorted(models.items()):
            target = "%s.%s.%s" % (name, model_name, platform_name)
            engine(
                name = target,
                model = model,
                model_name = model_name,
                platform = platform,
                precision = _per_backend(precision, backend, "precision"),
                profiles = profiles.get(model_name, []),
                workspace = workspace if gpu else None,
                options = options.get(backend, {}),
                calibration_cache = calibration_caches.get(model_name) if gpu else None,
                timing_cache = timing_cache if gpu else None,
                out_dir = "%s/%s" % (name, platform_name),
                visibility = visibility,
            )
            engines.append(":" + target)
        _engine_manifest(
            name = "%s.%s.manifest" % (name, platform_name),
            engines = engines,
            target_compatible_with = device_compatibility(platform),
            visibility = visibility,
        )
        native.filegroup(
            name = "%s.%s" % (name, platform_name),
            srcs = engines + [":%s.%s.manifest" % (name, platform_name)],
            visibility = visibility,
        )

def engine_status(name = "status"):
    """Call last in a BUILD file: `<name>.txt` lists the package's engines, built or skipped and why.

    Building it prints a one-line summary when GPU engines are skipped.

    Args:
      name: the target; its output is `<name>.txt`.
    """
    entries = []
    for rule in native.existing_rules().values():
        if rule["kind"] != "engine_build":
            continue
        platform = Label(rule["platform_label"])
        gpu = platform.package == "platforms" and platform.name in DEVICES and is_gpu_device(platform.name)
        entries.append("//%s:%s|%s|%s" % (
            native.package_name(),
            rule["name"].removesuffix(".build"),
            rule["platform_label"],
            device_tag(platform.name) if gpu else "",
        ))
    _engine_status(
        name = name,
        engines = sorted(entries),
        out = name + ".txt",
    )

_OCI_ARCHITECTURE = {"aarch64": "arm64", "x86_64": "amd64"}

def engine_bundle(name, engines, platform, corpora = [], repository = None, remote_tags = ["latest"], visibility = None):
    """An OCI image of one platform's engines and the validated corpora, and its push target.

    Targets: `<name>` (an oci_image: `<name>/` layout and `<name>.digest`) and
    `<name>.push` (`bazel run` it; `-- --repository HOST[:PORT]/PATH` to push elsewhere).
    The image is data-only, two layers: `engines/<platform>/` (engines, sidecars,
    manifest.json) and, given corpora, `corpus/` (the corpora and their SHA256SUMS), so
    the corpus layer is shared by every platform's bundle. Its annotations name the
    platform's hardware and runtime and, built with --stamp, the source revision. A GPU
    platform's bundle is compatible only where its engines are.

    Args:
      name: the image target.
      engines: the platform's files from engine_set (`<set>.<platform>`).
      platform: a device platform of //platforms:devices.bzl.
      corpora: corpus files to ship beside the engines.
      repository: where `.push` pushes by default (default localhost:5000/kiln/<platform>).
      remote_tags: tags `.push` pushes.
      visibility: of the targets.
    """
    platform_name = _device_name("engine_bundle %s" % name, platform)
    device = DEVICES[platform_name]
    pkg_tar(
        name = name + ".engines",
        srcs = [engines],
        package_dir = "engines/" + platform_name,
        mode = "0644",
    )
    layers = [name + ".engines"]
    if corpora:
        checksums(
            name = name + ".corpus_sums",
            srcs = corpora,
        )
        pkg_tar(
            name = name + ".corpora",
            srcs = corpora + [name + ".corpus_sums"],
            package_dir = "corpus",
            mode = "0644",
        )
        layers.append(name + ".corpora")
    annotations = {
        "org.opencontainers.image.title": "kiln engines for %s" % platform_name,
        "org.opencontainers.image.revision": "{STABLE_GIT_COMMIT}",
        "dev.kiln.platform": "//platforms:" + platform_name,
    }
    for setting in sorted(device):
        annotations["dev.kiln." + setting] = device[setting]
    oci_image(
        name = name,
        tars = layers,
        annotations = annotations,
        architecture = _OCI_ARCHITECTURE[device["cpu"]],
        visibility = visibility,
    )
    oci_push(
        name = name + ".push",
        image = name,
        repository = repository or "localhost:5000/kiln/" + platform_name,
        remote_tags = remote_tags,
        visibility = visibility,
    )

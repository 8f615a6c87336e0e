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

    engine_set(
        name = "edge",
        models = {"detector": "detector.onnx"},
        platforms = ["//platforms:jetson_orin_jp6.2_trt10.3", "//platforms:host"],
        precision = {"onnxruntime": "fp32", "tensorrt": "fp16"},
    )

Outputs, under bazel-bin/<package>/<out_dir>/ (out_dir defaults to the platform's
name): `<model>__<hardware tag>_<precision>.<engine|onnx>` and its `.sha256`
sidecar; engine_set adds a directory and manifest.json per device. An engine is
compatible only where an executor for its hardware exists: this host, or one named
with --//platforms:executors (see //platforms:devices.bzl); elsewhere `bazel build
//...` skips it, and `engine_status` says why.
"""

load("@rules_pkg//pkg:tar.bzl", "pkg_tar")
load("//engines/private:bundle.bzl", "checksums")
load("//engines/private:engine.bzl", "target_name", _engine_manifest = "engine_manifest", _engine_status = "engine_status")
load("//engines/private:engine_macro.bzl", _engine = "engine")
load("//engines/private:engine_set.bzl", _engine_set = "engine_set")
load("//oci:defs.bzl", "oci_image", "oci_push")
load("//platforms:devices.bzl", "DEVICES", "device_of")

engine = _engine
engine_manifest = _engine_manifest
engine_set = _engine_set

def engine_status(name = "status"):
    """Call last in a BUILD file: `<name>.txt` lists the package's engines and devices, built or skipped and why.

    Building it prints a summary of what is skipped, by missing executor.

    Args:
      name: the target; its output is `<name>.txt`.
    """
    rules = native.existing_rules()
    engines, devices = [], []
    for rule in rules.values():
        if rule["kind"] == "engine_build":
            engines.append("//%s:%s|%s|%s" % (
                native.package_name(),
                rule["name"].removesuffix(".build"),
                rule["platform_label"],
                rule["executor"],
            ))
        elif rule["kind"] == "engine_manifest" and rule["device"]:
            needed = {}
            for engine_label in rule["engines"]:
                build = rules.get(target_name(str(engine_label)) + ".build")
                if build and build["executor"]:
                    needed[build["executor"]] = True
            devices.append("//%s:%s|%s|%s" % (
                native.package_name(),
                rule["name"].removesuffix(".manifest"),
                rule["device"],
                ",".join(sorted(needed)),
            ))
    _engine_status(
        name = name,
        engines = sorted(engines),
        devices = sorted(devices),
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
      engines: the device's files from engine_set (`<set>.<device>`).
      platform: a device platform of //platforms:devices.bzl, or //platforms:host.
      corpora: corpus files to ship beside the engines.
      repository: where `.push` pushes by default (default localhost:5000/kiln/<platform>).
      remote_tags: tags `.push` pushes.
      visibility: of the targets.
    """
    found = device_of(native.package_relative_label(platform))
    if found == None:
        fail("engine_bundle %s: %s is not a device of //platforms:devices.bzl (known: %s) nor //platforms:host" % (name, platform, ", ".join(sorted(DEVICES))))
    platform_name, device = found
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
        if device[setting] not in ("none", False):
            annotations["dev.kiln." + setting] = str(device[setting])
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

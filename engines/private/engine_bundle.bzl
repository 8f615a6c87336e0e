"""engine_bundle: an OCI image of one device's engines and the validated corpora."""

load("@rules_pkg//pkg:tar.bzl", "pkg_tar")
load("//oci:defs.bzl", "oci_image", "oci_push")

# buildifier: disable=bzl-visibility
load("//platforms/private:devices.bzl", "device_of", "unknown_device")
load(":checksums.bzl", "checksums")
load(":labels.bzl", "label_text")

_OCI_ARCHITECTURE = {"aarch64": "arm64", "x86_64": "amd64"}

# The annotation holding the sha256 of the bundle's engines/<platform>/manifest.json.
_MANIFEST_SHA256_ANNOTATION = "dev.kiln.engines.manifest.sha256"

def engine_bundle(name, engines, platform, corpora = [], repository = None, remote_tags = ["latest"], visibility = None):
    """An OCI image of one platform's engines and the validated corpora, and its push target.

    Targets: `<name>` (an oci_image: `<name>/` layout and `<name>.digest`) and
    `<name>.push` (`bazel run` it; `-- --repository HOST[:PORT]/PATH` to push elsewhere).
    The image is data-only, two layers: `engines/<platform>/` (engines, sidecars,
    manifest.json) and, given corpora, `corpus/` (the corpora and their SHA256SUMS), so
    the corpus layer is shared by every platform's bundle. Its annotations name the
    platform's hardware and runtime and, built with --stamp, the source revision;
    `dev.kiln.engines.manifest.sha256` is the sha256 of the manifest.json in the engines
    layer (computed as the image is assembled), so a device that trusts the image's
    digest can trust the manifest: `verify.py --expect-manifest-sha256 <that value>`. A
    GPU platform's bundle is compatible only where its engines are.

    Args:
      name: the image target.
      engines: the device's files from engine_set (`<set>.<device>`).
      platform: a device: @kiln_devices//:<name> (hardware.device in MODULE.bazel) or
        @kiln//platforms:host.
      corpora: corpus files to ship beside the engines.
      repository: where `.push` pushes by default (default localhost:5000/kiln/<platform>).
      remote_tags: tags `.push` pushes.
      visibility: of the targets.
    """
    label = native.package_relative_label(platform)
    found = device_of(label)
    if found == None:
        fail(unknown_device("engine_bundle " + name, platform))
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
        "dev.kiln.platform": label_text(label),
    }
    for setting in sorted(device):
        if device[setting] not in ("none", False):
            annotations["dev.kiln." + setting] = str(device[setting])
    oci_image(
        name = name,
        tars = layers,
        annotations = annotations,
        sha256_annotations = {_MANIFEST_SHA256_ANNOTATION: "engines/%s/manifest.json" % platform_name},
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

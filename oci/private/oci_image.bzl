"""oci_image: a data-only OCI image layout from pkg_tar layers, with rules_oci's attributes.

The layers are assembled into an OCI image layout by a hermetic, reproducible
action (oci/image.py).
"""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")

def _key_values(values):
    return ["%s=%s" % (key, values[key]) for key in sorted(values)]

def _oci_image_impl(ctx):
    layout = ctx.actions.declare_directory(ctx.label.name)
    digest = ctx.actions.declare_file(ctx.label.name + ".digest")
    args = ctx.actions.args()
    args.add("--out", layout.path)
    args.add("--digest-out", digest)
    args.add_all(ctx.files.tars, before_each = "--tar")
    args.add_all(ctx.attr.entrypoint, before_each = "--entrypoint")
    args.add_all(ctx.attr.cmd, before_each = "--cmd")
    args.add_all(_key_values(ctx.attr.env), before_each = "--env")
    args.add_all(_key_values(ctx.attr.labels), before_each = "--label")
    args.add_all(_key_values(ctx.attr.annotations), before_each = "--annotation")
    args.add_all(_key_values(ctx.attr.sha256_annotations), before_each = "--sha256-annotation")
    if ctx.attr.workdir:
        args.add("--workdir", ctx.attr.workdir)
    args.add("--os", ctx.attr.os)
    args.add("--architecture", ctx.attr.architecture)
    inputs = list(ctx.files.tars)

    # Only a stamped build reads the workspace status, so an unstamped image's digest
    # does not change with every commit.
    if ctx.attr.stamped:
        args.add("--stamp-info", ctx.info_file)
        inputs.append(ctx.info_file)
    run_python_tool(
        ctx,
        tool = ctx.attr._tool,
        arguments = [args],
        inputs = inputs,
        outputs = [layout, digest],
        mnemonic = "OciImage",
        progress_message = "Assembling the OCI image %{label}",
    )
    return [
        DefaultInfo(files = depset([layout, digest])),
        OutputGroupInfo(digest = depset([digest])),
    ]

_oci_image = rule(
    implementation = _oci_image_impl,
    attrs = {
        "annotations": attr.string_dict(doc = "Manifest annotations. Values may name {STABLE_*} status keys."),
        "architecture": attr.string(default = "amd64", values = ["amd64", "arm64"]),
        "cmd": attr.string_list(),
        "entrypoint": attr.string_list(),
        "env": attr.string_dict(),
        "labels": attr.string_dict(doc = "Config labels. Values may name {STABLE_*} status keys."),
        "os": attr.string(default = "linux", values = ["linux"]),
        "sha256_annotations": attr.string_dict(doc = "Manifest annotations whose value is the sha256 of a file in the layers: key -> its path in the image."),
        "stamped": attr.bool(mandatory = True),
        "tars": attr.label_list(allow_files = [".tar"], doc = "Layers, in order (pkg_tar outputs)."),
        "workdir": attr.string(),
        "_tool": attr.label(default = "//oci:image", executable = True, cfg = "exec"),
    },
    doc = "An OCI image layout directory `<name>/` and `<name>.digest` (the manifest digest).",
)

def oci_image(name, tars = [], entrypoint = [], cmd = [], env = {}, labels = {}, annotations = {}, sha256_annotations = {}, workdir = None, os = "linux", architecture = "amd64", **kwargs):
    """A data-only OCI image (rules_oci's `oci_image`, without `base`).

    Reproducible: the same layers and settings give the same digest. Annotation
    and label values may name stable workspace-status keys, e.g.
    `{"org.opencontainers.image.revision": "{STABLE_GIT_COMMIT}"}`: built with
    `--stamp` they are filled in, otherwise they read "unstamped".

    `sha256_annotations` (kiln's, not rules_oci's) maps an annotation key to a file's
    path in the image, e.g. `{"dev.kiln.engines.manifest.sha256":
    "engines/host/manifest.json"}`: the value is the sha256 (64 lowercase hex digits)
    of that file as the layers carry it, computed by the action that assembles the
    image, so the image's digest vouches for the file a device unpacks.

    Args:
      name: the image; outputs `<name>/` (OCI layout) and `<name>.digest`.
      tars: layers, in order (pkg_tar outputs).
      entrypoint: the config's Entrypoint.
      cmd: the config's Cmd.
      env: the config's Env.
      labels: the config's Labels.
      annotations: the manifest's annotations.
      sha256_annotations: annotation key -> the path of a file in the layers (in exactly
        one of them); the annotation's value is that file's sha256.
      workdir: the config's WorkingDir.
      os: the image's OS.
      architecture: amd64 or arm64.
      **kwargs: common attributes (visibility, tags, target_compatible_with, ...).
    """
    _oci_image(
        name = name,
        tars = tars,
        entrypoint = entrypoint,
        cmd = cmd,
        env = env,
        labels = labels,
        annotations = annotations,
        sha256_annotations = sha256_annotations,
        workdir = workdir,
        os = os,
        architecture = architecture,
        stamped = select({
            Label("//oci:stamp"): True,
            "//conditions:default": False,
        }),
        **kwargs
    )

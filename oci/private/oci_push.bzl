"""oci_push: `bazel run` pushes an oci_image with crane (oci/push.py)."""

def _oci_push_impl(ctx):
    layout = ctx.attr.image[DefaultInfo].files.to_list()
    directory = [f for f in layout if f.is_directory]
    digest = ctx.attr.image[OutputGroupInfo].digest.to_list()
    if len(directory) != 1 or len(digest) != 1:
        fail("oci_push %s: image %s is not an oci_image" % (ctx.label, ctx.attr.image.label))
    tool = ctx.attr._tool[DefaultInfo].files_to_run
    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    command = [
        tool.executable.short_path,
        "--layout",
        directory[0].short_path,
        "--digest",
        digest[0].short_path,
        "--default-repository",
        ctx.attr.repository,
    ]
    for tag in ctx.attr.remote_tags:
        command += ["--default-tag", tag]
    ctx.actions.write(
        output = launcher,
        content = "#!/usr/bin/env bash\nset -euo pipefail\nexec %s \"$@\"\n" % " ".join(["'%s'" % part for part in command]),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = directory + digest).merge(ctx.attr._tool[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = launcher, runfiles = runfiles)]

oci_push = rule(
    implementation = _oci_push_impl,
    attrs = {
        "image": attr.label(mandatory = True, doc = "An oci_image."),
        "remote_tags": attr.string_list(doc = "Tags to push (default: latest)."),
        "repository": attr.string(mandatory = True, doc = "HOST[:PORT]/PATH; `bazel run` it with `-- --repository ...` to push elsewhere."),
        "_tool": attr.label(default = "//oci:push", executable = True, cfg = "target"),
    },
    executable = True,
    doc = "`bazel run` pushes the image with crane (rules_oci's `oci_push`).",
)

"""wheel_file: one file a pip package installs, taken from its hub's library (no copy checked in)."""

def _wheel_file_impl(ctx):
    suffix = "/site-packages/" + ctx.attr.path
    found = [file for file in ctx.attr.package[DefaultInfo].default_runfiles.files.to_list() if file.path.endswith(suffix)]
    if len(found) != 1:
        fail("wheel_file %s: %s installs %d files at %s; check the path against the wheel's contents" % (
            ctx.label,
            ctx.attr.package.label,
            len(found),
            ctx.attr.path,
        ))
    return [DefaultInfo(files = depset(found))]

wheel_file = rule(
    implementation = _wheel_file_impl,
    attrs = {
        "package": attr.label(mandatory = True, doc = "The package's library in a pip hub, e.g. @pypi_ort_1_32//onnx:pkg."),
        "path": attr.string(mandatory = True, doc = "The file's path under site-packages, e.g. onnx/backend/test/data/light/light_resnet50.onnx."),
    },
    doc = "The file `path` of the installed package, as the wheel ships it.",
)

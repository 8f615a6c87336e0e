"""checksums: the SHA256SUMS shipped beside a bundle's corpora."""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")

def _checksums_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + "/SHA256SUMS")
    args = ctx.actions.args()
    args.add("--out", out)
    args.add_all(ctx.files.srcs)
    run_python_tool(
        ctx,
        tool = ctx.attr._tool,
        arguments = [args],
        inputs = ctx.files.srcs,
        outputs = [out],
        mnemonic = "Checksums",
        progress_message = "Writing SHA256SUMS for %{label}",
    )
    return [DefaultInfo(files = depset([out]))]

checksums = rule(
    implementation = _checksums_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = True, mandatory = True, allow_empty = False),
        "_tool": attr.label(default = "//engines:checksums", executable = True, cfg = "exec"),
    },
    doc = "`<name>/SHA256SUMS`: the files' digests by file name (`sha256sum -c` format).",
)

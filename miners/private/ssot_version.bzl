"""ssot_version: one library version's view of the library's SSOT, as the file that version's actions read."""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")

def _ssot_version_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".yaml")
    args = ctx.actions.args()
    args.add("--ssot", ctx.file.ssot)
    args.add("--version", ctx.attr.version)
    args.add("--out", out)
    run_python_tool(
        ctx,
        tool = ctx.attr._resolver,
        arguments = [args],
        inputs = [ctx.file.ssot],
        outputs = [out],
        mnemonic = "SsotVersion",
        progress_message = "Resolving %{label}",
    )
    return [DefaultInfo(files = depset([out]))]

ssot_version = rule(
    implementation = _ssot_version_impl,
    doc = "Writes `<name>.yaml`: the `versions.yaml` of a library as one version sees it (its miner_pins, " +
          "the shared native_types with that version's differences). The version's miners and gate read " +
          "this file, so editing another version's entry leaves their actions cached.",
    attrs = {
        "ssot": attr.label(
            doc = "The library's versions.yaml.",
            mandatory = True,
            allow_single_file = [".yaml"],
        ),
        "version": attr.string(
            doc = "A version declared under the SSOT's `versions:`.",
            mandatory = True,
        ),
        "_resolver": attr.label(
            default = "//miners:ssot",
            executable = True,
            cfg = "exec",
        ),
    },
)

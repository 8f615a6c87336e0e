"""miner_staging: one miner run over one library, as one action."""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")

def _miner_staging_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".yaml")
    args = ctx.actions.args()
    args.add("--ssot", ctx.file.ssot)
    args.add("--out", out)
    if ctx.files.sources:
        # Read the library from its source tree: the folder holding `<source_package>/`.
        marker = "/" + ctx.attr.source_package + "/"
        path = [f.path for f in ctx.files.sources if marker in "/" + f.path][0]
        args.add("--source-root", ("/" + path)[:("/" + path).index(marker)].lstrip("/") or ".")
    run_python_tool(
        ctx,
        tool = ctx.attr.miner,
        arguments = [args],
        inputs = [ctx.file.ssot] + ctx.files.sources,
        outputs = [out],
        mnemonic = "Mine" + ctx.attr.role.capitalize(),
        progress_message = "Mining %{label} (" + ctx.attr.role + ")",
    )
    return [DefaultInfo(files = depset([out]))]

miner_staging = rule(
    implementation = _miner_staging_impl,
    doc = "Runs one miner (static, dynamic or a lift) against the library its binary was built with; " +
          "writes `<name>.yaml`, a staging corpus file with the rules found and the conditions dropped.",
    attrs = {
        "miner": attr.label(
            doc = "A py_binary taking --ssot and --out, built with the library's pip hub.",
            mandatory = True,
            executable = True,
            cfg = "exec",
        ),
        "role": attr.string(
            doc = "The miner role, as in the SSOT's miner_pins.",
            mandatory = True,
            values = ["static", "dynamic", "lift"],
        ),
        "source_package": attr.string(
            doc = "With `sources`: the library's top-level package directory name.",
        ),
        "sources": attr.label_list(
            doc = "The library's source files, for a library read without importing it.",
            allow_files = [".py"],
        ),
        "ssot": attr.label(
            doc = "The library's versions.yaml.",
            mandatory = True,
            allow_single_file = [".yaml"],
        ),
    },
)

"""miner_staging: one miner run over one library, as one action."""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")

def _miner_staging_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".yaml")
    args = ctx.actions.args()
    args.add("--ssot", ctx.file.ssot)
    args.add("--out", out)
    run_python_tool(
        ctx,
        tool = ctx.attr.miner,
        arguments = [args],
        inputs = [ctx.file.ssot],
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
        "ssot": attr.label(
            doc = "The library's versions.yaml.",
            mandatory = True,
            allow_single_file = [".yaml"],
        ),
    },
)

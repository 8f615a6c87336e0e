"""exported_model: an ONNX model a framework's own exporter or converter writes, in a hermetic action."""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")

def _exported_model_impl(ctx):
    model = ctx.actions.declare_file(ctx.label.name + ".onnx")
    outputs = [model]
    if ctx.attr.external_data:
        outputs.append(ctx.actions.declare_file(ctx.label.name + ".onnx.data"))
    args = ctx.actions.args()
    args.add_all(ctx.attr.arguments)
    inputs = []
    if ctx.file.src:
        args.add("--src", ctx.file.src)
        inputs.append(ctx.file.src)
    args.add("--out", model)
    run_python_tool(
        ctx,
        tool = ctx.attr.tool,
        arguments = [args],
        inputs = inputs,
        outputs = outputs,
        mnemonic = "OnnxExport",
        progress_message = "Exporting ONNX model %s" % ctx.label.name,
    )
    return [
        DefaultInfo(files = depset([model])),
        OutputGroupInfo(external_data = depset(outputs[1:])),
    ]

exported_model = rule(
    implementation = _exported_model_impl,
    attrs = {
        "arguments": attr.string_list(doc = "The tool's arguments before `--src` and `--out`."),
        "external_data": attr.bool(doc = "The tool also writes `<name>.onnx.data` (output group external_data)."),
        "src": attr.label(allow_single_file = [".onnx"], doc = "A model the tool converts."),
        "tool": attr.label(mandatory = True, executable = True, cfg = "exec"),
    },
    doc = "`<name>.onnx` (and `<name>.onnx.data`), written by `tool ARGUMENTS [--src SRC] --out <name>.onnx`.",
)

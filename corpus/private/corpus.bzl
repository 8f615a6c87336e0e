"""corpus: merge a library's staging files, then gate every rule against the live library."""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")

def _corpus_impl(ctx):
    prefix = ctx.label.name + "/"
    merged = ctx.actions.declare_file(prefix + "invariants.merged.yaml")
    validated = ctx.actions.declare_file(prefix + "invariants.validated.yaml")
    quarantine = ctx.actions.declare_file(prefix + "quarantine.yaml")

    merge_args = ctx.actions.args()
    merge_args.add("--out", merged)
    merge_args.add_all(ctx.files.staging)
    run_python_tool(
        ctx,
        tool = ctx.attr._merger,
        arguments = [merge_args],
        inputs = ctx.files.staging,
        outputs = [merged],
        mnemonic = "CorpusMerge",
        progress_message = "Merging %{label}",
    )

    gate_args = ctx.actions.args()
    gate_args.add("--ssot", ctx.file.ssot)
    gate_args.add("--corpus", merged)
    gate_args.add("--validated", validated)
    gate_args.add("--quarantine", quarantine)
    run_python_tool(
        ctx,
        tool = ctx.attr.gate,
        arguments = [gate_args],
        inputs = [ctx.file.ssot, merged],
        outputs = [validated, quarantine],
        mnemonic = "CorpusGate",
        progress_message = "Replaying %{label} against the live library",
    )
    return [
        DefaultInfo(files = depset([validated, quarantine])),
        OutputGroupInfo(merged = depset([merged])),
    ]

corpus = rule(
    implementation = _corpus_impl,
    doc = "A library's validated corpus: `<name>/invariants.validated.yaml` (rules that passed the " +
          "gate) and `<name>/quarantine.yaml` (rules that did not, with reasons). The merged, " +
          "pre-gate corpus is in the `merged` output group.",
    attrs = {
        "gate": attr.label(
            doc = "The gate py_binary built with the library's pip hub (from library_tools).",
            mandatory = True,
            executable = True,
            cfg = "exec",
        ),
        "ssot": attr.label(
            doc = "The library's versions.yaml.",
            mandatory = True,
            allow_single_file = [".yaml"],
        ),
        "staging": attr.label_list(
            doc = "miner_staging targets of this library.",
            mandatory = True,
            allow_files = [".yaml"],
        ),
        "_merger": attr.label(
            default = "//corpus:merge",
            executable = True,
            cfg = "exec",
        ),
    },
)

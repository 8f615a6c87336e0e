"""corpus: merge a library's staging files, gate every rule against the live library, document the result."""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")

def _corpus_impl(ctx):
    merged = ctx.actions.declare_file(ctx.label.name + ".invariants.merged.yaml")
    validated = ctx.outputs.validated
    quarantine = ctx.outputs.quarantine
    docs = ctx.outputs.docs

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

    docs_args = ctx.actions.args()
    docs_args.add("--validated", validated)
    docs_args.add("--quarantine", quarantine)
    docs_args.add("--out", docs)
    run_python_tool(
        ctx,
        tool = ctx.attr._documenter,
        arguments = [docs_args],
        inputs = [validated, quarantine],
        outputs = [docs],
        mnemonic = "CorpusDocs",
        progress_message = "Documenting %{label}",
    )
    return [
        DefaultInfo(files = depset([validated, quarantine, docs])),
        OutputGroupInfo(merged = depset([merged])),
    ]

corpus = rule(
    implementation = _corpus_impl,
    # Predeclared, so each file has a label (`:<name>.rules.md`) for diff tests and update targets.
    outputs = {
        "docs": "%{name}.rules.md",
        "quarantine": "%{name}.quarantine.yaml",
        "validated": "%{name}.invariants.validated.yaml",
    },
    doc = "A library's corpus: `<name>.invariants.validated.yaml` (rules that passed the gate), " +
          "`<name>.quarantine.yaml` (rules that did not, with reasons) and `<name>.rules.md` (a readable " +
          "page). The merged, pre-gate corpus is in the `merged` output group.",
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
        "_documenter": attr.label(
            default = "//corpus:docs",
            executable = True,
            cfg = "exec",
        ),
        "_merger": attr.label(
            default = "//corpus:merge",
            executable = True,
            cfg = "exec",
        ),
    },
)

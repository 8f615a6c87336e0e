"""corpus_diff: what changed in a library's validation rules between consecutive versions."""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")

# What a corpus target's files or a checked-in corpus folder call the validated corpus:
# `<name>.invariants.validated.yaml` and `<version>/invariants.validated.yaml`.
_VALIDATED_SUFFIX = "invariants.validated.yaml"

def _validated_files(corpora):
    """The validated corpus files among each target's files; fails on a target that has none."""
    found = []
    for target in corpora:
        files = [f for f in target[DefaultInfo].files.to_list() if f.basename.endswith(_VALIDATED_SUFFIX)]
        if not files:
            fail("%s has no *%s file: corpora takes corpus targets or their validated corpus files" % (
                target.label,
                _VALIDATED_SUFFIX,
            ))
        found.extend(files)

    # One file named twice (a corpus target and its own output) is one version, not a duplicate.
    return sorted({f.path: f for f in found}.values(), key = lambda f: f.path)

def _corpus_diff_impl(ctx):
    corpora = _validated_files(ctx.attr.corpora)
    args = ctx.actions.args()
    for corpus in corpora:
        args.add("--corpus", corpus)
    args.add("--out-md", ctx.outputs.markdown)
    args.add("--out-json", ctx.outputs.json)
    run_python_tool(
        ctx,
        tool = ctx.attr._differ,
        arguments = [args],
        inputs = corpora,
        outputs = [ctx.outputs.markdown, ctx.outputs.json],
        mnemonic = "CorpusDiff",
        progress_message = "Comparing the versions of %{label}",
    )
    return [DefaultInfo(files = depset([ctx.outputs.markdown, ctx.outputs.json]))]

corpus_diff = rule(
    implementation = _corpus_diff_impl,
    # Predeclared, so each file has a label (`:<name>.md`, `:<name>.json`) for diff tests and update targets.
    outputs = {
        "json": "%{name}.json",
        "markdown": "%{name}.md",
    },
    doc = "What changed in one library's validation rules between consecutive versions. The corpora " +
          "are ordered by their `library_version` (PEP 440) and each consecutive pair is compared: rules " +
          "added, removed, with a changed severity (or `on_save`), predicate or message, and classes " +
          "added or removed; each change with the config that shows it. Writes `<name>.md` (readable) and " +
          "`<name>.json` (machine-readable), both byte-stable. Corpora of two libraries, or one version " +
          "twice, fail the action with a one-line error.",
    attrs = {
        "corpora": attr.label_list(
            doc = "The library's corpora, one per version, in any order: `corpus` / `library_corpus` " +
                  "targets, their `*.invariants.validated.yaml` outputs, checked-in " +
                  "`<version>/invariants.validated.yaml` files, or filegroups of them. Of each target only " +
                  "its `*invariants.validated.yaml` files are read.",
            mandatory = True,
            allow_empty = False,
            allow_files = [".yaml"],
        ),
        "_differ": attr.label(
            default = "//corpus:diff_tool",
            executable = True,
            cfg = "exec",
        ),
    },
)

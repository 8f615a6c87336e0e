"""config_test: check a repository's config files against kiln's invariant corpora, as a test."""

load("@bazel_skylib//lib:shell.bzl", "shell")

_CORPUS_FILE = "invariants.validated.yaml"

_LAUNCHER = """\
#!/usr/bin/env bash
# Written by config_test: kiln's checker on the target's config files.
set -euo pipefail
runfiles=$(cd "${{RUNFILES_DIR:-${{TEST_SRCDIR:-$0.runfiles}}}}" && pwd)
# The checker reads each config relative to its working directory and names it as given: from
# the main repository's root, the report shows the paths of the user's workspace. `bazel run`
# sets BUILD_WORKING_DIRECTORY, which the checker would read the configs from instead.
cd "$runfiles/{main_repository}"
unset BUILD_WORKING_DIRECTORY
exec "$runfiles/{checker}" {arguments}
"""

def _runfiles_path(ctx, file):
    """Where `file` is under a runfiles root: `<repository>/<path>`, for main and external files alike."""
    if file.short_path.startswith("../"):
        return file.short_path[len("../"):]
    return "%s/%s" % (ctx.workspace_name, file.short_path)

def _library_and_version(corpus_file):
    """corpus/<library>/<version>/invariants.validated.yaml -> (<library>, <version>)."""
    parts = corpus_file.dirname.split("/")
    if corpus_file.basename != _CORPUS_FILE or len(parts) < 2:
        fail("%s is not a corpus file (<library>/<version>/%s)" % (corpus_file.short_path, _CORPUS_FILE))
    return parts[-2], parts[-1]

def _version_key(version):
    """Newest first for listing: numeric parts as numbers (5.10.0 after 5.9.0)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in version.split(".")]

def _known_versions(corpus_files):
    """{library: [version, ...]}, each library's versions newest first."""
    versions = {}
    for corpus_file in corpus_files:
        library, version = _library_and_version(corpus_file)
        versions.setdefault(library, []).append(version)
    return {
        library: sorted(found, key = _version_key, reverse = True)
        for library, found in versions.items()
    }

def _config_test_impl(ctx):
    known = _known_versions(ctx.files._corpora)
    if ctx.attr.library not in known:
        fail("unknown library %r; known libraries: %s" % (
            ctx.attr.library,
            ", ".join(sorted(known)),
        ))
    if ctx.attr.version and ctx.attr.version not in known[ctx.attr.library]:
        fail("no corpus for %s==%s; %s versions there are: %s" % (
            ctx.attr.library,
            ctx.attr.version,
            ctx.attr.library,
            ", ".join(known[ctx.attr.library]),
        ))

    # Pinned at analysis time, newest by default: what a test checks against must not depend on
    # whatever the test's interpreter happens to have installed.
    library = "%s==%s" % (ctx.attr.library, ctx.attr.version or known[ctx.attr.library][0])
    arguments = ["--library", library] + (["--strict"] if ctx.attr.strict else [])

    # Relative to the main repository's runfiles root, which is where the launcher runs the checker.
    arguments += [f.short_path for f in ctx.files.srcs]

    checker = ctx.attr._checker[DefaultInfo]
    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        output = launcher,
        content = _LAUNCHER.format(
            main_repository = ctx.workspace_name,
            checker = _runfiles_path(ctx, ctx.executable._checker),
            arguments = " ".join([shell.quote(a) for a in arguments]),
        ),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = ctx.files.srcs).merge(checker.default_runfiles)
    return [DefaultInfo(executable = launcher, runfiles = runfiles)]

config_test = rule(
    implementation = _config_test_impl,
    test = True,
    doc = """\
Checks config files against kiln's validated invariant corpus of one library.

The test runs kiln's checker (`//tools:check`) on every file in `srcs`. Each file (YAML or
JSON) maps config classes to the keyword arguments a job passes them:

```yaml
GenerationConfig:            # or transformers.GenerationConfig
  do_sample: false
  max_new_tokens: 256
```

```starlark
load("@kiln//tools:defs.bzl", "config_test")

config_test(
    name = "generation_configs_test",
    srcs = glob(["jobs/**/*.yaml"]),
    library = "transformers",
)
```

The test log is the checker's report: per file, every rule that fires, with its severity
(`error`: the library will raise; `warn`: it will warn; `dormant`: it will silently ignore or
change a setting), the library's message and a fix taken from the rule's passing example.
Files are named by their path in the workspace.

Exit status (the test's verdict):

* 0 (pass): no `error` rule fires. `warn` and `dormant` findings are in the log but do not
  fail the test, unless `strict = True`.
* 1 (fail): an `error` rule fires in some file; with `strict = True`, any rule.
* 2 (fail): bad input, with the checker's message: a file that cannot be read or is not valid
  YAML/JSON, or a config class the library's corpus does not know.

An unknown `library` fails at analysis time, with the list of known libraries, and so does a
`version` there is no corpus for, with that library's versions.
""",
    attrs = {
        "library": attr.string(
            mandatory = True,
            doc = "The library the configs are for: one with a corpus in kiln, `transformers` or `vllm` " +
                  "(`corpus/<library>/<version>/invariants.validated.yaml`). Any other name fails at " +
                  "analysis time.",
        ),
        "srcs": attr.label_list(
            mandatory = True,
            allow_empty = False,
            allow_files = [".yaml", ".yml", ".json"],
            doc = "The config files to check (`.yaml`, `.yml`, `.json`), e.g. `glob([\"jobs/**/*.yaml\"])`. " +
                  "Must not be empty: a check of no files would pass whatever the configs say.",
        ),
        "strict": attr.bool(
            default = False,
            doc = "Fail on any finding (`warn` and `dormant` too), not only on `error` ones; each " +
                  "finding is reported at its rule's strictest severity, saving the config included " +
                  "(`on_save`: transformers raises on `save_pretrained` where it only logs on construction).",
        ),
        "version": attr.string(
            doc = "The library version whose corpus to check against, e.g. `\"5.23.0\"`: one of the " +
                  "versions kiln has a corpus of (`corpus/<library>/<version>/`); any other fails at " +
                  "analysis time, listing them. Empty: the newest kiln has a corpus of, chosen at " +
                  "analysis time (never from what the test's interpreter has installed). Set it to " +
                  "the version your jobs pin, for a verdict that does not change when kiln adds a " +
                  "newer corpus.",
        ),
        "_checker": attr.label(
            default = Label("//tools:check"),
            executable = True,
            # The test runs the checker itself, at test time: it belongs to the test's configuration.
            cfg = "target",
        ),
        "_corpora": attr.label(
            default = Label("//tools:corpora"),
            allow_files = [".yaml"],
        ),
    },
)

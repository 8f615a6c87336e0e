"""library_corpus: a library's corpus target, its checked-in copy, and the test that keeps them equal."""

load("@bazel_skylib//rules:diff_test.bzl", "diff_test")
load("@rules_python//python:defs.bzl", "py_binary")
load(":corpus.bzl", "corpus")

# Built output suffix -> file name of the checked-in copy under corpus/<library>/.
CHECKED_IN = {
    "invariants.validated.yaml": "invariants.validated.yaml",
    "quarantine.yaml": "quarantine.yaml",
    "rules.md": "rules.md",
}

def library_corpus(name, library, staging, checked_in = True, target_compatible_with = None, visibility = None):
    """`//corpus:<name>` plus `<name>.update` and `<name>_checked_in_*_test`.

    Args:
      name: the corpus name (the library's name).
      library: the miners package of the library, e.g. "//miners/transformers".
      staging: that library's miner_staging targets.
      checked_in: whether a copy is kept under corpus/<name>/ (with its update target and tests).
      target_compatible_with: where the corpus can be built.
      visibility: of the corpus target.
    """
    corpus(
        name = name,
        gate = library + ":gate",
        ssot = library + ":versions.yaml",
        staging = staging,
        target_compatible_with = target_compatible_with,
        visibility = visibility,
    )
    if not checked_in:
        return
    built = {suffix: ":%s.%s" % (name, suffix) for suffix in CHECKED_IN}
    checked_in = {suffix: "//corpus/%s:%s" % (name, file) for suffix, file in CHECKED_IN.items()}

    # ./bazelw run //corpus:<name>.update writes the built corpus back into corpus/<name>/.
    py_binary(
        name = name + ".update",
        srcs = [Label("//corpus:update.py")],
        main = Label("//corpus:update.py"),
        args = ["--dest", "corpus/" + name] + [
            "$(rootpath %s)=%s" % (built[suffix], CHECKED_IN[suffix])
            for suffix in sorted(CHECKED_IN)
        ],
        data = built.values(),
    )

    # The reviewable diff of every library bump: fails while the checked-in copy is stale.
    for suffix in sorted(CHECKED_IN):
        diff_test(
            name = "%s_checked_in_%s_test" % (name, suffix.split(".")[0]),
            size = "small",
            file1 = built[suffix],
            file2 = checked_in[suffix],
            failure_message = "corpus/%s/%s is stale: run ./bazelw run //corpus:%s.update and commit the diff" % (
                name,
                CHECKED_IN[suffix],
                name,
            ),
        )

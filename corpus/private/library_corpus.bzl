"""library_corpus: one corpus target, its checked-in copy, its update target and the tests that keep them equal."""

load("@bazel_skylib//rules:diff_test.bzl", "diff_test")
load("@rules_python//python:defs.bzl", "py_binary")
load(":corpus.bzl", "corpus")

# Built output suffix -> file name of the checked-in copy.
CHECKED_IN = {
    "invariants.validated.yaml": "invariants.validated.yaml",
    "quarantine.yaml": "quarantine.yaml",
    "rules.md": "rules.md",
}

# The staging files of one library version (miners/private/library_versions.bzl).
_ROLES = ["dynamic", "lift", "static"]

def checked_in_pairs(name, folder):
    """{built label: path of its checked-in copy under corpus/<library>/} for corpus `name`."""
    return {":%s.%s" % (name, suffix): "%s%s" % (folder, file) for suffix, file in CHECKED_IN.items()}

def update_binary(name, library_name, pairs):
    """A `bazel run` target writing each built file of `pairs` to its path under corpus/<library_name>/.

    Args:
      name: of the py_binary.
      library_name: the folder under corpus/.
      pairs: {built label: path under that folder}.
    """
    py_binary(
        name = name,
        srcs = [Label("//corpus:update.py")],
        main = Label("//corpus:update.py"),
        args = ["--dest", "corpus/" + library_name] + [
            "$(rootpath %s)=%s" % (built, pairs[built])
            for built in sorted(pairs)
        ],
        data = sorted(pairs),
    )

def library_corpus(
        name,
        library,
        staging = None,
        version = None,
        checked_in = True,
        target_compatible_with = None,
        visibility = None):
    """`//corpus:<name>` plus `<name>.update` and `<name>_checked_in_*_test`.

    Args:
      name: the corpus name: `<library>_<version>`, or the library's name for a library
        mined at one version only.
      library: the miners package of the library, e.g. "//miners/transformers".
      staging: that library's miner_staging targets (default: the version's, from library_versions).
      version: the library version (declared in the package's versions.yaml); the corpus
        uses that version's tools, SSOT view and staging files, and is checked in under
        corpus/<library>/<version>/.
      checked_in: whether a copy is kept under corpus/ (with its update target and tests).
      target_compatible_with: where the corpus can be built.
      visibility: of the corpus target.
    """
    suffix = "_" + version if version else ""
    corpus(
        name = name,
        gate = library + ":gate" + suffix,
        ssot = library + (":versions" + suffix if version else ":versions.yaml"),
        staging = staging or ["%s:%s%s" % (library, role, suffix) for role in _ROLES],
        target_compatible_with = target_compatible_with,
        visibility = visibility,
    )
    if not checked_in:
        return
    library_name = library.rpartition("/")[2]
    folder = "%s/" % version if version else ""
    pairs = checked_in_pairs(name, folder)

    # ./bazelw run //corpus:<name>.update writes the built corpus back into corpus/<library>/.
    update_binary(name + ".update", library_name, pairs)

    # The reviewable diff of every library bump: fails while the checked-in copy is stale.
    for suffix_name in sorted(CHECKED_IN):
        built = ":%s.%s" % (name, suffix_name)
        diff_test(
            name = "%s_checked_in_%s_test" % (name, suffix_name.split(".")[0]),
            size = "small",
            file1 = built,
            file2 = "//corpus/%s:%s" % (library_name, pairs[built]),
            failure_message = "corpus/%s/%s is stale: run ./bazelw run //corpus:%s.update and commit the diff" % (
                library_name,
                pairs[built],
                name,
            ),
        )

"""library_corpora: a library's corpus at each version kiln mines it, the newest under the library's name."""

load("@rules_python//python:defs.bzl", "py_binary")
load(":library_corpus.bzl", "CHECKED_IN", "checked_in_pairs", "library_corpus")

def version_key(version):
    """A sort key for release versions of numbers and dots ("4.57.3" < "5.0.0" < "5.23.0")."""
    parts = version.split(".")
    for part in parts:
        if not part.isdigit():
            fail("version %r: only release versions of numbers and dots (e.g. 5.23.0) can be ordered here" % version)
    return [int(part) for part in parts]

def library_corpora(library, versions, visibility = None):
    """Declares, for a library mined at several versions (`library_versions` in its miners package):

    * `<name>_<version>` per version (a `library_corpus`, checked in under corpus/<name>/<version>/);
    * `<name>`, the newest version, and its files as `<name>.invariants.validated.yaml`,
      `<name>.quarantine.yaml` and `<name>.rules.md`;
    * `<name>.update`, which writes every version's checked-in copy.

    `<name>` is the last component of `library`.

    Args:
      library: the miners package of the library, e.g. "//miners/transformers".
      versions: the versions, each declared in that package's versions.yaml; any order.
      visibility: of the corpus targets and the aliases of the newest.
    """
    name = library.rpartition("/")[2]
    ordered = sorted(versions, key = version_key)
    pairs = {}
    for version in ordered:
        corpus_name = "%s_%s" % (name, version)
        library_corpus(
            name = corpus_name,
            library = library,
            version = version,
            visibility = visibility,
        )
        pairs.update(checked_in_pairs(corpus_name, version + "/"))

    newest = "%s_%s" % (name, ordered[-1])
    native.alias(
        name = name,
        actual = ":" + newest,
        visibility = visibility,
    )
    for suffix in sorted(CHECKED_IN):
        native.alias(
            name = "%s.%s" % (name, suffix),
            actual = ":%s.%s" % (newest, suffix),
            visibility = visibility,
        )

    # ./bazelw run //corpus:<name>.update refreshes every version's checked-in copy at once
    # (what a bump of the project's tools needs: the merge and the gate run on every corpus).
    py_binary(
        name = name + ".update",
        srcs = [Label("//corpus:update.py")],
        main = Label("//corpus:update.py"),
        args = ["--dest", "corpus/" + name] + [
            "$(rootpath %s)=%s" % (built, pairs[built])
            for built in sorted(pairs)
        ],
        data = sorted(pairs),
    )

"""library_corpora: a library's corpus at each version kiln mines it, the newest under the library's name."""

load("@bazel_skylib//rules:diff_test.bzl", "diff_test")
load(":corpus_diff.bzl", "corpus_diff")
load(":library_corpus.bzl", "CHECKED_IN", "checked_in_pairs", "library_corpus", "update_binary")

# Built diff output suffix -> file name of its checked-in copy under corpus/<library>/.
CHANGES = {
    "json": "changes.json",
    "md": "changes.md",
}

def version_key(version):
    """A sort key for release versions of numbers and dots ("4.57.3" < "5.0.0" < "5.23.0").

    Args:
      version: a release version, e.g. "5.23.0".

    Returns:
      Its numbers, as a list of ints.
    """
    parts = version.split(".")
    for part in parts:
        if not part.isdigit():
            fail("version %r: only release versions of numbers and dots (e.g. 5.23.0) can be ordered here" % version)
    return [int(part) for part in parts]

def library_corpora(name, versions, library = None, visibility = None):
    """Declares, for a library mined at several versions (`library_versions` in its miners package):

    * `<name>_<version>` per version (a `library_corpus`, checked in under corpus/<name>/<version>/);
    * `<name>`, the newest version, and its files as `<name>.invariants.validated.yaml`,
      `<name>.quarantine.yaml` and `<name>.rules.md`;
    * `<name>.diff`: what changed between consecutive versions (`<name>.diff.md`, readable, and
      `<name>.diff.json`), checked in as corpus/<name>/changes.md and changes.json;
    * `<name>.update`, which writes every version's checked-in copy and the changes.

    Args:
      name: the library's name, e.g. "transformers".
      versions: the versions, each declared in the miners package's versions.yaml; any order.
      library: the miners package of the library (default "//miners/<name>").
      visibility: of the corpus targets and the aliases of the newest.
    """
    library = library or "//miners/" + name
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

    corpus_diff(
        name = name + ".diff",
        corpora = [":%s_%s" % (name, version) for version in ordered],
        visibility = visibility,
    )

    # A pull request that bumps a lock carries the changes it makes, next to the corpora.
    for suffix, file in sorted(CHANGES.items()):
        built = ":%s.diff.%s" % (name, suffix)
        pairs[built] = file
        diff_test(
            name = "%s_checked_in_changes_%s_test" % (name, suffix),
            size = "small",
            file1 = built,
            file2 = "//corpus/%s:%s" % (name, file),
            failure_message = "corpus/%s/%s is stale: run ./bazelw run //corpus:%s.update and commit the diff" % (
                name,
                file,
                name,
            ),
        )

    # ./bazelw run //corpus:<name>.update refreshes every version's checked-in copy and the
    # changes at once (what a bump of the project's tools needs: the merge and the gate run on
    # every corpus).
    update_binary(name + ".update", name, pairs)

"""How engine targets name platforms and targets (pure helpers, unit-tested in labels_test.bzl)."""

# Repository names of kiln and of @kiln_devices, whichever module is the root.
_KILN_REPO = Label("//engines:defs.bzl").repo_name
_DEVICES_REPO = Label("@kiln_devices//:defs.bzl").repo_name

def label_text(label, kiln_repo = _KILN_REPO, devices_repo = _DEVICES_REPO):
    """A label as engines and manifests record it: the same text in every workspace.

    kiln's own labels read `@kiln//...` and devices `@kiln_devices//:<name>`, whether
    kiln is the root module or a dependency (canonical repository names differ
    between the two, and between Bazel releases); the root module's read `//...`.
    The engine macros write it into `platform_label` and the rule compares it with
    the configuration's platform, so both sides go through this one function.

    Args:
      label: a Label.
      kiln_repo: kiln's repository name (for tests).
      devices_repo: @kiln_devices' repository name (for tests).

    Returns:
      The label as a string.
    """
    target = "//%s:%s" % (label.package, label.name)
    if label.repo_name == kiln_repo:
        return "@kiln" + target
    if label.repo_name == devices_repo:
        return "@kiln_devices" + target
    if label.repo_name == "":
        return target
    return str(label)

def target_name(label):
    """The name part of a label string (`//fleet:fleet.mlp.x` -> `fleet.mlp.x`)."""
    return label.rpartition(":")[2]

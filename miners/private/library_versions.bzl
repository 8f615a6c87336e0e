"""library_versions: per version of a mined library, its SSOT view, its tools and its staging files."""

load(":library_tools.bzl", "library_tools")
load(":miner_staging.bzl", "miner_staging")
load(":ssot_version.bzl", "ssot_version")

# The miner roles every mined library runs; each is one action per version.
ROLES = ["dynamic", "lift", "static"]

# Not one target but a set per version, each named after its version.
# buildifier: disable=unnamed-macro
def library_versions(versions, visibility = None):
    """Declares, for each version of the package's library:

    * `versions_<version>`: that version's view of `versions.yaml`;
    * `static_miner_<version>`, `dynamic_miner_<version>`, `lift_miner_<version>`, `gate_<version>`:
      the tools, built with that version's hub;
    * `static_<version>`, `dynamic_<version>`, `lift_<version>`: the staging files.

    Args:
      versions: {version: `all_requirements` of that version's hub}. Every version must be
        declared under `versions:` in the package's versions.yaml.
      visibility: of the generated targets.
    """
    for version, requirements in versions.items():
        ssot_version(
            name = "versions_" + version,
            ssot = "versions.yaml",
            version = version,
            visibility = visibility,
        )
        library_tools(
            requirements = requirements,
            suffix = "_" + version,
            visibility = visibility,
        )
        for role in ROLES:
            miner_staging(
                name = "%s_%s" % (role, version),
                miner = ":%s_miner_%s" % (role, version),
                role = role,
                ssot = ":versions_" + version,
                visibility = visibility,
            )

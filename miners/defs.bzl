"""Public API of the miners: re-exports only (implementations in private/)."""

load("//miners/private:library_tools.bzl", _library_tools = "library_tools")
load("//miners/private:library_versions.bzl", _library_versions = "library_versions")
load("//miners/private:miner_staging.bzl", _miner_staging = "miner_staging")
load("//miners/private:ssot_version.bzl", _ssot_version = "ssot_version")

library_tools = _library_tools
library_versions = _library_versions
miner_staging = _miner_staging
ssot_version = _ssot_version

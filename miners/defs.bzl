"""Public API of the miners: re-exports only (implementations in private/)."""

load("//miners/private:library_tools.bzl", _library_tools = "library_tools")
load("//miners/private:miner_staging.bzl", _miner_staging = "miner_staging")

library_tools = _library_tools
miner_staging = _miner_staging

"""kiln's public rules for other repositories: `load("@kiln//tools:defs.bzl", "config_test")`."""

load("//tools/private:config_test.bzl", _config_test = "config_test")

config_test = _config_test

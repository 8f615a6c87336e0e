"""Runs pytest on the test files given as arguments (the entry point of every py_pytest target)."""

from __future__ import annotations

import sys

import pytest

if __name__ == "__main__":
    # No cache directory: the runfiles tree is read-only, and results must not
    # depend on a previous run.
    sys.exit(pytest.main(["-p", "no:cacheprovider", "-q", "--strict-markers", *sys.argv[1:]]))

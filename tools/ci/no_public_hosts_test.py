"""What counts as naming a public host in tests and tools."""

from __future__ import annotations

import pytest

from tools.ci import no_public_hosts

# The public names are put together here, so that this file names none itself: the
# check scans tests/ and tools/, this file included.
_ORG, _COM = ".o" + "rg", ".c" + "om"
DEBIAN, PYPI, GITHUB = "deb.debian" + _ORG, "pypi" + _ORG, "github" + _COM


@pytest.mark.parametrize(
    "line",
    [
        f"uris=http://{DEBIAN}/debian",
        f'HOST, ADDRESS = "{PYPI}", "' + ".".join(["151", "101", "0", "223"]) + '"',
        f"pip download --index-url https://{PYPI}/simple torch",
        "connect(('" + ".".join(["8"] * 4) + "', 53))",
        f"git clone git@{GITHUB}:owner/repo",
    ],
)
def test_public_hosts_are_found(line):
    assert no_public_hosts.findings(line), line


@pytest.mark.parametrize(
    "line",
    [
        "--remote_cache=grpc://127.0.0.1:50051",
        "curl http://localhost:8080/v2/",
        '"registryUrls": ["https://cpu-builds.invalid/whl/cpu"]',
        "documentation address 192.0.2.1 and 10.0.0.7",
        "source tests/e2e/lib.sh; python3 tools/ci/no_public_hosts.py",
        "torch==2.13.0+cpu nvidia-cuda-crt==13.5.37.1",
        '_MERGE_TAG = "tag:yaml.org,2002:merge"',
        "https://${REGISTRY}/v2/ and {host}.example.com",
    ],
)
def test_loopback_reserved_and_identifiers_are_not(line):
    assert no_public_hosts.findings(line) == [], line

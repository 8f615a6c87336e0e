"""A miner action cannot open a network connection.

The probe ran inside a miner_staging action; this test (which is allowed the
network) checks what the probe saw, and that the host itself has more than a
loopback interface — otherwise the check would prove nothing.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

REPORT = "tests/hermeticity/network_probe_staging.yaml"


def test_miner_action_has_no_network():
    report = json.loads(Path(REPORT).read_text(encoding="utf-8"))
    assert report["interfaces"] == ["lo"], report
    assert report["resolve"].startswith("failed"), report
    assert report["connect"].startswith("failed"), report


def test_the_host_does_have_a_network():
    interfaces = sorted(name for _, name in socket.if_nameindex())
    assert [name for name in interfaces if name != "lo"], (
        f"this machine has only {interfaces}; the sandbox check above proves nothing here"
    )

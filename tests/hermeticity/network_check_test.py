"""The no-network check's verdicts, and the probe and the listener against each other on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import network_check  # noqa: E402
import network_probe  # noqa: E402

ISOLATED = {"interfaces": ["lo"], "tcp": "failed: ConnectionRefusedError", "dns": "failed: ConnectionRefusedError"}
RAN = [{"runner": "linux-sandbox", "mnemonic": "MineStatic"}]


def test_isolated_actions_pass():
    assert network_check.check({"MineStatic": ISOLATED}, {"MineStatic": RAN}, network_check.Heard()) == []


@pytest.mark.parametrize(
    ("report", "spawns", "expected"),
    [
        (ISOLATED | {"tcp": "reached", "dns": "answered"}, RAN, "reached the host's loopback by tcp and dns"),
        (ISOLATED | {"dns": "answered"}, RAN, "reached the host's loopback by dns"),
        (ISOLATED | {"interfaces": ["eth0", "lo"]}, RAN, "sees network interfaces"),
        (ISOLATED, [{"runner": "disk cache hit"}], "came from a cache"),
        (ISOLATED, [{"runner": "linux-sandbox", "cacheHit": True}], "came from a cache"),
        (ISOLATED, [], "no probe in the execution log"),
        (None, RAN, "wrote no report"),
    ],
)
def test_each_failure_is_named(report, spawns, expected):
    problems = network_check.check({"MineStatic": report}, {"MineStatic": spawns}, network_check.Heard())
    assert len(problems) == 1 and expected in problems[0], problems


def test_what_the_listener_heard_fails_the_check_even_if_every_report_looks_isolated():
    heard = network_check.Heard()
    heard.add("tcp", "CorpusGate")
    problems = network_check.check({"CorpusGate": ISOLATED}, {"CorpusGate": RAN}, heard)
    assert problems == ["the listener heard from actions: tcp ['CorpusGate'], dns []"]


def test_the_runner_can_be_required():
    problems = network_check.check(
        {"MineStatic": ISOLATED}, {"MineStatic": RAN}, network_check.Heard(), runner="remote"
    )
    assert problems == ["MineStatic: the probe ran on ['linux-sandbox'], not remote"]


def test_the_mnemonics_are_read_from_the_bzl_file():
    kinds = network_check.action_mnemonics()
    assert {"MineStatic", "MineDynamic", "MineLift", "CorpusMerge", "CorpusGate", "EngineCompile", "OciImage"} <= set(
        kinds
    )
    assert kinds == sorted(kinds)


def test_dns_query_and_answer_round_trip():
    query = network_probe.dns_query("minestatic.probe.kiln.invalid", 0x6B6E)
    assert network_check.query_name(query) == "minestatic.probe.kiln.invalid"
    answer = network_check.dns_answer(query)
    assert answer[:2] == query[:2] and answer.endswith(bytes([127, 0, 0, 1]))


def test_only_loopback_addresses_are_accepted():
    assert network_probe.loopback_address("127.0.0.1:53") == ("127.0.0.1", 53)
    for text in ("192.0.2.1:53", "localhost:53", "127.0.0.1"):
        with pytest.raises(Exception, match="not a loopback"):
            network_probe.loopback_address(text)


def test_a_probe_that_shares_the_network_reaches_the_listener(tmp_path):
    # Outside any sandbox the probe must get through: the check can tell the two apart.
    heard = network_check.Heard()
    tcp, dns, servers = network_check.start_listeners(heard)
    try:
        out = tmp_path / "report.json"
        argv = ["--kind", "MineStatic", "--tcp", tcp, "--dns", dns, "--out", str(out)]
        subprocess.run([sys.executable, str(HERE / "network_probe.py"), *argv], check=True, timeout=60)
    finally:
        for server in servers:
            server.shutdown()
    report = json.loads(out.read_text(encoding="utf-8"))
    assert (report["tcp"], report["dns"]) == ("reached", "answered"), report
    assert heard.tcp == ["MineStatic"] and heard.dns == ["minestatic.probe.kiln.invalid"]
    assert network_check.check({"MineStatic": report}, {"MineStatic": RAN}, heard)

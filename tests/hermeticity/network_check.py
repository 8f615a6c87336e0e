"""The no-network proof: no kind of build action can reach a listener outside its sandbox.

    python3 tests/hermeticity/network_check.py [--runner R] [-- BAZEL_FLAGS...]

Starts a TCP listener and a DNS responder on 127.0.0.1 (this process, outside every
sandbox), builds //tests/hermeticity:probes against them with BAZEL_FLAGS (for
example --config=remote-exec), and checks, for each kind of action in
ACTION_MNEMONICS (tools/bazel/python_tool_action.bzl):

  - the execution log has its probe, and the probe ran now (no cache served it),
    with --runner R on that runner ("remote" for a remote worker);
  - the probe saw only a loopback interface, and neither its connection nor its
    DNS query got through;
  - the listener and the responder heard from no action at all.

Exit status 0 when all of that holds, 1 when it does not (each failure on a line),
2 when the build itself failed. With the sandbox off on purpose (BAZEL_FLAGS
--spawn_strategy=local) it must fail for every kind: tests/e2e/network.sh checks that
it does. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "bench"))
import exec_log  # noqa: E402

TARGET = "//tests/hermeticity:probes"
REPORTS = REPO / "bazel-bin" / "tests" / "hermeticity" / "probes"


def action_mnemonics() -> list[str]:
    """ACTION_MNEMONICS, read from the .bzl file that defines it."""
    text = (REPO / "tools" / "bazel" / "python_tool_action.bzl").read_text(encoding="utf-8")
    block = re.search(r"^ACTION_MNEMONICS = \[(.*?)^\]", text, re.M | re.S)
    if not block:
        raise SystemExit("error: ACTION_MNEMONICS not found in tools/bazel/python_tool_action.bzl")
    return re.findall(r'"(\w+)"', block.group(1))


class Heard:
    """What the listener and the responder received, by whom."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tcp: list[str] = []
        self.dns: list[str] = []

    def add(self, kind: str, what: str) -> None:
        with self.lock:
            getattr(self, kind).append(what)


def query_name(packet: bytes) -> str:
    labels, position = [], 12
    while position < len(packet) and packet[position]:
        length = packet[position]
        labels.append(packet[position + 1 : position + 1 + length].decode("ascii", "replace"))
        position += 1 + length
    return ".".join(labels)


def dns_answer(packet: bytes) -> bytes:
    """A reply to a one-question query: the question, answered with 127.0.0.1."""
    end = packet.index(b"\x00", 12) + 5
    header = packet[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + socket.inet_aton("127.0.0.1")
    return header + packet[12:end] + answer


def start_listeners(heard: Heard) -> tuple[str, str, list[socketserver.BaseServer]]:
    class Tcp(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            heard.add("tcp", self.rfile.readline(200).decode("utf-8", "replace").strip() or "?")

    class Dns(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            packet, sock = self.request
            if len(packet) > 12:
                heard.add("dns", query_name(packet))
                sock.sendto(dns_answer(packet), self.client_address)

    servers: list[socketserver.BaseServer] = [
        socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tcp),
        socketserver.ThreadingUDPServer(("127.0.0.1", 0), Dns),
    ]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    tcp, dns = (f"127.0.0.1:{server.server_address[1]}" for server in servers)
    return tcp, dns, servers


def check(
    reports: dict[str, dict | None],
    spawns: dict[str, list[dict]],
    heard: Heard,
    *,
    runner: str | None = None,
) -> list[str]:
    """The failures: one line each. Pure, for the unit test."""
    problems = []
    for kind in sorted(set(reports) | set(spawns)):
        runs = spawns.get(kind, [])
        if not runs:
            problems.append(f"{kind}: no probe in the execution log")
        elif not all(exec_log.ran(spawn) for spawn in runs):
            problems.append(f"{kind}: the probe's result came from a cache, not from running it")
        elif runner and {spawn.get("runner") for spawn in runs} != {runner}:
            problems.append(f"{kind}: the probe ran on {sorted({spawn.get('runner') for spawn in runs})}, not {runner}")
        report = reports.get(kind)
        if report is None:
            problems.append(f"{kind}: the probe wrote no report")
            continue
        reached = [what for what in ("tcp", "dns") if not report[what].startswith("failed")]
        if reached:
            problems.append(f"{kind}: the action reached the host's loopback by {' and '.join(reached)}")
        if report["interfaces"] != ["lo"]:
            problems.append(f"{kind}: the action sees network interfaces {report['interfaces']}")
    if heard.tcp or heard.dns:
        problems.append(f"the listener heard from actions: tcp {sorted(heard.tcp)}, dns {sorted(heard.dns)}")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runner", help='every probe must have run on this runner (e.g. "remote")')
    parser.add_argument("bazel_flags", nargs="*", help="after --: flags for the probe build")
    args = parser.parse_args(argv)
    kinds = action_mnemonics()
    heard = Heard()
    tcp, dns, servers = start_listeners(heard)
    with tempfile.TemporaryDirectory(prefix="kiln-network-") as scratch:
        log = Path(scratch) / "exec.json"
        build = subprocess.run(
            [
                str(REPO / "bazelw"),
                "build",
                TARGET,
                f"--//tests/hermeticity:tcp={tcp}",
                f"--//tests/hermeticity:dns={dns}",
                f"--execution_log_json_file={log}",
                "--color=no",
                "--curses=no",
                *args.bazel_flags,
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        for server in servers:
            server.shutdown()
        if build.returncode != 0:
            print(build.stderr[-4000:], file=sys.stderr)
            print(f"error: building {TARGET} failed (exit {build.returncode})", file=sys.stderr)
            return 2
        spawns: dict[str, list[dict]] = {}
        for spawn in exec_log.spawns(str(log)):
            if spawn.get("targetLabel") == TARGET:
                spawns.setdefault(spawn.get("mnemonic", "?"), []).append(spawn)
    reports: dict[str, dict | None] = {}
    for kind in kinds:
        path = REPORTS / f"{kind}.json"
        reports[kind] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    problems = check(reports, spawns, heard, runner=args.runner)
    for kind in kinds:
        report, runs = reports.get(kind) or {}, spawns.get(kind, [])
        runner = ", ".join(sorted({spawn.get("runner", "?") for spawn in runs})) or "-"
        print(f"{kind:16} {runner:16} tcp {report.get('tcp', '-'):32} dns {report.get('dns', '-')}")
    print(f"listener heard: {len(heard.tcp)} connection(s), {len(heard.dns)} DNS querie(s)")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    print(f"{len(kinds)} kinds of action: none reached the network" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

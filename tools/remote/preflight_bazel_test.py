"""The remote-execution guard through the real ./bazelw and Bazel, on a small workspace of its own.

The workspace is a copy of kiln's ./bazelw and tools (read from the checkout this file is
in) with two execution platforms, `plain` and `gpu`, and a genrule for each; a stand-in
bgd records each probe, and refuses (never starts) a job for the gpu pool. Every command
runs with --nobuild, so nothing but the probe's stand-in is ever asked to execute
anything, and the remote executor is a closed port on 127.0.0.1. It starts a Bazel
server of its own (some seconds), so its Bazel target is manual and local:

    ./bazelw test //tools/remote:preflight_bazel_test
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BAZEL = shutil.which("bazel") or shutil.which("bazelisk")

pytestmark = pytest.mark.skipif(BAZEL is None, reason="no Bazel on PATH")

BUILD = """\
constraint_setting(name = "pool")

constraint_value(name = "gpu", constraint_setting = ":pool")

platform(name = "plain", exec_properties = {"OSFamily": "linux", "pool": "plain"})

platform(name = "gpu_platform", constraint_values = [":gpu"], exec_properties = {"OSFamily": "linux", "pool": "gpu"})

genrule(name = "cpu_thing", outs = ["cpu.txt"], cmd = "echo cpu > $@")

genrule(name = "gpu_thing", outs = ["gpu.txt"], cmd = "echo gpu > $@", exec_compatible_with = [":gpu"])
"""

FAKE_BGD = f"""#!{sys.executable}
import json, os, sys, time
argv = sys.argv[1:]
with open(os.environ["FAKE_BGD_LOG"], "a") as log:
    log.write(json.dumps(argv) + "\\n")
if "pool" in argv and argv[argv.index("pool") + 1] == "gpu":
    time.sleep(60)
"""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Workspace:
    def __init__(self, root: Path):
        self.root = root / "ws"
        self.port = closed_port()
        for relative in ("bazelw", "tools/bazel/debian_sid.sh", "tools/remote/preflight.py"):
            (self.root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / relative, self.root / relative)
        shutil.copytree(REPO / "tools/bazel/offline_modules", self.root / "tools/bazel/offline_modules")
        (self.root / "MODULE.bazel").write_text(
            # rules_pkg: ./bazelw's host rc overrides it (Debian's offline Bazel), which needs it in the graph.
            'bazel_dep(name = "rules_pkg", version = "0.9.1")\n'
            'register_execution_platforms("//:plain", "//:gpu_platform")\n'
        )
        (self.root / "BUILD.bazel").write_text(BUILD)
        (self.root / ".bazelrc").write_text(
            "common --noenable_workspace\n"
            "common --lockfile_mode=off\n"
            f"build:remote-exec --remote_executor=grpc://127.0.0.1:{self.port}\n"
            "build:remote-exec --remote_instance_name=main\n"
            "build:remote-cache --remote_cache=grpc://127.0.0.1:1\n"
            "try-import %workspace%/.bazelrc.host\n"
            "try-import %workspace%/user.bazelrc\n"
        )
        self.home = root / "home"
        self.home.mkdir()
        self.output_root = root / "out"
        self.log = root / "bgd.jsonl"
        bgd = root / "bgd"
        bgd.write_text(FAKE_BGD)
        bgd.chmod(0o755)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "KILN_PREFLIGHT_BGD": str(bgd),
            "FAKE_BGD_LOG": str(self.log),
            "KILN_PREFLIGHT_TIMEOUT": "3",
        }

    def bazelw(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.log.unlink(missing_ok=True)
        return subprocess.run(
            [str(self.root / "bazelw"), f"--output_user_root={self.output_root}", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def pools(self) -> list[str]:
        if not self.log.exists():
            return []
        probes = [json.loads(line) for line in self.log.read_text().splitlines()]
        return sorted(argv[argv.index("pool") + 1] for argv in probes if "pool" in argv)

    def probes(self) -> list[list[str]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("preflight"))
    warm = ws.bazelw("--max_idle_secs=300", "build", "--nobuild", "//:cpu_thing")  # starts the server
    assert warm.returncode == 0, warm.stderr[-3000:]
    yield ws
    subprocess.run(
        [str(BAZEL), f"--output_user_root={ws.output_root}", "shutdown"],
        cwd=ws.root,
        env=ws.env,
        capture_output=True,
        check=False,
        timeout=120,
    )


def run(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return ws.bazelw("--max_idle_secs=300", "build", "--nobuild", *args)


def test_a_local_build_is_not_probed(workspace):
    result = run(workspace, "//:cpu_thing", "//:gpu_thing")
    assert result.returncode == 0, result.stderr[-3000:]
    assert workspace.probes() == []
    result = run(workspace, "--config=remote-cache", "//:cpu_thing")
    assert result.returncode == 0, result.stderr[-3000:]
    assert workspace.probes() == []


@pytest.mark.parametrize("config", [["--config=remote-exec"], ["--config", "remote-exec"]])
def test_config_on_the_command_line(workspace, config):
    result = run(workspace, *config, "//:cpu_thing")
    assert result.returncode == 0, result.stderr[-3000:]
    assert workspace.pools() == ["plain"]  # not the gpu pool: no action of //:cpu_thing needs it
    (argv,) = workspace.probes()
    assert argv[argv.index("--remote") + 1] == f"grpc://127.0.0.1:{workspace.port}"
    assert argv[argv.index("--instance-name") + 1] == "main"


def test_a_test_command_with_an_option_aquery_refuses(workspace):
    result = workspace.bazelw(
        "--max_idle_secs=300",
        "test",
        "--nobuild",
        "--config=remote-exec",
        "--test_verbose_timeout_warnings",
        "//:cpu_thing",
    )
    assert "workers take every kind of job this build sends (1:" in result.stderr, result.stderr[-3000:]
    assert workspace.pools() == ["plain"]


def test_patterns_wildcards_and_negations(workspace):
    result = run(workspace, "--config=remote-exec", "--", "//...", "-//:gpu_thing")
    assert result.returncode == 0, result.stderr[-3000:]
    assert workspace.pools() == ["plain"]
    result = run(workspace, "--config=remote-exec", "//:all")
    assert result.returncode == 2
    assert workspace.pools() == ["gpu", "plain"]


def test_a_bare_remote_executor_with_a_header(workspace):
    result = run(
        workspace,
        f"--remote_executor=grpc://127.0.0.1:{workspace.port}",
        "--remote_header=Authorization=Bearer t0ken",
        "//:cpu_thing",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (argv,) = workspace.probes()
    assert "--auth-token" in argv and "--instance-name" not in argv


def test_config_in_an_rc_file_and_a_pool_no_worker_offers(workspace):
    rc = workspace.root / "user.bazelrc"
    rc.write_text("build --config=remote-exec\n")
    try:
        result = run(workspace, "//:cpu_thing", "//:gpu_thing")
    finally:
        rc.unlink()
    assert result.returncode == 2, result.stderr[-3000:]
    assert workspace.pools() == ["gpu", "plain"]
    assert "no worker started a job needing {OSFamily=linux, pool=gpu}" in result.stderr


def test_a_header_bgd_cannot_send_is_refused(workspace):
    result = run(workspace, "--config=remote-exec", "--remote_header=x-api-key=k", "//:cpu_thing")
    assert result.returncode == 2
    assert "'x-api-key'" in result.stderr and "KILN_NO_PREFLIGHT=1" in result.stderr
    assert workspace.probes() == []
    workspace.env["KILN_NO_PREFLIGHT"] = "1"
    try:
        skipped = run(workspace, "--config=remote-exec", "--remote_header=x-api-key=k", "//:cpu_thing")
    finally:
        del workspace.env["KILN_NO_PREFLIGHT"]
    assert skipped.returncode == 0, skipped.stderr[-3000:]

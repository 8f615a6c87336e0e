#!/usr/bin/env python3
"""A local Remote Execution API deployment on 127.0.0.1.

    tools/remote/up   [--state DIR] [--port N] [--pg-port N] [--worker NAME:KEY=VALUE,...]...
    tools/remote/down [--state DIR] [--delete]
    tools/remote/reapi.py status [--state DIR]

`up` starts a private PostgreSQL cluster, BuildGrid (CAS, ActionCache, Execution,
Bots) and one buildbox worker per --worker (each with its own buildbox-casd),
all listening on 127.0.0.1 only, records their PIDs under the state directory and
prints the endpoint. It is idempotent: when the deployment is already up it says
so. `down` stops everything it started, by PID. `tools/remote/up` installs what
is missing first (BuildGrid into a virtualenv, buildbox from Debian unstable).

`up` checks each worker takes work with the probe of tools/remote/preflight.py, the
queue-forever guard ./bazelw runs before a remote build against this deployment or
any other REAPI service.

Worker properties are what a worker *is*; Bazel's execution platforms
(//platforms/exec, @host_hardware//:default) send the properties of the hardware
an action needs: {OSFamily, arch} for ordinary actions and portable engine
compiles, plus isa_level for ISA-tied engine compiles, plus gpu_sm/jetpack/tensorrt for
TensorRT compiles (tensorrt and gpu_compat=ampere_plus for Ampere-plus plans).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kiln" / "remote"
VENV = CACHE / "venv"
DEFAULT_STATE = CACHE / "local"
# The keys BuildGrid matches jobs to workers on; a job with any other key is refused at once.
MATCH_KEYS = ("OSFamily", "arch", "isa_level", "gpu_sm", "jetpack", "tensorrt", "gpu_compat")
REPO = Path(__file__).resolve().parents[2]


def say(message: str) -> None:
    print(f"reapi: {message}", file=sys.stderr, flush=True)


class DeploymentError(Exception):
    pass


# ---------------------------------------------------------------- processes


def _pid_file(state: Path, name: str) -> Path:
    return state / "pids" / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running(state: Path, name: str) -> int | None:
    path = _pid_file(state, name)
    if not path.is_file():
        return None
    pid = int(path.read_text().strip() or 0)
    return pid if pid and _alive(pid) else None


def _spawn(state: Path, name: str, command: list[str], *, cwd: Path | None = None) -> int:
    log = state / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd or state,
            start_new_session=True,
        )
    _pid_file(state, name).parent.mkdir(parents=True, exist_ok=True)
    _pid_file(state, name).write_text(f"{process.pid}\n")
    return process.pid


def _stop(state: Path, name: str) -> None:
    pid = _running(state, name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    _pid_file(state, name).unlink(missing_ok=True)


def _wait_for_port(port: int, *, what: str, timeout: float, pid: int | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not _alive(pid):
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise DeploymentError(f"{what} exited during start-up; its log ({log}) ends:\n{tail}")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise DeploymentError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s (log: {log})")


# ---------------------------------------------------------------- PostgreSQL


def _pg_bin(tool: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"), reverse=True):
        return str(candidate)
    raise DeploymentError(f"PostgreSQL's {tool} is not installed (Debian: apt-get install postgresql)")


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; run its tools as the postgres user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _pg_dir(state: Path) -> Path:
    """The cluster's directory. As root, PostgreSQL runs as `postgres`, which cannot enter /root:
    the cluster then lives under /var/tmp, reachable from the state directory by a symlink."""
    if os.geteuid() != 0:
        return state / "pg"
    link = state / "pg"
    if not link.is_symlink():
        state.mkdir(parents=True, exist_ok=True)
        # A fresh, unguessable directory: a predictable name in a shared /var/tmp could be planted.
        target = Path(tempfile.mkdtemp(prefix="kiln-reapi-pg.", dir="/var/tmp"))
        shutil.chown(target, "postgres", "postgres")
        link.symlink_to(target)
    return link


def _start_postgres(state: Path, port: int) -> None:
    pg = _pg_dir(state).resolve()  # postgres must not need to pass through the caller's directories
    data, sockets = pg / "data", pg / "run"
    if not data.exists():
        sockets.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(sockets, "postgres", "postgres")
        subprocess.run(
            _as_postgres([_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "bgd", "--no-sync"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    status = subprocess.run(
        _as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "status"]), capture_output=True, check=False
    )
    if status.returncode != 0:
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(pg / "log"), "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    exists = subprocess.run(
        _as_postgres([_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "bgd", "-d", "bgd", "-c", "select 1"]),
        capture_output=True,
        check=False,
    )
    if exists.returncode != 0:
        subprocess.run(
            _as_postgres([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "bgd", "bgd"]), check=True
        )


def _stop_postgres(state: Path) -> None:
    data = (state / "pg").resolve() / "data"
    if data.exists():
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            check=False,
        )


# ---------------------------------------------------------------- BuildGrid


BUILDGRID = ("buildgrid==0.4.4", "psycopg2-binary==2.9.13")


def _installed_buildgrid() -> str | None:
    """BuildGrid's version in the virtualenv; None where there is no virtualenv yet (a fresh machine)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        return None
    shown = subprocess.run([str(python), "-m", "pip", "show", "buildgrid"], capture_output=True, text=True, check=False)
    match = re.search(r"^Version: (\S+)$", shown.stdout, re.MULTILINE)
    return match.group(1) if match else None


@functools.cache
def _bgd() -> str:
    """BuildGrid's CLI (server and REAPI client), installed into its own virtualenv on first use."""
    path = VENV / "bin" / "bgd"
    if not (path.exists() and _installed_buildgrid() == BUILDGRID[0].partition("==")[2]):
        say(f"installing {', '.join(BUILDGRID)} into {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", *BUILDGRID], check=True)
    return str(path)


def _server_config(state: Path, port: int, pg_port: int) -> str:
    keys = ", ".join(MATCH_KEYS)
    return f"""\
# Written by tools/remote/reapi.py.
# gRPC threads, which is also the server's limit on concurrent RPCs: a Bazel client
# uploading a Python environment sends hundreds at once, and a bot refused one
# (RESOURCE_EXHAUSTED) may give up for good.
thread-pool-size: 1000
server:
  - !channel
    address: "127.0.0.1:{port}"
    insecure-mode: true
authorization:
  method: none
monitoring:
  enabled: false
connections:
  - !sql-connection &sql
    connection-string: postgresql+psycopg2://bgd@127.0.0.1:{pg_port}/bgd
    pool-size: 10
    max-overflow: 20
storages:
  - !disk-storage &cas
    path: {state / "cas"}
caches:
  - !lru-action-cache &ac
    storage: *cas
    max-cached-refs: 1000000
    allow-updates: true
    cache-failed-actions: false
schedulers:
  - !sql-scheduler &scheduler
    sql: *sql
    storage: *cas
    action-cache: *ac
    property-set: !dynamic-property-set
      match-property-keys: [{keys}]
      wildcard-property-keys: []
    # A backstop for jobs no worker can take (the pre-flight check is the guard).
    queue-timeout-job-max-age:
      minutes: 30
instances:
  - name: ''
    services:
      - !action-cache
        cache: *ac
      - !execution
        scheduler: *scheduler
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
"""


def parse_properties(text: str) -> dict[str, str]:
    properties = {}
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise DeploymentError(f"'{text}': expected KEY=VALUE,KEY=VALUE")
        if key not in MATCH_KEYS:
            raise DeploymentError(f"property {key!r}: the scheduler matches on {', '.join(MATCH_KEYS)} only")
        properties[key] = value
    return properties


def default_worker() -> str:
    """A worker that is this host: {OSFamily, arch, isa_level} and its GPU, as the host probe describes it."""
    sys.path.insert(0, str(REPO))
    from engines.hardware import host

    facts = host.detect()
    spec = f"cpu-1:OSFamily=linux,arch={facts.cpu}"
    if facts.cpu_isa != "none":
        spec += f",isa_level={facts.cpu_isa}"
    if facts.gpu_sm != "none" and facts.tensorrt != "none":
        spec += f",gpu_sm={facts.gpu_sm},tensorrt={facts.tensorrt}"
        if facts.jetpack != "none":
            spec += f",jetpack={facts.jetpack}"
        elif int(facts.gpu_sm.removeprefix("sm_")) >= 80:
            # It also builds the plans every Ampere and later GPU runs.
            spec += ",gpu_compat=ampere_plus"
    return spec


# What an action needs of the host, mounted read-only into its sandbox: the system's
# directories and the Python installation the build's interpreter belongs to (the
# python_host toolchain runs the host's python3 binary, which finds its standard
# library under its prefix).
SYSTEM_DIRECTORIES = ("/usr", "/bin", "/lib", "/lib64", "/etc")


def sandbox_binds(python_prefixes: tuple[str, ...] = (sys.base_prefix,)) -> list[tuple[str, str]]:
    """(host path, sandbox path) pairs for buildbox-run-bubblewrap's --ro-bind-mount.

    The host path is resolved: on a merged-/usr system /bin is a relative symlink to
    usr/bin, which bubblewrap would look up inside the sandbox.
    """
    binds = []
    for path in (*SYSTEM_DIRECTORIES, *python_prefixes):
        if os.path.isdir(path) and not any(path == target or path.startswith(target + "/") for _, target in binds):
            binds.append((os.path.realpath(path), path))
    return binds


def _start_worker(state: Path, port: int, name: str, properties: dict[str, str]) -> None:
    base = state / "workers" / name
    for sub in ("cas", "runs"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    socket_path = base / "casd.sock"
    if _running(state, f"casd-{name}") is None:
        socket_path.unlink(missing_ok=True)
        _spawn(
            state,
            f"casd-{name}",
            ["buildbox-casd", f"--cas-remote=http://127.0.0.1:{port}", f"--bind=unix:{socket_path}", str(base / "cas")],
        )
        deadline = time.monotonic() + 20
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not socket_path.exists():
            raise DeploymentError(f"buildbox-casd for worker {name} did not open {socket_path} (log: {state / 'logs'})")
    if _running(state, f"worker-{name}") is None:
        command = [
            "buildbox-worker",
            f"--bots-remote=http://127.0.0.1:{port}",
            f"--cas-remote=unix:{socket_path}",
            # Each action in a bubblewrap sandbox: no network, its input tree as the root,
            # and the host's system directories and Python read-only (sandbox_binds).
            "--buildbox-run=/usr/bin/buildbox-run-bubblewrap",
            f"--runner-arg=--workspace-path={base / 'runs'}",
            *(f"--runner-arg=--ro-bind-mount={source}:{target}" for source, target in sandbox_binds()),
            # Hard links from the worker's CAS, not a FUSE mount: FUSE staging dies on
            # input trees the size of a pip hub (tens of thousands of files) and leaves
            # a mount behind.
            "--runner-arg=--staging-mode=copy-or-link",
            # Without a raised retry limit a worker exits for good when the server restarts.
            "--retry-limit=10",
            "--retry-on-code=RESOURCE_EXHAUSTED",
        ]
        for key, value in sorted(properties.items()):
            command += ["--platform", f"{key}={value}"]
        _spawn(state, f"worker-{name}", [*command, name])


def up(args: argparse.Namespace) -> int:
    state: Path = args.state
    workers = {}
    for spec in args.worker or [default_worker()]:
        name, sep, text = spec.partition(":")
        if not sep or not name:
            raise DeploymentError(f"--worker {spec!r}: expected NAME:KEY=VALUE,...")
        workers[name] = parse_properties(text)
    state.mkdir(parents=True, exist_ok=True)
    endpoint = state / "endpoint.json"
    if _running(state, "buildgrid") and endpoint.exists():
        recorded = json.loads(endpoint.read_text())
        say(f"already up: {recorded['executor']} (tools/remote/down --state {state} stops it)")
        print(recorded["executor"])
        return 0

    # Workers left from a server that died back off exponentially and may sleep for a
    # minute before they reconnect, or have given up: start them afresh with the server.
    for path in sorted((state / "pids").glob("worker-*.pid")) if (state / "pids").exists() else []:
        _stop(state, path.stem)
    started = time.monotonic()
    _start_postgres(state, args.pg_port)
    connection = f"postgresql+psycopg2://bgd@127.0.0.1:{args.pg_port}/bgd"
    subprocess.run([_bgd(), "migrate", "apply", connection], check=True, capture_output=True)
    (state / "cas").mkdir(exist_ok=True)
    (state / "buildgrid.yml").write_text(_server_config(state, args.port, args.pg_port))
    pid = _spawn(state, "buildgrid", [_bgd(), "server", "start", str(state / "buildgrid.yml")])
    _wait_for_port(args.port, what="BuildGrid", timeout=90, pid=pid, log=state / "logs" / "buildgrid.log")
    server_ready = time.monotonic() - started
    for name, properties in workers.items():
        _start_worker(state, args.port, name, properties)
    executor = f"grpc://127.0.0.1:{args.port}"
    from preflight import ProbeTarget, probe  # tools/remote/preflight.py, beside this file

    for name, properties in workers.items():
        problem = probe(properties, target=ProbeTarget(remote=executor), timeout=60, bgd=_bgd())
        if problem:
            raise DeploymentError(f"worker {name} does not take work: {problem} (logs: {state / 'logs'})")
    total = time.monotonic() - started
    endpoint.write_text(
        json.dumps(
            {
                "executor": executor,
                "postgres_port": args.pg_port,
                "started_in_seconds": round(total, 2),
                "server_ready_in_seconds": round(server_ready, 2),
                "workers": workers,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
    say(
        f"up in {total:.1f}s (BuildGrid listening after {server_ready:.1f}s); {len(workers)} worker(s): "
        + "; ".join(f"{n} {','.join(f'{k}={v}' for k, v in sorted(p.items()))}" for n, p in workers.items())
    )
    print(executor)
    return 0


def down(args: argparse.Namespace) -> int:
    state: Path = args.state
    pids = sorted((state / "pids").glob("*.pid")) if (state / "pids").exists() else []
    # Workers first, then their CAS daemons, then the server, then the database.
    order = sorted(
        pids, key=lambda path: 0 if path.stem.startswith("worker-") else 1 if path.stem.startswith("casd-") else 2
    )
    for path in order:
        _stop(state, path.stem)
    _stop_postgres(state)
    (state / "endpoint.json").unlink(missing_ok=True)
    say(f"stopped {len(order)} process(es) and PostgreSQL under {state}")
    if args.delete:
        pg = state / "pg"
        if pg.is_symlink():
            shutil.rmtree(pg.resolve(), ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        say(f"deleted {state} (the database, the CAS, logs)")
    return 0


def status(args: argparse.Namespace) -> int:
    state: Path = args.state
    pids = sorted((state / "pids").glob("*.pid")) if (state / "pids").exists() else []
    if not pids:
        print(f"nothing started under {state}")
        return 1
    for path in pids:
        pid = _running(state, path.stem)
        print(f"{path.stem:24} {'running, pid ' + str(pid) if pid else 'not running'}")
    return 0 if all(_running(state, path.stem) for path in pids) else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "down", "status"):
        sub = commands.add_parser(name)
        sub.add_argument(
            "--state", type=Path, default=DEFAULT_STATE, help=f"data, logs and PIDs (default {DEFAULT_STATE})"
        )
        if name == "down":
            sub.add_argument("--delete", action="store_true", help="also delete the state: database, CAS, logs")
        if name == "up":
            sub.add_argument("--port", type=int, default=50051, help="BuildGrid's port on 127.0.0.1")
            sub.add_argument("--pg-port", type=int, default=55432, help="PostgreSQL's port on 127.0.0.1")
            sub.add_argument(
                "--worker",
                action="append",
                help="NAME:KEY=VALUE,... (repeatable; default: one worker that is this host)",
            )
    args = parser.parse_args(argv)
    try:
        return {"up": up, "down": down, "status": status}[args.command](args)
    except (DeploymentError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Fuzzing the engine verifier: whatever a pulled directory holds, a verdict per engine, or exit 2 and one line.

Hypothesis writes platform directories — manifest.json with a wrong JSON type at every level, keys
missing, huge and non-finite numbers, deep nesting, bytes that are not UTF-8 or not JSON, or not a
file at all; sidecars (`<engine>.sha256`) that are random bytes, too long, of another file or
digest, or missing; engines changed or gone; stray files — and runs `engines.verify.main` on each
(with --json, with --expect-manifest-sha256), in-process and, for some, as the plain script a
device runs. Every run must end in 0 (all hits), 1 (something is not a hit: an engine changed,
gone, unlisted or untrusted) or 2 (nothing could be read) with one line on stderr; never a
traceback, never a file written. The inputs are derandomized: every run tries the same ones.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engines import artifacts, verify
from tools.fuzz_support import (
    PASSED,
    TRIED,
    assert_clean_end,
    files_under,
    fuzz_settings,
    places,
    report_tally,
    run_main,
)

FLAG = "--expect-manifest-sha256"
ENGINES = {
    "mlp__x86_64_ort1.32_fp32.onnx": b"the mlp engine",
    "convnet__x86-64-v3_ort1.32_fp32.onnx": b"the convnet engine",
}
MANIFEST = {
    "device": {
        "hardware": {"cpu": "x86_64", "cpu_isa": "x86-64-v3"},
        "name": "host",
        "uses": {"convnet": ["convnet__x86-64-v3_ort1.32_fp32.onnx"], "mlp": ["mlp__x86_64_ort1.32_fp32.onnx"]},
    },
    "engines": [
        {
            "engine": {"file": name, "sha256": artifacts.sha256_bytes(data)},
            "model": {"name": name.split("__")[0], "sha256": "0" * 64},
            "tag": name.split("__")[1].rsplit("_", 1)[0],
            "versions": {"onnxruntime": "1.32.0"},
        }
        for name, data in sorted(ENGINES.items())
    ],
    "format": 2,
    "platform": "@kiln//platforms:host",
}
STATUSES = {"hit", "tampered", "missing", "unlisted", "untrusted-manifest"}
SUMMARY = re.compile(r"^\d+ hit, \d+ tampered, \d+ missing, \d+ unlisted(, \d+ untrusted-manifest)?$")
FUZZ_TESTS = ["platform directories", "platform directories (script)"]


@pytest.fixture(scope="module", autouse=True)
def tally(request):
    yield
    report_tally(request, FUZZ_TESTS)


# --- what a directory holds -----------------------------------------------------------------

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**4299), max_value=10**4299),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(
        ["", ".", "..", "../manifest.json", "/etc/passwd", "a/b.onnx", "x\x00y", "\ud800", "a\nb", "0" * 64]
    ),
)
json_value = st.recursive(
    json_scalar,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@st.composite
def manifest_data(draw):
    """The manifest with a few parts changed: replaced by another type, removed, repeated, or a key added."""
    data = copy.deepcopy(MANIFEST)
    for _ in range(draw(st.integers(1, 3))):
        found = places(data)
        if not found or draw(st.integers(0, 29)) == 0:
            return draw(json_value)
        parent, key = draw(st.sampled_from(found))
        action = draw(st.sampled_from(["replace"] * 4 + ["delete", "add", "repeat"]))
        if action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "file", "sha256", "engine", "engines"]))] = draw(json_value)
        elif action == "repeat" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = draw(json_value)
    return data


@st.composite
def manifest_bytes(draw):
    kind = draw(st.sampled_from(["valid"] * 3 + ["data"] * 8 + ["text"] * 2 + ["deep", "huge", "bytes"]))
    text = artifacts.canonical_json(MANIFEST)
    if kind == "valid":
        return text.encode()
    if kind == "data":
        return json.dumps(draw(manifest_data()), indent=draw(st.sampled_from([None, 2]))).encode(
            "utf-8", "surrogatepass"
        )
    if kind == "deep":
        depth = draw(st.sampled_from([100, 1000, 10_000, 200_000]))
        where = draw(st.sampled_from(['"engines": [', '"engine": {"file": ', "", '"platform": ']))
        return text.replace(where, where + "[" * depth + "]" * depth + (", " if where else ""), 1).encode()
    if kind == "huge":
        piece = draw(
            st.sampled_from(
                ["1" + "0" * 5000, "1e999", "-1e999", "NaN", "Infinity", '"' + "a" * 1_000_000 + '"', '"\\ud800"']
            )
        )
        field = draw(st.sampled_from(['"file": ', '"sha256": ', '"platform": ', '"format": ']))
        return re.sub(re.escape(field) + r'("[^"]*"|\d+)', lambda _: field + piece, text, count=1).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    raw = text.encode()
    at = draw(st.integers(0, len(raw)))
    mangle = draw(st.sampled_from(["insert", "truncate", "utf-16", "bom"]))
    if mangle == "truncate":
        return raw[:at]
    if mangle == "utf-16":
        return text.encode("utf-16")
    if mangle == "bom":
        return b"\xef\xbb\xbf" + raw
    return raw[:at] + draw(st.binary(min_size=1, max_size=6)) + raw[at:]


SIDECAR_KINDS = [
    "valid",
    "valid",
    "valid",
    "missing",
    "directory",
    "bytes",
    "other digest",
    "upper case",
    "crlf",
    "other file",
    "path",
    "not utf-8",
    "huge",
    "empty",
    "two lines",
]


def sidecar_bytes(kind: str, name: str, digest: str, noise: bytes) -> bytes | None:
    """A sidecar of `kind` for engine `name` (None: none, or a directory in its place)."""
    return {
        "valid": artifacts.sidecar_text(digest, name).encode(),
        "bytes": noise,
        "other digest": artifacts.sidecar_text("0" * 64, name).encode(),
        "upper case": artifacts.sidecar_text(digest.upper(), name).encode(),
        "crlf": artifacts.sidecar_text(digest, name).replace("\n", "\r\n").encode(),
        "other file": artifacts.sidecar_text(digest, "other__x_fp32.onnx").encode(),
        "path": artifacts.sidecar_text(digest, f"../{name}").encode(),
        "not utf-8": f"{digest}  ".encode() + name.encode()[:5] + b"\xff\xfe" + b"\n",
        "huge": artifacts.sidecar_text(digest, name).encode() * 200_000,
        "empty": b"",
        "two lines": (artifacts.sidecar_text(digest, name) * 2).encode(),
    }.get(kind)


@st.composite
def platform_directory(draw):
    """What to write: manifest bytes (or another kind of file), and per engine its state and its sidecar's."""
    manifest_kind = draw(st.sampled_from(["file"] * 12 + ["directory", "dangling link", "empty"]))
    return {
        "manifest": draw(manifest_bytes()),
        "manifest kind": manifest_kind,
        "engines": {
            name: (
                draw(st.sampled_from(["valid"] * 6 + ["missing", "changed", "directory"])),
                draw(st.sampled_from(SIDECAR_KINDS)),
            )
            for name in ENGINES
        },
        "noise": draw(st.binary(max_size=80)),
        "extra": draw(st.sampled_from([None] * 6 + ["other__x_fp32.onnx", b"mlp__\xff\xfe_fp32.onnx", "notes.txt"])),
        "json": draw(st.booleans()),
        "expect": draw(st.sampled_from([None, None, "right", "wrong"])),
    }


def write(directory: Path, spec: dict) -> Path:
    directory.mkdir(parents=True)
    manifest = directory / "manifest.json"
    if spec["manifest kind"] == "file":
        manifest.write_bytes(spec["manifest"])
    elif spec["manifest kind"] == "directory":
        manifest.mkdir()
    elif spec["manifest kind"] == "dangling link":
        manifest.symlink_to(directory / "nowhere.json")
    else:
        manifest.write_bytes(b"")
    for name, (engine, sidecar) in spec["engines"].items():
        data = ENGINES[name]
        if engine == "changed":
            (directory / name).write_bytes(data + b"!")
        elif engine == "directory":
            (directory / name).mkdir()
        elif engine == "valid":
            (directory / name).write_bytes(data)
        content = sidecar_bytes(sidecar, name, artifacts.sha256_bytes(data), spec["noise"])
        if sidecar == "directory":
            (directory / f"{name}.sha256").mkdir()
        elif content is not None:
            (directory / f"{name}.sha256").write_bytes(content)
    if spec["extra"] is not None:
        extra = spec["extra"] if isinstance(spec["extra"], bytes) else spec["extra"].encode()
        with open(os.path.join(os.fsencode(directory), extra), "wb") as stream:
            stream.write(b"stray")
    return manifest


def arguments(directory: Path, spec: dict) -> list[str]:
    argv = [str(directory)]
    if spec["json"]:
        argv.append("--json")
    if spec["expect"] is not None:
        manifest = directory / "manifest.json"
        right = spec["expect"] == "right" and manifest.is_file()
        argv += [FLAG, artifacts.sha256_file(manifest) if right else "ab" * 32]
    return argv


def assert_verdicts(status: int, stdout: str, spec: dict) -> None:
    """A report of 0 or 1: a status per engine, 0 exactly when all are hits, and no hit for an engine or
    sidecar the build did not make (or for any engine, when the manifest's digest is not the one expected)."""
    if not spec["json"]:
        lines = stdout.splitlines()
        assert lines and SUMMARY.match(lines[-1]), stdout
        assert (status == 0) == lines[-1].startswith(f"{len(lines) - 1} hit, 0 tampered, 0 missing, 0 unlisted")
        return
    results = json.loads(stdout)
    assert isinstance(results, list) and {result["status"] for result in results} <= STATUSES, results
    assert status == (0 if all(result["status"] == "hit" for result in results) else 1)
    hits = {result["engine"] for result in results if result["status"] == "hit"}
    assert not hits & {name for name, state in spec["engines"].items() if state != ("valid", "valid")}, results
    if spec["expect"] == "wrong":
        assert not hits, results


def test_platform_directories(tmp_path_factory):
    root = tmp_path_factory.mktemp("devices")

    @fuzz_settings(max_examples=300)
    @given(platform_directory())
    def fuzz(spec):
        TRIED["platform directories"] += 1
        directory = root / f"case{TRIED['platform directories']}" / "engines" / "host"
        write(directory, spec)
        argv = arguments(directory, spec)
        before = files_under(directory)
        run = run_main(verify.main, argv)
        assert_clean_end(run)
        assert files_under(directory) == before  # the verifier writes nothing
        if run.status == 2:
            assert "manifest.json" in run.stderr, run.stderr
        else:
            assert run.stderr == "", run.stderr
            assert_verdicts(run.status, run.stdout, spec)

    fuzz()
    assert TRIED["platform directories"] >= 300
    PASSED.add("platform directories")


def test_untouched_directories_are_all_hits(tmp_path):
    spec = {
        "manifest": artifacts.canonical_json(MANIFEST).encode(),
        "manifest kind": "file",
        "engines": {name: ("valid", "valid") for name in ENGINES},
        "noise": b"",
        "extra": None,
        "json": False,
        "expect": "right",
    }
    directory = tmp_path / "engines" / "host"
    write(directory, spec)
    run = run_main(verify.main, arguments(directory, spec))
    assert (run.status, run.stderr) == (0, ""), run
    assert run.stdout.splitlines()[-1] == "2 hit, 0 tampered, 0 missing, 0 unlisted"


# --- the plain script, as a device runs it --------------------------------------------------


def run_script(*argv: str) -> subprocess.CompletedProcess[bytes]:
    script = Path(verify.__file__)
    # As a device: no Bazel, no project paths; a UTF-8 locale's strict stdout.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "RUNFILES"))}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-I", str(script), *argv], capture_output=True, env=env, check=False, timeout=120
    )


def assert_script_ends_cleanly(run: subprocess.CompletedProcess[bytes]) -> None:
    stderr = run.stderr.decode("utf-8", "backslashreplace")
    assert b"Traceback" not in run.stderr + run.stdout, stderr
    assert run.returncode in (0, 1, 2), stderr
    if run.returncode == 2:
        assert run.stdout == b"", run.stdout
        assert run.stderr.endswith(b"\n") and run.stderr.count(b"\n") == 1, stderr
        assert stderr.startswith("error: "), stderr
    else:
        assert run.stderr == b"", stderr


NASTY_MANIFESTS = {
    "not utf-8": b'{"engines": [], "platform": "\xff"}',
    "deep": b"[" * 200_000 + b"]" * 200_000,
    "deep engines": b'{"platform": "p", "engines": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "huge int": b'{"platform": "p", "engines": [], "format": 1' + b"0" * 6000 + b"}",
    "surrogate name": b'{"platform": "p", "engines": [{"engine": {"file": "\\ud800", "sha256": "'
    + b"0" * 64
    + b'"}}]}',
    "absolute name": b'{"platform": "p", "engines": [{"engine": {"file": "/etc/hostname", "sha256": "'
    + b"0" * 64
    + b'"}}]}',
    "number digest": b'{"platform": "p", "engines": [{"engine": {"file": "a__b_fp32.onnx", "sha256": 5}}]}',
    "no engines": b'{"platform": "p"}',
    "a list": b"[]",
    "nan": b'{"platform": NaN, "engines": [{"engine": {"file": Infinity, "sha256": -Infinity}}]}',
}


@pytest.mark.parametrize("name", sorted(NASTY_MANIFESTS))
def test_the_script_refuses_bad_manifests_on_one_line(tmp_path, name):
    (tmp_path / "manifest.json").write_bytes(NASTY_MANIFESTS[name])
    for argv in ([str(tmp_path)], [str(tmp_path), "--json"], [str(tmp_path), FLAG, "ab" * 32]):
        run = run_script(*argv)
        assert_script_ends_cleanly(run)
        assert run.returncode == (1 if FLAG in argv else 2), run.stderr  # untrusted, else unreadable


def test_platform_directories_script(tmp_path_factory):
    root = tmp_path_factory.mktemp("scripts")

    @fuzz_settings(max_examples=12)
    @given(platform_directory())
    def fuzz(spec):
        TRIED["platform directories (script)"] += 1
        directory = root / f"case{TRIED['platform directories (script)']}" / "engines" / "host"
        write(directory, spec)
        assert_script_ends_cleanly(run_script(*arguments(directory, spec)))

    fuzz()
    assert TRIED["platform directories (script)"] >= 12
    PASSED.add("platform directories (script)")

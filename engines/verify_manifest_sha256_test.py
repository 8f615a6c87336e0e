"""verify.py --expect-manifest-sha256: a manifest digest from out of band catches the consistent forgery."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engines import artifacts, verify

FLAG = "--expect-manifest-sha256"
PLATFORM = "@kiln//platforms:host"
ENGINES = {
    "mlp__x86_64_ort1.32_fp32.onnx": b"the mlp engine",
    "convnet__x86_64_ort1.32_fp32.onnx": b"the convnet engine",
}


def publish(directory: Path, engines: dict[str, bytes]) -> Path:
    """Engines, sidecars and manifest.json, consistent with one another, as a build writes them."""
    directory.mkdir(parents=True, exist_ok=True)
    records = []
    for name, data in sorted(engines.items()):
        (directory / name).write_bytes(data)
        digest = artifacts.sha256_bytes(data)
        (directory / f"{name}.sha256").write_text(artifacts.sidecar_text(digest, name))
        records.append({"engine": {"file": name, "sha256": digest}})
    manifest = directory / "manifest.json"
    manifest.write_text(artifacts.canonical_json({"engines": records, "platform": PLATFORM}))
    return manifest


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def forge(directory: Path) -> None:
    """The three-file forgery: new engine bytes, its sidecar and the manifest's sha256, all consistent."""
    name = "mlp__x86_64_ort1.32_fp32.onnx"
    data = b"an engine the build never made"
    digest = artifacts.sha256_bytes(data)
    (directory / name).write_bytes(data)
    (directory / f"{name}.sha256").write_text(artifacts.sidecar_text(digest, name))
    manifest = json.loads((directory / "manifest.json").read_text())
    for record in manifest["engines"]:
        if record["engine"]["file"] == name:
            record["engine"]["sha256"] = digest
    (directory / "manifest.json").write_text(artifacts.canonical_json(manifest))


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, list[dict], str]:
    status = verify.main([*argv, "--json"])
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out else []), err


@pytest.fixture
def device(tmp_path: Path) -> tuple[Path, str]:
    """A pulled platform directory and the sha256 of its manifest.json as built."""
    manifest = publish(tmp_path / "engines" / "host", ENGINES)
    return manifest.parent, sha256(manifest)


def test_the_consistent_forgery_passes_without_the_flag(device, capsys):
    """The known limit: the sidecars and the manifest travel with the engines, so a forger rewrites them too."""
    directory, _ = device
    forge(directory)
    status, results, _ = run(capsys, str(directory))
    assert status == 0
    assert {result["status"] for result in results} == {"hit"}


def test_the_consistent_forgery_is_caught_with_the_manifest_digest(device, capsys):
    directory, original = device
    forge(directory)
    status, results, _ = run(capsys, FLAG, original, str(directory))
    assert status == 1
    assert sorted(result["engine"] for result in results) == sorted(ENGINES)
    assert {result["status"] for result in results} == {"untrusted-manifest"}
    assert all(f"{FLAG} says {original[:12]}" in result["reason"] for result in results)


def test_the_manifest_digest_as_built_gives_all_hits(device, capsys):
    directory, original = device
    for argv in (
        [FLAG, original, str(directory)],
        [FLAG, original.upper(), str(directory / "manifest.json")],
        [FLAG, f"{directory}={original}", str(directory)],
        [FLAG, f"{directory / 'manifest.json'}={original}", str(directory.parent)],
    ):
        status, results, err = run(capsys, *argv)
        assert (status, err) == (0, ""), argv
        assert sorted(result["engine"] for result in results) == sorted(ENGINES)
        assert {result["status"] for result in results} == {"hit"}


def test_the_text_report_counts_untrusted_engines(device, capsys):
    directory, original = device
    forge(directory)
    assert verify.main([FLAG, original, str(directory)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "0 hit, 0 tampered, 0 missing, 0 unlisted, 2 untrusted-manifest"
    assert all(line.startswith("untrusted-manifest ") for line in lines[:-1])


def test_a_forged_manifest_that_lists_nothing_beside_no_engines_still_fails(device, capsys):
    directory, original = device
    for path in directory.iterdir():
        path.unlink()
    (directory / "manifest.json").write_text(artifacts.canonical_json({"engines": [], "platform": PLATFORM}))
    assert run(capsys, str(directory))[0] == 0  # without the flag: an empty manifest verifies
    status, results, _ = run(capsys, FLAG, original, str(directory))
    assert status == 1
    assert [result["status"] for result in results] == ["untrusted-manifest"]


def test_an_unreadable_forged_manifest_is_untrusted_not_unreadable(device, capsys):
    directory, original = device
    (directory / "manifest.json").write_bytes(b"\xff not json")
    status, results, _ = run(capsys, FLAG, original, str(directory))
    assert status == 1
    assert sorted(result["engine"] for result in results) == sorted(ENGINES)
    assert {result["status"] for result in results} == {"untrusted-manifest"}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc123",
        "0" * 63,
        "0" * 65,
        "g" * 64,
        "sha256:" + "0" * 64,
        " " + "0" * 64,
        "=" + "0" * 64,
        "engines/host=",
        "engines/host=xyz",
    ],
)
def test_a_malformed_digest_is_a_one_line_usage_error(device, capsys, value):
    directory, _ = device
    status = verify.main([FLAG, value, str(directory)])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: {FLAG} ") and "expected HEX or PATH=HEX, HEX being 64 hexadecimal digits" in err


@pytest.fixture
def two_devices(tmp_path: Path) -> dict[Path, str]:
    """A directory of two platforms' manifests (as bazel-bin/fleet/fleet is), each with its digest."""
    manifests = [
        publish(tmp_path / "fleet" / "a", ENGINES),
        publish(tmp_path / "fleet" / "b", {"mlp__x86-64-v3_ort1.32_fp32.onnx": b"v3"}),
    ]
    return {manifest: sha256(manifest) for manifest in manifests}


def test_several_manifests_need_a_path_for_each_digest(two_devices, capsys):
    (a, digest_a), (b, digest_b) = two_devices.items()
    fleet = str(a.parent.parent)
    status, _, err = run(capsys, FLAG, digest_a, fleet)
    assert status == 2
    assert err == f"error: {FLAG} HEX needs exactly one manifest.json, found 2: give PATH=HEX for each\n"
    status, _, err = run(capsys, FLAG, f"{a}={digest_a}", fleet)
    assert status == 2
    assert err == f"error: {FLAG}: {b} has none; give PATH=HEX for every manifest found\n"
    status, _, err = run(capsys, FLAG, f"{a}={digest_a}", FLAG, f"{a.parent}={digest_a}", fleet)
    assert (status, err) == (2, f"error: {FLAG}: {a} is given twice\n")
    status, _, err = run(capsys, FLAG, f"{a.parent.parent}={digest_a}", FLAG, f"{b}={digest_b}", fleet)
    assert status == 2
    assert err.endswith("is not one of the manifests found\n") and err.count("\n") == 1
    status, results, err = run(capsys, FLAG, f"{a.parent}={digest_a}", FLAG, f"{b}={digest_b}", fleet)
    assert (status, err) == (0, "")
    assert len(results) == 3 and {result["status"] for result in results} == {"hit"}


def test_only_the_forged_platform_is_untrusted(two_devices, capsys):
    (a, digest_a), (b, digest_b) = two_devices.items()
    forge(a.parent)
    status, results, _ = run(capsys, FLAG, f"{a}={digest_a}", FLAG, f"{b}={digest_b}", str(a.parent.parent))
    assert status == 1
    assert sorted((result["engine"], result["status"]) for result in results) == [
        ("convnet__x86_64_ort1.32_fp32.onnx", "untrusted-manifest"),
        ("mlp__x86-64-v3_ort1.32_fp32.onnx", "hit"),
        ("mlp__x86_64_ort1.32_fp32.onnx", "untrusted-manifest"),
    ]


def test_the_flag_works_in_the_plain_script(device):
    """Devices run engines/verify.py with a bare python3: no Bazel, no third-party packages."""
    directory, original = device
    script = Path(verify.__file__)
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "RUNFILES"))}

    def verify_on_device(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-I", str(script), *argv], capture_output=True, text=True, env=clean, check=False
        )

    ok = verify_on_device(FLAG, original, str(directory))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("2 hit, 0 tampered, 0 missing, 0 unlisted")
    forge(directory)
    assert verify_on_device(str(directory)).returncode == 0
    caught = verify_on_device(FLAG, original, str(directory))
    assert caught.returncode == 1 and "2 untrusted-manifest" in caught.stdout
    bad = verify_on_device(FLAG, "not-hex", str(directory))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and FLAG in bad.stderr

"""A shipped bundle as built: its layers hold the platform's engines and the checksummed corpora."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from engines import checksums, verify

# $(rootpaths) of the bundle: its OCI layout directory and its .digest file.
LAYOUT, DIGEST = sorted((Path(p) for p in os.environ["BUNDLE"].split()), key=lambda p: p.suffix == ".digest")
PLATFORM = os.environ["BUNDLE_PLATFORM"]


def sha256sum_check(directory: Path) -> subprocess.CompletedProcess:
    """What a device runs on the corpora it pulled."""
    sha256sum = shutil.which("sha256sum")
    assert sha256sum, "sha256sum (coreutils) is not on PATH"
    return subprocess.run(
        [sha256sum, "--check", "--strict", "SHA256SUMS"], cwd=directory, capture_output=True, text=True, check=False
    )


def blob(digest: str) -> bytes:
    return (LAYOUT / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


@pytest.fixture(scope="module")
def manifest() -> dict:
    (descriptor,) = json.loads((LAYOUT / "index.json").read_text())["manifests"]
    assert descriptor["digest"] == DIGEST.read_text().strip()
    return json.loads(blob(descriptor["digest"]))


@pytest.fixture(scope="module")
def pulled(manifest: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's layers unpacked in order, as `crane export | tar -x` leaves them on a device."""
    root = tmp_path_factory.mktemp("pulled")
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(layer["digest"])))) as archive:
            archive.extractall(root, filter="data")
    return root


def test_annotations_name_the_platform(manifest):
    annotations = manifest["annotations"]
    assert annotations["dev.kiln.platform"] == "@kiln//platforms:host"
    # The host bundle: its annotations are this machine's hardware, as @host_hardware probed it.
    host = json.loads(Path(os.environ["HOST_JSON"]).read_text())
    assert annotations["dev.kiln.cpu"] == host["cpu"]
    assert annotations["dev.kiln.cpu_isa"] == host["cpu_isa"]
    assert annotations["dev.kiln.onnxruntime"] == "1.32"
    assert annotations["org.opencontainers.image.revision"] == "unstamped"


def test_the_image_digest_vouches_for_the_engines_manifest(manifest, pulled, tmp_path, capsys):
    """image digest -> OCI manifest -> dev.kiln.engines.manifest.sha256 -> manifest.json -> engines."""
    (descriptor,) = json.loads((LAYOUT / "index.json").read_text())["manifests"]
    assert hashlib.sha256(blob(descriptor["digest"])).hexdigest() == DIGEST.read_text().strip().removeprefix("sha256:")
    expected = manifest["annotations"]["dev.kiln.engines.manifest.sha256"]
    engines = pulled / "engines" / PLATFORM
    assert expected == hashlib.sha256((engines / "manifest.json").read_bytes()).hexdigest()
    assert verify.main(["--expect-manifest-sha256", expected, str(engines)]) == 0
    # The consistent three-file forgery of a copy: engine, sidecar and manifest rewritten to agree.
    forged = tmp_path / PLATFORM
    shutil.copytree(engines, forged)
    data = json.loads((forged / "manifest.json").read_text())
    name = data["engines"][0]["engine"]["file"]
    (forged / name).write_bytes(b"not the engine the build made")
    digest = hashlib.sha256((forged / name).read_bytes()).hexdigest()
    (forged / f"{name}.sha256").write_text(f"{digest}  {name}\n")
    data["engines"][0]["engine"]["sha256"] = digest
    (forged / "manifest.json").write_text(json.dumps(data))
    assert verify.main([str(forged)]) == 0  # the sidecars and manifest alone cannot tell
    assert verify.main(["--expect-manifest-sha256", expected, str(forged)]) == 1
    assert "untrusted-manifest" in capsys.readouterr().out


def test_every_file_is_an_engine_of_the_manifest_or_a_checksummed_corpus(pulled):
    engines = pulled / "engines" / PLATFORM
    results = verify.verify_manifest(engines / "manifest.json")
    assert results and {result["status"] for result in results} == {"hit"}
    corpus = pulled / "corpus"
    check = sha256sum_check(corpus)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = {line.split("  ", 1)[1] for line in (corpus / "SHA256SUMS").read_text().splitlines()}
    # The newest corpus of each library, named by its version.
    assert listed == {"transformers_5.23.0.invariants.validated.yaml", "vllm_0.32.0.invariants.validated.yaml"}
    shipped = {str(path.relative_to(pulled)) for path in pulled.rglob("*") if path.is_file()}
    expected = {f"engines/{PLATFORM}/manifest.json", "corpus/SHA256SUMS"} | {f"corpus/{name}" for name in listed}
    for result in results:
        expected |= {f"engines/{PLATFORM}/{result['engine']}", f"engines/{PLATFORM}/{result['engine']}.sha256"}
    assert shipped == expected


def test_a_tampered_corpus_fails_its_check(pulled, tmp_path):
    copy = tmp_path / "corpus"
    copy.mkdir()
    for path in (pulled / "corpus").iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    with open(copy / "vllm_0.32.0.invariants.validated.yaml", "ab") as stream:
        stream.write(b"# edited on the device\n")
    check = sha256sum_check(copy)
    assert check.returncode == 1
    assert "vllm_0.32.0.invariants.validated.yaml: FAILED" in check.stdout


def test_checksums_refuses_two_files_of_one_name(tmp_path, capsys):
    for directory in ("a", "b"):
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "rules.yaml").write_text(directory)
    out = tmp_path / "SHA256SUMS"
    status = checksums.main(["--out", str(out), str(tmp_path / "a" / "rules.yaml"), str(tmp_path / "b" / "rules.yaml")])
    assert status == 2
    assert "share the name 'rules.yaml': rename one" in capsys.readouterr().err
    assert not out.exists()

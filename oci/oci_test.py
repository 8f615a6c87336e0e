"""oci.image writes valid, reproducible OCI layouts and refuses bad input; oci.push refuses bad targets."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from oci import image, push


def make_tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 946684800, 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def build(tmp_path: Path, name: str, *extra: str, tars: list[Path]) -> tuple[int, Path, Path]:
    out, digest = tmp_path / name, tmp_path / f"{name}.digest"
    argv = ["--out", str(out), "--digest-out", str(digest)]
    for tar in tars:
        argv += ["--tar", str(tar)]
    return image.main(argv + list(extra)), out, digest


def blob(layout: Path, digest: str) -> bytes:
    data = (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()
    assert f"sha256:{hashlib.sha256(data).hexdigest()}" == digest
    return data


@pytest.fixture
def layers(tmp_path: Path) -> list[Path]:
    return [
        make_tar(tmp_path / "engines.tar", {"engines/a.onnx": b"engine a", "engines/manifest.json": b"{}"}),
        make_tar(tmp_path / "corpus.tar", {"corpus/x.yaml": b"rules: []\n"}),
    ]


def test_layout_is_complete_and_consistent(tmp_path, layers):
    status, layout, digest_file = build(
        tmp_path, "img", "--annotation", "org.example.platform=//platforms:x", "--env", "A=1", tars=layers
    )
    assert status == 0
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    (descriptor,) = json.loads((layout / "index.json").read_text())["manifests"]
    assert descriptor["digest"] == digest_file.read_text().strip()
    manifest = json.loads(blob(layout, descriptor["digest"]))
    assert manifest["mediaType"] == image.MANIFEST
    assert manifest["annotations"] == {"org.example.platform": "//platforms:x"}
    config = json.loads(blob(layout, manifest["config"]["digest"]))
    assert config["config"]["Env"] == ["A=1"]
    assert "created" not in config
    for layer, tar, diff_id in zip(manifest["layers"], layers, config["rootfs"]["diff_ids"], strict=True):
        uncompressed = gzip.decompress(blob(layout, layer["digest"]))
        assert uncompressed == tar.read_bytes()
        assert diff_id == f"sha256:{hashlib.sha256(uncompressed).hexdigest()}"


def test_same_inputs_same_digest_and_any_change_another(tmp_path, layers):
    digests = [build(tmp_path, f"img{i}", tars=layers)[2].read_text() for i in range(2)]
    assert digests[0] == digests[1]
    assert build(tmp_path, "reordered", tars=layers[::-1])[2].read_text() != digests[0]
    changed = make_tar(tmp_path / "changed.tar", {"engines/a.onnx": b"engine A", "engines/manifest.json": b"{}"})
    assert build(tmp_path, "changed", tars=[changed, layers[1]])[2].read_text() != digests[0]


def test_stamp_keys_are_filled_or_marked_unstamped(tmp_path, layers):
    status_file = tmp_path / "stable-status.txt"
    status_file.write_text("STABLE_GIT_COMMIT 0123abc\nBUILD_HOST somewhere\n")
    revision = "org.opencontainers.image.revision={STABLE_GIT_COMMIT}"
    _, stamped_layout, _ = build(tmp_path, "s", "--annotation", revision, "--stamp-info", str(status_file), tars=layers)
    _, plain_layout, _ = build(tmp_path, "p", "--annotation", revision, tars=layers)
    for layout, expected in ((stamped_layout, "0123abc"), (plain_layout, "unstamped")):
        (descriptor,) = json.loads((layout / "index.json").read_text())["manifests"]
        assert json.loads(blob(layout, descriptor["digest"]))["annotations"] == {
            "org.opencontainers.image.revision": expected
        }


def test_a_sha256_annotation_is_the_digest_of_the_file_in_the_layers(tmp_path, layers):
    key = "dev.kiln.engines.manifest.sha256"
    dotted = make_tar(tmp_path / "dotted.tar", {"./engines/manifest.json": b'{"engines": []}'})
    for tars, path, data in (
        (layers, "engines/manifest.json", b"{}"),
        ([dotted, layers[1]], "engines/manifest.json", b'{"engines": []}'),  # pkg_tar's "./" prefix
        (layers, "./corpus/x.yaml", b"rules: []\n"),
    ):
        status, layout, _ = build(tmp_path, "img", "--sha256-annotation", f"{key}={path}", tars=tars)
        assert status == 0
        (descriptor,) = json.loads((layout / "index.json").read_text())["manifests"]
        assert json.loads(blob(layout, descriptor["digest"]))["annotations"] == {key: hashlib.sha256(data).hexdigest()}
    # The annotation is part of the image: the same file gives the same digest, another file another.
    digests = {
        build(tmp_path, f"d{i}", "--sha256-annotation", f"{key}={path}", tars=layers)[2].read_text()
        for i, path in enumerate(["engines/manifest.json", "engines/manifest.json", "engines/a.onnx"])
    }
    assert len(digests) == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sha256-annotation", "k=engines/absent.json"], "no layer holds engines/absent.json"),
        (["--sha256-annotation", "k=engines"], "no layer holds engines"),
        (["--sha256-annotation", "nopath"], "sha256-annotation 'nopath' is not KEY=VALUE"),
        (
            ["--annotation", "k=v", "--sha256-annotation", "k=engines/a.onnx"],
            "annotation 'k' is given twice (as --annotation and --sha256-annotation)",
        ),
        (["--env", "NOVALUE"], "env 'NOVALUE' is not KEY=VALUE"),
        (["--annotation", "a=1", "--annotation", "a=2"], "annotation 'a' is given twice"),
        (["--architecture", "sparc"], "architecture 'sparc' is not one of"),
    ],
)
def test_bad_settings_are_refused_with_no_output(tmp_path, layers, capsys, extra, message):
    status, layout, digest = build(tmp_path, "bad", *extra, tars=layers)
    assert status == 1
    assert message in capsys.readouterr().err
    assert not layout.exists() and not digest.exists()


def test_a_sha256_annotation_of_a_file_in_two_layers_is_refused(tmp_path, layers, capsys):
    again = make_tar(tmp_path / "again.tar", {"engines/manifest.json": b"{}"})
    status, layout, digest = build(
        tmp_path, "bad", "--sha256-annotation", "k=engines/manifest.json", tars=[*layers, again]
    )
    assert status == 1
    assert "engines/manifest.json is in 2 layer entries" in capsys.readouterr().err
    assert not layout.exists() and not digest.exists()


def test_a_layer_that_is_not_a_tar_is_refused(tmp_path, capsys):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 64)
    status, layout, _ = build(tmp_path, "bad", tars=[junk])
    assert status == 1
    assert "is not a readable tar file" in capsys.readouterr().err
    assert not layout.exists()


def test_push_refuses_an_unreachable_registry_and_bad_names():
    with pytest.raises(push.PushError, match=r"no registry answers at 127\.0\.0\.1:9"):
        push.check_reachable("127.0.0.1:9/kiln/bundle")
    with pytest.raises(push.PushError, match="is not HOST\\[:PORT\\]/PATH"):
        push.check_reachable("Not A Repository")

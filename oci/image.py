"""Writes an OCI image layout (image-spec 1.1) from tar layers: the action behind oci_image.

python -m oci.image --out DIR --digest-out FILE [--tar LAYER.tar]... [--entrypoint ARG]...
    [--cmd ARG]... [--env K=V]... [--label K=V]... [--annotation K=V]...
    [--sha256-annotation K=PATH]... [--workdir DIR] [--os linux] [--architecture amd64]
    [--stamp-info stable-status.txt]

Reproducible: layers are gzip-compressed with no name and mtime 0, JSON is written
with sorted keys and no whitespace, the config carries no creation time, so the
same layers and settings give the same image digest. Annotation and label values
may name stable workspace-status keys as {STABLE_KEY}; they are filled from
--stamp-info (with `--stamp`) or become "unstamped". A --sha256-annotation's value is
the sha256 (64 lowercase hex digits) of the file at PATH in the image as its layers
carry it (e.g. engines/host/manifest.json): the bytes a device unpacks, hashed here.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import shutil
import sys
import tarfile
from pathlib import Path

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ARCHITECTURES = {"amd64", "arm64"}
STAMP_KEY = re.compile(r"\{(STABLE_[A-Z0-9_]+)\}")


class ImageError(Exception):
    pass


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_values(pairs: list[str], what: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ImageError(f"{what} {pair!r} is not KEY=VALUE")
        if key in result:
            raise ImageError(f"{what} {key!r} is given twice")
        result[key] = value
    return result


def read_stamp(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    values = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        values[key] = value
    return values


def stamped(values: dict[str, str], stamp: dict[str, str]) -> dict[str, str]:
    def fill(match: re.Match) -> str:
        return stamp.get(match.group(1), "unstamped")

    return {key: STAMP_KEY.sub(fill, value) for key, value in values.items()}


class Layout:
    """An OCI image layout directory being written: blobs by digest."""

    def __init__(self, root: Path):
        if root.exists():
            shutil.rmtree(root)
        (root / "blobs" / "sha256").mkdir(parents=True)
        self.root = root

    def blob(self, data: bytes, media_type: str) -> dict:
        digest = hashlib.sha256(data).hexdigest()
        (self.root / "blobs" / "sha256" / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def layer(path: Path) -> tuple[bytes, str]:
    """(the gzip-compressed layer, the diff_id of the uncompressed tar)."""
    data = path.read_bytes()
    try:
        with tarfile.open(path) as archive:
            archive.getmembers()
    except (tarfile.TarError, OSError) as error:
        raise ImageError(f"layer {path} is not a readable tar file ({error}); pass pkg_tar outputs") from None
    compressed = gzip.compress(data, compresslevel=6, mtime=0)
    return compressed, f"sha256:{hashlib.sha256(data).hexdigest()}"


def member_name(name: str) -> str:
    """A tar member's path as it unpacks: no leading "./" or "/"."""
    while name.startswith(("./", "/")):
        name = name.removeprefix(".").removeprefix("/")
    return name


def file_sha256(tars: list[Path], wanted: str) -> str:
    """The sha256 of the regular file `wanted` in the layers; it must be in exactly one."""
    wanted = member_name(wanted)
    found = []
    for path in tars:
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                if member_name(member.name) == wanted:
                    if not member.isfile():
                        raise ImageError(f"{wanted} in layer {path} is not a regular file")
                    stream = archive.extractfile(member)
                    assert stream is not None
                    found.append((path, hashlib.sha256(stream.read()).hexdigest()))
    if not found:
        raise ImageError(f"no layer holds {wanted} (--sha256-annotation names a file in the image)")
    if len(found) > 1:
        raise ImageError(f"{wanted} is in {len(found)} layer entries ({', '.join(str(p) for p, _ in found)}): name one")
    return found[0][1]


def build(args: argparse.Namespace) -> str:
    if args.architecture not in ARCHITECTURES:
        raise ImageError(f"architecture {args.architecture!r} is not one of {sorted(ARCHITECTURES)}")
    stamp = read_stamp(args.stamp_info)
    env = key_values(args.env, "env")
    labels = stamped(key_values(args.label, "label"), stamp)
    annotations = stamped(key_values(args.annotation, "annotation"), stamp)
    digest_of = key_values(args.sha256_annotation, "sha256-annotation")

    out = Layout(args.out)
    layers, diff_ids = [], []
    for path in args.tar:
        compressed, diff_id = layer(path)
        layers.append(out.blob(compressed, LAYER))
        diff_ids.append(diff_id)
    for key, wanted in digest_of.items():
        if key in annotations:
            raise ImageError(f"annotation {key!r} is given twice (as --annotation and --sha256-annotation)")
        annotations[key] = file_sha256(args.tar, wanted)

    config = {"Env": [f"{k}={v}" for k, v in env.items()]}
    if args.entrypoint:
        config["Entrypoint"] = args.entrypoint
    if args.cmd:
        config["Cmd"] = args.cmd
    if labels:
        config["Labels"] = labels
    if args.workdir:
        config["WorkingDir"] = args.workdir
    image_config = {
        "architecture": args.architecture,
        "os": args.os,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": out.blob(canonical_json(image_config), CONFIG),
        "layers": layers,
    }
    if annotations:
        manifest["annotations"] = annotations
    descriptor = out.blob(canonical_json(manifest), MANIFEST)
    descriptor["platform"] = {"architecture": args.architecture, "os": args.os}
    (args.out / "oci-layout").write_bytes(canonical_json({"imageLayoutVersion": "1.0.0"}))
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [descriptor]}
    (args.out / "index.json").write_bytes(canonical_json(index))
    return descriptor["digest"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="oci.image", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the OCI layout directory to write")
    parser.add_argument("--digest-out", type=Path, required=True, help="file for the manifest digest")
    parser.add_argument("--tar", type=Path, action="append", default=[], help="a layer (uncompressed tar), in order")
    parser.add_argument("--entrypoint", action="append", default=[])
    parser.add_argument("--cmd", action="append", default=[])
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--annotation", action="append", default=[])
    parser.add_argument(
        "--sha256-annotation", action="append", default=[], help="KEY=PATH: annotate the sha256 of PATH in the layers"
    )
    parser.add_argument("--workdir", default="")
    parser.add_argument("--os", default="linux")
    parser.add_argument("--architecture", default="amd64")
    parser.add_argument("--stamp-info", type=Path, help="bazel's stable-status.txt (with --stamp)")
    args = parser.parse_args(argv)
    try:
        digest = build(args)
    except ImageError as error:
        shutil.rmtree(args.out, ignore_errors=True)
        print(f"error: oci_image: {error}", file=sys.stderr)
        return 1
    args.digest_out.write_text(digest + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

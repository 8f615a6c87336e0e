"""The on-disk contract of an engine: its self-describing name, its sha256 sidecar and its record.

Shared by the compilers (which write them) and the verifier (which devices run
to check what they pulled), so both sides agree on every byte. Standard library
only: the verifier runs outside Bazel.

    <model>__<hardware tag>_<precision>.<ext>     mlp__sm87_jp6.2_trt10.3_fp16.engine
    <engine file>.sha256                          "<hex digest>  <engine file>\\n" (sha256sum -c format)
    manifest.json                                 per platform: one record per engine
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

_NAME = re.compile(
    r"^(?P<model>[A-Za-z0-9][A-Za-z0-9.-]*(?:_[A-Za-z0-9.-]+)*?)__(?P<tag>.+)_(?P<precision>[a-z0-9]+)\.(?P<ext>engine|onnx)$"
)
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def engine_file_name(model: str, tag: str, precision: str, extension: str) -> str:
    if not MODEL_NAME.match(model) or "__" in model:
        raise ValueError(f"model name {model!r}: use letters, digits, '.', '-' and single '_' only")
    return f"{model}__{tag}_{precision}.{extension}"


def parse_engine_file_name(name: str) -> dict[str, str] | None:
    """{'model', 'tag', 'precision', 'ext'} for a conforming name, else None."""
    match = _NAME.match(name)
    return match.groupdict() if match else None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_text(digest: str, file_name: str) -> str:
    return f"{digest}  {file_name}\n"


def parse_sidecar(text: str) -> tuple[str, str] | None:
    """(digest, file name) from a sidecar, or None if it is not one."""
    match = re.fullmatch(r"([0-9a-f]{64}) [ *]([^\n/]+)\n?", text)
    return (match.group(1), match.group(2)) if match else None


def canonical_json(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def engine_key(fields: dict[str, object]) -> str:
    """The content address of an engine's inputs: model bytes, settings, runtime versions, hardware."""
    return sha256_bytes(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory and rename, so no reader sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

"""Writes a wheel from the arguments rules_python's py_wheel rule (0.22.1) passes its wheelmaker.

The same inputs give the same bytes: entries are sorted, and every one has a fixed
timestamp and mode. Stamping, description and extra dist-info files are not supported
(the rule passes them only when asked; argparse then refuses them).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import sys
import zipfile
from pathlib import Path

# The earliest date a zip entry can carry: no build time in the wheel.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644 << 16


def escape(segment: str) -> str:
    """A name or version as it appears in wheel file and directory names (PEP 427)."""
    return re.sub(r"[^\w\d.]+", "_", segment)


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def packaged_files(input_file_list: Path, strip_prefixes: list[str]) -> dict[str, Path]:
    """Path inside the wheel -> file to read, from the rule's `inside;real` lines."""
    files: dict[str, Path] = {}
    for line in input_file_list.read_text(encoding="utf-8").splitlines():
        inside, _, real = line.partition(";")
        for prefix in strip_prefixes:
            if inside.startswith(prefix):
                inside = inside[len(prefix) :]
                break
        files[inside] = Path(real)
    return files


def metadata_text(metadata_file: Path, version: str) -> str:
    """The rule's metadata with the version after the name, where the core metadata has it."""
    lines = metadata_file.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Name: ")) + 1
    return "\n".join([*lines[:at], f"Version: {version}", *lines[at:]]) + "\n"


def wheel_text(python_tag: str, abi: str, platform: str) -> str:
    lines = ["Wheel-Version: 1.0", "Generator: kiln wheelmaker", "Root-Is-Purelib: true"]
    return "\n".join([*lines, f"Tag: {python_tag}-{abi}-{platform}"]) + "\n"


def write_wheel(out: Path, entries: dict[str, bytes], record_path: str) -> None:
    records = [record_line(path, data) for path, data in entries.items()] + [f"{record_path},,"]
    entries = {**entries, record_path: ("\n".join(records) + "\n").encode()}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for path, data in entries.items():
            info = zipfile.ZipInfo(path, date_time=ZIP_EPOCH)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for flag in ("name", "version", "python_tag", "abi", "platform", "out", "name_file"):
        parser.add_argument(f"--{flag}", required=True)
    parser.add_argument("--input_file_list", type=Path, required=True)
    parser.add_argument("--metadata_file", type=Path, required=True)
    parser.add_argument("--entry_points_file", type=Path)
    parser.add_argument("--strip_path_prefix", action="append", default=[])
    args = parser.parse_args(argv)

    distinfo = f"{escape(args.name)}-{escape(args.version)}.dist-info"
    files = packaged_files(args.input_file_list, args.strip_path_prefix)
    entries = {path: files[path].read_bytes() for path in sorted(files)}
    entries[f"{distinfo}/METADATA"] = metadata_text(args.metadata_file, args.version).encode()
    entries[f"{distinfo}/WHEEL"] = wheel_text(args.python_tag, args.abi, args.platform).encode()
    if args.entry_points_file:
        entries[f"{distinfo}/entry_points.txt"] = args.entry_points_file.read_bytes()
    write_wheel(Path(args.out), entries, f"{distinfo}/RECORD")
    Path(args.name_file).write_text(Path(args.out).name, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""SHA256SUMS for files shipped side by side in a bundle: `sha256sum -c` format, by file name.

python -m engines.checksums --out SHA256SUMS FILE...

A device checks what it pulled with `sha256sum -c SHA256SUMS` in that directory (the
engines beside them carry their own sidecars and manifest.json). Lines are sorted by
name; two files with one name are refused, as they would overwrite each other there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engines import artifacts


def checksums(paths: list[Path]) -> str:
    by_name: dict[str, Path] = {}
    for path in paths:
        if path.name in by_name:
            raise ValueError(f"{by_name[path.name]} and {path} share the name {path.name!r}: rename one")
        by_name[path.name] = path
    return "".join(artifacts.sidecar_text(artifacts.sha256_file(by_name[name]), name) for name in sorted(by_name))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="engines.checksums", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    try:
        text = checksums(args.files)
    except ValueError as error:
        print(f"error: checksums: {error}", file=sys.stderr)
        return 2
    artifacts.write_atomically(args.out, text.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

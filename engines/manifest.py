"""Merge one platform's engine records into its manifest.json (sorted, canonical JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engines import artifacts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--platform", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("records", nargs="+", type=Path)
    args = parser.parse_args(argv)
    records = sorted(
        (json.loads(path.read_text(encoding="utf-8")) for path in args.records),
        key=lambda record: record["engine"]["file"],
    )
    names = [record["engine"]["file"] for record in records]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        print(f"error: engines {duplicates} appear twice in the manifest for {args.platform}", file=sys.stderr)
        return 2
    manifest = {"engines": records, "format": 1, "platform": args.platform}
    artifacts.write_atomically(args.out, artifacts.canonical_json(manifest).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

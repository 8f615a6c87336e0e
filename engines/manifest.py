"""Merge engine records into a manifest.json (sorted, canonical JSON).

A device's manifest also names the device, its hardware, and per model the engines
it uses, preferred first (an ISA-tied engine before the portable one):

    {"format": 2, "platform": "//platforms:x86_64_v3_ort1.32",
     "device": {"name": "x86_64_v3_ort1.32", "hardware": {...},
                "uses": {"mlp": ["mlp__x86-64-v3_ort1.32_fp32.onnx", "mlp__x86_64_ort1.32_fp32.onnx"]}},
     "engines": [<record>, ...]}
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engines import artifacts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", required=True)
    parser.add_argument("--device", help="JSON: {name, hardware, uses}")
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
    manifest: dict[str, object] = {"engines": records, "format": 1, "platform": args.platform}
    if args.device:
        device = json.loads(args.device)
        unknown = sorted({name for files in device["uses"].values() for name in files} - set(names))
        if unknown:
            print(f"error: device {device['name']} uses engines {unknown} the manifest does not list", file=sys.stderr)
            return 2
        manifest |= {"device": device, "format": 2}
    artifacts.write_atomically(args.out, artifacts.canonical_json(manifest).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Check engines pulled onto a device against their sidecars and manifest, outside Bazel.

    python3 engines/verify.py <directory or manifest.json> ...
    bazel run //engines:verify -- $PWD/bazel-bin/engines/fleet

A directory is searched for manifest.json files. Per engine listed:

    hit        the file, its .sha256 sidecar and the manifest agree
    tampered   the file's digest differs from the manifest or the sidecar, or the
               sidecar is missing, malformed or names another file
    missing    the manifest lists it, the directory does not have it

Engine files present but not listed are reported as `unlisted`. Exit status 0
when everything is a hit, 1 otherwise, 2 when nothing could be read. Standard
library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script on a device
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines import artifacts


def check_engine(directory: Path, record: dict) -> tuple[str, str]:
    """(status, reason) for one manifest record."""
    name = record["engine"]["file"]
    path = directory / name
    if not path.is_file():
        return "missing", "not in the directory"
    digest = artifacts.sha256_file(path)
    if digest != record["engine"]["sha256"]:
        return "tampered", f"sha256 {digest[:12]}... but the manifest says {record['engine']['sha256'][:12]}..."
    sidecar = path.with_name(name + ".sha256")
    if not sidecar.is_file():
        return "tampered", "its .sha256 sidecar is missing"
    parsed = artifacts.parse_sidecar(sidecar.read_text(encoding="utf-8", errors="replace"))
    if parsed is None:
        return "tampered", "its .sha256 sidecar is not '<sha256>  <file name>'"
    if parsed[1] != name:
        return "tampered", f"its sidecar names {parsed[1]}"
    if parsed[0] != digest:
        return "tampered", f"its sidecar says sha256 {parsed[0][:12]}..., the file has {digest[:12]}..."
    return "hit", ""


def verify_manifest(manifest: Path) -> list[dict[str, str]]:
    directory = manifest.parent
    data = json.loads(manifest.read_text(encoding="utf-8"))
    results = []
    listed = set()
    for record in data["engines"]:
        status, reason = check_engine(directory, record)
        listed.add(record["engine"]["file"])
        results.append(
            {"engine": record["engine"]["file"], "platform": data["platform"], "reason": reason, "status": status}
        )
    for path in sorted(directory.iterdir()):
        if path.name not in listed and artifacts.parse_engine_file_name(path.name):
            results.append(
                {
                    "engine": path.name,
                    "platform": data["platform"],
                    "reason": "not in manifest.json",
                    "status": "unlisted",
                }
            )
    return results


def manifests_under(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.rglob("manifest.json"))
        elif path.is_file():
            found.append(path)
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    manifests = manifests_under(args.paths)
    if not manifests:
        print(f"error: no manifest.json under {', '.join(map(str, args.paths))}", file=sys.stderr)
        return 2
    results = []
    for manifest in manifests:
        try:
            results += verify_manifest(manifest)
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"error: {manifest}: not a readable engine manifest ({error})", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(results, indent=2, sort_keys=True))
    else:
        for result in results:
            line = f"{result['status']:<9} {result['engine']}"
            print(line + (f"  ({result['reason']})" if result["reason"] else ""))
        counts = {
            status: sum(r["status"] == status for r in results) for status in ("hit", "tampered", "missing", "unlisted")
        }
        print(", ".join(f"{count} {status}" for status, count in counts.items()))
    return 0 if all(result["status"] == "hit" for result in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

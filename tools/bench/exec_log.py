"""Read a Bazel JSON execution log (--execution_log_json_file): one JSON object per spawn.

    exec_log.py list LOG [--seconds | --json]   executed spawns per target and mnemonic (--json: one
                                                line each, with every spawn's wall time)
    exec_log.py count LOG [--mnemonic M]... [--target REGEX] [--runner R] [--started-after T]
                                                how many spawns ran (not served by a cache);
                                                with --runner, how many had that runner
                                                ("remote", "remote cache hit", ...); with
                                                --started-after, only those that started
                                                after T (seconds since the epoch)
    exec_log.py spawns LOG [--mnemonic M]...    one JSON line per spawn: target, mnemonic,
                                                runner, action digest, platform properties

A spawn "ran" when no cache served it (its runner is neither a disk nor a remote
cache hit). The e2e scripts and benchmarks count with this, so they agree on it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_CACHE_RUNNERS = ("disk cache hit", "remote cache hit")


def spawns(path: str) -> Iterator[dict[str, Any]]:
    decoder, text, position = json.JSONDecoder(), Path(path).read_text(encoding="utf-8"), 0
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        spawn, position = decoder.raw_decode(text, position)
        yield spawn


def seconds(spawn: dict[str, Any]) -> float:
    return float(spawn.get("metrics", {}).get("executionWallTime", "0s").rstrip("s") or 0)


def started(spawn: dict[str, Any]) -> float | None:
    """When the spawn started, in seconds since the epoch (metrics.startTime), if the log says."""
    stamp = spawn.get("metrics", {}).get("startTime")
    if not stamp:
        return None
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def ran(spawn: dict[str, Any]) -> bool:
    return not spawn.get("cacheHit") and spawn.get("runner") not in _CACHE_RUNNERS


def executed(path: str) -> dict[tuple[str, str], list[float]]:
    """(target, mnemonic) -> wall times of the spawns that ran (not served from a cache)."""
    found: dict[tuple[str, str], list[float]] = defaultdict(list)
    for spawn in spawns(path):
        if ran(spawn):
            found[(spawn.get("targetLabel", "?"), spawn.get("mnemonic", "?"))].append(seconds(spawn))
    return dict(sorted(found.items()))


def _selected(path: str, mnemonics: list[str], target: str | None) -> Iterator[dict[str, Any]]:
    pattern = re.compile(target) if target else None
    for spawn in spawns(path):
        if mnemonics and spawn.get("mnemonic") not in mnemonics:
            continue
        if pattern and not pattern.search(spawn.get("targetLabel", "")):
            continue
        yield spawn


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="executed spawns per target and mnemonic")
    listing.add_argument("log")
    listing.add_argument("--seconds", action="store_true", help="with their summed wall time")
    listing.add_argument("--json", action="store_true", help="JSON lines: target, mnemonic, seconds (per spawn)")
    for name in ("count", "spawns"):
        sub = commands.add_parser(name)
        sub.add_argument("log")
        sub.add_argument("--mnemonic", action="append", default=[], help="only spawns of this mnemonic (repeatable)")
        sub.add_argument("--target", help="only spawns whose target label matches this regular expression")
        if name == "count":
            sub.add_argument("--runner", help="count spawns with this runner instead of those that ran")
            sub.add_argument("--started-after", type=float, help="only spawns that started after this epoch time")
    args = parser.parse_args(argv)
    if not Path(args.log).is_file():
        print(f"error: {args.log}: no such execution log", file=sys.stderr)
        return 2
    if args.command == "list":
        for (target, mnemonic), times in executed(args.log).items():
            if args.json:
                print(json.dumps({"mnemonic": mnemonic, "seconds": times, "target": target}, sort_keys=True))
                continue
            extra = f"  {sum(times):7.2f}s" if args.seconds else ""
            print(f"{target:40} {mnemonic:14} {len(times):3}{extra}")
    elif args.command == "count":
        chosen = _selected(args.log, args.mnemonic, args.target)
        if args.started_after is not None:
            chosen = (spawn for spawn in chosen if (started(spawn) or 0) > args.started_after)
        print(sum(1 for spawn in chosen if (spawn.get("runner") == args.runner if args.runner else ran(spawn))))
    else:
        for spawn in _selected(args.log, args.mnemonic, args.target):
            digest = spawn.get("digest", {})
            properties = {item["name"]: item["value"] for item in spawn.get("platform", {}).get("properties", [])}
            print(
                json.dumps(
                    {
                        "digest": f"{digest.get('hash', '')}/{digest.get('sizeBytes', 0)}",
                        "mnemonic": spawn.get("mnemonic"),
                        "properties": properties,
                        "ran": ran(spawn),
                        "runner": spawn.get("runner"),
                        "target": spawn.get("targetLabel"),
                    },
                    sort_keys=True,
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

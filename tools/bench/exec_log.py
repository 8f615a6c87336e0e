"""Reads a Bazel JSON execution log (--execution_log_json_file): one JSON object per spawn.

python exec_log.py LOG                 prints executed spawns per target and mnemonic
python exec_log.py LOG --seconds       ... with their summed wall time
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any


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


def executed(path: str) -> dict[tuple[str, str], list[float]]:
    """(target, mnemonic) -> wall times of the spawns that ran (not served from a cache)."""
    found: dict[tuple[str, str], list[float]] = defaultdict(list)
    for spawn in spawns(path):
        if not spawn.get("cacheHit") and spawn.get("runner") not in ("disk cache hit", "remote cache hit"):
            found[(spawn.get("targetLabel", "?"), spawn.get("mnemonic", "?"))].append(seconds(spawn))
    return dict(sorted(found.items()))


if __name__ == "__main__":
    for (target, mnemonic), times in executed(sys.argv[1]).items():
        extra = f"  {sum(times):7.2f}s" if "--seconds" in sys.argv else ""
        print(f"{target:40} {mnemonic:14} {len(times):3}{extra}")

#!/usr/bin/env bash
# Benchmark: compile time per engine for the shipped models, and a whole //fleet:all build.
#
# After a warm-up, each run starts from `bazel clean` with no disk cache, so every
# model generation, engine compile and manifest executes. Per engine it prints the
# median wall time of its compile action (from the execution logs), split into the
# compile tool's start-up (importing ONNX Runtime, measured by
# //tools/bench:onnxruntime_import_time) and the rest; then the median wall time of
# the whole build.
# Usage: tools/bench/engine_compile.sh [RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly RUNS=${1:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

./bazelw build //fleet:all //tools/bench:onnxruntime_import_time >/dev/null 2>&1 # warm-up
walls=()
for run in $(seq 1 "$RUNS"); do
  ./bazelw clean >/dev/null 2>&1
  start=$(date +%s.%N)
  ./bazelw build //fleet:all --disk_cache= --color=no --curses=no \
    --execution_log_json_file="$work/exec.$run.json" >"$work/build.log" 2>&1
  end=$(date +%s.%N)
  walls+=("$(python3 -c "print(f'{$end - $start:.2f}')")")
  printf 'run %d: %ss wall\n' "$run" "${walls[-1]}"
done

imports=()
for _ in 1 2 3; do
  imports+=("$(./bazelw run //tools/bench:onnxruntime_import_time 2>/dev/null | tail -n1)")
done
for log in "$work"/exec.*.json; do python3 tools/bench/exec_log.py list --json "$log"; done >"$work/spawns.jsonl"
python3 - "$work/spawns.jsonl" "${imports[*]}" "${walls[@]}" <<'PY'
import json, statistics, sys
from collections import defaultdict
spawns, imports, walls = sys.argv[1], sorted(float(v) for v in sys.argv[2].split()), sorted(float(v) for v in sys.argv[3:])
per_engine = defaultdict(list)
for entry in map(json.loads, open(spawns)):
    if entry["mnemonic"] == "EngineCompile":
        per_engine[entry["target"].removesuffix(".build")] += entry["seconds"]
start_up = statistics.median(imports)
print(f"\n{'engine':52} {'median':>8} {'min':>7} {'max':>7}   (runs: {len(walls)})")
for target, times in sorted(per_engine.items()):
    print(f"{target:52} {statistics.median(times):7.2f}s {min(times):6.2f}s {max(times):6.2f}s")
medians = [statistics.median(times) for times in per_engine.values()]
print(f"\nmedian compile action: {statistics.median(medians):.2f}s, of which importing onnxruntime + onnx + numpy: "
      f"{start_up:.2f}s (median of 3, outside the sandbox)")
print(f"whole //fleet:all from clean: median {statistics.median(walls):.2f}s (min {walls[0]:.2f}s, max {walls[-1]:.2f}s)")
PY

#!/usr/bin/env bash
# Benchmark: wall time of a whole corpus build from a warm repository cache, and the
# share of its action time spent importing the mined library.
#
# The locked wheels are fetched once (warm-up); then each run starts from `bazel
# clean` with no disk cache, so every miner, merge, gate and docs action executes.
# Prints each run, the median, and (from the last run's execution log) how much of
# the actions' time went to importing the library, measured by //tools/bench:<lib>_import_time.
# Usage: tools/bench/corpus_build.sh LIBRARY [RUNS]     e.g. tools/bench/corpus_build.sh vllm 3
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly LIBRARY=${1:-transformers} RUNS=${2:-5}
readonly TARGET=//corpus:$LIBRARY
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

./bazelw build "$TARGET" "//tools/bench:${LIBRARY}_import_time" >/dev/null 2>&1 # warm-up
times=()
for run in $(seq 1 "$RUNS"); do
  ./bazelw clean >/dev/null 2>&1
  start=$(date +%s.%N)
  ./bazelw build "$TARGET" --disk_cache= --color=no --curses=no \
    --execution_log_json_file="$work/exec.json" >"$work/build.log" 2>&1
  end=$(date +%s.%N)
  elapsed=$(python3 -c "print(f'{$end - $start:.2f}')")
  summary=$(grep -E '^INFO: [0-9]+ process' "$work/build.log" | tail -n1)
  critical=$(grep -oE 'Critical Path: [0-9.]+s' "$work/build.log" | tail -n1)
  printf 'run %d: %ss wall  (%s; %s)\n' "$run" "$elapsed" "$critical" "${summary#INFO: }"
  times+=("$elapsed")
done

imports=()
for _ in 1 2 3; do
  imports+=("$(./bazelw run "//tools/bench:${LIBRARY}_import_time" 2>/dev/null | tail -n1)")
done
python3 tools/bench/exec_log.py list --json "$work/exec.json" >"$work/spawns.jsonl"
python3 - "$work/spawns.jsonl" "${imports[*]}" "${times[@]}" <<'PY'
import json, statistics, sys
ran = [json.loads(line) for line in open(sys.argv[1])]
imports = sorted(float(v) for v in sys.argv[2].split())
walls = sorted(float(v) for v in sys.argv[3:])
importing = [t for entry in ran if entry["mnemonic"].startswith("Mine") or entry["mnemonic"] == "CorpusGate" for t in entry["seconds"]]
total = sum(t for entry in ran for t in entry["seconds"])
imported = statistics.median(imports) * len(importing)
print(f"median {statistics.median(walls):.2f}s wall over {len(walls)} clean builds (min {walls[0]:.2f}s, max {walls[-1]:.2f}s)")
print(f"importing the library: {statistics.median(imports):.2f}s per process (median of 3, outside the sandbox), "
      f"in {len(importing)} actions = {imported:.1f}s of {total:.1f}s action time ({100 * imported / total:.0f}%)")
PY

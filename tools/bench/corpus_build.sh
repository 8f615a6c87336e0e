#!/usr/bin/env bash
# Benchmark: wall time of a whole corpus build from a warm repository cache.
#
# The locked wheels are fetched once (warm-up); then each run starts from
# `bazel clean` with no disk cache, so every miner, merge, gate and docs action
# executes. Prints each run, the median, and the share of the critical path.
# Usage: tools/bench/corpus_build.sh [TARGET] [RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly TARGET=${1:-//corpus:transformers} RUNS=${2:-5}

./bazelw build "$TARGET" >/dev/null 2>&1 # warm-up: repository cache and external repos
times=()
for run in $(seq 1 "$RUNS"); do
  ./bazelw clean >/dev/null 2>&1
  start=$(date +%s.%N)
  ./bazelw build "$TARGET" --disk_cache= --color=no --curses=no >"${TMPDIR:-/tmp}/kiln-bench.log" 2>&1
  end=$(date +%s.%N)
  elapsed=$(python3 -c "print(f'{$end - $start:.2f}')")
  summary=$(grep -E '^INFO: [0-9]+ process' "${TMPDIR:-/tmp}/kiln-bench.log" | tail -n1)
  critical=$(grep -oE 'Critical Path: [0-9.]+s' "${TMPDIR:-/tmp}/kiln-bench.log" | tail -n1)
  printf 'run %d: %ss wall  (%s; %s)\n' "$run" "$elapsed" "$critical" "${summary#INFO: }"
  times+=("$elapsed")
done
python3 - "${times[@]}" <<'PY'
import statistics, sys
values = sorted(float(v) for v in sys.argv[1:])
print(f"median {statistics.median(values):.2f}s wall over {len(values)} clean builds (min {values[0]:.2f}s, max {values[-1]:.2f}s)")
PY

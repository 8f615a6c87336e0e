#!/usr/bin/env bash
# Benchmark: what building a second version's corpus next to the first costs.
#
# From a warm repository cache and a private disk cache: build the FIRST version's corpus
# (filling the cache), then, per run, from that cache, `bazel clean` and build FIRST and
# SECOND together.
# Every FIRST action must come from the cache: the script fails if one executed. Prints, per
# run, the wall time and the spawns that executed and that the cache served, per version,
# then the median wall time, beside the median of FIRST alone from the same clean state.
# Usage: tools/bench/version_cost.sh [LIBRARY FIRST SECOND [RUNS]]
#        e.g. tools/bench/version_cost.sh transformers 5.23.0 4.57.3 3
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/e2e/lib.sh
readonly LIBRARY=${1:-transformers} FIRST=${2:-5.23.0} SECOND=${3:-4.57.3} RUNS=${4:-3}
readonly A=//corpus:${LIBRARY}_$FIRST B=//corpus:${LIBRARY}_$SECOND
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench.XXXXXX")
on_exit "rm -rf '$work'"
readonly FLAGS=(--disk_cache="$work/disk" --color=no --curses=no)

# The spawns of one version's targets (its miners, SSOT view, gate and corpus) in a log.
version_regex() { echo "^//(miners/$LIBRARY:[a-z_]+|corpus:$LIBRARY)_${1//./\\.}\$"; }

./bazelw build "$A" "$B" --disk_cache= >/dev/null 2>&1 # warm-up: fetch both hubs, analyse
./bazelw clean >/dev/null 2>&1
./bazelw build "$A" "${FLAGS[@]}" >/dev/null 2>&1 # FIRST into the private disk cache
# Each run starts from this cache: FIRST in it, SECOND not (a run would leave SECOND there).
cp -a "$work/disk" "$work/disk.first"

alone=() together=()
for run in $(seq 1 "$RUNS"); do
  rm -rf "$work/disk" && cp -a "$work/disk.first" "$work/disk"
  ./bazelw clean >/dev/null 2>&1
  start=$(seconds)
  ./bazelw build "$A" "${FLAGS[@]}" >/dev/null 2>&1
  alone+=("$(since "$start")")

  ./bazelw clean >/dev/null 2>&1
  log="$work/exec.$run.json"
  start=$(seconds)
  ./bazelw build "$A" "$B" "${FLAGS[@]}" --execution_log_json_file="$log" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; die "building both versions failed"; }
  together+=("$(since "$start")")
  first_ran=$(ran "$log" --target "$(version_regex "$FIRST")")
  first_hits=$(ran "$log" --target "$(version_regex "$FIRST")" --runner "disk cache hit")
  second_ran=$(ran "$log" --target "$(version_regex "$SECOND")")
  printf 'run %d: %s alone %ss; %s + %s %ss wall; %s %s: %s executed, %s disk cache hits; %s %s: %s executed\n' \
    "$run" "$FIRST" "${alone[-1]}" "$FIRST" "$SECOND" "${together[-1]}" \
    "$LIBRARY" "$FIRST" "$first_ran" "$first_hits" "$LIBRARY" "$SECOND" "$second_ran"
  ((first_ran == 0)) || fail "$first_ran actions of $LIBRARY $FIRST executed; they should all be cache hits"
  ((second_ran > 0)) || fail "nothing of $LIBRARY $SECOND executed"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "median of $RUNS on $(nproc) cores: $LIBRARY $FIRST alone (all cache hits) $(median "${alone[@]}")s;" \
  "with $SECOND beside it $(median "${together[@]}")s"
exit $status

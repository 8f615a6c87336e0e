#!/usr/bin/env bash
# End-to-end properties of the corpus build, measured with real Bazel runs:
#
#   1. every Python action lists the interpreter identity among its inputs
#      (from the execution log of a cold build);
#   2. a repeated build executes no action (Bazel's own workspace-status
#      action aside, which it runs unconditionally);
#   3. after `bazel clean`, the disk cache serves every action (each spawn of the
#      cold build is a disk cache hit in the execution log);
#   4. two builds in two output bases, with no shared cache, give
#      byte-identical corpus files.
#
# Each step prints its figures. Runs Bazel itself, so it is a CI step
# (.ci/run), not a `bazel test` target. Usage: tests/e2e/build_properties.sh [TARGET]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# A corpus target of one library version (not an alias: its files are named after it).
readonly TARGET=${1:-//corpus:transformers_5.23.0}
readonly OUTPUTS=("corpus/${TARGET##*:}".{invariants.validated.yaml,quarantine.yaml,rules.md})
readonly PYTHON_MNEMONICS='["SsotVersion", "MineStatic", "MineDynamic", "MineLift", "CorpusMerge", "CorpusGate", "CorpusDocs"]'

work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-e2e.XXXXXX")
base_a="$work/base-a" base_b="$work/base-b" disk="$work/disk-cache"
cleanup() {
  ./bazelw --output_base="$base_a" shutdown >/dev/null 2>&1 || true
  ./bazelw --output_base="$base_b" shutdown >/dev/null 2>&1 || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# build BASE LABEL [bazel flags...]: builds TARGET, keeps the summary line and BEP.
build() {
  local base=$1 label=$2
  shift 2
  ./bazelw --output_base="$base" build "$TARGET" --color=no --curses=no \
    --build_event_json_file="$work/$label.bep.json" "$@" >"$work/$label.log" 2>&1 ||
    { cat "$work/$label.log" >&2; fail "build '$label' failed"; }
  grep -E '^INFO: [0-9]+ process' "$work/$label.log" | tail -n1 >"$work/$label.summary"
  printf '%s: %s\n' "$label" "$(cat "$work/$label.summary")"
}

# executed LABEL: actions Bazel executed, not counting its unconditional workspace-status action.
executed() {
  python3 - "$work/$1.bep.json" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    event = json.loads(line)
    summary = event.get("buildMetrics", {}).get("actionSummary")
    if summary is not None:
        data = summary.get("actionData", [])
        print(sum(int(d.get("actionsExecuted", 0)) for d in data if d["mnemonic"] != "BazelWorkspaceStatusAction"))
EOF
}

step "1. cold build (private disk cache); every Python action carries the interpreter identity"
build "$base_a" cold --disk_cache="$disk" --execution_log_json_file="$work/cold.exec.json"
python3 - "$work/cold.exec.json" "$PYTHON_MNEMONICS" <<'EOF'
import json, sys
decoder, text, position = json.JSONDecoder(), open(sys.argv[1]).read(), 0
mnemonics = set(json.loads(sys.argv[2]))
seen = {}
while position < len(text):
    while position < len(text) and text[position].isspace():
        position += 1
    if position >= len(text):
        break
    spawn, position = decoder.raw_decode(text, position)
    if spawn.get("mnemonic") not in mnemonics:
        continue
    paths = [entry["path"] for entry in spawn.get("inputs", [])]
    carries = any(p.endswith("python_host/identity.json") for p in paths)
    seen.setdefault(spawn["mnemonic"], []).append(carries)
    print(f"  {spawn['mnemonic']:12} identity.json among {len(paths)} inputs: {carries}")
missing = sorted(mnemonics - set(seen))
if missing:
    sys.exit(f"FAIL: no spawn with mnemonic {missing} in the execution log")
if not all(all(v) for v in seen.values()):
    sys.exit("FAIL: a Python action does not carry the interpreter identity")
EOF
mkdir -p "$work/a"
for output in "${OUTPUTS[@]}"; do cp "$base_a/execroot/_main/bazel-out/k8-fastbuild/bin/$output" "$work/a/"; done

step "2. repeated build executes nothing"
build "$base_a" repeat --disk_cache="$disk"
count=$(executed repeat)
echo "  actions executed (besides workspace status): $count"
[[ $count == 0 ]] || fail "a repeated build executed $count actions"

step "3. after bazel clean, the disk cache serves every action (execution log)"
./bazelw --output_base="$base_a" clean >/dev/null 2>&1
build "$base_a" after-clean --disk_cache="$disk" --execution_log_json_file="$work/after-clean.exec.json"
cold_ran=$(python3 tools/bench/exec_log.py count "$work/cold.exec.json")
clean_ran=$(python3 tools/bench/exec_log.py count "$work/after-clean.exec.json")
clean_hits=$(python3 tools/bench/exec_log.py count "$work/after-clean.exec.json" --runner "disk cache hit")
echo "  cold build ran $cold_ran spawns; after clean $clean_ran ran, $clean_hits were disk cache hits"
((cold_ran > 0)) || fail "the cold build ran no spawn, so the cache had nothing to serve"
((clean_ran == 0)) || fail "$clean_ran spawns ran after clean instead of coming from the disk cache"
((clean_hits == cold_ran)) || fail "after clean, $clean_hits disk cache hits for the $cold_ran spawns the cold build ran"

step "4. a second output base, no cache at all: byte-identical corpus files"
build "$base_b" second-base --disk_cache=
for output in "${OUTPUTS[@]}"; do
  name=$(basename "$output")
  a=$(sha256sum <"$work/a/$name" | cut -d' ' -f1)
  b=$(sha256sum <"$base_b/execroot/_main/bazel-out/k8-fastbuild/bin/$output" | cut -d' ' -f1)
  echo "  $name  base A $a  base B $b"
  [[ $a == "$b" ]] || fail "$name differs between output bases"
done

echo
echo "all build properties hold"

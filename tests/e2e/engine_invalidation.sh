#!/usr/bin/env bash
# Invalidation precision, counted from execution logs.
#
# Builds every engine and the transformers corpus, then makes three edits one at a
# time (each restored before the next) and counts the spawns each rebuild ran:
#
#   1. one CPU platform's runtime constraint (x86_64_v4_ort1.22: ONNX Runtime 1.22 -> 1.32)
#      must run that platform's engine compiles, N of N, and no other platform's,
#      and 0 miner or corpus actions;
#   2. one model's weights (mlp_b's seed) must run that model's generation and its
#      engines only;
#   3. a corpus input (corpus/merge.py) must run 0 engine actions.
#
# The disk cache is off for these builds, so a counted spawn really ran.
# Prints the counts; exits 1 on any imprecision.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

readonly EDITED=(platforms/devices.bzl engines/models/BUILD.bazel corpus/merge.py)
if ! git diff --quiet -- "${EDITED[@]}"; then
  echo "FAIL: ${EDITED[*]} have uncommitted changes; commit or stash them first" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-invalidation.XXXXXX")
trap 'git checkout -- "${EDITED[@]}"; rm -rf "$work"' EXIT

readonly TARGETS=(//engines:all //corpus:transformers)
readonly FLAGS=(--disk_cache=)
build() { # NAME: build TARGETS, execution log in $work/NAME.json
  ./bazelw build "${FLAGS[@]}" "${TARGETS[@]}" --execution_log_json_file="$work/$1.json" >"$work/$1.log" 2>&1 ||
    { cat "$work/$1.log" >&2; exit 1; }
}

echo "== baseline"
build baseline

# How many engines each platform has, from the build graph itself.
engines_of() { # PLATFORM -> number of engine compile targets for it
  ./bazelw query "attr(platform_label, '^//platforms:$1\$', kind(engine_build, //engines:*))" 2>/dev/null | wc -l
}

check() { # NAME EXPECTATION...: count the spawns of build NAME and compare
  python3 - "$work/$1.json" "${@:2}" <<'PY'
import re, sys
sys.path.insert(0, "tools/bench")
from exec_log import executed
log, expectations = sys.argv[1], sys.argv[2:]
ran = executed(log)
def count(pattern, mnemonics=None):
    return sum(len(times) for (target, mnemonic), times in ran.items()
               if re.search(pattern, target) and (mnemonics is None or mnemonic in mnemonics))
compiles = lambda pattern: count(pattern, {"EngineCompile"})
engine_actions = count(r"^//engines", {"EngineCompile", "EngineManifest", "OnnxModel"})
pipeline = count(r"^//(miners|corpus)[/:]")
for (target, mnemonic), times in ran.items():
    print(f"  ran {len(times):2} x {mnemonic:15} {target}")
failures = []
for expectation in expectations:
    what, _, expected = expectation.partition("=")
    if what.startswith("compiles:"):
        got = compiles(what.removeprefix("compiles:"))
    elif what == "engine_actions":
        got = engine_actions
    elif what == "pipeline":
        got = pipeline
    elif what.startswith("models:"):
        got = count(what.removeprefix("models:"), {"OnnxModel"})
    print(f"  {what}: {got} (expected {expected})")
    if got != int(expected):
        failures.append(what)
if failures:
    sys.exit(f"FAIL: {', '.join(failures)}")
PY
}

status=0
n_changed=$(engines_of x86_64_v4_ort1.22)
n_total=$(./bazelw query "kind(engine_build, //engines:*) except attr(platform_label, 'trt', //engines:*)" 2>/dev/null | wc -l)

echo "== 1. x86_64_v4_ort1.22 moves to ONNX Runtime 1.32 ($n_changed engines on it, $n_total CPU engines in all)"
python3 - <<'PY'
import pathlib, re
path = pathlib.Path("platforms/devices.bzl")
text = path.read_text()
block = re.search(r'"x86_64_v4_ort1\.22": \{.*?\}', text, re.S)
path.write_text(text[: block.start()] + block.group(0).replace('"onnxruntime": "1.22"', '"onnxruntime": "1.32"') + text[block.end():])
PY
build platform
check platform "compiles:\.x86_64_v4_ort1\.22\.build\$=$n_changed" "compiles:\.build\$=$n_changed" pipeline=0 || status=1
git checkout -- platforms/devices.bzl
build restore1

echo "== 2. mlp_b gets new weights (seed 2 -> 3)"
python3 - <<'PY'
import pathlib, re
path = pathlib.Path("engines/models/BUILD.bazel")
text = path.read_text()
path.write_text(re.sub(r'(name = "mlp_b",\n    kind = "mlp",\n    seed = )2', r"\g<1>3", text))
PY
git diff --quiet -- engines/models/BUILD.bazel && { echo "FAIL: could not edit mlp_b's seed" >&2; exit 1; }
n_mlp_b=$(./bazelw query "attr(model, '//engines/models:mlp_b', kind(engine_build, //engines:*))" 2>/dev/null | wc -l)
n_mlp_b_cpu=$(./bazelw query "attr(model, '//engines/models:mlp_b', kind(engine_build, //engines:*)) except attr(platform_label, 'trt', //engines:*)" 2>/dev/null | wc -l)
echo "   ($n_mlp_b engines use mlp_b, $n_mlp_b_cpu of them on CPU platforms this machine builds)"
build weights
check weights "models:mlp_b\$=1" "compiles:\.mlp_b\.=$n_mlp_b_cpu" "compiles:\.build\$=$n_mlp_b_cpu" pipeline=0 || status=1
git checkout -- engines/models/BUILD.bazel
build restore2

echo "== 3. a corpus input changes (corpus/merge.py)"
echo "# a comment that changes the merge tool's bytes" >>corpus/merge.py
build corpus
check corpus engine_actions=0 || status=1
python3 - "$work/corpus.json" <<'PY' || status=1
import sys
sys.path.insert(0, "tools/bench")
from exec_log import executed
ran = executed(sys.argv[1])
corpus = sum(len(t) for (target, _), t in ran.items() if target.startswith("//corpus"))
print(f"  corpus spawns: {corpus} (expected > 0: the edit really changed something)")
sys.exit(0 if corpus else "FAIL: the corpus edit re-ran nothing")
PY
git checkout -- corpus/merge.py

[[ $status == 0 ]] && echo "invalidation is precise: one platform, one model, or no engines, as edited"
exit $status

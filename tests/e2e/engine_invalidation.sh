#!/usr/bin/env bash
# Invalidation precision, counted from execution logs (CPU engines, built here) and from
# action keys (GPU engines, which cannot be built without TensorRT).
#
# In a copy of the checkout, with its own output base and no disk cache (so a counted
# spawn really ran, and no earlier build's results hide a re-run), the fleet minus its
# ONNX Runtime 1.22 servers is built with the transformers corpus, then:
#
#   1. a second server type of this host's ISA level is added: its classes are covered,
#      so it must compile 0 engines (only its manifest is new) and run no corpus action;
#   2. a device of a new class is added (this host's level with ONNX Runtime 1.22): it must
#      compile exactly its engines, models x its 2 classes (ISA-tied and portable), no other;
#   3. one model's weights change (mlp_b's seed): that model's generation and its engines only;
#   4. a corpus input changes (corpus/merge.py): 0 engine actions;
#   5. GPU, from the EngineCompile action keys of `bazel aquery` with executors named: adding
#      an L4 (sm_89) to the Ampere-plus class adds no key; adding a T4 (sm_75, a class of
#      its own) adds exactly its engines' keys and changes no other.
#
# Each edit is undone before the next. Adapts to the host: the devices it adds are of this
# host's ISA level. Prints the counts; exits 1 on any imprecision.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/e2e/lib.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-invalidation.XXXXXX")
readonly TREE=$work/tree BASE=$work/base
on_exit 'rm -rf "$work"'
on_exit '(cd "$TREE" && ./bazelw --output_base="$BASE" shutdown >/dev/null 2>&1)'
copy_tree "$TREE"

ISA=$(host_fact cpu_isa)
readonly ISA
[[ $ISA == x86-64-v* ]] || die "this script adds x86-64 devices of the host's level; this host's ISA level is $ISA"
readonly LEVEL=${ISA#x86-64-}

bazel() { (cd "$TREE" && ./bazelw --output_base="$BASE" "$@"); }
# The device filegroups of the fleet and the transformers corpus: engines and pipeline,
# without the bundles (and so without the vLLM corpus).
targets() {
  bazel query 'attr(generator_function, engine_set, kind(filegroup, //fleet:*)) + //fleet:status + //corpus:transformers' 2>/dev/null
}
build() { # NAME: build, execution log in $work/NAME.json
  mapfile -t labels < <(targets)
  bazel build --disk_cache= --skip_incompatible_explicit_targets "${labels[@]}" --execution_log_json_file="$work/$1.json" >"$work/$1.log" 2>&1 ||
    { tail -n 30 "$work/$1.log" >&2; die "build $1 failed"; }
}
edit() { # PYTHON: run in the copy (its MODULE.bazel and fleet/BUILD.bazel)
  (cd "$TREE" && python3 - "$@")
}
fleet() { # add|remove DEVICE [DESCRIPTION]: edit FLEET_DEVICES (and declare a new kind in MODULE.bazel, as a user would)
  edit "$@" <<'PY'
import json, pathlib, sys
action, name = sys.argv[1], sys.argv[2]
build, module = pathlib.Path("fleet/BUILD.bazel"), pathlib.Path("MODULE.bazel")
text = build.read_text()
entry = f'    "{name}",\n'
if action == "add":
    text = text.replace("FLEET_DEVICES = [\n", "FLEET_DEVICES = [\n" + entry, 1)
    if len(sys.argv) > 3 and f'name = "{name}",' not in module.read_text():
        settings = "".join(f"    {key} = {json.dumps(value)},\n" for key, value in sorted(json.loads(sys.argv[3]).items()))
        module.write_text(module.read_text() + f'\nfleet.device(\n    name = "{name}",\n{settings})\n')
else:
    head, _, tail = text.partition("FLEET_DEVICES = [\n")
    listed, _, rest = tail.partition("]\n")
    assert entry in listed, f"{name} is not in FLEET_DEVICES"
    text = head + "FLEET_DEVICES = [\n" + listed.replace(entry, "") + "]\n" + rest
build.write_text(text)
PY
}
restore() { (cd "$REPO_ROOT" && git ls-files -z MODULE.bazel fleet/BUILD.bazel fleet/models/BUILD.bazel corpus/merge.py |
  xargs -0 cp --parents -t "$TREE"); }
readonly REPO_ROOT=$PWD

count() { ran "$work/$1.json" "${@:2}"; }
expect() { # WHAT GOT EXPECTED
  echo "  $1: $2 (expected $3)"
  [[ $2 == "$3" ]] || fail "$1: $2, expected $3"
}
show() { python3 tools/bench/exec_log.py list "$work/$1.json" | sed 's/^/  ran: /'; }
engine_actions() { count "$1" --target '^//fleet' --mnemonic EngineCompile --mnemonic EngineManifest --mnemonic OnnxModel; }
pipeline() { count "$1" --target '^//(miners|corpus)[/:]'; }

echo "== baseline: the fleet without its ONNX Runtime 1.22 servers (host: $ISA)"
fleet remove x86_64_v4_ort1.22
cp "$TREE/MODULE.bazel" "$TREE/fleet/BUILD.bazel" "$work/"
build baseline
echo "  $(count baseline --mnemonic EngineCompile) engine compiles, $(pipeline baseline) corpus spawns"
back_to_baseline() { cp "$work/MODULE.bazel" "$TREE/"; cp "$work/BUILD.bazel" "$TREE/fleet/"; }

models=$(bazel query 'kind(onnx_model, //fleet/models:*)' 2>/dev/null | grep -c .)

echo "== 1. a second server type of a covered class (x86_64_${LEVEL}b_ort1.32)"
fleet add "x86_64_${LEVEL}b_ort1.32" "{\"cpu\": \"x86_64\", \"cpu_isa\": \"$ISA\", \"onnxruntime\": \"1.32\"}"
build covered
show covered
expect "engine compiles" "$(count covered --mnemonic EngineCompile)" 0
expect "its manifest" "$(count covered --mnemonic EngineManifest --target "x86_64_${LEVEL}b_ort1.32")" 1
expect "corpus spawns" "$(pipeline covered)" 0
back_to_baseline
build undo1

echo "== 2. a device of a new class (x86_64_${LEVEL}_ort1.22: ${ISA}_ort1.22 and x86_64_ort1.22)"
fleet add "x86_64_${LEVEL}_ort1.22" "{\"cpu\": \"x86_64\", \"cpu_isa\": \"$ISA\", \"onnxruntime\": \"1.22\"}"
build new_class
show new_class
expect "engine compiles" "$(count new_class --mnemonic EngineCompile)" $((models * 2))
expect "compiles of its two classes" \
  "$(count new_class --mnemonic EngineCompile --target "\.(${ISA}|x86_64)_ort1\.22\.build$")" $((models * 2))
expect "corpus spawns" "$(pipeline new_class)" 0
back_to_baseline
build undo2

echo "== 3. mlp_b gets new weights (seed 2 -> 3)"
edit <<'PY'
import pathlib, re
path = pathlib.Path("fleet/models/BUILD.bazel")
text, count = re.subn(r'(name = "mlp_b",\n    kind = "mlp",\n    seed = )2', r"\g<1>3", path.read_text())
assert count == 1, "could not edit mlp_b's seed"
path.write_text(text)
PY
bazel build --disk_cache= --skip_incompatible_explicit_targets //fleet:status >/dev/null 2>&1
mlp_b_engines=$( (cd "$TREE" && status_targets builds '\.mlp_b\.') | grep -c .)
echo "   ($mlp_b_engines engines of mlp_b build on this host)"
build weights
show weights
expect "model generations" "$(count weights --mnemonic OnnxModel)" 1
expect "mlp_b compiles" "$(count weights --mnemonic EngineCompile --target '\.mlp_b\.')" "$mlp_b_engines"
expect "engine compiles" "$(count weights --mnemonic EngineCompile)" "$mlp_b_engines"
expect "corpus spawns" "$(pipeline weights)" 0
restore
back_to_baseline
build undo3

echo "== 4. a corpus input changes (corpus/merge.py)"
echo "# a comment that changes the merge tool's bytes" >>"$TREE/corpus/merge.py"
build corpus
expect "engine actions" "$(engine_actions corpus)" 0
corpus_spawns=$(pipeline corpus)
echo "  corpus spawns: $corpus_spawns (expected > 0: the edit really changed something)"
((corpus_spawns > 0)) || fail "the corpus edit re-ran nothing"
restore
back_to_baseline

echo "== 5. GPU engines, by action key (executors named, nothing executed)"
readonly GPU_FLAGS=(--//platforms:executors=sm80+_trt10.13 --//platforms:executors=sm75_trt10.13)
compile_keys() { # NAME: "<key> <tag>" of every EngineCompile in the fleet, sorted
  mapfile -t devices < <(bazel query 'attr(generator_function, engine_set, kind(filegroup, //fleet:*))' 2>/dev/null)
  # Only the devices' targets are analysed: //fleet:* would add the bundles, and with them the vLLM corpus.
  bazel aquery "mnemonic(\"EngineCompile\", deps(set(${devices[*]})))" "${GPU_FLAGS[@]}" --skip_incompatible_explicit_targets --output=jsonproto \
    >"$work/$1.aquery.json" 2>"$work/$1.aquery.log" || { tail -n 20 "$work/$1.aquery.log" >&2; die "aquery $1 failed"; }
  python3 - "$work/$1.aquery.json" >"$work/$1.keys" <<'PY'
import json, sys
for action in json.load(open(sys.argv[1])).get("actions", []):
    arguments = action["arguments"]
    print(action["actionKey"], arguments[arguments.index("--tag") + 1])
PY
  sort -o "$work/$1.keys" "$work/$1.keys"
}
new_keys() { comm -13 "$work/$1.keys" "$work/$2.keys"; }
gone_keys() { comm -23 "$work/$1.keys" "$work/$2.keys"; }
compile_keys gpu_base
echo "  $(grep -c 'sm80+_trt10.13$' "$work/gpu_base.keys") Ampere-plus compiles among $(grep -c . "$work/gpu_base.keys")"
fleet add l4_trt10.13 '{"cpu": "x86_64", "gpu_class": "ampere_plus", "gpu_sm": "sm_89", "tensorrt": "10.13"}'
compile_keys gpu_l4
expect "new compile keys for an L4 (Ampere-plus)" "$(new_keys gpu_base gpu_l4 | grep -c .)" 0
expect "compile keys gone" "$(gone_keys gpu_base gpu_l4 | grep -c .)" 0
back_to_baseline
fleet add t4_trt10.13 '{"cpu": "x86_64", "gpu_sm": "sm_75", "tensorrt": "10.13"}'
compile_keys gpu_t4
expect "new compile keys for a T4 (sm75_trt10.13)" "$(new_keys gpu_base gpu_t4 | grep -c 'sm75_trt10.13$')" "$models"
expect "other new compile keys" "$(new_keys gpu_base gpu_t4 | grep -vc 'sm75_trt10.13$')" 0
expect "compile keys gone" "$(gone_keys gpu_base gpu_t4 | grep -c .)" 0
back_to_baseline

[[ $status == 0 ]] && echo "invalidation is precise: a covered device builds nothing, a new class exactly its engines"
exit $status

#!/usr/bin/env bash
# Shared cache and remote execution against real servers on 127.0.0.1.
#
# Starts a private REAPI deployment (tools/remote/up: PostgreSQL, BuildGrid, two
# buildbox workers: "cpu-1" {OSFamily, arch} and "engines-<level>" {OSFamily, arch,
# isa_level=<this host's ISA level>}), then runs Bazel as separate runners (each its own
# output root, no disk cache) and checks, from execution logs and the server's job records:
#
#   1. runner A builds the transformers corpus and the CPU engines with the shared
#      cache; runner B then builds the same and executes 0 actions (all remote hits);
#   2. a runner whose Python interpreter differs misses on Python actions;
#   3. remote execution: every action runs on a worker ("remote"), every ISA-tied engine
#      compile on the worker of that ISA level, and portable compiles ask for no ISA;
#      workers run actions under buildbox-run-bubblewrap, and a probe run as each kind
#      of action on them reaches no listener on the host (tests/hermeticity);
#   4. a job no worker can take is refused before the build, naming its properties, however
#      remote execution is asked for (--config=remote-exec, --config remote-exec, a config in
#      an rc file, a bare --remote_executor); a corpus-only build probes the ordinary pool
#      only; a header the probe cannot send is named; a build that is not remote is not probed;
#   5. --config=ci-readonly uploads nothing (CAS unchanged, the next runner misses);
#   6. the cache server killed mid-build (the execution log shows spawns that started
#      after the kill): the build completes correctly, and the next one with the
#      server back too;
#   7. a corrupted blob in the CAS is detected and not used.
#
# Prints the figures (wall times, the B/A ratio, executed and remote counts, server
# start-up time) and exits 1 on any failed check. Bounded: every wait has a timeout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/e2e/lib.sh
readonly REPO=$PWD
# This host's engines (its ISA-tied and portable ones, which every host can build) and
# the transformers corpus (//fleet:all would add the bundles, and with them the vLLM corpus).
readonly CPU_ENGINES=(//fleet:fleet.host //fleet:mlp_int8.x86_64_ort1.32)
readonly TARGETS=(//corpus:transformers "${CPU_ENGINES[@]}")
CPU=$(host_fact cpu) ISA=$(host_fact cpu_isa)
readonly CPU ISA
[[ $ISA != none ]] || die "this host has no known ISA level, so it has no ISA-tied engines to route"
readonly WORKERS=(--worker "cpu-1:OSFamily=linux,arch=$CPU" --worker "engines-$ISA:OSFamily=linux,arch=$CPU,isa_level=$ISA")

work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-remote.XXXXXX")
readonly STATE=$work/reapi
readonly PORT=$(free_port) PG_PORT=$(free_port)
readonly REMOTE=grpc://127.0.0.1:$PORT
REPOSITORY_CACHE=$(./bazelw info repository_cache 2>/dev/null)
readonly REPOSITORY_CACHE

runners=()
cleanup() {
  for root in "${runners[@]}"; do
    [[ -d $root ]] && (cd "$REPO" && ./bazelw --output_user_root="$root" shutdown >/dev/null 2>&1 || true)
  done
  if [[ $status == 0 && -z ${KEEP:-} ]]; then
    tools/remote/down --state "$STATE" --delete >/dev/null 2>&1 || true
    rm -rf "$work" 2>/dev/null || true
  else
    tools/remote/down --state "$STATE" >/dev/null 2>&1 || true
    echo "logs kept in $work" >&2
  fi
}
on_exit cleanup

abort() { tail -n 30 "$work/$1.log" >&2; die "runner $1 failed (log above)"; }

# [ROOT=R] runner NAME [DIR] -- BAZEL ARGS: Bazel with a private output root (root-R,
# default root-NAME), no disk cache, pointed at the private deployment. Output in
# $work/NAME.log, execution log in $work/NAME.json; returns Bazel's status.
runner() {
  local name=$1 dir=$REPO
  shift
  if [[ $1 != -- ]]; then dir=$1; shift; fi
  shift
  local root=$work/root-${ROOT:-$name}
  runners+=("$root")
  (cd "$dir" && ./bazelw --output_user_root="$root" --max_idle_secs=600 "$@" \
    --disk_cache= --repository_cache="$REPOSITORY_CACHE" --remote_cache="$REMOTE" \
    --color=no --curses=no --execution_log_json_file="$work/$name.json") >"$work/$name.log" 2>&1
}
# retire NAME...: shut down those runners and delete their output roots. Each holds its
# own copy of the pip hubs (gigabytes), so they go as soon as no later step reads them.
retire() {
  local name root
  for name in "$@"; do
    root=$work/root-$name
    [[ -d $root ]] || continue
    ./bazelw --output_user_root="$root" shutdown >/dev/null 2>&1 || true
    remove_tree "$root"
  done
}
executed() { # LOG [MNEMONIC]: spawns that ran (not served by a cache)
  if (($# > 1)); then ran "$1" --mnemonic "$2"; else ran "$1"; fi
}
count_runner() { ran "$1" --runner "$2"; } # LOG RUNNER: spawns with that runner ("remote", "remote cache hit", ...)
published() { # OUTPUT ROOT: its bazel-bin/fleet/fleet (output base <root>/<hash>, not a sandbox's copy)
  local dir
  for dir in "$1"/*/execroot/_main/bazel-out/k8-fastbuild/bin/fleet/fleet; do
    [[ -d $dir ]] && echo "$dir" && return
  done
}
engine_digests() { (cd "$1" && find . -name '*.onnx' -print0 | sort -z | xargs -0 sha256sum); }
cas_blobs() { find "$STATE/cas" -type f -path '*objects*' | wc -l; }
reseed() { # TREE MODEL SEED
  python3 - "$@" <<'PY'
import pathlib, re, sys
path = pathlib.Path(sys.argv[1]) / "fleet/models/BUILD.bazel"
text, count = re.subn(rf'(name = "{sys.argv[2]}",\n    kind = "\w+",\n    seed = )\d+', rf"\g<1>{sys.argv[3]}", path.read_text())
assert count == 1, f"no seed for {sys.argv[2]}"
path.write_text(text)
PY
}

echo "== start the deployment (127.0.0.1:$PORT, PostgreSQL :$PG_PORT)"
tools/remote/up --state "$STATE" --port "$PORT" --pg-port "$PG_PORT" "${WORKERS[@]}" >/dev/null
startup=$(python3 -c "import json; d=json.load(open('$STATE/endpoint.json')); print(d['started_in_seconds'], d['server_ready_in_seconds'])")
echo "  up in ${startup% *}s (BuildGrid listening after ${startup#* }s)"

echo "== 1. runner A builds with the shared cache, then runner B"
for name in A B; do # fetch and analyse first, so the timed builds measure execution and caching
  ROOT=$name runner "$name-warm" -- build --nobuild "${TARGETS[@]}" --config=remote-cache --remote_cache="$REMOTE" ||
    abort $name-warm
done
start=$(seconds)
runner A -- build "${TARGETS[@]}" --config=remote-cache --remote_cache="$REMOTE" || abort A
wall_a=$(since "$start")
start=$(seconds)
runner B -- build "${TARGETS[@]}" --config=remote-cache --remote_cache="$REMOTE" || abort B
wall_b=$(since "$start")
ran_a=$(executed "$work/A.json") ran_b=$(executed "$work/B.json") hits_b=$(count_runner "$work/B.json" "remote cache hit")
echo "  A: ${wall_a}s, executed $ran_a actions; B: ${wall_b}s, executed $ran_b, remote cache hits $hits_b;" \
  "B/A = $(ratio "$wall_b" "$wall_a")"
((ran_a > 0)) || fail "runner A executed nothing: the test proves nothing"
((ran_b == 0)) || fail "runner B executed $ran_b actions; expected 0"
((hits_b == ran_a)) || fail "runner B had $hits_b remote cache hits; expected $ran_a"
retire B

echo "== 2. a runner with another Python interpreter"
other_python=
for candidate in /usr/bin/python3 /usr/local/bin/python3; do
  if [[ -x $candidate && $(readlink -f "$candidate") != $(readlink -f "$(command -v python3)") ]]; then
    other_python=$candidate
    break
  fi
done
if [[ -z $other_python ]]; then
  fail "no second Python interpreter on this machine to run the identity check with"
else
  runner C-same -- build //fleet/models:mlp --config=remote-cache --remote_cache="$REMOTE" ||
    abort C-same
  PATH="$(dirname "$other_python"):$PATH" runner C -- build //fleet/models:mlp --config=remote-cache --remote_cache="$REMOTE" ||
    abort C
  hit_same=$(count_runner "$work/C-same.json" "remote cache hit") ran_same=$(executed "$work/C-same.json" OnnxModel)
  ran_c=$(executed "$work/C.json" OnnxModel) hit_c=$(count_runner "$work/C.json" "remote cache hit")
  echo "  model generation: same interpreter $ran_same executed / $hit_same cache hit;" \
    "$other_python ($("$other_python" --version 2>&1 | cut -d' ' -f2) vs $(python3 --version 2>&1 | cut -d' ' -f2)): $ran_c executed / $hit_c cache hit"
  ((ran_same == 0 && hit_same == 1)) || fail "the same interpreter missed the cache"
  ((ran_c == 1 && hit_c == 0)) || fail "a runner with another interpreter got a cache hit for a Python action"
  retire C-same C
fi

echo "== 3. remote execution"
start=$(seconds)
runner D -- build "${TARGETS[@]}" --config=remote-exec --remote_cache="$REMOTE" --remote_executor="$REMOTE" \
  --noremote_accept_cached || abort D
wall_d=$(since "$start")
remote_d=$(count_runner "$work/D.json" remote) local_d=$(executed "$work/D.json")
echo "  D: ${wall_d}s, $remote_d remote executions ($(grep -oE '[0-9]+ processes: .*' "$work/D.log" | tail -n1))"
((remote_d > 0 && remote_d == local_d)) || fail "runner D ran $((local_d - remote_d)) actions outside the workers"
python3 tools/bench/exec_log.py spawns "$work/D.json" --mnemonic EngineCompile >"$work/D.compiles"
python3 - "$work/D.compiles" "$PG_PORT" "$ISA" <<'PY' || fail "an engine compile ran on a worker that is not its hardware"
import json, os, subprocess, sys
lines, pg_port, isa = sys.argv[1], sys.argv[2], sys.argv[3]
compiles = {spawn["digest"]: spawn["properties"] for spawn in map(json.loads, open(lines))}
query = "select action_digest, worker_name from jobs where action_digest in (%s)" % ",".join(f"'{d}'" for d in compiles)
command = ["psql", "-h", "127.0.0.1", "-p", pg_port, "-U", "bgd", "-d", "bgd", "-At", "-F", " ", "-c", query]
if os.geteuid() == 0:
    command = ["runuser", "-u", "postgres", "--", *command]
rows = dict(line.split() for line in subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines())
tied = {digest for digest, properties in compiles.items() if "isa_level" in properties}
portable = set(compiles) - tied
print(f"  {len(tied)} ISA-tied engine compiles sent with isa_level={sorted({compiles[d]['isa_level'] for d in tied})}, ran on "
      f"{sorted({rows.get(d) for d in tied})}; {len(portable)} portable ones sent with "
      f"{sorted({tuple(sorted(compiles[d])) for d in portable})}, ran on {sorted({rows.get(d) for d in portable})} "
      "(server's job records)")
if len(rows) != len(compiles) or not tied or not portable:
    sys.exit(1)
if {rows[d] for d in tied} != {f"engines-{isa}"} or any(compiles[d]["isa_level"] != isa for d in tied):
    sys.exit(1)
if any(set(compiles[d]) != {"OSFamily", "arch"} for d in portable):
    sys.exit(1)
PY

echo "== 3b. remote actions have no network (buildbox-run-bubblewrap)"
if python3 tests/hermeticity/network_check.py --runner remote -- --config=remote-exec --remote_cache="$REMOTE" \
  --remote_executor="$REMOTE" >"$work/network.log" 2>&1; then
  echo "  $(tail -n1 "$work/network.log"), each run on a worker (runner \"remote\")"
else
  cat "$work/network.log" >&2
  fail "a remote action reached the network, or the probes did not run remotely (above)"
fi
retire D

echo "== 4. a job no worker can take is refused up front"
start=$(seconds)
if runner guard -- build '//fleet:fleet.mlp.sm80+_trt10.13' --config=remote-exec --remote_cache="$REMOTE" \
  --remote_executor="$REMOTE" --//platforms:executors=sm90_trt10.13; then
  fail "a build needing an Ampere-plus GPU worker was accepted"
fi
if grep -q "gpu_compat=ampere_plus, tensorrt=10.13" "$work/guard.log"; then
  echo "  refused after $(since "$start")s: $(grep -m1 -- '- no worker' "$work/guard.log" | sed 's/^ *//')"
else
  cat "$work/guard.log" >&2
  fail "the refusal does not name the properties no worker offers"
fi
# The other ways of asking for remote execution (and for the executor), each refused the
# same way: --config as two words, a config in an rc file (--bazelrc, the home rc's slot,
# which also names the executors), a bare --remote_executor. A shorter probe timeout: a
# refusal waits for it.
printf 'build --config=remote-exec\nbuild --remote_executor=%s\nbuild --//platforms:executors=sm90_trt10.13\n' \
  "$REMOTE" >"$work/guard.bazelrc"
guard_cases=(
  "two-words|build //fleet:fleet.mlp.sm80+_trt10.13 --config remote-exec --remote_executor=$REMOTE --//platforms:executors=sm90_trt10.13"
  "rc-file|--bazelrc=$work/guard.bazelrc build //fleet:fleet.mlp.sm80+_trt10.13"
  "bare-executor|build //fleet:fleet.mlp.sm80+_trt10.13 --remote_executor=$REMOTE --//platforms:executors=sm90_trt10.13"
)
for guard_case in "${guard_cases[@]}"; do
  read -r -a guard_args <<<"${guard_case#*|}"
  if KILN_PREFLIGHT_TIMEOUT=5 ROOT=guard runner "guard-${guard_case%%|*}" -- "${guard_args[@]}"; then
    fail "${guard_case%%|*}: a build needing an Ampere-plus GPU worker was accepted"
  elif ! grep -q "gpu_compat=ampere_plus, tensorrt=10.13" "$work/guard-${guard_case%%|*}.log"; then
    cat "$work/guard-${guard_case%%|*}.log" >&2
    fail "${guard_case%%|*}: the refusal does not name the properties no worker offers"
  else
    echo "  ${guard_case%%|*}: refused"
  fi
done
# Only the pools the requested targets need: the corpus alone, with the GPU executor named,
# sends ordinary jobs only, which the workers take (--nobuild: the check is the point).
if ROOT=A runner guard-corpus -- build --nobuild //corpus:transformers --config=remote-exec \
  --remote_executor="$REMOTE" --//platforms:executors=sm90_trt10.13 &&
  grep -q "workers take every kind of job this build sends (1:" "$work/guard-corpus.log"; then
  echo "  corpus only: $(grep -m1 'workers take every kind' "$work/guard-corpus.log")"
else
  cat "$work/guard-corpus.log" >&2
  fail "a corpus-only build was refused, or probed more than the ordinary pool"
fi
# A credential the probe's client cannot send is named, and nothing is probed.
if ROOT=A runner guard-header -- build --nobuild //corpus:transformers --config=remote-exec \
  --remote_executor="$REMOTE" --remote_header=x-api-key=kiln; then
  fail "a build with a header bgd cannot send was checked as if it had none"
elif grep -q "'x-api-key'" "$work/guard-header.log"; then
  echo "  a header bgd cannot send: refused, naming it"
else
  cat "$work/guard-header.log" >&2
  fail "the refusal does not name the header bgd cannot send"
fi
# Builds that are not remote are not probed (runner A: --config=remote-cache).
if grep -q "preflight:" "$work/A.log"; then
  fail "a --config=remote-cache build was probed"
fi

echo "== 5. --config=ci-readonly uploads nothing"
copy_tree "$work/tree-readonly"
reseed "$work/tree-readonly" mlp 101
before=$(cas_blobs)
runner E "$work/tree-readonly" -- build //fleet/models:mlp --config=ci-readonly --remote_cache="$REMOTE" ||
  abort E
after=$(cas_blobs)
runner F "$work/tree-readonly" -- build //fleet/models:mlp --config=remote-cache --remote_cache="$REMOTE" ||
  abort F
ran_e=$(executed "$work/E.json" OnnxModel) ran_f=$(executed "$work/F.json" OnnxModel)
echo "  readonly runner executed $ran_e, CAS blobs $before -> $after; the next runner executed $ran_f (a miss)"
((ran_e == 1 && before == after && ran_f == 1)) || fail "ci-readonly wrote to the cache"
retire guard E F

echo "== 6. the cache server killed mid-build"
copy_tree "$work/tree-fault"
for model in mlp mlp_b convnet; do reseed "$work/tree-fault" "$model" 202; done
runner G "$work/tree-fault" -- build "${CPU_ENGINES[@]}" --config=remote-cache --remote_cache="$REMOTE" &
build=$!
deadline=$((SECONDS + 300))
until grep -q "Generating ONNX model\|Compiling " "$work/G.log" 2>/dev/null; do
  ((SECONDS < deadline)) || { fail "runner G never started an action"; break; }
  kill -0 "$build" 2>/dev/null || break
  sleep 0.2
done
kill -9 "$(cat "$STATE/pids/buildgrid.pid")"
killed_at=$(seconds)
echo "  killed BuildGrid while runner G was building"
if wait "$build"; then
  g_out=$(published "$work/root-G")
  # The kill proves something only if the build still had work to do without the server.
  after_kill=$(ran "$work/G.json" --started-after "$killed_at")
  echo "  $after_kill of runner G's $(executed "$work/G.json") executed spawns started after the kill (execution log)"
  ((after_kill > 0)) || fail "runner G started no action after the kill: the kill did not happen mid-build"
  if python3 engines/verify.py "$g_out" >"$work/G.verify" && [[ $(executed "$work/G.json" EngineCompile) -gt 0 ]]; then
    echo "  G completed; its engines verify: $(tail -n1 "$work/G.verify")"
  else
    fail "runner G's engines do not verify"
  fi
else
  tail -n 20 "$work/G.log" >&2
  fail "runner G failed when the cache server went away"
fi
start=$(seconds)
if ! tools/remote/up --state "$STATE" --port "$PORT" --pg-port "$PG_PORT" "${WORKERS[@]}" >/dev/null; then
  fail "the deployment did not come back after the kill"
  exit 1
fi
echo "  BuildGrid back after $(since "$start")s"
runner H "$work/tree-fault" -- build "${CPU_ENGINES[@]}" --config=remote-cache --remote_cache="$REMOTE" ||
  { tail -n 20 "$work/H.log" >&2; fail "runner H failed with the server back"; }
h_out=$(published "$work/root-H")
if [[ -n $h_out ]] && engine_digests "$h_out" >"$work/H.digests" && engine_digests "$g_out" >"$work/G.digests" &&
  [[ -s $work/H.digests ]] && cmp -s "$work/G.digests" "$work/H.digests"; then
  echo "  H completed with the server back; its engines are byte-identical to G's"
else
  fail "runner H's engines differ from runner G's"
fi
retire G H

echo "== 7. a corrupted blob in the CAS"
manifest=$(published "$work/root-A")/host/manifest.json
read -r digest tag < <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r=next(r for r in d['engines'] if r['model']['name']=='mlp'); print(r['engine']['sha256'], r['tag'])" "$manifest")
blob=$(find "$STATE/cas" -path "*objects/${digest:0:2}/${digest:2}" | head -n1)
if [[ -z $blob ]]; then
  fail "the mlp engine ($digest) is not in the server's CAS"
else
  python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[len(d)//2]^=0xFF; open(p,'wb').write(bytes(d))" "$blob"
  runner I -- build "//fleet:fleet.mlp.$tag" --config=remote-cache --remote_cache="$REMOTE" ||
    { tail -n 20 "$work/I.log" >&2; fail "runner I failed on a corrupted blob"; }
  i_out=$(find "$(published "$work/root-I")/$tag" -name 'mlp__*.onnx' | head -n1)
  got=$(sha256sum "$i_out" | cut -c1-64)
  recompiled=$(executed "$work/I.json" EngineCompile)
  echo "  corrupted $digest in the CAS; runner I recompiled it ($recompiled) and got $got"
  [[ $got == "$digest" && $recompiled == 1 ]] || fail "the corrupted blob was used"
fi

[[ $status == 0 ]] && echo "remote cache and execution: every check passed"
exit $status

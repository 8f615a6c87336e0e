#!/usr/bin/env bash
# OCI bundles: reproducible digests, precise invalidation, push and pull back through
# a real registry (Debian's docker-registry on 127.0.0.1), and clear errors.
#
#   1. a second, independent build of the CPU bundles (another checkout, its own output
#      base, no disk cache) gives the same image digests;
#   2. moving x86_64_v4_ort1.22 to ONNX Runtime 1.32 (its three engines recompile)
#      changes that bundle's digest and no other's, and in it the engines layer only;
#   3. `bazel run --stamp //engines:x86_64_v4_ort1.32_bundle.push` pushes to a local
#      registry (stamping re-runs the image assembly only, and the manifest names the
#      checkout's revision); the registry serves the digest the build recorded; pulled back
#      with crane, every engine verifies against the manifest and the corpora against
#      their SHA256SUMS, byte-identical to the built ones;
#   4. pushing where no registry listens, and a bundle for an unknown platform, fail
#      with errors that say what is wrong and what to do.
#
# Installs crane (Debian unstable) and docker-registry (Debian) when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly REPO=$PWD

say() { printf 'oci_bundles: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
# shellcheck source=tools/bazel/debian_sid.sh
source tools/bazel/debian_sid.sh
if ! command -v crane >/dev/null; then
  say "installing crane from Debian unstable"
  add_sid_source
  apt_install_sid crane
fi
if ! command -v docker-registry >/dev/null; then
  say "installing docker-registry"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry
fi

readonly BUNDLES=(//engines:x86_64_v4_ort1.22_bundle //engines:x86_64_v4_ort1.32_bundle)
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-oci.XXXXXX")
registry_pid=
status=0
cleanup() {
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null
  [[ -d $work/tree ]] && (cd "$work/tree" && ./bazelw --output_base="$work/base" shutdown >/dev/null 2>&1 || true)
  if [[ $status == 0 ]]; then rm -rf "$work"; else echo "logs kept in $work" >&2; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; status=1; }
digest_of() { cat "$1/bazel-bin/engines/$2_bundle.digest"; }
# The layer digests of a built bundle, one per line: the engines layer, then the corpus layer.
layers_of() {
  python3 -c '
import json, pathlib, sys
layout = pathlib.Path(sys.argv[1])
(descriptor,) = json.loads((layout / "index.json").read_text())["manifests"]
manifest = json.loads((layout / "blobs/sha256" / descriptor["digest"].removeprefix("sha256:")).read_text())
print("\n".join(layer["digest"] for layer in manifest["layers"]))' "$1/bazel-bin/engines/$2_bundle"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

./bazelw build "${BUNDLES[@]}" >"$work/main.log" 2>&1 || { tail -n 30 "$work/main.log" >&2; die "building the bundles failed"; }

echo "== 1. an independent build gives the same digests"
mkdir -p "$work/tree"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/tree"
other() { (cd "$work/tree" && ./bazelw --output_base="$work/base" build --disk_cache= "$@"); }
other "${BUNDLES[@]}" >"$work/tree.log" 2>&1 || { tail -n 30 "$work/tree.log" >&2; die "the second build failed"; }
for platform in x86_64_v4_ort1.22 x86_64_v4_ort1.32; do
  a=$(digest_of "$REPO" "$platform") b=$(digest_of "$work/tree" "$platform")
  echo "  $platform: $a / $b"
  [[ $a == "$b" ]] || fail "$platform: two builds of the same bundle differ"
done

echo "== 2. one platform's engines change: only its bundle's digest changes"
python3 - "$work/tree/platforms/devices.bzl" <<'PY'
import pathlib, sys
path = pathlib.Path(sys.argv[1])
text = path.read_text()
old = '"cpu_isa": "x86-64-v4",\n        "onnxruntime": "1.22",'
assert text.count(old) == 1, "x86_64_v4_ort1.22 is not where this script expects it"
path.write_text(text.replace(old, '"cpu_isa": "x86-64-v4",\n        "onnxruntime": "1.32",'))
PY
other "${BUNDLES[@]}" --execution_log_json_file="$work/change.json" >"$work/change.log" 2>&1 ||
  { tail -n 30 "$work/change.log" >&2; die "the rebuild failed"; }
compiles=$(python3 -c "
import sys; sys.path.insert(0, 'tools/bench')
from exec_log import spawns
print(sum(1 for s in spawns('$work/change.json') if s.get('mnemonic') == 'EngineCompile'))")
for platform in x86_64_v4_ort1.22 x86_64_v4_ort1.32; do
  a=$(digest_of "$REPO" "$platform") b=$(digest_of "$work/tree" "$platform")
  echo "  $platform: $a -> $b"
done
echo "  engine compiles: $compiles"
mapfile -t before < <(layers_of "$REPO" x86_64_v4_ort1.22)
mapfile -t after < <(layers_of "$work/tree" x86_64_v4_ort1.22)
echo "  x86_64_v4_ort1.22 engines layer: ${before[0]:0:19} -> ${after[0]:0:19}; corpus layer: ${before[1]:0:19} -> ${after[1]:0:19}"
[[ ${before[0]} != "${after[0]}" ]] || fail "the changed platform's engines layer kept its digest"
[[ ${before[1]} == "${after[1]}" ]] || fail "the corpus layer changed with the engines"
[[ $(digest_of "$REPO" x86_64_v4_ort1.22) != $(digest_of "$work/tree" x86_64_v4_ort1.22) ]] ||
  fail "the changed platform's bundle kept its digest"
[[ $(digest_of "$REPO" x86_64_v4_ort1.32) == $(digest_of "$work/tree" x86_64_v4_ort1.32) ]] ||
  fail "an unchanged platform's bundle changed"
((compiles == 3)) || fail "expected the 3 engines of x86_64_v4_ort1.22 to recompile, got $compiles"

echo "== 3. push to a registry on 127.0.0.1 and pull back"
port=$(free_port)
cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), timeout=1)" 2>/dev/null && break
  kill -0 "$registry_pid" 2>/dev/null || { cat "$work/registry.log" >&2; die "docker-registry did not start"; }
  sleep 0.1
done
repository=127.0.0.1:$port/kiln/x86_64_v4_ort1.32
# Stamped, as main's workflow pushes: the manifest names the source revision.
./bazelw run --stamp --execution_log_json_file="$work/stamp.json" //engines:x86_64_v4_ort1.32_bundle.push -- \
  --repository "$repository" --tag test >"$work/push.out" 2>"$work/push.log" ||
  { cat "$work/push.log" >&2; die "the push failed"; }
built=$(digest_of "$REPO" x86_64_v4_ort1.32)
echo "  pushed: $(cat "$work/push.out")"
stamp_spawns=$(python3 -c "
import sys; sys.path.insert(0, 'tools/bench')
from exec_log import spawns
print(' '.join(sorted(s.get('mnemonic', '?') for s in spawns('$work/stamp.json'))))")
echo "  the stamped build ran: $stamp_spawns"
[[ $stamp_spawns == OciImage ]] || fail "stamping re-ran more than the image assembly: $stamp_spawns"
served=$(crane digest "$repository:test")
echo "  the registry serves $served; the build recorded $built"
[[ $served == "$built" ]] || fail "the registry serves another digest than the build made"
crane validate --remote "$repository:test" >"$work/validate.log" 2>&1 || { cat "$work/validate.log" >&2; fail "crane validate failed"; }
mkdir -p "$work/pulled"
crane export "$repository:test" - | tar -x -C "$work/pulled"
if python3 engines/verify.py "$work/pulled/engines/x86_64_v4_ort1.32" >"$work/verify.log"; then
  echo "  pulled engines: $(tail -n1 "$work/verify.log")"
else
  cat "$work/verify.log" >&2
  fail "the pulled engines do not verify against their manifest"
fi
if (cd "$work/pulled/corpus" && sha256sum --check --strict --quiet SHA256SUMS) >"$work/sums.log" 2>&1; then
  echo "  pulled corpora: all $(wc -l <"$work/pulled/corpus/SHA256SUMS") match SHA256SUMS"
else
  cat "$work/sums.log" >&2
  fail "the pulled corpora do not match their SHA256SUMS"
fi
for library in transformers vllm; do
  cmp -s "$work/pulled/corpus/$library.invariants.validated.yaml" "bazel-bin/corpus/$library.invariants.validated.yaml" ||
    fail "the pulled $library corpus differs from the built one"
done
echo "  pulled corpora: byte-identical to the built ones"
expected=$(tools/bazel/workspace_status.sh | sed -n 's/^STABLE_GIT_COMMIT //p')
crane manifest "$repository:test" | python3 -c "
import json, sys
annotations = json.load(sys.stdin)['annotations']
print('  annotations: ' + ', '.join(f'{k}={v}' for k, v in sorted(annotations.items())))
revision = annotations.get('org.opencontainers.image.revision')
sys.exit(0 if revision == sys.argv[1] else f'the pushed bundle names revision {revision}, the checkout is at {sys.argv[1]}')" "$expected" ||
  fail "the pushed bundle does not name the checkout's revision"

echo "== 4. bad input"
closed=$(free_port)
if ./bazelw run //engines:x86_64_v4_ort1.32_bundle.push -- --repository "127.0.0.1:$closed/kiln/x" >/dev/null 2>"$work/closed.log"; then
  fail "a push with no registry succeeded"
elif grep -q "no registry answers at 127.0.0.1:$closed" "$work/closed.log"; then
  echo "  no registry: $(grep -m1 'error: oci_push' "$work/closed.log")"
else
  cat "$work/closed.log" >&2
  fail "a push with no registry did not say so"
fi
mkdir -p "$work/tree/bad_bundle"
cat >"$work/tree/bad_bundle/BUILD.bazel" <<'BZL'
load("//engines:defs.bzl", "engine_bundle")

engine_bundle(
    name = "nope_bundle",
    engines = "//engines:fleet.x86_64_v4_ort1.32",
    platform = "//platforms:nope",
)
BZL
if other //bad_bundle:nope_bundle >"$work/bad.log" 2>&1; then
  fail "a bundle for an unknown platform built"
elif grep -q "is not a device of //platforms:devices.bzl" "$work/bad.log"; then
  echo "  unknown platform: $(grep -m1 -o 'engine_bundle nope_bundle: .*' "$work/bad.log" | cut -c1-160)"
else
  tail -n 20 "$work/bad.log" >&2
  fail "a bundle for an unknown platform did not say so"
fi

((status == 0)) && echo "OCI bundles: every check passed"
exit $status

#!/usr/bin/env bash
# OCI bundles: reproducible digests, precise invalidation, push and pull back through
# a real registry (Debian's docker-registry on 127.0.0.1), and clear errors.
#
# It uses the bundles this host can build on any x86-64 host: the one of the fleet's
# ONNX Runtime 1.32 servers of this host's ISA level (x86_64_v<N>_ort1.32), and the host's own.
#
#   1. a second, independent build of the bundles (another checkout, its own output
#      base, no disk cache) gives the same image digests;
#   2. moving that server type to ONNX Runtime 1.22 (its engines change class) changes
#      that bundle's digest and not the host's, and in it the engines layer only;
#   3. `bazel run --stamp //fleet:x86_64_v<N>_ort1.32_bundle.push` pushes to a local
#      registry (stamping re-runs the image assembly only, and the manifest names the
#      checkout's revision); the registry serves the digest the build recorded; pulled back
#      with crane by that digest, every engine verifies against the manifest, whose
#      sha256 the bundle's annotation pins (--expect-manifest-sha256), and the corpora against
#      their SHA256SUMS, byte-identical to the built ones;
#   4. pushing where no registry listens, and a bundle for an unknown platform, fail
#      with errors that say what is wrong and what to do.
#
# Installs crane (Debian unstable) and docker-registry (Debian) when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/e2e/lib.sh
readonly REPO=$PWD

say() { printf 'oci_bundles: %s\n' "$*" >&2; }
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

ISA=$(host_fact cpu_isa)
[[ $ISA == x86-64-v* ]] || die "this script uses the x86-64 server bundle of the host's level; this host is $ISA"
readonly DEVICE=x86_64_${ISA#x86-64-}_ort1.32 PLATFORMS=(x86_64_${ISA#x86-64-}_ort1.32 host)
readonly BUNDLES=("//fleet:${DEVICE}_bundle" //fleet:host_bundle)
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-oci.XXXXXX")
registry_pid=
cleanup() {
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null
  [[ -d $work/tree ]] && (cd "$work/tree" && ./bazelw --output_base="$work/base" shutdown >/dev/null 2>&1 || true)
  if [[ $status == 0 ]]; then rm -rf "$work"; else echo "logs kept in $work" >&2; fi
}
on_exit cleanup
digest_of() { cat "$1/bazel-bin/fleet/$2_bundle.digest"; }
# The layer digests of a built bundle, one per line: the engines layer, then the corpus layer.
layers_of() {
  python3 -c '
import json, pathlib, sys
layout = pathlib.Path(sys.argv[1])
(descriptor,) = json.loads((layout / "index.json").read_text())["manifests"]
manifest = json.loads((layout / "blobs/sha256" / descriptor["digest"].removeprefix("sha256:")).read_text())
print("\n".join(layer["digest"] for layer in manifest["layers"]))' "$1/bazel-bin/fleet/$2_bundle"
}
./bazelw build "${BUNDLES[@]}" >"$work/main.log" 2>&1 || { tail -n 30 "$work/main.log" >&2; die "building the bundles failed"; }

echo "== 1. an independent build gives the same digests"
copy_tree "$work/tree"
other() { (cd "$work/tree" && ./bazelw --output_base="$work/base" build --disk_cache= "$@"); }
other "${BUNDLES[@]}" >"$work/tree.log" 2>&1 || { tail -n 30 "$work/tree.log" >&2; die "the second build failed"; }
for platform in "${PLATFORMS[@]}"; do
  a=$(digest_of "$REPO" "$platform") b=$(digest_of "$work/tree" "$platform")
  echo "  $platform: $a / $b"
  [[ $a == "$b" ]] || fail "$platform: two builds of the same bundle differ"
done

echo "== 2. one platform's engines change: only its bundle's digest changes"
python3 - "$work/tree/MODULE.bazel" "$DEVICE" <<'PY'
import pathlib, re, sys
path, device = pathlib.Path(sys.argv[1]), sys.argv[2]
text = path.read_text()
block = re.search(rf'\.device\(\n    name = "{re.escape(device)}",.*?\)', text, re.S)
assert block and 'onnxruntime = "1.32"' in block.group(0), f"{device} is not where this script expects it"
path.write_text(text[: block.start()] + block.group(0).replace('"1.32"', '"1.22"') + text[block.end() :])
PY
other "${BUNDLES[@]}" --execution_log_json_file="$work/change.json" >"$work/change.log" 2>&1 ||
  { tail -n 30 "$work/change.log" >&2; die "the rebuild failed"; }
for platform in "${PLATFORMS[@]}"; do
  a=$(digest_of "$REPO" "$platform") b=$(digest_of "$work/tree" "$platform")
  echo "  $platform: $a -> $b"
done
echo "  engine compiles: $(ran "$work/change.json" --mnemonic EngineCompile) (its new classes' engines this build had not made yet)"
mapfile -t before < <(layers_of "$REPO" "$DEVICE")
mapfile -t after < <(layers_of "$work/tree" "$DEVICE")
echo "  $DEVICE engines layer: ${before[0]:0:19} -> ${after[0]:0:19}; corpus layer: ${before[1]:0:19} -> ${after[1]:0:19}"
[[ ${before[0]} != "${after[0]}" ]] || fail "the changed device's engines layer kept its digest"
[[ ${before[1]} == "${after[1]}" ]] || fail "the corpus layer changed with the engines"
[[ $(digest_of "$REPO" "$DEVICE") != $(digest_of "$work/tree" "$DEVICE") ]] ||
  fail "the changed device's bundle kept its digest"
[[ $(digest_of "$REPO" host) == $(digest_of "$work/tree" host) ]] ||
  fail "an unchanged device's bundle changed"
python3 -c "import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if all(r['hardware']['onnxruntime'] == '1.22' for r in d['engines']) else 'the changed device still lists 1.32 engines')" \
  "$work/tree/bazel-bin/fleet/fleet/$DEVICE/manifest.json" || fail "the changed device's manifest did not follow it to 1.22"

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
repository=127.0.0.1:$port/kiln/$DEVICE
# Stamped, as main's workflow pushes: the manifest names the source revision.
./bazelw run --stamp --execution_log_json_file="$work/stamp.json" "//fleet:${DEVICE}_bundle.push" -- \
  --repository "$repository" --tag test >"$work/push.out" 2>"$work/push.log" ||
  { cat "$work/push.log" >&2; die "the push failed"; }
built=$(digest_of "$REPO" "$DEVICE")
echo "  pushed: $(cat "$work/push.out")"
stamp_spawns=$(python3 tools/bench/exec_log.py spawns "$work/stamp.json" |
  python3 -c "import json, sys; print(' '.join(sorted(json.loads(line)['mnemonic'] for line in sys.stdin)))")
echo "  the stamped build ran: $stamp_spawns"
[[ $stamp_spawns == OciImage ]] || fail "stamping re-ran more than the image assembly: $stamp_spawns"
served=$(crane digest "$repository:test")
echo "  the registry serves $served; the build recorded $built"
[[ $served == "$built" ]] || fail "the registry serves another digest than the build made"
crane validate --remote "$repository:test" >"$work/validate.log" 2>&1 || { cat "$work/validate.log" >&2; fail "crane validate failed"; }
mkdir -p "$work/pulled"
crane export "$repository:test" - | tar -x -C "$work/pulled"
# A device that knows the bundle's digest trusts its OCI manifest, and through the
# manifest's annotation the engines' manifest.json (engines/verify.py).
manifest_sha256=$(crane manifest "$repository@$built" |
  python3 -c "import json, sys; print(json.load(sys.stdin)['annotations'].get('dev.kiln.engines.manifest.sha256', ''))")
[[ -n $manifest_sha256 ]] || fail "the bundle ($built) records no dev.kiln.engines.manifest.sha256 annotation"
if python3 engines/verify.py --expect-manifest-sha256 "$manifest_sha256" "$work/pulled/engines/$DEVICE" >"$work/verify.log"; then
  echo "  pulled engines, their manifest.json pinned by the bundle's annotation ($manifest_sha256): $(tail -n1 "$work/verify.log")"
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
for pulled in "$work"/pulled/corpus/*.invariants.validated.yaml; do
  cmp -s "$pulled" "bazel-bin/corpus/${pulled##*/}" ||
    fail "the pulled corpus ${pulled##*/} differs from the built one"
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
if ./bazelw run "//fleet:${DEVICE}_bundle.push" -- --repository "127.0.0.1:$closed/kiln/x" >/dev/null 2>"$work/closed.log"; then
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
    engines = "//fleet:fleet.host",
    platform = "//platforms:nope",
)
BZL
if other //bad_bundle:nope_bundle >"$work/bad.log" 2>&1; then
  fail "a bundle for an unknown platform built"
elif grep -q "//platforms:nope is not a device" "$work/bad.log"; then
  echo "  unknown platform: $(grep -m1 -o 'engine_bundle nope_bundle: .*' "$work/bad.log" | cut -c1-160)"
else
  tail -n 20 "$work/bad.log" >&2
  fail "a bundle for an unknown platform did not say so"
fi

((status == 0)) && echo "OCI bundles: every check passed"
exit $status

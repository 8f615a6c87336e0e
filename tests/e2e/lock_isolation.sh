#!/usr/bin/env bash
# Bumping one library's lock re-runs that library's actions and no other's.
#
# For each of vllm and transformers: change one pin in its lock (tqdm, which both
# locks hold, to the release before the locked one, hash and all, as a lock update
# would), rebuild both corpora with an execution log, count the spawns that ran per
# corpus, and restore the lock. Prints the counts; fails if the other library's
# corpus ran anything. Builds skip the disk cache: a previous run of this script
# leaves the bumped lock's results there, and a cache hit is not a re-run. Each
# bump starts from the unbumped locks, built.
# Needs PyPI (to hash the other tqdm release).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/e2e/lib.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-locks.XXXXXX")
restore() {
  git checkout -- miners/vllm/requirements_lock.txt miners/transformers/requirements_lock.txt
  rm -rf "$work"
}
if ! git diff --quiet -- miners/vllm/requirements_lock.txt miners/transformers/requirements_lock.txt; then
  echo "FAIL: a lock has uncommitted changes; commit or stash them first" >&2
  exit 1
fi
on_exit restore

readonly TARGETS=(//corpus:vllm //corpus:transformers)
# Every build here runs with the same flags: changing one (even --disk_cache) makes
# Bazel re-check actions against its action cache, which can re-run untouched ones.
build() { ./bazelw build --disk_cache= "${TARGETS[@]}" "$@"; }
build >/dev/null 2>&1

bump_tqdm() { # LOCK: pin tqdm to the release before the locked one, with its real hash
  python3 - "$1" "$work" <<'PY'
import hashlib, json, pathlib, re, subprocess, sys, urllib.request
lock, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
text = lock.read_text()
current = re.search(r"^tqdm==(\S+)", text, re.M).group(1)
releases = json.load(urllib.request.urlopen("https://pypi.org/pypi/tqdm/json", timeout=60))["releases"]
from packaging.version import Version
older = max((v for v in releases if not Version(v).is_prerelease and Version(v) < Version(current)), key=Version)
subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--isolated", "--no-deps",
                "--only-binary=:all:", f"tqdm=={older}", "-d", str(work / older)], check=True)
(wheel,) = (work / older).glob("*.whl")
digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
block = re.compile(r"^tqdm==\S+ \\\n(?:    --hash=sha256:[0-9a-f]+ \\\n)*    --hash=sha256:[0-9a-f]+\n", re.M)
lock.write_text(block.sub(f"tqdm=={older} \\\n    --hash=sha256:{digest}\n", text, count=1))
print(f"  {lock}: tqdm {current} -> {older}")
PY
}

for changed in vllm transformers; do
  other=$([[ $changed == vllm ]] && echo transformers || echo vllm)
  echo "== bump the $changed lock"
  bump_tqdm "miners/$changed/requirements_lock.txt"
  build --execution_log_json_file="$work/$changed.json" >"$work/$changed.log" 2>&1 ||
    { cat "$work/$changed.log" >&2; exit 1; }
  python3 tools/bench/exec_log.py list "$work/$changed.json" | sed 's/^/  ran: /'
  of() { ran "$work/$changed.json" --target "/$1:|^//corpus:$1\$"; } # LIBRARY: its spawns that ran
  echo "  spawns run for $changed: $(of "$changed"), for $other: $(of "$other")"
  (($(of "$other") == 0)) || fail "bumping the $changed lock re-ran $other actions"
  (($(of "$changed") > 0)) || fail "bumping the $changed lock re-ran nothing of $changed"
  git checkout -- "miners/$changed/requirements_lock.txt"
  build >/dev/null 2>&1 # back to the built baseline before the next bump
done
[[ $status == 0 ]] && echo "each lock bump re-ran only its own library's actions"
exit $status

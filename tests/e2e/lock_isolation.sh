#!/usr/bin/env bash
# Bumping one library version's lock re-runs that version's actions and no other's.
#
# Each library version has its own lock and hub (miners/<library>/requirements_<version>_lock.txt).
# For the older transformers and the newest vLLM: change one pin in that lock (tqdm, which
# every lock holds, to the release before the locked one, hash and all, as a lock update
# would), rebuild every version's corpus with an execution log, count the spawns that ran
# per version, and restore the lock. Prints the counts; fails if any other version (of the
# same library or the other one) ran anything. Builds skip the disk cache: a previous run of
# this script leaves the bumped lock's results there, and a cache hit is not a re-run. Each
# bump starts from the unbumped locks, built.
# Needs the package index pip is configured with (to find and hash the other tqdm release).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/e2e/lib.sh

# LIBRARY VERSION pairs whose lock is bumped; the corpora built are every version's.
readonly BUMPS=("transformers 4.57.3" "vllm 0.32.0")
readonly VERSIONS=("transformers 4.57.3" "transformers 5.0.0" "transformers 5.23.0" "vllm 0.31.0" "vllm 0.32.0")
lock_of() { echo "miners/$1/requirements_$2_lock.txt"; }
LOCKS=()
TARGETS=()
for pair in "${VERSIONS[@]}"; do
  read -r library version <<<"$pair"
  LOCKS+=("$(lock_of "$library" "$version")")
  TARGETS+=("//corpus:${library}_$version")
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-locks.XXXXXX")
restore() {
  git checkout -- "${LOCKS[@]}"
  rm -rf "$work"
}
if ! git diff --quiet -- "${LOCKS[@]}"; then
  echo "FAIL: a lock has uncommitted changes; commit or stash them first" >&2
  exit 1
fi
on_exit restore

# Every build here runs with the same flags: changing one (even --disk_cache) makes
# Bazel re-check actions against its action cache, which can re-run untouched ones.
build() { ./bazelw build --disk_cache= "${TARGETS[@]}" "$@"; }
build >/dev/null 2>&1

bump_tqdm() { # LOCK: pin tqdm to the release before the locked one, with its real hash
  python3 - "$1" "$work" <<'PY'
import hashlib, pathlib, re, subprocess, sys
lock, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
text = lock.read_text()
current = re.search(r"^tqdm==(\S+)", text, re.M).group(1)
# The releases the configured index has (pip's own configuration: a mirror, a proxy, PyPI).
listing = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "tqdm"],
                         check=True, capture_output=True, text=True).stdout
releases = re.search(r"^Available versions: (.*)$", listing, re.M).group(1).split(", ")
from packaging.version import Version
older = max((v for v in releases if not Version(v).is_prerelease and Version(v) < Version(current)), key=Version)
subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                "--only-binary=:all:", f"tqdm=={older}", "-d", str(work / older)], check=True)
(wheel,) = (work / older).glob("*.whl")
digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
block = re.compile(r"^tqdm==\S+ \\\n(?:    --hash=sha256:[0-9a-f]+ \\\n)*    --hash=sha256:[0-9a-f]+\n", re.M)
lock.write_text(block.sub(f"tqdm=={older} \\\n    --hash=sha256:{digest}\n", text, count=1))
print(f"  {lock}: tqdm {current} -> {older}")
PY
}

# LOG LIBRARY VERSION: the spawns of that version's actions that ran (its miners, SSOT view,
# gate and corpus: every target named <...>_<version>).
of() { ran "$1" --target "^//(miners/$2:[a-z_]+|corpus:$2)_${3//./\\.}\$"; }

for bump in "${BUMPS[@]}"; do
  read -r changed_library changed_version <<<"$bump"
  echo "== bump the $changed_library $changed_version lock"
  log="$work/$changed_library-$changed_version.json"
  bump_tqdm "$(lock_of "$changed_library" "$changed_version")"
  build --execution_log_json_file="$log" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
  python3 tools/bench/exec_log.py list "$log" | sed 's/^/  ran: /'
  for pair in "${VERSIONS[@]}"; do
    read -r library version <<<"$pair"
    count=$(of "$log" "$library" "$version")
    echo "  spawns run for $library $version: $count"
    if [[ $pair == "$bump" ]]; then
      ((count > 0)) || fail "bumping the $bump lock re-ran nothing of it"
    else
      ((count == 0)) || fail "bumping the $bump lock re-ran $count actions of $library $version"
    fi
  done
  git checkout -- "$(lock_of "$changed_library" "$changed_version")"
  build >/dev/null 2>&1 # back to the built baseline before the next bump
done
[[ $status == 0 ]] && echo "each lock bump re-ran only its own library version's actions"
exit $status

# Helpers the end-to-end scripts share. Source it after `cd` to the repository root:
#
#   source tests/e2e/lib.sh
#
# It sets `status=0` and an EXIT trap that runs the commands registered with
# `on_exit` (last registered first), so scripts register cleanups instead of
# writing traps. `fail` records a failure and goes on; `die` stops.
# shellcheck shell=bash

status=0
_on_exit=()

on_exit() { # COMMAND...: run at exit, in reverse order of registration
  _on_exit+=("$*")
}
_run_on_exit() {
  local index
  for ((index = ${#_on_exit[@]} - 1; index >= 0; index--)); do
    eval "${_on_exit[index]}" || true
  done
}
trap _run_on_exit EXIT

fail() { echo "FAIL: $*" >&2; status=1; }
die() { echo "FAIL: $*" >&2; status=1; exit 1; }

# Deletes a tree Bazel wrote: an output base has read-only directories in it.
remove_tree() { # DIR
  chmod -R u+w "$1" 2>/dev/null || true
  rm -rf "$1"
}

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

seconds() { python3 -c "import time; print(f'{time.time():.3f}')"; }
since() { python3 -c "print(f'{$(seconds) - $1:.1f}')"; } # START: seconds since START
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# A copy of the checkout as it is now (tracked files and untracked, unignored ones), to edit
# without touching it.
copy_tree() { # DEST
  mkdir -p "$1"
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$1"
}

# Spawns of an execution log that ran (no cache served them), or with --runner R those with
# that runner; options as tools/bench/exec_log.py count (--mnemonic M, --target REGEX).
ran() { python3 tools/bench/exec_log.py count "$@"; }

# What this host is: host_fact cpu | cpu_isa | gpu_sm | ... (engines/hardware/host.py).
host_fact() {
  python3 -I engines/hardware/host.py --json | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

# Targets of //fleet that this build compiles, from bazel-bin/fleet/status.txt (build
# //fleet:status first): status_targets builds|skipped [REGEX].
status_targets() {
  awk -v kind="$1" '$1 == kind {print $2}' bazel-bin/fleet/status.txt | grep -E -- "${2:-.}" || true
}

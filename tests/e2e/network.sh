#!/usr/bin/env bash
# No kind of build action reaches the network, and the check can tell when one does.
#
#   1. with the project's sandbox, every kind of action (ACTION_MNEMONICS) probes a
#      listener on 127.0.0.1 outside the sandbox: none reaches it, none sees more
#      than a loopback interface, and no probe came from a cache;
#   2. with the sandbox turned off on purpose (--spawn_strategy=local), the same
#      check must fail, because every kind's probe reaches the listener.
#
# Extra arguments go to both builds (tests/e2e/remote.sh runs the check with
# --config=remote-exec). Runs Bazel, so it is a CI step (.ci/run), not a bazel test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/e2e/lib.sh

echo "== 1. sandboxed: no action may reach the listener"
python3 tests/hermeticity/network_check.py -- "$@" || fail "an action reached the network (above)"

echo "== 2. sandbox off on purpose: the same check must fail, for every kind of action"
log=$(mktemp)
on_exit rm -f "$log"
rc=0
python3 tests/hermeticity/network_check.py -- --spawn_strategy=local "$@" >"$log" 2>&1 || rc=$?
cat "$log"
kinds=$(python3 -c 'import sys; sys.path.insert(0, "tests/hermeticity"); import network_check; print(len(network_check.action_mnemonics()))')
got_through=$(grep -c "reached the host's loopback by tcp and dns" "$log" || true)
if ((rc != 1)); then
  fail "with --spawn_strategy=local the check exited $rc, not 1: it cannot tell a sandbox from none"
elif ((got_through != kinds)); then
  fail "with the sandbox off, $got_through of $kinds kinds of action reached the listener; the probe does not measure what it says"
else
  echo "the check failed, as it must with no sandbox: all $kinds kinds of action reached the listener"
fi
exit "$status"

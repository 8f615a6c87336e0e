#!/usr/bin/env bash
# A repository that uses kiln as a module (e2e/smoke: bazel_dep + local_path_override,
# its own devices, model and configs, kiln's public API only):
#   1. `cd e2e/smoke && ../../bazelw test //...` passes: its engines, its OCI image, its
#      config checks, and kiln's transformers corpus mined there, byte for byte the
#      checked-in one;
#   2. one of its configs made invalid (max_new_tokens: 0), its config test fails, and
#      the test log is the checker's report naming the rule and the file;
#   3. restored, it passes again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/e2e/lib.sh

readonly SMOKE=e2e/smoke CONFIG=jobs/chat/sampling.yaml
smoke() { (cd "$SMOKE" && ../../bazelw "$@"); }
work=$(mktemp -d)
on_exit "rm -rf '$work'"
# The workspace's output base holds its own copies of the pip hubs (gigabytes); a CI
# machine needs the room back (KEEP=1 keeps it, for a faster re-run).
drop_output_base() {
  local base
  base=$(smoke info output_base 2>/dev/null) || return 0
  smoke shutdown >/dev/null 2>&1 || true
  remove_tree "$base"
}
[[ -n ${KEEP:-} ]] || on_exit drop_output_base

echo "== 1. bazel test //... in the user workspace"
smoke test //... >"$work/pass.log" 2>&1 || { tail -n 40 "$work/pass.log" >&2; die "the smoke workspace's tests failed"; }
grep -E '^//.*(PASSED|FAILED)' "$work/pass.log" | sed 's/^/  /'
grep -m1 -E 'engines skipped here' "$work/pass.log" | sed 's/^.*: /  /' || true

echo "== 2. an invalid config fails its test with the checker's message"
cp "$SMOKE/$CONFIG" "$work/config.yaml"
on_exit "cp '$work/config.yaml' '$SMOKE/$CONFIG'"
sed -i 's/max_new_tokens: 256/max_new_tokens: 0/' "$SMOKE/$CONFIG"
grep -q 'max_new_tokens: 0' "$SMOKE/$CONFIG" || die "could not make $CONFIG invalid"
if smoke test //jobs:generation_configs_test >"$work/fail.log" 2>&1; then
  fail "the config test passed on max_new_tokens: 0"
fi
log="$SMOKE/bazel-testlogs/jobs/generation_configs_test/test.log"
if grep -q "error   transformers.GenerationConfig.max_new_tokens_le_0" "$log" && grep -q "^$CONFIG: " "$log"; then
  grep -A3 "^$CONFIG: " "$log" | sed 's/^/  /'
else
  cat "$log" >&2
  fail "the failing test's log is not the checker's report on $CONFIG"
fi

echo "== 3. restored, it passes again"
cp "$work/config.yaml" "$SMOKE/$CONFIG"
smoke test //jobs:generation_configs_test >"$work/restored.log" 2>&1 || { tail -n 20 "$work/restored.log" >&2; fail "the restored config fails"; }

((status == 0)) && echo "the user workspace builds and tests against kiln's public API; a bad config fails with the checker's report"
exit $status

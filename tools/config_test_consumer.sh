#!/usr/bin/env bash
# config_test from another repository, as a user's writes it: a module with
# bazel_dep(name = "kiln") (overridden to this checkout) and config_tests in its BUILD file.
# A clean config passes with the report in its log; an `error` config fails; `bazel run` of
# it from a subdirectory reads the same files; an unknown library fails at analysis.
# Runs ./bazelw in a consumer workspace of its own, created and removed here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/e2e/lib.sh
readonly KILN=$PWD

consumer=$(mktemp -d "${TMPDIR:-/tmp}/kiln-consumer.XXXXXX")
on_exit "rm -rf '$consumer'"
mkdir -p "$consumer"/{jobs/gen,bad,sub}
cp tools/testdata/configs/valid_sampling.yaml "$consumer/jobs/gen/"
cp tools/testdata/configs/zero_new_tokens.yaml "$consumer/bad/"
cat >"$consumer/MODULE.bazel" <<MODULE
module(name = "consumer")

bazel_dep(name = "kiln", version = "0.1.0")
local_path_override(module_name = "kiln", path = "$KILN")
MODULE
cat >"$consumer/BUILD.bazel" <<'BUILD'
load("@kiln//tools:defs.bzl", "config_test")

config_test(
    name = "clean_test",
    srcs = glob(["jobs/**/*.yaml"]),
    library = "transformers",
)

config_test(
    name = "errors_test",
    srcs = glob(["bad/*.yaml"]),
    library = "transformers",
    tags = ["manual"],
)

config_test(
    name = "unknown_library_test",
    srcs = glob(["jobs/**/*.yaml"]),
    library = "vllm2",
    tags = ["manual"],
)
BUILD
# kiln's hermetic flags. ./bazelw, run in the consumer, adds this host's fragment (on
# Debian's offline Bazel, the stand-ins for the modules Debian does not ship).
cat >"$consumer/.bazelrc" <<'RC'
common --enable_bzlmod
common --noenable_workspace
common --lockfile_mode=off
build --incompatible_strict_action_env
build --sandbox_default_allow_network=false
build --nolegacy_external_runfiles
RC

cd "$consumer"
bazelw() { "$KILN/bazelw" "$@"; }
on_exit "cd '$consumer' && '$KILN/bazelw' clean --expunge >/dev/null 2>&1; '$KILN/bazelw' shutdown >/dev/null 2>&1"
in_bazel() { bazelw "$@" >"$consumer/bazel.log" 2>&1; }

in_bazel test //:clean_test || { cat bazel.log >&2; die "clean_test failed"; }
grep -qx "jobs/gen/valid_sampling.yaml: no rule fires" bazel-testlogs/clean_test/test.log ||
  fail "clean_test's log is not the checker's report: $(cat bazel-testlogs/clean_test/test.log)"

if in_bazel test //:errors_test; then fail "errors_test passed"; fi
grep -q "bad/zero_new_tokens.yaml: 1 rule(s) fire" bazel-testlogs/errors_test/test.log &&
  grep -q "error   transformers.GenerationConfig.max_new_tokens_le_0" bazel-testlogs/errors_test/test.log ||
  fail "errors_test's log does not report the error: $(cat bazel-testlogs/errors_test/test.log)"

code=0
(cd sub && bazelw run //:errors_test >"$consumer/run.log" 2>&1) || code=$?
[[ $code == 1 ]] && grep -q "bad/zero_new_tokens.yaml: 1 rule(s) fire" run.log ||
  fail "bazel run //:errors_test from sub/ exited $code: $(tail -5 run.log)"

if in_bazel build //:unknown_library_test; then fail "unknown_library_test was built"; fi
grep -q 'unknown library "vllm2"; known libraries: transformers, vllm' bazel.log ||
  fail "an unknown library is not refused at analysis: $(grep ERROR bazel.log)"

((status == 0)) && echo "config_test works from another repository"
exit "$status"

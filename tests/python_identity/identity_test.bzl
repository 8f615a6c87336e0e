"""Analysis test: a Python target's runfiles carry the interpreter and its identity.

Bazel leaves the auto-detected interpreter out of action keys; the project's
toolchain (tools/python/python_host.bzl) makes the interpreter binary and its
identity.json files of the runtime, so they are in the runfiles, and hence the
inputs, of every action that runs a py_binary and of every py_test. This test
fails for any listed target that stops carrying them. (That the spawns really
list them as inputs is checked on an execution log by
tests/e2e/build_properties.sh.)
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def _runfiles_carry_identity_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    names = [
        f.basename
        for f in target[DefaultInfo].default_runfiles.files.to_list()
        if "python_host" in f.owner.workspace_name
    ]
    asserts.true(env, "identity.json" in names, "the runfiles lack the interpreter identity")
    asserts.true(env, "python3" in names, "the runfiles lack the interpreter binary")
    return analysistest.end(env)

runfiles_carry_identity_test = analysistest.make(_runfiles_carry_identity_impl)

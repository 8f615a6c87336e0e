"""config_test refuses at analysis time an unknown library, and a version there is no corpus for."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def _unknown_library_fails_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, 'unknown library "vllm2"; known libraries: transformers, vllm')
    return analysistest.end(env)

unknown_library_fails_test = analysistest.make(_unknown_library_fails_impl, expect_failure = True)

def _unknown_version_fails_impl(ctx):
    env = analysistest.begin(ctx)

    # The versions there are follow; which ones changes as corpora are checked in.
    asserts.expect_failure(env, "no corpus for transformers==4.0.0; transformers versions there are: ")
    return analysistest.end(env)

unknown_version_fails_test = analysistest.make(_unknown_version_fails_impl, expect_failure = True)

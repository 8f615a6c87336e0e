"""An unknown library fails a config_test at analysis time, naming the libraries there are."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def _unknown_library_fails_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, 'unknown library "vllm2"; known libraries: transformers, vllm')
    return analysistest.end(env)

unknown_library_fails_test = analysistest.make(_unknown_library_fails_impl, expect_failure = True)

"""Analysis tests: an engine with bad settings fails analysis with a clear error, so nothing is built.

Each case is an `engine` target tagged manual; the test expects its analysis to
fail with a message naming what is wrong and what to do.
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def _fails_with_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

_fails_with_test = analysistest.make(
    _fails_with_impl,
    expect_failure = True,
    attrs = {"message": attr.string(mandatory = True)},
)

def engine_fails_analysis_test(name, engine, message):
    """`engine` (the public target) must fail analysis with an error containing `message`."""
    _fails_with_test(
        name = name,
        size = "small",
        target_under_test = engine,
        message = message,
    )

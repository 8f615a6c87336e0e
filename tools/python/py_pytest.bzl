"""py_pytest: a py_test that runs pytest over its sources."""

load("@rules_python//python:defs.bzl", "py_test")
load("//tools/bazel:python_tool_action.bzl", "TELEMETRY_OFF_ENV")

def py_pytest(name, srcs, requirements, deps = [], data = [], args = [], **kwargs):
    """A py_test running pytest on `srcs`, in the environment of one pip hub.

    Args:
      name: test name.
      srcs: the test files (test_*.py).
      requirements: the pip hub packages to run with; must include pytest
        (every hub does, through tools/python/project_runtime.in).
      deps: project libraries.
      data: files the tests read.
      args: extra pytest arguments.
      **kwargs: passed to py_test (size, tags, env, ...); env adds to TELEMETRY_OFF_ENV.
    """
    main = Label("//tools/python:pytest_main.py")
    py_test(
        name = name,
        srcs = srcs + [main],
        main = main,
        args = ["%s/%s" % (native.package_name(), src) for src in srcs] + args,
        deps = deps + requirements,
        data = data,
        env = TELEMETRY_OFF_ENV | kwargs.pop("env", {}),
        **kwargs
    )

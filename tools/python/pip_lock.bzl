"""pip_lock: a hash-pinned lock for one pip hub, and the `bazel run` target that regenerates it."""

load("@rules_python//python:defs.bzl", "py_binary")
load("@rules_python//python:pip.bzl", "compile_pip_requirements")

def pip_lock(name, requirements_in, requirements_txt, data = [], extra_args = []):
    """`<name>.update` runs pip-compile, then writes the lock in the form the hub reads.

    Args:
      name: base name, usually "requirements".
      requirements_in: what the hub asks for.
      requirements_txt: the lock (checked in).
      data: files requirements_in includes with `-r`.
      extra_args: more pip-compile arguments.
    """
    pip_compile_args = [
        "--allow-unsafe",
        "--no-emit-find-links",
        "--resolver=backtracking",
    ] + extra_args
    compile_pip_requirements(
        name = name + "_compile",
        data = data,
        extra_args = pip_compile_args,
        requirements_in = requirements_in,
        requirements_txt = requirements_txt,
        # Re-resolving needs PyPI; //tests/locks:locks_test checks the lock offline.
        tags = ["manual"],
        timeout = "eternal",
    )
    py_binary(
        name = name + ".update",
        srcs = [Label("//tools/python:pip_lock.py")],
        main = Label("//tools/python:pip_lock.py"),
        # The resolver's own arguments (those compile_pip_requirements gives its
        # `.update` binary, which only `bazel run` would apply) follow the "--".
        args = [
            "$(rootpath :%s_compile.update)" % name,
            native.package_name() + "/" + requirements_txt,
            "--",
            "$(rlocationpath %s)" % requirements_in,
            "$(rlocationpath %s)" % requirements_txt,
            "None",
            "None",
            "None",
            "//%s:%s_compile.update" % (native.package_name(), name),
        ] + pip_compile_args,
        data = [
            ":%s_compile.update" % name,
            requirements_in,
            requirements_txt,
        ],
        tags = ["manual"],
    )

def version_locks(versions):
    """`requirements_<version>.update` for each version of a mined library (`pip_lock` each).

    The package holds `requirements_<version>.in` and its lock `requirements_<version>_lock.txt`,
    which `-r` the project's runtime (//tools/python:project_runtime.in).

    Args:
      versions: the library versions.
    """
    for version in versions:
        pip_lock(
            name = "requirements_" + version,
            data = [Label("//tools/python:project_runtime.in")],
            requirements_in = "requirements_%s.in" % version,
            requirements_txt = "requirements_%s_lock.txt" % version,
        )

"""The project's Python toolchain: the host's `python3`, with its identity as an input.

Bazel's auto-detecting Python toolchain runs whatever `python3` the action's PATH
finds and leaves it out of every action key, so two runners with different
interpreters would share cache entries. This extension instead pins the
interpreter found on the client's PATH at fetch time and exposes it as an
in-build runtime:

* `python3`: a symlink to the real interpreter binary (its bytes are hashed
  into every Python action that runs it);
* `identity.json`: implementation, version, ABI, machine, the interpreter's
  real path and the sha256 of its executable and shared libpython. It is a
  file of the runtime, so it lands in the runfiles, and hence the inputs, of
  every py_binary and py_test.

The repository is re-created when PATH changes or the interpreter binary
changes on disk (`repository_ctx.watch`).
"""

_PROBE = """
import hashlib, json, os, platform, sys, sysconfig

def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

executable = os.path.realpath(sys.executable)
libpython = None
if sysconfig.get_config_var("Py_ENABLE_SHARED"):
    candidate = os.path.join(sysconfig.get_config_var("LIBDIR") or "", sysconfig.get_config_var("LDLIBRARY") or "")
    if os.path.isfile(candidate):
        libpython = os.path.realpath(candidate)
print(json.dumps({
    "abi": sysconfig.get_config_var("SOABI"),
    "abiflags": sys.abiflags,
    "executable": executable,
    "executable_sha256": sha256(executable),
    "implementation": sys.implementation.name,
    "libpython": libpython,
    "libpython_sha256": sha256(libpython) if libpython else None,
    "machine": platform.machine(),
    "version": platform.python_version(),
    "version_info": list(sys.version_info[:3]),
}, indent=2, sort_keys=True))
"""

_BUILD = """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

exports_files(["identity.json"])

py_runtime(
    name = "runtime",
    files = ["identity.json"],
    interpreter = "python3",
    python_version = "PY3",
    stub_shebang = "#!{executable}",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":runtime",
)

toolchain(
    name = "toolchain",
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)
"""

def _python_host_impl(rctx):
    python = rctx.which("python3")
    if python == None:
        fail("python3 is not on PATH ({}). Install Python 3.10+ and re-run.".format(rctx.os.environ.get("PATH", "")))

    # Through pyenv shims and /usr/bin symlinks alike, the interpreter that
    # really runs is the one that reports itself as sys.executable.
    result = rctx.execute([python, "-I", "-c", _PROBE])
    if result.return_code != 0:
        fail("could not run {} to read its identity:\n{}".format(python, result.stderr))
    identity = json.decode(result.stdout)
    executable = identity["executable"]
    rctx.watch(executable)
    if identity["libpython"]:
        rctx.watch(identity["libpython"])

    rctx.file("identity.json", result.stdout)
    rctx.symlink(executable, "python3")
    rctx.file("BUILD.bazel", _BUILD.format(executable = executable))

python_host_repository = repository_rule(
    implementation = _python_host_impl,
    environ = ["PATH"],
    local = True,
    doc = "The host interpreter as an in-build Python runtime, with its identity as a runtime file.",
)

def _python_host_extension_impl(_module_ctx):
    python_host_repository(name = "python_host")

python_host = module_extension(
    implementation = _python_host_extension_impl,
    doc = "Creates @python_host: the host interpreter pinned as the project's Python toolchain.",
)

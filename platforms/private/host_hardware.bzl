"""@host_hardware: this machine, described in //platforms terms.

The probe (engines/hardware/host.py) reads the CPU's ISA level, the GPU's compute
capability through the CUDA driver, JetPack from /etc/nv_tegra_release and the
TensorRT version from package metadata. The repository holds:

* `//:default`: the execution platform of ordinary actions, registered first: the
  host's OS and CPU, and exec_properties {OSFamily, arch} that are the same on
  every runner of that architecture, so those actions share cache entries;
* `//:defs.bzl`: `HOST`, what the probe found (cpu, cpu_isa, gpu_sm, jetpack,
  tensorrt; `none` where absent) and the ONNX Runtime release the workspace pins for
  //platforms:host (`onnxruntime`);
* `//:host.json`: the probe's output.

The probe re-runs when it changes, or on `./bazelw fetch --configure` after a
hardware or driver change. `--repo_env=KILN_HOST_CPUINFO=<file>` makes it read a
captured /proc/cpuinfo instead of this machine's, to see what another host's build
would select (`bazel cquery`); the compile tools always check the real host.
"""

load("//platforms/private:constraints.bzl", "HARDWARE", "NONE", "exec_properties")

_HOST_SETTINGS = ("cpu_isa", "gpu_sm", "jetpack", "tensorrt")

# The ONNX Runtime release //platforms:host uses unless a module pins another
# (hardware.host in MODULE.bazel).
DEFAULT_HOST_ONNXRUNTIME = "1.32"

def _host_hardware_impl(rctx):
    probe = rctx.path(Label("//engines/hardware:host.py"))
    rctx.watch(probe)
    python = rctx.which("python3")
    if python == None:
        fail("python3 is not on PATH; it is needed to probe this host's hardware.")
    command = [python, "-I", probe, "--json"]
    cpuinfo = rctx.getenv("KILN_HOST_CPUINFO")
    if cpuinfo:
        path = rctx.workspace_root.get_child(cpuinfo) if not cpuinfo.startswith("/") else rctx.path(cpuinfo)
        if not path.exists:
            fail("KILN_HOST_CPUINFO=%s: no such file" % cpuinfo)
        rctx.watch(path)
        command += ["--cpuinfo", str(path)]
    result = rctx.execute(command)
    if result.return_code != 0:
        fail("probing this host's hardware failed ({}):\n{}".format(probe, result.stderr))
    facts = json.decode(result.stdout)

    described = {"cpu": facts["cpu"]}
    for setting in _HOST_SETTINGS:
        value = facts.get(setting, NONE)
        if value in HARDWARE[setting]:
            described[setting] = value
        else:
            described[setting] = NONE
            if value != NONE:
                # Hardware the vocabulary does not know yet is left out: nothing is
                # routed here by mistake.
                # buildifier: disable=print
                print("host_hardware: {} {} is not in kiln's hardware vocabulary (//platforms/private:constraints.bzl); this host builds as if it had none.".format(setting, value))
    described["onnxruntime"] = rctx.attr.onnxruntime

    rctx.file("host.json", result.stdout)
    rctx.file("BUILD.bazel", """\
load("{bzl_library}", "bzl_library")

package(default_visibility = ["//visibility:public"])

exports_files(["host.json"])

bzl_library(
    name = "defs",
    srcs = ["defs.bzl"],
)

platform(
    name = "default",
    parents = ["@platforms//host"],
    exec_properties = {properties},
)
""".format(bzl_library = str(Label("@bazel_skylib//:bzl_library.bzl")), properties = json.encode_indent(exec_properties({"cpu": facts["cpu"]}), prefix = "    ", indent = "    ")))
    rctx.file("defs.bzl", """\
\"\"\"This host's hardware, as probed at fetch time, and the ONNX Runtime release pinned for it.\"\"\"

HOST = {described}
""".format(described = json.encode(described)))

host_hardware_repository = repository_rule(
    implementation = _host_hardware_impl,
    attrs = {"onnxruntime": attr.string(default = DEFAULT_HOST_ONNXRUNTIME)},
    configure = True,
    local = True,
    doc = "Describes the local machine's hardware as an execution platform.",
)

"""@host_hardware: this machine, described in //platforms terms.

The probe (engines/hardware/host.py) reads the CPU's ISA level, the GPU's compute
capability through the CUDA driver, JetPack from /etc/nv_tegra_release and the
TensorRT version from package metadata. The repository holds:

* `//:default`: the execution platform of ordinary actions, registered first: the
  host's OS and CPU, and exec_properties {OSFamily, arch} that are the same on
  every runner of that architecture, so those actions share cache entries;
* `//:defs.bzl`: `HOST` (what the probe found) and `LOCAL_GPU_EXECUTORS`, the
  default of //platforms:gpu_executors (empty here: no GPU; on a Jetson Orin with
  JetPack 6.2, ["sm87_jp6.2_trt10.3"]);
* `//:host.json`: the probe's output.

The probe re-runs when it changes, or on `./bazelw fetch --configure` after a
hardware or driver change.
"""

load("//platforms:constraints.bzl", "HARDWARE", "NONE", "exec_properties", "hardware_tag")

_HOST_SETTINGS = ("cpu_isa", "gpu_sm", "jetpack", "tensorrt")

def _host_hardware_impl(rctx):
    probe = rctx.path(Label("//engines/hardware:host.py"))
    rctx.watch(probe)
    python = rctx.which("python3")
    if python == None:
        fail("python3 is not on PATH; it is needed to probe this host's hardware.")
    result = rctx.execute([python, "-I", probe, "--json"])
    if result.return_code != 0:
        fail("probing this host's hardware failed ({}):\n{}".format(probe, result.stderr))
    facts = json.decode(result.stdout)

    described = {}
    for setting in _HOST_SETTINGS:
        value = facts.get(setting, NONE)
        if value in HARDWARE[setting]:
            described[setting] = value
        elif value != NONE:
            # Hardware the vocabulary does not know yet is left out: nothing is
            # routed here by mistake.
            # buildifier: disable=print
            print("host_hardware: {} {} is not in //platforms:constraints.bzl; add it to build for it here.".format(setting, value))

    executors = []
    if described.get("gpu_sm", NONE) != NONE:
        tag = hardware_tag(described)
        if tag:
            executors.append(tag)

    rctx.file("host.json", result.stdout)
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

exports_files(["host.json"])

platform(
    name = "default",
    parents = ["@platforms//host"],
    exec_properties = {properties},
)
""".format(properties = json.encode_indent(exec_properties({"cpu": facts["cpu"]}), prefix = "    ", indent = "    ")))
    rctx.file("defs.bzl", """\
\"\"\"This host's hardware, as probed at fetch time.\"\"\"

HOST = {facts}

LOCAL_GPU_EXECUTORS = {executors}
""".format(facts = json.encode(facts), executors = json.encode(executors)))

host_hardware_repository = repository_rule(
    implementation = _host_hardware_impl,
    configure = True,
    local = True,
    doc = "Describes the local machine's hardware as an execution platform.",
)

def _host_hardware_extension_impl(_module_ctx):
    host_hardware_repository(name = "host_hardware")

host_hardware = module_extension(
    implementation = _host_hardware_extension_impl,
    doc = "Creates @host_hardware (see host_hardware_repository).",
)

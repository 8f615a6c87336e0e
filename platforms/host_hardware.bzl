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

load("//platforms:constraints.bzl", "HARDWARE", "NONE", "exec_properties")

_HOST_SETTINGS = ("cpu_isa", "gpu_sm", "jetpack", "tensorrt")

# The ONNX Runtime release //platforms:host uses unless the root module pins another.
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
                print("host_hardware: {} {} is not in //platforms:constraints.bzl; add it to build for it here.".format(setting, value))
    described["onnxruntime"] = rctx.attr.onnxruntime

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

_host = tag_class(
    attrs = {
        "onnxruntime": attr.string(
            mandatory = True,
            doc = "The ONNX Runtime release //platforms:host builds with: one of " + ", ".join(HARDWARE["onnxruntime"]) + ".",
        ),
    },
    doc = "Pins what //platforms:host uses. The root module's tag wins.",
)

def _host_hardware_extension_impl(module_ctx):
    release = DEFAULT_HOST_ONNXRUNTIME
    pinned = False
    for module in module_ctx.modules:
        for tag in module.tags.host:
            if pinned:
                continue
            if tag.onnxruntime not in HARDWARE["onnxruntime"]:
                fail("host_hardware.host(onnxruntime = \"{}\") in module {}: kiln builds ONNX Runtime {}; pin one of those.".format(
                    tag.onnxruntime,
                    module.name,
                    ", ".join(HARDWARE["onnxruntime"]),
                ))
            release = tag.onnxruntime

            # Modules are visited root first: the first pin is the root's, or the nearest one.
            pinned = True
    host_hardware_repository(name = "host_hardware", onnxruntime = release)

host_hardware = module_extension(
    implementation = _host_hardware_extension_impl,
    tag_classes = {"host": _host},
    doc = "Creates @host_hardware (see host_hardware_repository).",
)

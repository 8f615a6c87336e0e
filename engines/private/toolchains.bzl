"""Engine compilers as toolchains of one type, resolved per target platform.

* ONNX Runtime: per release, one toolchain per CPU architecture (portable engines,
  compiled on any machine of that architecture) and one per ISA level (ISA-tied
  engines, compiled on an execution platform of that level, because the saved
  graph is tied to the ISA the optimizer ran on).
* TensorRT: per GPU executor of the declared devices (@kiln_devices), `exec_compatible_with`
  that GPU: its compiles can only run on an execution platform that *is* that
  hardware.
"""

load("@rules_python//python:defs.bzl", "py_binary")

# buildifier: disable=bzl-visibility
load("//platforms/private:constraints.bzl", "CPUS", "ISA_ARCH", "NONE", "constraint_value_label", "constraint_values", "exec_hardware")

# buildifier: disable=bzl-visibility
load("//platforms/private:devices.bzl", "GPU_EXECUTORS")

TOOLCHAIN_TYPE = Label("//engines:compiler_toolchain_type")

EngineCompilerInfo = provider(
    doc = "How to compile an engine for the platforms a toolchain serves.",
    fields = {
        "backend": "onnxruntime or tensorrt",
        "checks": "the hardware settings the compile re-checks on the real host",
        "compiler": "the compile tool (an executable target, exec configuration)",
        "extension": "the engine file's extension",
        "precisions": "precisions the backend builds",
        "tensorrt_settings": "whether workspace, calibration and timing caches apply",
    },
)

def _engine_compiler_impl(ctx):
    return [platform_common.ToolchainInfo(compiler = EngineCompilerInfo(
        backend = ctx.attr.backend,
        checks = ctx.attr.checks,
        compiler = ctx.attr.compiler,
        extension = ctx.attr.extension,
        precisions = ctx.attr.precisions,
        tensorrt_settings = ctx.attr.backend == "tensorrt",
    ))]

engine_compiler = rule(
    implementation = _engine_compiler_impl,
    attrs = {
        "backend": attr.string(mandatory = True, values = ["onnxruntime", "tensorrt"]),
        "checks": attr.string_list(mandatory = True),
        "compiler": attr.label(mandatory = True, executable = True, cfg = "exec"),
        "extension": attr.string(mandatory = True),
        "precisions": attr.string_list(mandatory = True),
    },
    doc = "An engine compiler, for use in a toolchain() of //engines:compiler_toolchain_type.",
)

# buildifier: disable=unnamed-macro
def onnxruntime_toolchains(hubs):
    """In //engines/onnxruntime: a compiler per ONNX Runtime release and its toolchains.

    Per release, one toolchain per CPU architecture for portable engines (platforms
    with no cpu_isa; their compiles run on any machine of that architecture) and one
    per ISA level for ISA-tied engines (their compiles run only on that level).

    Args:
      hubs: {release: pip hub} e.g. {"1.32": "@pypi_ort_1_32"}.
    """
    for version, hub in sorted(hubs.items()):
        py_binary(
            name = "compile_ort" + version,
            srcs = ["compile.py"],
            main = "compile.py",
            deps = [
                ":backend",
                hub + "//numpy",
                hub + "//onnx",
                hub + "//onnxruntime",
            ],
            visibility = ["//visibility:public"],
        )
        engine_compiler(
            name = "ort%s_compiler" % version,
            backend = "onnxruntime",
            checks = ["cpu", "cpu_isa", "onnxruntime"],
            compiler = ":compile_ort" + version,
            extension = "onnx",
            precisions = ["fp32", "int8"],
        )
        runtime = constraint_value_label("onnxruntime", version)
        for cpu in CPUS:
            native.toolchain(
                name = "ort%s_%s" % (version, cpu),
                toolchain = ":ort%s_compiler" % version,
                toolchain_type = TOOLCHAIN_TYPE,
                target_compatible_with = ["@platforms//cpu:" + cpu, runtime, constraint_value_label("cpu_isa", NONE)],
                exec_compatible_with = ["@platforms//os:linux", "@platforms//cpu:" + cpu],
            )
        for isa, cpu in sorted(ISA_ARCH.items()):
            level = constraint_value_label("cpu_isa", isa)
            native.toolchain(
                name = "ort%s_%s" % (version, isa),
                toolchain = ":ort%s_compiler" % version,
                toolchain_type = TOOLCHAIN_TYPE,
                target_compatible_with = ["@platforms//cpu:" + cpu, runtime, level],
                exec_compatible_with = ["@platforms//os:linux", "@platforms//cpu:" + cpu, level],
            )

# buildifier: disable=unnamed-macro
def tensorrt_toolchains():
    """In //engines/tensorrt: the compiler and toolchains per GPU executor of the devices.

    A GPU executor (`sm87_jp6.2_trt10.3`) builds the plans of its own GPU: TensorRT's
    default and, off Jetson, same-compute-capability plans. The Ampere-plus executor
    of a TensorRT release (`sm80+_trt10.13`) builds plans for every sm_80+ GPU. Either
    may be version-compatible: the executor is the same.
    """
    engine_compiler(
        name = "compiler",
        backend = "tensorrt",
        checks = ["cpu", "gpu_sm", "jetpack", "tensorrt", "tensorrt_hardware_compatibility", "tensorrt_version_compatible"],
        compiler = ":compile",
        extension = "engine",
        precisions = ["fp32", "fp16", "bf16", "int8", "fp8"],
    )
    for tag, cpu in sorted(GPU_EXECUTORS.items()):
        hardware = exec_hardware(tag, cpu)
        exec_constraints = constraint_values(hardware)
        levels = ["ampere_plus"] if hardware.get("tensorrt_hardware_compatibility") == "ampere_plus" else (
            [NONE] if hardware.get("jetpack", NONE) != NONE else [NONE, "same_compute_capability"]
        )
        for level in levels:
            native.toolchain(
                name = tag if level in (NONE, "ampere_plus") else "%s.%s" % (tag, level),
                toolchain = ":compiler",
                toolchain_type = TOOLCHAIN_TYPE,
                target_compatible_with = [
                    "@platforms//cpu:" + cpu,
                    constraint_value_label("gpu_sm", hardware.get("gpu_sm", "sm_80")),
                    constraint_value_label("jetpack", hardware.get("jetpack", NONE)),
                    constraint_value_label("tensorrt", hardware["tensorrt"]),
                    constraint_value_label("tensorrt_hardware_compatibility", level),
                ],
                exec_compatible_with = exec_constraints,
            )

"""Engine compilers as toolchains of one type, resolved per target platform.

* ONNX Runtime: one toolchain per (release, x86-64 ISA level). Its compiles run
  on an execution platform of that ISA level, because the saved graph is tied to
  the ISA the optimizer ran on.
* TensorRT: one toolchain per GPU device kind in //platforms:devices.bzl,
  `exec_compatible_with` the same GPU constraints: its compiles can only run on
  an execution platform that *is* that hardware.
"""

load("@rules_python//python:defs.bzl", "py_binary")
load("//platforms:constraints.bzl", "constraint_value_label")
load("//platforms:devices.bzl", "DEVICES", "is_gpu_device")

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

_X86_LEVELS = ["x86-64-v2", "x86-64-v3", "x86-64-v4"]

# buildifier: disable=unnamed-macro
def onnxruntime_toolchains(hubs):
    """In //engines/onnxruntime: a compiler per ONNX Runtime release and its toolchains.

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
        for isa in _X86_LEVELS:
            native.toolchain(
                name = "ort%s_%s" % (version, isa),
                toolchain = ":ort%s_compiler" % version,
                toolchain_type = TOOLCHAIN_TYPE,
                target_compatible_with = [
                    "@platforms//cpu:x86_64",
                    constraint_value_label("onnxruntime", version),
                    constraint_value_label("cpu_isa", isa),
                ],
                exec_compatible_with = [
                    "@platforms//os:linux",
                    "@platforms//cpu:x86_64",
                    constraint_value_label("cpu_isa", isa),
                ],
            )

# buildifier: disable=unnamed-macro
def tensorrt_toolchains():
    """In //engines/tensorrt: the compiler and a toolchain per GPU device kind."""
    engine_compiler(
        name = "compiler",
        backend = "tensorrt",
        checks = ["cpu", "gpu_sm", "jetpack", "tensorrt"],
        compiler = ":compile",
        extension = "engine",
        precisions = ["fp32", "fp16", "bf16", "int8", "fp8"],
    )
    for name in sorted(DEVICES):
        if not is_gpu_device(name):
            continue
        device = DEVICES[name]
        gpu = [
            constraint_value_label(setting, device.get(setting, "none"))
            for setting in ("gpu_sm", "jetpack", "tensorrt")
        ]
        native.toolchain(
            name = name,
            toolchain = ":compiler",
            toolchain_type = TOOLCHAIN_TYPE,
            target_compatible_with = gpu,
            exec_compatible_with = [
                "@platforms//os:linux",
                "@platforms//cpu:" + device["cpu"],
            ] + gpu,
        )

"""Unit tests of the pure helpers: engine tags, executor tags, compatibility classes."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load(":classes.bzl", "check_device", "device_classes", "engine_classes")
load(
    ":constraints.bzl",
    "check_executor_tag",
    "exec_hardware",
    "exec_properties",
    "executor_providers",
    "executor_provides",
    "executor_tag",
    "hardware_tag",
    "host_executor_tags",
)

_A100 = {"cpu": "x86_64", "gpu_class": "ampere_plus", "gpu_sm": "sm_80", "tensorrt": "10.13"}
_H100 = {"cpu": "x86_64", "gpu_class": "ampere_plus", "gpu_sm": "sm_90", "tensorrt": "10.13"}
_L4 = {"cpu": "x86_64", "gpu_class": "ampere_plus", "gpu_sm": "sm_89", "tensorrt": "10.13"}
_ORIN = {"cpu": "aarch64", "cpu_isa": "armv8.2-a", "gpu_sm": "sm_87", "jetpack": "6.2", "tensorrt": "10.3"}
_V3 = {"cpu": "x86_64", "cpu_isa": "x86-64-v3", "onnxruntime": "1.32"}

def _tags(devices):
    return [hardware_tag(hardware) for device in devices for hardware in device_classes(device)]

def _cpu_device_classes_test_impl(ctx):
    env = unittest.begin(ctx)

    # Preferred first: the ISA-tied engine, then the portable one every x86-64 CPU runs.
    asserts.equals(env, ["x86-64-v3_ort1.32", "x86_64_ort1.32"], _tags([_V3]))
    second_v3 = dict(_V3)
    asserts.equals(env, _tags([_V3]), _tags([second_v3]))
    classes = engine_classes({"v3_a": _V3, "v3_b": second_v3})
    asserts.equals(env, ["x86-64-v3_ort1.32", "x86_64_ort1.32"], sorted(classes))

    # A CPU without a known ISA level runs only the portable engine.
    asserts.equals(env, ["x86_64_ort1.22"], _tags([{"cpu": "x86_64", "onnxruntime": "1.22"}]))
    asserts.equals(env, ["armv8.2-a_ort1.32", "aarch64_ort1.32"], _tags([{"cpu": "aarch64", "cpu_isa": "armv8.2-a", "onnxruntime": "1.32"}]))

    # What builds them: exactly that ISA level, or any CPU of the architecture.
    tied, portable = device_classes(_V3)
    asserts.equals(env, "x86-64-v3", executor_tag(tied))
    asserts.equals(env, "x86_64", executor_tag(portable))
    return unittest.end(env)

cpu_device_classes_test = unittest.make(_cpu_device_classes_test_impl)

def _gpu_device_classes_test_impl(ctx):
    env = unittest.begin(ctx)

    # One Ampere-plus plan for the A100, H100 and L4: adding the L4 adds no class.
    asserts.equals(env, ["sm80+_trt10.13"], sorted(engine_classes({"a100": _A100, "h100": _H100})))
    asserts.equals(env, ["sm80+_trt10.13"], sorted(engine_classes({"a100": _A100, "h100": _H100, "l4": _L4})))
    (ampere,) = device_classes(_L4)
    asserts.equals(env, "sm_80", ampere["gpu_sm"])
    asserts.equals(env, "ampere_plus", ampere["tensorrt_hardware_compatibility"])
    asserts.equals(env, "sm80+_trt10.13", executor_tag(ampere))

    # Off Jetson the default is one plan per compute capability; a Jetson plan is for its device.
    same = dict(_L4)
    same.pop("gpu_class")
    asserts.equals(env, ["sm89_trt10.13"], _tags([same]))
    asserts.equals(env, "same_compute_capability", device_classes(same)[0]["tensorrt_hardware_compatibility"])
    asserts.equals(env, ["sm87_jp6.2_trt10.3"], _tags([_ORIN]))
    asserts.equals(env, "none", device_classes(_ORIN)[0]["tensorrt_hardware_compatibility"])

    # A version-compatible plan is keyed on the minimum TensorRT (a trailing +); its executor is the same.
    forward = dict(_H100, version_compatible = True)
    (plan,) = device_classes(forward)
    asserts.equals(env, "sm80+_trt10.13+", hardware_tag(plan))
    asserts.equals(env, "sm80+_trt10.13", executor_tag(plan))
    asserts.equals(env, ["sm80+_trt10.13", "sm80+_trt10.13+"], sorted(engine_classes({"a": _A100, "b": forward})))

    # One tag with two meanings is refused, naming both devices.
    device_kind = dict(same, gpu_class = "device")
    conflict = engine_classes({"l4_same": same, "l4_device": device_kind})
    asserts.true(env, type(conflict) == "string" and "l4_device and l4_same" in conflict, str(conflict))
    return unittest.end(env)

gpu_device_classes_test = unittest.make(_gpu_device_classes_test_impl)

def _check_device_test_impl(ctx):
    env = unittest.begin(ctx)
    for device in (_A100, _H100, _L4, _ORIN, _V3):
        asserts.equals(env, None, check_device("d", device))
    cases = [
        (dict(_ORIN, gpu_class = "ampere_plus"), "not supported on Jetson"),
        (dict(_A100, gpu_sm = "sm_75"), "needs an Ampere or later GPU"),
        (dict(_L4, gpu_class = "same_compute_capability", gpu_sm = "sm_72"), "needs a Turing or later GPU"),
        (dict(_A100, tensorrt = "8.5"), "need TensorRT 8.6 or later"),
        (dict(_A100, gpu_class = "best"), "gpu_class must be one of"),
        (dict(_V3, cpu_isa = "armv8.2-a"), "is not an x86_64 level"),
        (dict(_V3, onnxruntime = "1.99"), "onnxruntime 1.99 is not in"),
        ({"cpu": "x86_64", "cpu_isa": "x86-64-v3"}, "names its ONNX Runtime release"),
        (dict(_V3, tensorrt = "10.13"), "is a GPU setting"),
        (dict(_V3, gpu = "sm_80"), "unknown key 'gpu'"),
        ({"cpu": "riscv64", "onnxruntime": "1.32"}, "cpu must be one of"),
    ]
    for device, fragment in cases:
        problem = check_device("d", device) or ""
        asserts.true(env, fragment in problem, "%s: expected '%s' in '%s'" % (device, fragment, problem))
    return unittest.end(env)

check_device_test = unittest.make(_check_device_test_impl)

def _executor_tags_test_impl(ctx):
    env = unittest.begin(ctx)
    for tag in ("x86_64", "aarch64", "x86-64-v3", "armv8.2-a", "sm90_trt10.13", "sm87_jp6.2_trt10.3", "sm80+_trt10.13"):
        asserts.equals(env, None, check_executor_tag(tag))
    for tag, fragment in (
        ("x86-64-v5", "is not an executor tag"),
        ("sm91_trt10.13", "gpu_sm sm_91 is not in"),
        ("sm87_6.2_trt10.3", "names the JetPack"),
        ("sm90+_trt10.13", "written sm80+_trt<version>"),
        ("sm90", "is not a GPU tag"),
    ):
        problem = check_executor_tag(tag) or ""
        asserts.true(env, fragment in problem, "%s: expected '%s' in '%s'" % (tag, fragment, problem))

    # An ISA level builds its architecture's portable engines; an sm_80+ GPU builds Ampere-plus plans.
    asserts.equals(env, ["x86-64-v3", "x86_64"], executor_provides("x86-64-v3"))
    asserts.equals(env, ["sm89_trt10.13", "sm80+_trt10.13"], executor_provides("sm89_trt10.13"))
    asserts.equals(env, ["sm75_trt10.13"], executor_provides("sm75_trt10.13"))
    asserts.equals(env, ["sm87_jp6.2_trt10.3"], executor_provides("sm87_jp6.2_trt10.3"))
    asserts.equals(env, ["x86-64-v2", "x86-64-v3", "x86-64-v4", "x86_64"], executor_providers("x86_64"))
    asserts.true(env, "sm90_trt10.13" in executor_providers("sm80+_trt10.13"))
    asserts.false(env, "sm75_trt10.13" in executor_providers("sm80+_trt10.13"))

    # The host counts for its architecture, its exact ISA level and its GPU.
    none = {"gpu_sm": "none", "jetpack": "none", "tensorrt": "none"}
    asserts.equals(env, ["x86-64-v3", "x86_64"], host_executor_tags(dict(none, cpu = "x86_64", cpu_isa = "x86-64-v3")))
    asserts.equals(env, ["x86_64"], host_executor_tags(dict(none, cpu = "x86_64", cpu_isa = "none")))
    orin = {"cpu": "aarch64", "cpu_isa": "armv8.2-a", "gpu_sm": "sm_87", "jetpack": "6.2", "tensorrt": "10.3"}
    asserts.equals(env, ["aarch64", "armv8.2-a", "sm87_jp6.2_trt10.3"], host_executor_tags(orin))
    h100 = {"cpu": "x86_64", "cpu_isa": "x86-64-v4", "gpu_sm": "sm_90", "jetpack": "none", "tensorrt": "10.13"}
    asserts.equals(env, ["sm80+_trt10.13", "sm90_trt10.13", "x86-64-v4", "x86_64"], host_executor_tags(h100))

    # Remote workers are matched on these properties.
    asserts.equals(env, {"OSFamily": "linux", "arch": "x86_64"}, exec_properties(exec_hardware("x86_64")))
    asserts.equals(env, {"OSFamily": "linux", "arch": "x86_64", "isa_level": "x86-64-v3"}, exec_properties(exec_hardware("x86-64-v3")))
    asserts.equals(
        env,
        {"OSFamily": "linux", "arch": "x86_64", "gpu_compat": "ampere_plus", "tensorrt": "10.13"},
        exec_properties(exec_hardware("sm80+_trt10.13")),
    )
    asserts.equals(
        env,
        {"OSFamily": "linux", "arch": "aarch64", "gpu_sm": "sm_87", "jetpack": "6.2", "tensorrt": "10.3"},
        exec_properties(exec_hardware("sm87_jp6.2_trt10.3")),
    )
    return unittest.end(env)

executor_tags_test = unittest.make(_executor_tags_test_impl)

def classes_test_suite(name):
    unittest.suite(
        name,
        cpu_device_classes_test,
        gpu_device_classes_test,
        check_device_test,
        executor_tags_test,
    )

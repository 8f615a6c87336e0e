"""engine: one model compiled for one platform."""

# buildifier: disable=bzl-visibility
load("//platforms/private:constraints.bzl", "executor_tag")

# buildifier: disable=bzl-visibility
load("//platforms/private:devices.bzl", "EXECUTOR_PROVIDERS", "hardware_compatibility", "platform_hardware")
load(":engine_build.bzl", "engine_build")
load(":labels.bzl", "label_text")
load(":published_engine.bzl", "published_engine")

def engine(
        name,
        model,
        platform,
        precision,
        model_name = None,
        model_data = [],
        profiles = [],
        workspace = None,
        options = {},
        calibration_cache = None,
        timing_cache = None,
        out_dir = None,
        visibility = None,
        tags = []):
    """One engine: `model` compiled for `platform`.

    Args:
      name: target name.
      model: the ONNX file (a label).
      platform: the target platform: @kiln//platforms:host (this machine), a device
        (@kiln_devices//:<name>), a compatibility class (@kiln//platforms/class:<tag>), or
        any platform built from the //platforms constraint settings. A CPU platform
        with an ISA level gets an ISA-tied engine, one without a portable one.
      precision: fp32 | int8 (ONNX Runtime); fp32 | fp16 | bf16 | int8 | fp8 (TensorRT).
      model_name: the model part of the file name; defaults to the file's stem.
      model_data: the model's external data files (weights saved beside the .onnx,
        e.g. `model.onnx.data`), in the model's directory. The engine carries their
        bytes inline; its record lists each file with its sha256.
      profiles: optimization profiles, each "<input>:<min>:<opt>:<max> ..." with
        shapes like 1x3x224x224 (min <= opt <= max on every axis).
      workspace: TensorRT builder workspace, e.g. "2GiB".
      options: backend builder options (ONNX Runtime: graph_optimization_level;
        TensorRT: builder_optimization_level, strongly_typed).
      calibration_cache: TensorRT INT8 calibration cache (required for int8 there).
      timing_cache: TensorRT timing cache, to pin tactic choices.
      out_dir: directory under the package's bazel-bin; defaults to the platform's name.
      visibility: of the public target.
      tags: of the public target.
    """
    label = native.package_relative_label(platform)
    hardware = platform_hardware(label)
    executor = executor_tag(hardware) if hardware != None else ""
    engine_build(
        name = name + ".build",
        model = model,
        model_name = model_name,
        model_data = model_data,
        platform_label = label_text(label),
        executor = executor if executor in EXECUTOR_PROVIDERS else "",
        precision = precision,
        profiles = profiles,
        workspace = workspace or "",
        options = options,
        calibration_cache = calibration_cache,
        timing_cache = timing_cache,
        out_dir = out_dir or label.name,
        target_compatible_with = hardware_compatibility(hardware),
        tags = ["manual"],
        visibility = ["//visibility:private"],
    )
    published_engine(
        name = name,
        build = ":%s.build" % name,
        platform = label,
        tags = tags,
        visibility = visibility,
    )

"""Public API of //engines: compile ONNX models into engines per hardware platform.

    load("@kiln//engines:defs.bzl", "engine", "engine_bundle", "engine_set", "engine_status")

    engine_set(
        name = "edge",
        models = {"detector": "detector.onnx"},
        platforms = ["@kiln_devices//:orin_nx", "@kiln//platforms:host"],
        precision = {"onnxruntime": "fp32", "tensorrt": "fp16"},
    )

    engine(
        name = "detector.orin",
        model = "detector.onnx",
        platform = "@kiln_devices//:orin_nx",
        precision = "fp16",
        profiles = ["images:1x3x640x640:4x3x640x640:8x3x640x640"],
        workspace = "2GiB",
    )

Devices are declared in MODULE.bazel (`hardware.device`, @kiln//platforms:extensions.bzl).
Outputs, under bazel-bin/<package>/<out_dir>/ (out_dir defaults to the platform's
name): `<model>__<hardware tag>_<precision>.<engine|onnx>` and its `.sha256`
sidecar; engine_set adds a directory and manifest.json per device. An engine is
compatible only where an executor for its hardware exists: this host, or one named
with --@kiln//platforms:executors; elsewhere `bazel build //...` skips it, and
`engine_status` says why.
"""

load("//engines/private:engine.bzl", _engine = "engine")
load("//engines/private:engine_bundle.bzl", _engine_bundle = "engine_bundle")
load("//engines/private:engine_manifest.bzl", _engine_manifest = "engine_manifest")
load("//engines/private:engine_set.bzl", _engine_set = "engine_set")
load("//engines/private:engine_status.bzl", _engine_status = "engine_status")
load("//engines/private:providers.bzl", _EngineInfo = "EngineInfo")

EngineInfo = _EngineInfo
engine = _engine
engine_bundle = _engine_bundle
engine_manifest = _engine_manifest
engine_set = _engine_set
engine_status = _engine_status

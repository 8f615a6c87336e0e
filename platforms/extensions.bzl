"""Module extensions of //platforms: `hardware`, for this host's pin and your devices.

    hardware = use_extension("@kiln//platforms:extensions.bzl", "hardware")
    hardware.device(name = "edge_x86", cpu = "x86_64", cpu_isa = "x86-64-v3", onnxruntime = "1.32")
    use_repo(hardware, "kiln_devices")

Its tags are `device` (a device kind to build engines for) and `host` (the ONNX Runtime
release @kiln//platforms:host builds with).
"""

load("//platforms/private:hardware.bzl", _hardware = "hardware")

hardware = _hardware

"""What hardware and runtimes this host really has, read without TensorRT or a GPU library.

Used twice: at fetch time, to describe the local execution platform
(platforms/host_hardware.bzl runs this file with `--json`), and by every engine
compile, which re-checks the real host against the platform it was asked to
build for (engines/hardware/match.py). Only the standard library is used, so
the probe runs on a bare device too.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import importlib.metadata
import json
import platform
import re
import sys
from pathlib import Path

NONE = "none"

# x86-64 psABI micro-architecture levels, by the /proc/cpuinfo flags each adds.
_X86_LEVELS = (
    ("x86-64-v2", {"cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"}),
    ("x86-64-v3", {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}),
    ("x86-64-v4", {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}),
)

# Armv8.2-A brings half-precision arithmetic (the Cortex-A78AE of Jetson Orin has it).
_ARM_V82 = {"fphp", "asimdhp"}

# L4T release (from /etc/nv_tegra_release) to JetPack, newest first.
_L4T_TO_JETPACK = (
    ((38, 0, 0), "7.0"),
    ((36, 4, 3), "6.2"),
    ((36, 4, 0), "6.1"),
    ((36, 2, 0), "6.0"),
    ((35, 2, 0), "5.1"),
)

# CUdevice_attribute values for the compute capability (cuda.h).
_CU_COMPUTE_CAPABILITY_MAJOR = 75
_CU_COMPUTE_CAPABILITY_MINOR = 76


@dataclasses.dataclass(frozen=True)
class HostFacts:
    """The host, in the vocabulary of //platforms (`none` where a property is absent)."""

    cpu: str
    cpu_isa: str
    gpu_sm: str
    jetpack: str
    tensorrt: str
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self) | {"notes": list(self.notes)}


def cpu_isa_level(machine: str, flags: set[str]) -> str:
    """The highest ISA level whose features `flags` (from /proc/cpuinfo) all have."""
    if machine == "x86_64":
        level = NONE
        for name, required in _X86_LEVELS:
            if not required <= flags:
                break
            level = name
        return level
    if machine == "aarch64":
        return "armv8.2-a" if flags >= _ARM_V82 else "armv8-a"
    return NONE


def cpu_flags(cpuinfo: str) -> set[str]:
    """The feature flags of the first processor in a /proc/cpuinfo text (x86 `flags`, Arm `Features`)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def jetpack_from_l4t(release: str) -> str:
    """JetPack version from the first line of /etc/nv_tegra_release ('# R36 (release), REVISION: 4.3, ...')."""
    match = re.search(r"R(\d+)\s*\(release\),\s*REVISION:\s*(\d+)\.(\d+)", release)
    if not match:
        return NONE
    l4t = tuple(int(part) for part in match.groups())
    for first, jetpack in _L4T_TO_JETPACK:
        if l4t >= first:
            return jetpack
    return NONE


def major_minor(version: str) -> str:
    """'10.3.0.30' -> '10.3'."""
    return ".".join(version.split(".")[:2])


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _cuda_compute_capability() -> tuple[str, str | None]:
    """('sm_87', None) from the CUDA driver, or ('none', why not)."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return NONE, "no CUDA driver (libcuda.so.1 not loadable)"
    if cuda.cuInit(0) != 0:
        return NONE, "the CUDA driver is installed but cuInit failed (no GPU visible?)"
    device = ctypes.c_int()
    if cuda.cuDeviceGet(ctypes.byref(device), 0) != 0:
        return NONE, "the CUDA driver reports no device 0"
    major, minor = ctypes.c_int(), ctypes.c_int()
    cuda.cuDeviceGetAttribute(ctypes.byref(major), _CU_COMPUTE_CAPABILITY_MAJOR, device)
    cuda.cuDeviceGetAttribute(ctypes.byref(minor), _CU_COMPUTE_CAPABILITY_MINOR, device)
    return f"sm_{major.value}{minor.value}", None


def tensorrt_version() -> str | None:
    """The installed TensorRT's full version, from package metadata (no import, no GPU needed)."""
    for distribution in ("tensorrt", "tensorrt-cu13", "tensorrt-cu12", "tensorrt_libs", "tensorrt-cu12-libs"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    # JetPack installs the Python binding as a Debian package without dist-info.
    for pattern in ("/usr/lib/python3*/dist-packages/tensorrt/__init__.py",):
        for init in sorted(Path("/").glob(pattern.lstrip("/"))):
            match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", _read(str(init)))
            if match:
                return match.group(1)
    return None


def _architecture(machine: str) -> str:
    """`uname -m` in //platforms terms."""
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine.lower(), machine)


def cpu_architecture(cpuinfo: str, machine: str) -> str:
    """x86_64 or aarch64 (or what `uname -m` says): from a captured cpuinfo's own fields, else `machine`."""
    flags = cpu_flags(cpuinfo)
    for line in cpuinfo.splitlines():
        key = line.partition(":")[0].strip()
        if key == "flags":
            return "x86_64" if "lm" in flags else "x86"
        if key == "Features":
            return "aarch64" if {"asimd", "fp"} & flags else "arm"
    return _architecture(machine)


def detect(cpuinfo: str | None = None, tegra_release: str | None = None) -> HostFacts:
    """This host, or (given captured files) the CPU and JetPack those files describe."""
    machine = platform.machine()
    notes = []
    if cpuinfo is None:
        text = _read("/proc/cpuinfo")
        cpu = _architecture(machine)
    else:
        text = _read(cpuinfo)
        cpu = cpu_architecture(text, machine)
        notes.append(f"CPU read from {Path(cpuinfo).name}, not this machine")
    sm, why = _cuda_compute_capability()
    if why:
        notes.append(why)
    jetpack = jetpack_from_l4t(_read(tegra_release or "/etc/nv_tegra_release"))
    trt = tensorrt_version()
    if trt is None:
        notes.append("TensorRT is not installed")
    return HostFacts(
        cpu=cpu,
        cpu_isa=cpu_isa_level(cpu, cpu_flags(text)),
        gpu_sm=sm,
        jetpack=jetpack,
        tensorrt=major_minor(trt) if trt else NONE,
        notes=tuple(notes),
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the facts as JSON")
    parser.add_argument("--cpuinfo", help="read this captured /proc/cpuinfo instead of the machine's")
    parser.add_argument("--tegra-release", help="read this captured /etc/nv_tegra_release instead of the machine's")
    args = parser.parse_args(argv)
    for path in (args.cpuinfo, args.tegra_release):
        if path is not None and not Path(path).is_file():
            print(f"error: {path}: no such file", file=sys.stderr)
            return 2
    facts = detect(args.cpuinfo, args.tegra_release)
    if args.json:
        print(json.dumps(facts.as_dict(), indent=2, sort_keys=True))
    else:
        for key, value in sorted(facts.as_dict().items()):
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

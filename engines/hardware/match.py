"""Refuse to build an engine on hardware other than the platform it is labelled with.

Bazel routes a compile to an execution platform that claims the right hardware;
this is the check that the claim is true on the machine the action really runs
on. An engine is never labelled with hardware it was not built on.
"""

from __future__ import annotations

NONE = "none"

# Levels in increasing order within each architecture; a higher level runs code for a lower one.
ISA_ORDER = {
    "x86-64-v2": ("x86_64", 2),
    "x86-64-v3": ("x86_64", 3),
    "x86-64-v4": ("x86_64", 4),
    "armv8-a": ("aarch64", 0),
    "armv8.2-a": ("aarch64", 2),
}

SETTINGS = (
    "cpu",
    "cpu_isa",
    "gpu_sm",
    "jetpack",
    "tensorrt",
    "onnxruntime",
    "tensorrt_hardware_compatibility",
    "tensorrt_version_compatible",
)

# Settings that say which hardware an engine runs on, not what the host must be.
_CLASS_SETTINGS = ("tensorrt_hardware_compatibility", "tensorrt_version_compatible")


class PlatformMismatchError(Exception):
    """The host does not have the hardware or runtime the target platform names."""


def parse_requirements(pairs: list[str]) -> dict[str, str]:
    """['gpu_sm=sm_87', ...] -> {'gpu_sm': 'sm_87', ...}; unknown settings are an error."""
    required: dict[str, str] = {}
    for pair in pairs:
        setting, sep, value = pair.partition("=")
        if not sep or setting not in SETTINGS or not value:
            raise ValueError(
                f"--require {pair!r}: expected <setting>=<value> with setting one of {', '.join(SETTINGS)}"
            )
        required[setting] = value
    return required


def _sm(value: str) -> int:
    try:
        return int(value.removeprefix("sm_"))
    except ValueError:
        return -1


def _same_version(wanted: str, have: str) -> bool:
    """'10.3' matches an installed '10.3' or '10.3.0.30'; 'none' matches only 'none'."""
    if NONE in (wanted, have):
        return wanted == have
    return have == wanted or have.startswith(wanted + ".")


def _isa_ok(wanted: str, have: str, exact: bool) -> bool:
    if wanted == NONE:
        return True
    if wanted not in ISA_ORDER or have not in ISA_ORDER:
        return wanted == have
    (wanted_arch, wanted_level), (have_arch, have_level) = ISA_ORDER[wanted], ISA_ORDER[have]
    if wanted_arch != have_arch:
        return False
    return have_level == wanted_level if exact else have_level >= wanted_level


def mismatches(required: dict[str, str], host: dict[str, str], *, exact_isa: bool) -> list[str]:
    """One line per property where the host differs from what the platform requires."""
    problems = []
    ampere_plus = required.get("tensorrt_hardware_compatibility") == "ampere_plus"
    for setting in SETTINGS:
        if setting not in required or setting in _CLASS_SETTINGS:
            continue
        wanted, have = required[setting], host.get(setting, NONE)
        if setting == "gpu_sm" and ampere_plus:
            # An Ampere-plus plan is built on any Ampere or later GPU (not a Jetson).
            ok = have != NONE and _sm(have) >= 80 and host.get("jetpack", NONE) == NONE
            wanted = "an Ampere or later GPU (sm_80+, not a Jetson)"
        elif setting == "cpu_isa":
            ok = _isa_ok(wanted, have, exact_isa)
            if not ok and exact_isa and wanted != have:
                have = f"{have} (this build's optimizations are tied to the exact ISA level)"
        elif setting in ("tensorrt", "onnxruntime"):
            ok = _same_version(wanted, have)
        else:
            ok = wanted == have
        if not ok:
            problems.append(f"{setting}: the platform wants {wanted}, this host has {have}")
    return problems


def require_host(platform: str, required: dict[str, str], host: dict[str, str], *, exact_isa: bool, notes=()) -> None:
    """Raise PlatformMismatchError naming both sides of every difference."""
    problems = mismatches(required, host, exact_isa=exact_isa)
    if problems:
        lines = [f"refusing to build for {platform} on this host:"]
        lines += [f"  - {problem}" for problem in problems]
        if any(problem.split(":")[0] in ("gpu_sm", "jetpack", "tensorrt") for problem in problems):
            lines += [f"  (host: {note})" for note in notes]
        lines.append(
            "Build it on an execution platform that is this hardware (locally on such a device, or on a "
            "remote worker advertising it), or fix the platform in //platforms:devices.bzl."
        )
        raise PlatformMismatchError("\n".join(lines))

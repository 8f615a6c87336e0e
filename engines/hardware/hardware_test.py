"""The host probe's parsers, and the refusal to build on other hardware."""

from __future__ import annotations

import pytest

from engines.hardware import host, match

V3 = {
    "cx16",
    "lahf_lm",
    "popcnt",
    "sse4_1",
    "sse4_2",
    "ssse3",
    "avx",
    "avx2",
    "bmi1",
    "bmi2",
    "f16c",
    "fma",
    "abm",
    "movbe",
    "xsave",
}
V4 = V3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}


@pytest.mark.parametrize(
    ("machine", "flags", "level"),
    [
        ("x86_64", V4, "x86-64-v4"),
        ("x86_64", V3, "x86-64-v3"),
        ("x86_64", V3 - {"avx2"}, "x86-64-v2"),
        ("x86_64", V3 | {"avx512f"}, "x86-64-v3"),  # AVX-512F alone is not v4
        ("x86_64", {"sse2"}, "none"),
        ("aarch64", {"fp", "asimd", "fphp", "asimdhp", "asimddp"}, "armv8.2-a"),
        ("aarch64", {"fp", "asimd"}, "armv8-a"),
    ],
)
def test_isa_level(machine, flags, level):
    assert host.cpu_isa_level(machine, flags) == level


def test_cpu_flags_from_cpuinfo():
    x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse4_2 avx2\n\nprocessor\t: 1\nflags\t\t: fpu\n"
    arm = "processor\t: 0\nFeatures\t: fp asimd fphp asimdhp\nCPU implementer\t: 0x41\n"
    assert host.cpu_flags(x86) == {"fpu", "sse4_2", "avx2"}
    assert host.cpu_flags(arm) == {"fp", "asimd", "fphp", "asimdhp"}


@pytest.mark.parametrize(
    ("release", "jetpack"),
    [
        (
            "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025",
            "6.2",
        ),
        ("# R36 (release), REVISION: 4.0, GCID: 37537400, BOARD: generic, EABI: aarch64", "6.1"),
        ("# R36 (release), REVISION: 3.0, GCID: 36191598, BOARD: generic, EABI: aarch64", "6.0"),
        ("# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64", "5.1"),
        ("# R38 (release), REVISION: 2.0, GCID: 41844464, BOARD: generic, EABI: aarch64", "7.0"),
        ("# R32 (release), REVISION: 7.1", "none"),
        ("", "none"),
    ],
)
def test_jetpack_from_l4t(release, jetpack):
    assert host.jetpack_from_l4t(release) == jetpack


def test_probe_describes_this_host():
    facts = host.detect()
    assert facts.cpu in ("x86_64", "aarch64")
    assert facts.cpu_isa in match.ISA_ORDER or facts.cpu_isa == "none"
    if facts.gpu_sm == "none":
        assert any("CUDA" in note for note in facts.notes)


JETSON = {"cpu": "aarch64", "gpu_sm": "sm_87", "jetpack": "6.2", "tensorrt": "10.3"}


def test_matching_host_passes():
    match.require_host(
        "//platforms:orin", JETSON, JETSON | {"tensorrt": "10.3.0.30", "cpu_isa": "armv8.2-a"}, exact_isa=False
    )


def test_mismatch_names_both_sides():
    host_facts = {"cpu": "x86_64", "gpu_sm": "sm_89", "jetpack": "none", "tensorrt": "10.7.0"}
    with pytest.raises(match.PlatformMismatchError) as error:
        match.require_host("//platforms:orin", JETSON, host_facts, exact_isa=False, notes=("no Jetson",))
    text = str(error.value)
    assert "//platforms:orin" in text
    assert "gpu_sm: the platform wants sm_87, this host has sm_89" in text
    assert "jetpack: the platform wants 6.2, this host has none" in text
    assert "tensorrt: the platform wants 10.3, this host has 10.7.0" in text
    assert "no Jetson" in text


def test_version_prefix_is_not_a_match():
    # 10.3 must not accept 10.30.
    assert match.mismatches({"tensorrt": "10.3"}, {"tensorrt": "10.30.1"}, exact_isa=False)
    assert not match.mismatches({"onnxruntime": "1.32"}, {"onnxruntime": "1.32.0"}, exact_isa=False)


def test_isa_minimum_or_exact():
    required = {"cpu_isa": "x86-64-v3"}
    assert not match.mismatches(required, {"cpu_isa": "x86-64-v4"}, exact_isa=False)
    (problem,) = match.mismatches(required, {"cpu_isa": "x86-64-v4"}, exact_isa=True)
    assert "wants x86-64-v3" in problem and "x86-64-v4" in problem and "exact ISA level" in problem
    assert match.mismatches({"cpu_isa": "x86-64-v4"}, {"cpu_isa": "x86-64-v3"}, exact_isa=False)
    assert match.mismatches({"cpu_isa": "x86-64-v2"}, {"cpu_isa": "armv8.2-a"}, exact_isa=False)


def test_bad_requirement_is_refused():
    with pytest.raises(ValueError, match="gpu"):
        match.parse_requirements(["gpu=sm_87"])

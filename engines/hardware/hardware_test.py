"""The host probe's parsers, and the refusal to build on other hardware."""

from __future__ import annotations

import json
from pathlib import Path

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


# Captured /proc/cpuinfo and /etc/nv_tegra_release files of real machines (testdata/README.md).
TESTDATA = Path(__file__).parent / "testdata"


@pytest.mark.parametrize(
    ("sample", "cpu", "level"),
    [
        ("cpuinfo_x86-64-v2.txt", "x86_64", "x86-64-v2"),  # Sandy Bridge: SSE4.2, no AVX2
        ("cpuinfo_x86-64-v3.txt", "x86_64", "x86-64-v3"),  # Zen+: AVX2, no AVX-512
        ("cpuinfo_x86-64-v4.txt", "x86_64", "x86-64-v4"),  # Zen 5: AVX-512
        ("cpuinfo_arm64_neoverse_n1.txt", "aarch64", "armv8.2-a"),  # Graviton2
        ("cpuinfo_arm64_armv8.0.txt", "aarch64", "armv8-a"),  # Cortex-A53
        ("cpuinfo_jetson_agx_xavier.txt", "aarch64", "armv8.2-a"),  # Carmel
    ],
)
def test_probe_on_captured_machines(sample, cpu, level):
    facts = host.detect(cpuinfo=str(TESTDATA / sample))
    assert (facts.cpu, facts.cpu_isa) == (cpu, level)
    assert any(sample in note for note in facts.notes)


@pytest.mark.parametrize(
    ("sample", "jetpack"),
    [
        ("nv_tegra_release_jp6.2.txt", "6.2"),
        ("nv_tegra_release_r35.5.0.txt", "5.1"),
        ("nv_tegra_release_r35.4.1.txt", "5.1"),
        ("nv_tegra_release_r32.6.1.txt", "none"),  # JetPack 4.6: older than the vocabulary
        ("nv_tegra_release_r32.5.1.txt", "none"),
    ],
)
def test_jetpack_of_captured_boards(sample, jetpack):
    facts = host.detect(cpuinfo=str(TESTDATA / "cpuinfo_jetson_agx_xavier.txt"), tegra_release=str(TESTDATA / sample))
    assert facts.jetpack == jetpack


def test_probe_command_line_reads_a_sample(capsys):
    assert host.main(["--json", "--cpuinfo", str(TESTDATA / "cpuinfo_x86-64-v3.txt")]) == 0
    assert json.loads(capsys.readouterr().out)["cpu_isa"] == "x86-64-v3"
    assert host.main(["--cpuinfo", str(TESTDATA / "missing.txt")]) == 2
    assert "no such file" in capsys.readouterr().err


AMPERE_PLUS = {"gpu_sm": "sm_80", "tensorrt": "10.13", "tensorrt_hardware_compatibility": "ampere_plus"}


@pytest.mark.parametrize(
    ("gpu_sm", "jetpack", "ok"),
    [
        ("sm_80", "none", True),
        ("sm_89", "none", True),
        ("sm_90", "none", True),
        ("sm_75", "none", False),
        ("sm_87", "6.2", False),  # a Jetson builds for itself only
    ],
)
def test_an_ampere_plus_plan_builds_on_any_ampere_or_later_gpu(gpu_sm, jetpack, ok):
    problems = match.mismatches(
        AMPERE_PLUS, {"gpu_sm": gpu_sm, "jetpack": jetpack, "tensorrt": "10.13.0.35"}, exact_isa=False
    )
    assert (not problems) == ok, problems
    if not ok:
        assert "an Ampere or later GPU (sm_80+, not a Jetson)" in problems[0]


def test_a_portable_cpu_engine_builds_on_any_level():
    for level in ("x86-64-v2", "x86-64-v3", "x86-64-v4", "none"):
        assert not match.mismatches(
            {"cpu": "x86_64", "cpu_isa": "none"}, {"cpu": "x86_64", "cpu_isa": level}, exact_isa=False
        )
    assert match.mismatches(
        {"cpu": "x86_64", "cpu_isa": "none"}, {"cpu": "aarch64", "cpu_isa": "armv8.2-a"}, exact_isa=False
    )

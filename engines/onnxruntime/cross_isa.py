"""Portable engines do not depend on the CPU that builds them; ISA-tied ones do. Checked, not assumed.

    bazel run //engines/onnxruntime:cross_isa_check -- --qemu /usr/bin/qemu-x86_64 [--cpu Haswell=x86-64-v3 ...]

Runs the real compile tool (with its numeric check against the source model) under
QEMU's user-mode emulator with CPU models of other x86-64 levels: ONNX Runtime's MLAS
picks its kernels and layouts from CPUID, which QEMU answers for the emulated model. Each
shipped model's portable engine must come out byte-identical to the one built natively.
The convnet's ISA-tied (`all` level) graph follows MLAS's NCHWc block, 16 floats with
AVX-512 and 8 without: on an AVX-512 host it must differ from the emulated AVX2 CPUs', on an
SSE4.2 or AVX2 host it must be the same. The compile tool's own host check reads
/proc/cpuinfo, which user-mode QEMU passes through from the real host: the ISA-tied builds
here therefore name the real host's level and are compared, never shipped.

Prints one line per build; exit status 1 if a portable engine differs or an ISA-tied one
does not, 2 if QEMU cannot run the compile.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from engines.compile import driver
from engines.hardware import host

# CPU models QEMU's TCG emulates without AVX-512, by the x86-64 level they are. (Its v2
# models, Nehalem and Westmere, stop on an AVX instruction while NumPy 2.4 is imported
# under emulation, so v2 is not emulated here.)
DEFAULT_CPUS = ("Haswell=x86-64-v3", "EPYC-Rome=x86-64-v3")

_PROFILES = {
    "convnet": {"input": {"min": [1, 3, 32, 32], "opt": [4, 3, 32, 32], "max": [8, 3, 32, 32]}},
    "mlp": {"input": {"min": [1, 64], "opt": [8, 64], "max": [32, 64]}},
}


def compile_engine(prefix: list[str], model: Path, out: Path, *, isa: str, level: str, release: str) -> tuple[int, str]:
    """Run the compile tool (under `prefix`, e.g. QEMU); (exit status, stderr). The engine goes into `out`."""
    arguments, _engine = driver.command_line(
        model=model,
        model_name=model.stem,
        platform="//engines/onnxruntime:cross_isa_check",
        required={"cpu": "x86_64", "cpu_isa": isa, "onnxruntime": release},
        precision="fp32",
        profiles=[_PROFILES["convnet" if "conv" in model.stem else "mlp"]],
        options={"graph_optimization_level": level},
        tag="x86_64_ort" + release if isa == "none" else f"{isa}_ort{release}",
        out_dir=out,
        extension="onnx",
    )
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    command = [*prefix, sys.executable, "-m", "engines.onnxruntime.compile", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    stderr = "\n".join(line for line in result.stderr.splitlines() if "TCG doesn't support" not in line)
    return result.returncode, stderr


def _nchwc_block(level: str) -> int:
    return 16 if level == "x86-64-v4" else 8


def digest(out: Path) -> str:
    (engine,) = out.glob("*.onnx")
    return hashlib.sha256(engine.read_bytes()).hexdigest()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qemu", required=True, help="QEMU's user-mode emulator for x86-64 (qemu-x86_64)")
    parser.add_argument(
        "--cpu", action="append", help=f"MODEL=LEVEL of an emulated CPU (default {', '.join(DEFAULT_CPUS)})"
    )
    parser.add_argument("--release", default="1.32", help="the ONNX Runtime release this tool runs with")
    parser.add_argument("models", nargs="+", type=Path)
    args = parser.parse_args(argv)
    here = host.detect().cpu_isa
    cpus = [spec.split("=", 1) for spec in (args.cpu or DEFAULT_CPUS)]
    failures = []
    with tempfile.TemporaryDirectory(prefix="cross-isa-") as scratch:
        root = Path(scratch)

        def build(label: str, prefix: list[str], model: Path, isa: str, level: str) -> str | None:
            out = root / label / model.stem / level
            out.mkdir(parents=True)
            status, stderr = compile_engine(prefix, model, out, isa=isa, level=level, release=args.release)
            if status != 0:
                failures.append(f"{label}: compiling {model.stem} at the {level} level failed:\n{stderr}")
                return None
            return digest(out)

        for model in args.models:
            native = build("native", [], model, "none", "extended")
            for cpu, level in cpus:
                emulated = build(cpu, [args.qemu, "-cpu", cpu], model, "none", "extended")
                same = native is not None and emulated == native
                print(
                    f"{model.stem:8} portable  native {here} {str(native)[:12]}  {cpu} ({level}) {str(emulated)[:12]}  "
                    f"{'identical' if same else 'DIFFERENT'}"
                )
                if native and emulated and not same:
                    failures.append(
                        f"{model.stem}: the portable engine built on {cpu} ({level}) differs from the native one"
                    )
            if model.stem == "convnet" and here != "none":
                native_tied = build("native", [], model, here, "all")
                for cpu, level in cpus:
                    tied = build(cpu, [args.qemu, "-cpu", cpu], model, here, "all")
                    if native_tied is None or tied is None:
                        continue
                    # The all-level graph follows the CPU through MLAS's NCHWc block: 16 floats with
                    # AVX-512, 8 without (SSE4.2 and AVX2 alike). Same block, same bytes.
                    expected, same = _nchwc_block(level) == _nchwc_block(here), tied == native_tied
                    verdict = ("identical" if same else "differs") + (
                        ", as it must" if same == expected else " (WRONG)"
                    )
                    hashes = f"native {here} {native_tied[:12]}  {cpu} ({level}) {tied[:12]}"
                    print(f"{model.stem:8} ISA-tied  {hashes}  {verdict}")
                    if same != expected:
                        failures.append(
                            f"{model.stem}: the all-level graph built on {cpu} ({level}) "
                            f"{'equals' if same else 'differs from'} the one built on this {here} host"
                        )
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if any("failed:" in failure for failure in failures):
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

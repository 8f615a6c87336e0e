"""Compile time per model of the zoo suite (//tests/zoo), and where it goes.

Re-runs the compile of every engine in the zoo's manifest, with the settings the
manifest records, outside Bazel, RUNS times each, and prints per engine the model's
size and node count, the engine's size, the median wall time of the compile process
and its split: start-up (interpreter and imports of onnxruntime, onnx, numpy), reading
the model, optimizing (with int8 quantization) and validating against the source.
Then, per precision, a least-squares fit of log(compile time) on log(engine size):
how compile time grows with the weights it writes.

    ./bazelw run //tools/bench:zoo_compile [-- --runs N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engines.compile import driver


def _compile(record: dict, model: Path, data: list[Path], out: Path) -> tuple[float, dict[str, float]]:
    settings = record["settings"]
    arguments, _engine = driver.command_line(
        model=model,
        model_name=record["model"]["name"],
        platform=record["platform"],
        required=record["hardware"],
        precision=settings["precision"],
        profiles=settings["profiles"],
        options=settings["options"],
        tag=record["tag"],
        out_dir=out,
        extension="onnx",
    )
    for path in data:
        arguments += ["--model-data", str(path)]
    timings = out / "timings.json"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "engines.onnxruntime.compile", *arguments, "--timings", str(timings)],
        check=True,
        env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)},
    )
    wall = time.perf_counter() - start
    return wall, json.loads(timings.read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("models", nargs="+", type=Path, help="the zoo's source models and their data files")
    args = parser.parse_args(argv)
    files = {path.name: path for path in args.models}
    records = json.loads(args.manifest.read_text(encoding="utf-8"))["engines"]
    rows = []
    for record in sorted(records, key=lambda record: record["engine"]["file"]):
        name = record["model"]["name"]
        model = next(path for path in args.models if path.suffix == ".onnx" and path.stem == name)
        data = [files[entry["file"]] for entry in record["model"].get("external_data", [])]
        walls, phases = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="zoo-bench-") as out:
                wall, timing = _compile(record, model, data, Path(out))
            walls.append(wall)
            phases.append(timing | {"start-up": wall - sum(timing.values())})
        median = statistics.median(walls)
        split = {key: statistics.median(phase[key] for phase in phases) for key in phases[0]}
        source_bytes = record["model"]["size"] + sum(
            entry["size"] for entry in record["model"].get("external_data", [])
        )
        rows.append((record, source_bytes, median, split))

    header = (
        f"{'engine':34} {'model MB':>9} {'nodes':>6} {'engine MB':>10} {'compile s':>10}"
        "   start-up / read / optimize / validate"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    for record, source_bytes, median, split in rows:
        shares = " / ".join(
            f"{100 * split[key] / median:4.0f}%" for key in ("start-up", "read", "optimize", "validate")
        )
        label = f"{record['model']['name']} {record['settings']['precision']}"
        print(
            f"{label:34} {source_bytes / 1e6:9.2f} {record['model']['nodes']:6} "
            f"{record['engine']['size'] / 1e6:10.2f} {median:10.2f}   {shares}"
        )
    largest = max(rows, key=lambda row: row[0]["engine"]["size"])
    print(
        f"\nlargest engine: {largest[0]['model']['name']} {largest[0]['settings']['precision']} "
        f"({largest[0]['engine']['size'] / 1e6:.0f} MB), compiled in {largest[2]:.2f}s (median of {args.runs})"
    )
    for precision in sorted({row[0]["settings"]["precision"] for row in rows}):
        chosen = [row for row in rows if row[0]["settings"]["precision"] == precision]
        points = [(math.log(row[0]["engine"]["size"]), math.log(row[2])) for row in chosen]
        mean_x, mean_y = statistics.fmean(x for x, _ in points), statistics.fmean(y for _, y in points)
        spread = sum((x - mean_x) ** 2 for x, _ in points)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else float("nan")
        print(
            f"{precision}: compile time ~ engine size^{slope:.2f} over {len(chosen)} engines "
            f"(log-log least squares), {sum(row[2] for row in chosen):.1f}s in all"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

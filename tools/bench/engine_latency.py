"""Benchmark: what the ISA tie buys. Inference latency of each model's ISA-tied and portable engine on this host.

    ./bazelw run //tools/bench:engine_latency [-- --repeats 15 --threads 1]

Reads this host's device directory (//fleet:fleet.host: its manifest names, per
model, the ISA-tied engine first and the portable one after it) and times each
engine with ONNX Runtime at its profile's opt and max shapes, beside the source
model loaded at ONNX Runtime's default level (what running the model without kiln
costs at start-up every time). Engines are loaded with optimizations off: they
already are the optimized graphs. Prints medians over repeats of batches of calls,
and the portable / ISA-tied ratio. A benchmark, not a test: figures depend on the
machine and its load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}


def _session(path: Path, level: ort.GraphOptimizationLevel, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _feeds(session: ort.InferenceSession, shapes: dict[str, list[int]]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    feeds = {}
    for value in session.get_inputs():
        dtype = _TYPES.get(value.type, np.float32)
        shape = shapes[value.name]
        data = rng.standard_normal(shape) if np.issubdtype(dtype, np.floating) else rng.integers(0, 4, shape)
        feeds[value.name] = data.astype(dtype)
    return feeds


def _median_ms(session: ort.InferenceSession, feeds: dict[str, np.ndarray], repeats: int) -> float:
    for _ in range(20):
        session.run(None, feeds)
    # Calls per batch so one batch takes about 50 ms: short calls are timed in bulk.
    start = time.perf_counter()
    session.run(None, feeds)
    calls = max(1, int(0.05 / max(time.perf_counter() - start, 1e-6)))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            session.run(None, feeds)
        samples.append((time.perf_counter() - start) / calls * 1000)
    return statistics.median(samples)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="the host device's files ($(rootpaths //fleet:fleet.host))")
    parser.add_argument("--models", nargs="+", type=Path, default=[], help="the source models, by file name")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    args = parser.parse_args(argv)
    manifest = next((path for path in args.files if path.name == "manifest.json"), None)
    if manifest is None:
        print("error: no manifest.json among the files given", file=sys.stderr)
        return 2
    data = json.loads(manifest.read_text())
    records = {record["engine"]["file"]: record for record in data["engines"]}
    sources = {path.stem: path for path in args.models}
    hardware = data["device"]["hardware"]
    print(
        f"host: {hardware['cpu']} {hardware['cpu_isa']}, ONNX Runtime {ort.__version__}, "
        f"{args.threads} thread(s), median of {args.repeats} batches, ms per call"
    )
    print(f"{'model':8} {'shape':14} {'source':>9} {'portable':>9} {'ISA-tied':>9}  portable/ISA-tied")
    ratios = []
    for model, files in sorted(data["device"]["uses"].items()):
        if len(files) < 2:
            print(f"{model:8} this host has no ISA level: only the portable engine ({files[0]})")
            continue
        tied, portable = files[0], files[-1]
        profile = records[tied]["settings"]["profiles"][0]
        sessions = {
            "tied": _session(manifest.parent / tied, ort.GraphOptimizationLevel.ORT_DISABLE_ALL, args.threads),
            "portable": _session(manifest.parent / portable, ort.GraphOptimizationLevel.ORT_DISABLE_ALL, args.threads),
        }
        if model in sources:
            sessions["source"] = _session(sources[model], ort.GraphOptimizationLevel.ORT_ENABLE_ALL, args.threads)
        for point in ("opt", "max"):
            shapes = {name: spec[point] for name, spec in profile.items()}
            feeds = _feeds(sessions["tied"], shapes)
            times = {kind: _median_ms(session, feeds, args.repeats) for kind, session in sessions.items()}
            ratio = times["portable"] / times["tied"]
            ratios.append(ratio)
            shape = "x".join(map(str, next(iter(shapes.values()))))
            source = f"{times['source']:9.4f}" if "source" in times else f"{'-':>9}"
            print(f"{model:8} {shape:14} {source} {times['portable']:9.4f} {times['tied']:9.4f}  {ratio:.2f}")
    if ratios:
        print(
            f"median portable/ISA-tied latency ratio: {statistics.median(ratios):.2f} (above 1: the ISA tie is faster)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The numeric check of an engine against its source model.

Both run in ONNX Runtime with graph optimizations off for the source and on the
same seeded inputs, at every shape the profiles name (min, opt and max of each), or
at the model's own shape with each dynamic dimension set to 1 when there are none.

What "agrees" means depends on the precision:

- fp32 (the model's own arithmetic, reordered by the optimizer): every float output
  within `atol + rtol * |source|` elementwise, with the tolerance of the output's
  element type (float16 outputs get float16's); every other output exactly equal.
- int8 (weights quantized to 8 bits): every float output within a relative error of
  INT8_RELATIVE_ERROR, measured as max |engine - source| / max |source| over the
  output. Integer outputs (labels, indices) may change where quantization moves a
  score across a decision boundary; their mismatch share is recorded, not gated.

The record keeps the tolerance, the worst errors and the shapes it ran at.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import onnx

# Elementwise (atol, rtol) per output element type at fp32.
FP32_TOLERANCE = {
    np.dtype(np.float64): (1e-6, 1e-5),
    np.dtype(np.float32): (1e-4, 1e-3),
    np.dtype(np.float16): (1e-2, 1e-2),
}

# Worst relative error of any float output at int8 (max |diff| / max |source|).
INT8_RELATIVE_ERROR = 0.1


class Disagreement(Exception):
    """The engine does not agree with the source model; the message says where and by how much."""


def shapes_to_run(inputs: dict[str, list[int | str]], profiles: Sequence) -> list[dict[str, list[int]]]:
    """The input shapes to check at: each profile's min, opt and max (without repeats), in that order."""
    if not profiles:
        return [
            {
                name: [dim if isinstance(dim, int) and dim > 0 else 1 for dim in shape]
                for name, shape in sorted(inputs.items())
            }
        ]
    found: list[dict[str, list[int]]] = []
    for profile in profiles:
        for point in range(3):
            shapes = {name: list(triple[point]) for name, triple in sorted(profile.shapes.items())}
            if shapes not in found:
                found.append(shapes)
    return found


def feeds(shapes: dict[str, list[int]], types: dict[str, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Seeded inputs: normal floats; 0/1 for integers (valid token ids, masks and indices); any byte for 8-bit."""
    values = {}
    for name, shape in sorted(shapes.items()):
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(types.get(name, onnx.TensorProto.FLOAT)))
        if dtype == np.bool_:
            data = rng.integers(0, 2, shape).astype(bool)
        elif np.issubdtype(dtype, np.floating):
            data = rng.standard_normal(shape)
        elif dtype.itemsize == 1:
            info = np.iinfo(dtype)
            data = rng.integers(info.min, int(info.max) + 1, shape)
        else:
            data = rng.integers(0, 2, shape)
        values[name] = np.asarray(data).astype(dtype)
    return values


def _leaves(value: object, path: str) -> Iterable[tuple[str, object]]:
    """Tensors of an output, whatever its ONNX type: a tensor, a sequence, a map (ZipMap's list of dicts)."""
    if isinstance(value, dict):
        for key in sorted(value, key=repr):
            yield from _leaves(value[key], f"{path}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, np.asarray(value)


class Comparison:
    """The worst disagreement seen so far, across outputs and shapes."""

    def __init__(self, precision: str) -> None:
        self.precision = precision
        self.max_abs = 0.0
        self.max_rel = 0.0
        self.integer_mismatch = 0.0

    def tolerance(self) -> dict[str, object]:
        if self.precision == "int8":
            return {"max_relative_error": INT8_RELATIVE_ERROR}
        return {str(dtype): {"atol": atol, "rtol": rtol} for dtype, (atol, rtol) in FP32_TOLERANCE.items()}

    def add(self, name: str, want: object, got: object, shapes: dict[str, list[int]]) -> None:
        expected, actual = list(_leaves(want, name)), list(_leaves(got, name))
        if [path for path, _ in expected] != [path for path, _ in actual]:
            raise Disagreement(f"output {name!r} has a different structure in the engine than in the source model")
        for (path, reference), (_, engine) in zip(expected, actual, strict=True):
            where = f"output {path} at input shapes {shapes}"
            if reference.shape != engine.shape or reference.dtype != engine.dtype:
                raise Disagreement(
                    f"{where}: the engine gives {engine.dtype}{list(engine.shape)} where the source model gives "
                    f"{reference.dtype}{list(reference.shape)}"
                )
            if reference.size == 0:
                continue
            if not np.issubdtype(reference.dtype, np.floating):
                mismatch = float(np.mean(reference != engine))
                self.integer_mismatch = max(self.integer_mismatch, mismatch)
                if mismatch and self.precision != "int8":
                    raise Disagreement(f"{where}: {mismatch:.1%} of its values differ from the source model's")
                continue
            finite = np.isfinite(reference)
            if not np.array_equal(finite, np.isfinite(engine)):
                raise Disagreement(f"{where}: the engine gives non-finite values where the source model does not")
            difference = np.abs(reference[finite].astype(np.float64) - engine[finite].astype(np.float64))
            scale = float(np.max(np.abs(reference[finite]))) if finite.any() else 0.0
            worst = float(difference.max()) if difference.size else 0.0
            relative = worst / scale if scale > 0 else (0.0 if worst == 0 else float("inf"))
            self.max_abs, self.max_rel = max(self.max_abs, worst), max(self.max_rel, relative)
            if self.precision == "int8":
                if relative > INT8_RELATIVE_ERROR:
                    raise Disagreement(
                        f"{where}: int8 engine's relative error {relative:.3g} (max |diff| {worst:.3g} over "
                        f"max |source| {scale:.3g}) is over the int8 tolerance {INT8_RELATIVE_ERROR}; "
                        "this model does not quantize well with dynamic int8: build it at fp32"
                    )
                continue
            atol, rtol = FP32_TOLERANCE.get(reference.dtype, FP32_TOLERANCE[np.dtype(np.float32)])
            if not np.allclose(engine[finite], reference[finite], atol=atol, rtol=rtol):
                raise Disagreement(
                    f"{where}: the optimized model disagrees with the source model (max |diff| {worst:.3g}, "
                    f"tolerance atol {atol} + rtol {rtol})"
                )

    def as_json(self, ran_at: list[dict[str, list[int]]]) -> dict[str, object]:
        return {
            "max_abs_diff": float(f"{self.max_abs:.6g}"),
            "max_rel_diff": float(f"{self.max_rel:.6g}"),
            "integer_mismatch": float(f"{self.integer_mismatch:.6g}"),
            "precision": self.precision,
            "ran_at": ran_at,
            "reference": "source model, ONNX Runtime, optimizations off",
            "tolerance": self.tolerance(),
        }


def compare(
    source: Path | bytes,
    engine: Path,
    *,
    inputs: dict[str, list[int | str]],
    types: dict[str, int],
    profiles: Sequence,
    precision: str,
    session,
    seed: int = 0,
) -> dict[str, object]:
    """Run both on seeded inputs at every shape to check; raise Disagreement, else return the record's figures."""
    reference = session(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimized = session(engine)
    names = [output.name for output in reference.get_outputs()]
    rng = np.random.default_rng(seed)
    comparison = Comparison(precision)
    ran_at = shapes_to_run(inputs, profiles)
    for shapes in ran_at:
        values = feeds(shapes, types, rng)
        for name, want, got in zip(names, reference.run(names, values), optimized.run(names, values), strict=True):
            comparison.add(name, want, got, shapes)
    return comparison.as_json(ran_at)

"""The numeric check's rules, on hand-made outputs: what agrees at fp32 and int8, and what is refused."""

from __future__ import annotations

import numpy as np
import pytest

from engines.compile.driver import Profile
from engines.onnxruntime import validate

SHAPES = {"x": [2, 3]}


def test_shapes_are_each_profiles_min_opt_max_without_repeats():
    profile = Profile({"x": ((1, 4), (4, 4), (4, 4))})
    assert validate.shapes_to_run({"x": ["batch", 4]}, (profile,)) == [{"x": [1, 4]}, {"x": [4, 4]}]
    assert validate.shapes_to_run({"x": ["batch", "?", 4]}, ()) == [{"x": [1, 1, 4]}]


def test_feeds_are_seeded_and_typed():
    from onnx import TensorProto

    types = {"ids": TensorProto.INT64, "image": TensorProto.UINT8, "flag": TensorProto.BOOL, "x": TensorProto.FLOAT16}
    shapes = {name: [2, 8] for name in types}
    first = validate.feeds(shapes, types, np.random.default_rng(0))
    again = validate.feeds(shapes, types, np.random.default_rng(0))
    assert all(np.array_equal(first[name], again[name]) for name in types)
    assert first["ids"].dtype == np.int64 and set(np.unique(first["ids"])) <= {0, 1}
    assert first["image"].dtype == np.uint8 and first["flag"].dtype == np.bool_ and first["x"].dtype == np.float16


def test_fp32_tolerance_follows_the_element_type():
    comparison = validate.Comparison("fp32")
    reference = np.ones((2, 3), np.float32)
    comparison.add("y", reference, reference + 5e-5, SHAPES)
    with pytest.raises(validate.Disagreement, match="disagrees with the source model"):
        comparison.add("y", reference, reference + 1e-2, SHAPES)
    comparison.add("h", reference.astype(np.float16), (reference + 5e-3).astype(np.float16), SHAPES)


def test_int8_is_gated_on_relative_error_and_reports_label_flips():
    comparison = validate.Comparison("int8")
    reference = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    comparison.add("y", reference, reference + 0.05, SHAPES)
    comparison.add("label", np.array([0, 1]), np.array([0, 2]), SHAPES)
    assert comparison.integer_mismatch == 0.5
    with pytest.raises(validate.Disagreement, match=r"over the int8 tolerance 0\.1"):
        comparison.add("y", reference, reference + 0.2, SHAPES)


def test_non_tensor_outputs_are_compared_leaf_by_leaf():
    comparison = validate.Comparison("fp32")
    maps = [{0: np.float32(0.25), 1: np.float32(0.75)}]
    comparison.add("probabilities", maps, [{0: np.float32(0.25), 1: np.float32(0.75)}], SHAPES)
    with pytest.raises(validate.Disagreement, match="different structure"):
        comparison.add("probabilities", maps, [{0: np.float32(0.25)}], SHAPES)


def test_integer_outputs_must_match_at_fp32_and_shapes_always():
    comparison = validate.Comparison("fp32")
    with pytest.raises(validate.Disagreement, match=r"50\.0% of its values differ"):
        comparison.add("label", np.array([0, 1]), np.array([0, 2]), SHAPES)
    with pytest.raises(validate.Disagreement, match=r"the engine gives float32\[3\]"):
        comparison.add("y", np.zeros(2, np.float32), np.zeros(3, np.float32), SHAPES)

"""Small ONNX models with seeded weights, for the shipped engines, tests and examples.

The same kind and seed always give the same bytes: weights come from a seeded
generator, the graph is built in a fixed order, and nothing about the machine or
the time is written into the model.

    generate.py --kind mlp --seed 1 --out mlp.onnx
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # loadable by every ONNX Runtime and TensorRT release the platforms name


def _weights(rng: np.random.Generator, name: str, shape: tuple[int, ...]) -> onnx.TensorProto:
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    return numpy_helper.from_array((rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32), name)


def mlp(rng: np.random.Generator) -> onnx.GraphProto:
    """[batch, 64] -> 128 (ReLU) -> [batch, 10]."""
    initializers = [
        _weights(rng, "w1", (64, 128)),
        _weights(rng, "b1", (128,)),
        _weights(rng, "w2", (128, 10)),
        _weights(rng, "b2", (10,)),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "w1"], ["hidden"]),
        helper.make_node("Add", ["hidden", "b1"], ["hidden_biased"]),
        helper.make_node("Relu", ["hidden_biased"], ["activated"]),
        helper.make_node("MatMul", ["activated", "w2"], ["projected"]),
        helper.make_node("Add", ["projected", "b2"], ["logits"]),
    ]
    return helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        initializers,
    )


def convnet(rng: np.random.Generator) -> onnx.GraphProto:
    """[batch, 3, 32, 32] -> conv 16 -> conv 32 (stride 2) -> global pool -> [batch, 10]."""
    initializers = [
        _weights(rng, "conv1_w", (16, 3, 3, 3)),
        _weights(rng, "conv1_b", (16,)),
        _weights(rng, "conv2_w", (32, 16, 3, 3)),
        _weights(rng, "conv2_b", (32,)),
        _weights(rng, "fc_w", (32, 10)),
        _weights(rng, "fc_b", (10,)),
        numpy_helper.from_array(np.array([-1, 32], dtype=np.int64), "flat_shape"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv1_w", "conv1_b"], ["conv1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv1"], ["relu1"]),
        helper.make_node("Conv", ["relu1", "conv2_w", "conv2_b"], ["conv2"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["conv2"], ["relu2"]),
        helper.make_node("GlobalAveragePool", ["relu2"], ["pooled"]),
        helper.make_node("Reshape", ["pooled", "flat_shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "fc_w"], ["projected"]),
        helper.make_node("Add", ["projected", "fc_b"], ["logits"]),
    ]
    return helper.make_graph(
        nodes,
        "convnet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        initializers,
    )


KINDS = {"convnet": convnet, "mlp": mlp}


def build(kind: str, seed: int) -> bytes:
    graph = KINDS[kind](np.random.default_rng(seed))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="kiln")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString(deterministic=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=sorted(KINDS), required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.write_bytes(build(args.kind, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

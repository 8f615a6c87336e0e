"""How keyword_spotter.onnx was made (once; the file is checked in, as a user's model is).

A small keyword-spotting classifier: 16 frames x 40 MFCC features -> 12 keyword
scores, with a dynamic batch axis and seeded random weights.

    python3 make_keyword_spotter.py   # needs numpy and onnx
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261202)
initializers = [
    numpy_helper.from_array(np.array([-1, 640], np.int64), "flat_shape"),
    numpy_helper.from_array((rng.standard_normal((640, 16)) * 0.05).astype(np.float32), "fc1.weight"),
    numpy_helper.from_array(np.zeros(16, np.float32), "fc1.bias"),
    numpy_helper.from_array((rng.standard_normal((16, 12)) * 0.1).astype(np.float32), "fc2.weight"),
    numpy_helper.from_array(np.zeros(12, np.float32), "fc2.bias"),
]
nodes = [
    helper.make_node("Reshape", ["features", "flat_shape"], ["flat"]),
    helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["hidden"]),
    helper.make_node("Relu", ["hidden"], ["activated"]),
    helper.make_node("Gemm", ["activated", "fc2.weight", "fc2.bias"], ["logits"]),
    helper.make_node("Softmax", ["logits"], ["scores"], axis=1),
]
graph = helper.make_graph(
    nodes,
    "keyword_spotter",
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 16, 40])],
    [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 12])],
    initializers,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="kiln-smoke")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "keyword_spotter.onnx")

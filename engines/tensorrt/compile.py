"""Compile an ONNX model into a TensorRT plan for one GPU platform (runs on that GPU only)."""

import sys

from engines.compile.driver import compile_engine
from engines.tensorrt.backend import TensorRTBackend

if __name__ == "__main__":
    sys.exit(compile_engine(sys.argv[1:], TensorRTBackend()))

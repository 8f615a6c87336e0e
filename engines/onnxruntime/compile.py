"""Compile an ONNX model into an ONNX Runtime optimized model for one CPU platform."""

import sys

from engines.compile.driver import compile_engine
from engines.onnxruntime.backend import OnnxRuntimeBackend

if __name__ == "__main__":
    sys.exit(compile_engine(sys.argv[1:], OnnxRuntimeBackend()))

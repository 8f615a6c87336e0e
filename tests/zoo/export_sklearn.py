"""Train a seeded scikit-learn pipeline and convert it with skl2onnx (the ai.onnx.ml domain).

A scaler and a random forest over 8 features and 3 classes: the converted model
has a TreeEnsembleClassifier, a float `features` input with a dynamic batch axis,
an int64 `label` output and a ZipMap `probabilities` output (a sequence of maps,
not a tensor), as skl2onnx writes by default.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import onnx
import skl2onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    features, labels = make_classification(n_samples=400, n_features=8, n_informative=5, n_classes=3, random_state=0)
    pipeline = make_pipeline(
        StandardScaler(), RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0)
    ).fit(features, labels)
    model = skl2onnx.convert_sklearn(pipeline, initial_types=[("features", FloatTensorType([None, 8]))])
    onnx.save(model, str(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

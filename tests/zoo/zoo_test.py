"""Every zoo engine agrees with its source model, checked again here, apart from its compile.

The compile checked each engine on seeded inputs and recorded its worst error; this
test re-runs engine and source on other seeded inputs at the same shapes, with the
same tolerance per precision (engines/onnxruntime/validate.py), and checks the record
says what was built from what. It prints the report the closing figures come from.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import onnxruntime as ort
import pytest

from engines import artifacts
from engines.compile import driver
from engines.onnxruntime import model as models
from engines.onnxruntime import validate

MODELS = dict(entry.split("=", 1) for entry in os.environ["ZOO_MODELS"].split())
MANIFEST = Path(os.environ["ZOO_MANIFEST"])
RECORDS = {
    (record["model"]["name"], record["settings"]["precision"]): record
    for record in json.loads(MANIFEST.read_text(encoding="utf-8"))["engines"]
}


def _session(model: Path | bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    model = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def test_every_model_has_its_engines():
    assert {name for name, _precision in RECORDS} == set(MODELS)
    assert all((name, "fp32") in RECORDS for name in MODELS)


@pytest.mark.parametrize(("name", "precision"), sorted(RECORDS))
def test_engine_agrees_with_its_source(name, precision):
    record = RECORDS[(name, precision)]
    engine = MANIFEST.with_name(record["engine"]["file"])
    source = Path(MODELS[name])
    assert artifacts.sha256_file(engine) == record["engine"]["sha256"]
    assert artifacts.sha256_file(source) == record["model"]["sha256"]
    for data in record["model"].get("external_data", []):
        assert artifacts.sha256_file(source.with_name(data["file"])) == data["sha256"]

    validation = record["validation"]
    assert validation["precision"] == precision
    if precision == "int8":
        assert validation["max_rel_diff"] <= validation["tolerance"]["max_relative_error"]

    # The engine needs nothing beside it: its weights are inline, whatever the source did.
    proto = models.read_structure(engine)
    assert models.external_data(engine, proto) == {}
    source_proto = models.read_structure(source)
    inputs = models.inputs(source_proto)
    assert record["model"]["inputs"] == inputs

    # ONNX Runtime refuses external data behind runfiles' symbolic links: the source's bytes, inline.
    as_given = (
        models.inline(source, source_proto).SerializeToString() if record["model"].get("external_data") else source
    )
    profiles = tuple(
        driver.Profile({name: (tuple(s["min"]), tuple(s["opt"]), tuple(s["max"])) for name, s in profile.items()})
        for profile in record["settings"]["profiles"]
    )
    recheck = validate.compare(
        as_given,
        engine,
        inputs=inputs,
        types=models.element_types(source_proto),
        profiles=profiles,
        precision=precision,
        session=_session,
        seed=12345,
    )
    assert recheck["ran_at"] == validation["ran_at"]
    print(
        f"ZOO {name:24} {precision:5} nodes {record['model']['nodes']:5}  model {_size(source, record):>9}  "
        f"engine {record['engine']['size'] / 1e6:8.2f} MB  compile max|diff| {validation['max_abs_diff']:.3g} "
        f"rel {validation['max_rel_diff']:.3g}  re-check max|diff| {recheck['max_abs_diff']:.3g} "
        f"rel {recheck['max_rel_diff']:.3g}  shapes {len(validation['ran_at'])}"
    )


def _size(source: Path, record: dict) -> str:
    total = source.stat().st_size + sum(data["size"] for data in record["model"].get("external_data", []))
    return f"{total / 1e6:.2f} MB"

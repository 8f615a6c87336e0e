"""Reading the ONNX models users bring, as exporters, zoos and converters write them.

Everything here turns a property of a model into either a model ONNX Runtime can
optimize or one EngineBuildError that names the model, the tensor, node or input at
fault, and what to do. Nothing is written beside the model: a prepared copy goes to
the compile's scratch directory.

- External data: tensors may keep their bytes in files beside the `.onnx`
  (`onnx.save(..., save_as_external_data=True)`, torch's exporter for models over
  2 GiB). Each referenced file must be there, inside the model's directory, and long
  enough for the tensor; the engine then carries the bytes inline.
- Size: an ONNX Runtime engine is one protobuf file, and protobuf caps a message at
  2 GiB, so a model whose weights exceed that cannot become an engine here.
- Initializers listed as graph inputs (IR version 3, the format of older exporters and
  most of the ONNX model zoo): they are weights with a default, and an optimizer may
  neither fold nor drop them while a caller could still feed them, so the saved model
  would ask for them as inputs. The prepared copy lists only the real inputs (and is
  stamped IR version 4, the first that allows initializers that are not inputs).
- Operators: every node's domain must be one the runtime implements, or a function the
  model defines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

# protobuf's limit on one serialized message: an engine that is a single .onnx file.
ENGINE_LIMIT_BYTES = 2**31 - 1

# Domains that are ONNX's default domain under either of its names.
_DEFAULT_DOMAINS = {"", "ai.onnx"}


class ModelError(Exception):
    """The model cannot be compiled as it is; the message says why and what to do."""


def _graphs(graph: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    """The graph and every subgraph of its control-flow nodes (If, Loop, Scan), depth first."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(attribute.g)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for subgraph in attribute.graphs:
                    yield from _graphs(subgraph)


def _tensors(proto: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    for graph in _graphs(proto.graph):
        yield from graph.initializer
        for sparse in graph.sparse_initializer:
            yield sparse.values
        for node in graph.node:
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.TENSOR:
                    yield attribute.t


def _external(tensor: onnx.TensorProto) -> dict[str, str] | None:
    if tensor.data_location != onnx.TensorProto.EXTERNAL:
        return None
    return {entry.key: entry.value for entry in tensor.external_data}


def _span(entries: dict[str, str], available: int) -> tuple[int, int]:
    """(offset, length) of an external tensor's bytes in a file of `available` bytes (no length: to the end)."""
    offset = int(entries.get("offset", "0") or 0)
    return offset, int(entries["length"]) if entries.get("length") else available - offset


def read_structure(model: Path) -> onnx.ModelProto:
    """The model's graph without the bytes of external tensors."""
    name = model.name
    size = model.stat().st_size
    if size > ENGINE_LIMIT_BYTES:
        raise ModelError(
            f"{name} is {size / 2**30:.2f} GiB in one file, over protobuf's 2 GiB limit for an ONNX file; "
            "export it with its weights as external data (onnx.save(..., save_as_external_data=True))"
        )
    try:
        return onnx.load(str(model), load_external_data=False)
    except DecodeError as error:
        raise ModelError(f"{name} is not a readable ONNX file (truncated or corrupt?): {error}") from None
    except (ValueError, OSError) as error:
        raise ModelError(f"{name} is not a readable ONNX file: {error}") from None


def external_data(model: Path, proto: onnx.ModelProto) -> dict[str, int]:
    """Each external data file the model references (relative to its directory) -> bytes the model reads from it.

    Raises ModelError for a reference that leaves the model's directory, a file that is
    not there, or one too short for its tensor.
    """
    directory = model.parent
    used: dict[str, int] = {}
    for tensor in _tensors(proto):
        entries = _external(tensor)
        if entries is None:
            continue
        location = entries.get("location", "")
        where = f"{model.name}: tensor {tensor.name!r} keeps its data in {location!r}"
        parts = Path(location).parts
        if not location or Path(location).is_absolute() or ".." in parts:
            raise ModelError(
                f"{where}, which is not a path inside the model's directory; re-save the model with "
                "onnx.save(..., save_as_external_data=True, location=<file name>)"
            )
        path = directory / location
        if not path.is_file():
            raise ModelError(
                f"{where}, which is not beside the model; give the file to the engine as model_data "
                f"(in the same directory as the model), or re-save the model with its weights inline"
            )
        available = path.stat().st_size
        offset, length = _span(entries, available)
        if offset + length > available:
            raise ModelError(
                f"{where} at bytes {offset}..{offset + length}, but the file has {available} bytes "
                "(truncated, or not the file the model was saved with)"
            )
        used[location] = used.get(location, 0) + length
    return dict(sorted(used.items()))


def check_size(model: Path, data: dict[str, int]) -> None:
    total = model.stat().st_size + sum(data.values())
    if total > ENGINE_LIMIT_BYTES:
        raise ModelError(
            f"{model.name} has {total / 2**30:.2f} GiB of graph and weights, and an ONNX Runtime engine is a "
            "single file that protobuf limits to 2 GiB; quantize it (precision int8) or split the model"
        )


def initializer_inputs(proto: onnx.ModelProto) -> list[str]:
    """Names of graph inputs that are also initializers (weights with a default value)."""
    initializers = {tensor.name for tensor in proto.graph.initializer}
    return [value.name for value in proto.graph.input if value.name in initializers]


def inputs(proto: onnx.ModelProto) -> dict[str, list[int | str]]:
    """The inputs a caller feeds: name -> shape (ints, names of symbolic dimensions, or "?")."""
    initializers = {tensor.name for tensor in proto.graph.initializer}
    found: dict[str, list[int | str]] = {}
    for value in proto.graph.input:
        if value.name in initializers:
            continue
        kind = value.type.WhichOneof("value")
        if kind != "tensor_type":
            raise ModelError(
                f"input {value.name!r} is a {kind or 'value of no type'}, not a tensor; kiln builds engines for "
                "models whose inputs are tensors (re-export with tensor inputs)"
            )
        tensor = value.type.tensor_type
        if not tensor.HasField("shape"):
            raise ModelError(
                f"input {value.name!r} has no shape in the model, so its rank is unknown; re-export it with "
                "a shape (dynamic axes named, e.g. torch.onnx.export(..., dynamic_axes=...))"
            )
        found[value.name] = [
            dim.dim_value if dim.HasField("dim_value") else (dim.dim_param or "?") for dim in tensor.shape.dim
        ]
    return found


def half_precision_weights(proto: onnx.ModelProto) -> list[str]:
    """Names of float16 and bfloat16 initializers."""
    halves = {onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}
    return [tensor.name for graph in _graphs(proto.graph) for tensor in graph.initializer if tensor.data_type in halves]


def element_types(proto: onnx.ModelProto) -> dict[str, int]:
    """Input name -> ONNX element type (onnx.TensorProto.FLOAT, ...)."""
    return {value.name: value.type.tensor_type.elem_type for value in proto.graph.input}


def check_operators(proto: onnx.ModelProto, runtime_domains: set[str], runtime: str) -> None:
    """Every node's domain is one the runtime implements, or a function the model defines."""
    functions = {(function.domain, function.name) for function in proto.functions}
    local_domains = {domain for domain, _name in functions}
    known = {"" if domain in _DEFAULT_DOMAINS else domain for domain in runtime_domains}
    for graph in _graphs(proto.graph):
        for node in graph.node:
            domain = "" if node.domain in _DEFAULT_DOMAINS else node.domain
            if (node.domain, node.op_type) in functions:
                continue
            label = f"node {node.name or '(unnamed)'!r} ({node.op_type}"
            if domain not in known and domain not in local_domains:
                raise ModelError(
                    f"{label}, domain {node.domain!r}) is a custom operator: {runtime} implements the domains "
                    f"{', '.join(sorted(d or 'ai.onnx' for d in known))}; re-export the model without custom "
                    "operators (or with them as ONNX functions)"
                )


def inline(model: Path, proto: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of the model with its external tensors' bytes inline, read by kiln, not by onnx or the runtime.

    Both onnx and ONNX Runtime refuse external data that is a symbolic link or resolves
    outside the model's directory, and Bazel hands actions and tests their inputs as
    symbolic links into its own tree. external_data() has already checked each path
    lexically: inside the model's directory, present, and long enough.
    """
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    for tensor in _tensors(copy):
        entries = _external(tensor)
        if entries is None:
            continue
        path = model.parent / entries["location"]
        offset, length = _span(entries, path.stat().st_size)
        with open(path, "rb") as stream:
            stream.seek(offset)
            data = stream.read(length)
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT
        tensor.raw_data = data
    return copy


def has_external_data(proto: onnx.ModelProto) -> bool:
    return any(_external(tensor) is not None for tensor in _tensors(proto))


def prepare(model: Path, proto: onnx.ModelProto, scratch: Path) -> Path:
    """The model ONNX Runtime optimizes: the user's file, or a copy with its weights inline and only real inputs listed.

    External data is brought inline because ONNX Runtime saves an optimized model's
    untouched external tensors as references to the source's data file, which the
    engine does not travel with (and because of the symbolic links, see inline()).
    """
    external = has_external_data(proto)
    if not external and not initializer_inputs(proto):
        check_valid(proto, model.name)
        return model
    full = inline(model, proto) if external else onnx.ModelProto.FromString(proto.SerializeToString())
    initializers = {tensor.name for tensor in full.graph.initializer}
    kept = [value for value in full.graph.input if value.name not in initializers]
    del full.graph.input[:]
    full.graph.input.extend(kept)
    full.ir_version = max(full.ir_version, 4)
    check_valid(full, model.name)
    prepared = scratch / "prepared.onnx"
    onnx.save(full, str(prepared))
    return prepared


def check_valid(proto: onnx.ModelProto, name: str) -> None:
    try:
        onnx.checker.check_model(proto)
    except (onnx.checker.ValidationError, ValueError) as error:
        raise ModelError(f"{name} is not a valid ONNX model: {error}") from None


def node_count(proto: onnx.ModelProto) -> int:
    return sum(len(graph.node) for graph in _graphs(proto.graph))

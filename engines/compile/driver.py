"""The compile step every backend shares: validate, check the host, build, then write.

A backend (engines/onnxruntime/backend.py, engines/tensorrt/backend.py) knows how
to read a model's inputs, describe the host and its runtime, and turn the model
into engine bytes. This driver does the rest in a fixed order so that a failure
anywhere leaves no output at all:

1. read the model and check the optimization profiles against its inputs;
2. check the real host against the platform (engines/hardware/match.py);
3. build the engine in memory;
4. only then write the engine, its sha256 sidecar and its manifest record.

Exit status 2 and one message on stderr for every expected failure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from engines import artifacts
from engines.hardware import match


class EngineBuildError(Exception):
    """An expected failure: bad model, bad settings, wrong host, or the builder said no."""


@dataclass(frozen=True)
class Profile:
    """One optimization profile: per input, the min/opt/max shapes."""

    shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]

    def as_json(self) -> dict[str, dict[str, list[int]]]:
        return {
            name: {"min": list(lo), "opt": list(opt), "max": list(hi)}
            for name, (lo, opt, hi) in sorted(self.shapes.items())
        }


@dataclass(frozen=True)
class Settings:
    precision: str
    profiles: tuple[Profile, ...]
    options: dict[str, str]
    workspace_bytes: int | None = None
    calibration_cache: Path | None = None
    timing_cache: Path | None = None
    required: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        settings: dict[str, object] = {
            "options": dict(sorted(self.options.items())),
            "precision": self.precision,
            "profiles": [profile.as_json() for profile in self.profiles],
        }
        if self.workspace_bytes is not None:
            settings["workspace_bytes"] = self.workspace_bytes
        for name, path in (
            ("calibration_cache_sha256", self.calibration_cache),
            ("timing_cache_sha256", self.timing_cache),
        ):
            if path is not None:
                settings[name] = artifacts.sha256_file(path)
        return settings


class Backend(Protocol):
    name: str
    extension: str
    precisions: tuple[str, ...]
    options: dict[str, tuple[str, ...] | None]

    def default_options(self, required: dict[str, str]) -> dict[str, str]:
        """Builder options for a platform with these hardware requirements, before the engine's own."""

    def check(self, settings: Settings) -> None:
        """Raise EngineBuildError for settings that contradict the platform (before the host is checked)."""

    def model_inputs(self, model: Path) -> dict[str, list[int | str]]:
        """Input name -> shape (ints for fixed dimensions, names for dynamic ones)."""

    def model_facts(self, model: Path) -> dict[str, object]:
        """What the record says about the model beyond its inputs (node count, opsets, ...)."""

    def host(self) -> tuple[dict[str, str], tuple[str, ...]]:
        """The host in //platforms terms plus the backend's runtime version, and notes."""

    def exact_isa(self, settings: Settings) -> bool:
        """Whether the output is tied to the host's exact ISA level (not just a minimum)."""

    def versions(self) -> dict[str, str]:
        """Versions of everything that shapes the output (runtime, converters)."""

    def build(self, model: Path, settings: Settings, scratch: Path) -> tuple[bytes, dict[str, object]]:
        """The engine's bytes and what was checked about it."""


def _parse_profiles(text: str) -> tuple[Profile, ...]:
    try:
        raw = json.loads(text)
        return tuple(
            Profile(
                {name: (tuple(spec["min"]), tuple(spec["opt"]), tuple(spec["max"])) for name, spec in profile.items()}
            )
            for profile in raw
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise EngineBuildError(
            f"--profiles: not a JSON list of {{input: {{min, opt, max}}}} objects ({error})"
        ) from None


def check_profiles(model_name: str, inputs: dict[str, list[int | str]], profiles: tuple[Profile, ...]) -> None:
    """Every profile names real inputs, with their rank, within their fixed dimensions, and min <= opt <= max.

    It also covers every input with a dynamic dimension, and gives a dimension the model
    names (`batch`, `sequence`) the same size in every input that has it.
    """
    dynamic = sorted(
        name for name, shape in inputs.items() if any(not isinstance(dim, int) or dim < 0 for dim in shape)
    )
    for index, profile in enumerate(profiles):
        where = f"profile {index}"
        for name, (lo, opt, hi) in sorted(profile.shapes.items()):
            if name not in inputs:
                raise EngineBuildError(
                    f"{where} names input {name!r}, but model {model_name} has inputs {sorted(inputs)}"
                )
            shape = inputs[name]
            for label, dims in (("min", lo), ("opt", opt), ("max", hi)):
                if len(dims) != len(shape):
                    raise EngineBuildError(
                        f"{where}, input {name!r}: {label} shape {list(dims)} has rank {len(dims)}, "
                        f"the model's input {shape} has rank {len(shape)}"
                    )
            for axis, dim in enumerate(shape):
                if not (lo[axis] <= opt[axis] <= hi[axis]):
                    raise EngineBuildError(
                        f"{where}, input {name!r}, axis {axis}: need min <= opt <= max, "
                        f"got {lo[axis]}, {opt[axis]}, {hi[axis]}"
                    )
                if isinstance(dim, int) and dim >= 0 and not (lo[axis] == opt[axis] == hi[axis] == dim):
                    raise EngineBuildError(
                        f"{where}, input {name!r}, axis {axis} is fixed at {dim} in the model, "
                        f"but the profile asks for {lo[axis]}..{hi[axis]}"
                    )
        missing = [name for name in dynamic if name not in profile.shapes]
        if missing:
            raise EngineBuildError(
                f"{where} gives no shapes for input(s) {missing} of model {model_name}, which have dynamic "
                f"dimensions ({', '.join(f'{name} {inputs[name]}' for name in missing)}); add them to the profile"
            )
        _check_named_dimensions(where, inputs, profile)


def _check_named_dimensions(where: str, inputs: dict[str, list[int | str]], profile: Profile) -> None:
    seen: dict[str, tuple[str, tuple[int, int, int]]] = {}
    for name, (lo, opt, hi) in sorted(profile.shapes.items()):
        for axis, dim in enumerate(inputs[name]):
            if not isinstance(dim, str) or dim == "?":
                continue
            sizes = (lo[axis], opt[axis], hi[axis])
            first = seen.setdefault(dim, (name, sizes))
            if first[1] != sizes:
                raise EngineBuildError(
                    f"{where}: dimension {dim!r} is {first[1][0]}/{first[1][1]}/{first[1][2]} (min/opt/max) in "
                    f"input {first[0]!r} but {sizes[0]}/{sizes[1]}/{sizes[2]} in input {name!r}; the model "
                    "gives both the same size, so give them the same sizes"
                )


def _parse_args(argv: list[str], backend: Backend) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"compile ({backend.name})", description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--model-data", type=Path, action="append", default=[], help="an external data file")
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--platform", required=True, help="the target platform's label, for messages and the record")
    parser.add_argument("--require", action="append", default=[], help="<setting>=<value> the host must have")
    parser.add_argument("--precision", required=True)
    parser.add_argument("--profiles", default="[]", help="JSON list of {input: {min, opt, max}}")
    parser.add_argument("--option", action="append", default=[], help="<builder option>=<value>")
    parser.add_argument("--workspace-bytes", type=int)
    parser.add_argument("--calibration-cache", type=Path)
    parser.add_argument("--timing-cache", type=Path)
    parser.add_argument("--tag", required=True, help="the hardware tag of the engine's file name")
    parser.add_argument("--out", type=Path, required=True, help="the engine file to write")
    parser.add_argument("--sidecar", type=Path, required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--timings", type=Path, help="write seconds per phase here (benchmarks; not an output)")
    return parser.parse_args(argv)


def _settings(args: argparse.Namespace, backend: Backend) -> Settings:
    if args.precision not in backend.precisions:
        raise EngineBuildError(
            f"precision {args.precision!r} is not supported by the {backend.name} backend; "
            f"use one of {', '.join(backend.precisions)}"
        )
    try:
        required = match.parse_requirements(args.require)
    except ValueError as error:
        raise EngineBuildError(str(error)) from None
    options: dict[str, str] = backend.default_options(required)
    for pair in args.option:
        key, sep, value = pair.partition("=")
        if not sep or key not in backend.options:
            raise EngineBuildError(
                f"builder option {pair!r}: the {backend.name} backend accepts "
                f"{', '.join(sorted(backend.options)) or 'none'}"
            )
        allowed = backend.options[key]
        if allowed is not None and value not in allowed:
            raise EngineBuildError(f"builder option {key}={value!r}: use one of {', '.join(allowed)}")
        options[key] = value
    for path in (args.calibration_cache, args.timing_cache):
        if path is not None and not path.is_file():
            raise EngineBuildError(f"{path}: no such file")
    return Settings(
        precision=args.precision,
        profiles=_parse_profiles(args.profiles),
        options=options,
        workspace_bytes=args.workspace_bytes,
        calibration_cache=args.calibration_cache,
        timing_cache=args.timing_cache,
        required=required,
    )


def command_line(
    *,
    model: Path,
    model_name: str,
    platform: str,
    required: dict[str, str],
    precision: str,
    tag: str,
    out_dir: Path,
    extension: str,
    profiles: list[dict[str, dict[str, list[int]]]] = (),
    options: dict[str, str] | None = None,
) -> tuple[list[str], Path]:
    """A compile tool's arguments for one engine, as engines/private/engine.bzl passes them, and the engine's path.

    For running a compile tool outside Bazel (tests, engines/onnxruntime/cross_isa.py).
    """
    engine = out_dir / artifacts.engine_file_name(model_name, tag, precision, extension)
    arguments = ["--model", str(model), "--model-name", model_name, "--platform", platform]
    for setting, value in required.items():
        arguments += ["--require", f"{setting}={value}"]
    arguments += ["--precision", precision, "--profiles", json.dumps(list(profiles))]
    for key, value in (options or {}).items():
        arguments += ["--option", f"{key}={value}"]
    arguments += ["--tag", tag, "--out", str(engine), "--sidecar", f"{engine}.sha256", "--record", f"{engine}.json"]
    return arguments, engine


def compile_engine(argv: list[str], backend: Backend) -> int:
    args = _parse_args(argv, backend)
    try:
        settings = _settings(args, backend)
        if not args.model.is_file():
            raise EngineBuildError(f"{args.model}: no such model file")
        for path in args.model_data:
            if not path.is_file():
                raise EngineBuildError(f"model data {path}: no such file")
            if path.parent != args.model.parent:
                raise EngineBuildError(
                    f"model data {path} is not in the model's directory ({args.model.parent}), where the model's "
                    "references to its external data are resolved; put it beside the model"
                )
        file_name = artifacts.engine_file_name(args.model_name, args.tag, settings.precision, backend.extension)
        if args.out.name != file_name:
            raise EngineBuildError(f"--out {args.out.name} does not follow the engine name schema ({file_name})")
        backend.check(settings)
        host, notes = backend.host()
        match.require_host(args.platform, settings.required, host, exact_isa=backend.exact_isa(settings), notes=notes)
        started = time.perf_counter()
        inputs = backend.model_inputs(args.model)
        check_profiles(args.model_name, inputs, settings.profiles)
        facts = backend.model_facts(args.model)
        with tempfile.TemporaryDirectory(prefix="engine-build-") as scratch:
            engine, validation = backend.build(args.model, settings, Path(scratch))
        finished = time.perf_counter()
    except (EngineBuildError, match.PlatformMismatchError, ValueError) as error:
        print(f"error: {args.model_name} for {args.platform}: {error}", file=sys.stderr)
        return 2

    model_sha256 = artifacts.sha256_file(args.model)
    model = {"inputs": inputs, "name": args.model_name, "sha256": model_sha256, "size": args.model.stat().st_size}
    model |= facts
    data = _model_data(args.model_data)
    if data:
        model["external_data"] = data
    engine_sha256 = artifacts.sha256_bytes(engine)
    versions = backend.versions()
    key_fields = {
        "backend": backend.name,
        "hardware": dict(sorted(settings.required.items())),
        "model_sha256": model_sha256,
        **({"model_data": data} if data else {}),
        "settings": settings.as_json(),
        "versions": versions,
    }
    record = {
        "backend": backend.name,
        "engine": {"file": file_name, "sha256": engine_sha256, "size": len(engine)},
        "hardware": key_fields["hardware"],
        "key": artifacts.engine_key(key_fields),
        "model": model,
        "platform": args.platform,
        "settings": key_fields["settings"],
        "tag": args.tag,
        "validation": validation,
        "versions": versions,
    }
    artifacts.write_atomically(args.out, engine)
    artifacts.write_atomically(args.sidecar, artifacts.sidecar_text(engine_sha256, file_name).encode())
    artifacts.write_atomically(args.record, artifacts.canonical_json(record).encode())
    if args.timings:
        measured = getattr(backend, "timings", {})
        phases = {"read": finished - started - sum(measured.values())} | measured
        args.timings.write_text(json.dumps(phases, sort_keys=True) + "\n", encoding="utf-8")
    return 0


def _model_data(given: list[Path]) -> list[dict[str, object]]:
    """The external data files the engine was built from, by name beside the model, with their digests."""
    return [
        {"file": path.name, "sha256": artifacts.sha256_file(path), "size": path.stat().st_size}
        for path in sorted(given, key=lambda path: path.name)
    ]

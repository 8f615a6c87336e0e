"""The per-library single source of truth: version envelopes and landmarks.

`miners/<library>/versions.yaml` lists the library versions kiln keeps a
corpus of (`versions`). For each it says which releases each miner role was
written against (`miner_pins`) and which classes and methods the miners read
(`native_types`: the shared list, with that version's differences). Every
miner checks the installed version against its role's envelope before it
reads anything, and fails loudly when the library has moved on — a silent
empty result would look like "no rules found".

One version's view (`resolve`) is the flat form `load` reads; the build writes
it per version (`python -m miners.ssot`), so an edit to one version's entry
re-runs only that version's actions.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from miners.errors import (
    MinerLandmarkMissingError,
    MinerVersionMismatchError,
    MinerVersionUndeclaredError,
    SchemaError,
)
from miners.schema import canonical_yaml

ROLES = ("static", "dynamic", "lift", "gate")
CONSTRUCTORS = ("call", "msgspec.convert")


@dataclass(frozen=True)
class ReplayCall:
    """A method the gate calls on a constructed instance (e.g. `validate(strict=True)`)."""

    method: str
    kwargs: Mapping[str, Any]


PROBE_TYPES = ("int", "float", "bool", "str")


@dataclass(frozen=True)
class ProbeField:
    """A field the dynamic miner probes: its type, and domain values worth trying (e.g. known modes)."""

    name: str
    type: str  # one of PROBE_TYPES
    values: tuple[Any, ...] = ()
    # The values are every valid value (a closed set of modes), so an inferred string
    # allowlist can be trusted; otherwise a valid string the SSOT does not name would
    # be claimed invalid.
    complete: bool = False


@dataclass(frozen=True)
class Cluster:
    """Fields whose validity depends on each other, probed together."""

    name: str
    fields: tuple[ProbeField, ...]


@dataclass(frozen=True)
class NativeType:
    """A config class the miners read, and how the gate replays a rule against it."""

    name: str  # importable dotted path, e.g. transformers.GenerationConfig
    module: str  # the module whose source defines the class
    validators: tuple[str, ...]
    replay: tuple[ReplayCall, ...]
    # Arguments every construction needs (e.g. GPTQConfig's `bits`); part of every example config.
    constructor_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # How a config is built from kwargs: `call` (`cls(**kwargs)`) or `msgspec.convert`
    # (msgspec checks constraints when converting, not on direct construction).
    construct: str = "call"
    clusters: tuple[Cluster, ...] = ()
    # Fields that take a config of another native type, or a mapping of its arguments, where
    # the annotations do not say so (transformers' `kwargs.pop("watermarking_config")`).
    nested: Mapping[str, str] = field(default_factory=dict)
    # What saving a config calls, where it checks more strictly than constructing
    # (GenerationConfig.save_pretrained runs validate(strict=True)); the gate replays these
    # to record a rule's `on_save` severity.
    on_save: tuple[ReplayCall, ...] = ()

    @property
    def class_name(self) -> str:
        return self.name.rsplit(".", 1)[1]


@dataclass(frozen=True)
class LibrarySpec:
    library: str
    distribution: str
    miner_pins: Mapping[str, str]
    native_types: tuple[NativeType, ...]
    path: str  # as shown in messages (workspace-relative)
    # Packages the library's metadata requires but its environment cannot load (e.g. CUDA
    # builds beside CPU torch): they are locked, installed, and hidden from import.
    absent_modules: tuple[str, ...] = ()
    # The library version this view is of (None for a single-version SSOT).
    version: str | None = None

    def native_type(self, name: str) -> NativeType:
        for native in self.native_types:
            if native.name == name:
                return native
        raise KeyError(name)

    def installed_version(self) -> str:
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            raise MinerLandmarkMissingError(
                library=self.library,
                version="(not installed)",
                expected=f"the distribution {self.distribution!r} to be installed",
                found="no such distribution",
                ssot=self.path,
            ) from None

    def check_installed_version(self, role: str) -> str:
        """Returns the installed version, or raises MinerVersionMismatchError outside the envelope."""
        return self.check_version(role, self.installed_version())

    def check_version(self, role: str, found: str) -> str:
        """Returns `found` (an installed or a source version), or raises outside the role's envelope."""
        envelope = self.miner_pins[role]
        if Version(found) not in SpecifierSet(envelope):
            raise MinerVersionMismatchError(
                library=self.library, installed=found, envelope=envelope, role=role, ssot=self.path
            )
        return found

    def import_class(self, native: NativeType, version: str) -> type:
        """Imports the class of a native type; a missing module or class is a landmark error."""
        module_name, _, attribute = native.name.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise MinerLandmarkMissingError(
                library=self.library,
                version=version,
                expected=f"module {module_name}",
                found=f"ImportError: {err}",
                ssot=self.path,
            ) from None
        cls = getattr(module, attribute, None)
        if not isinstance(cls, type):
            raise MinerLandmarkMissingError(
                library=self.library,
                version=version,
                expected=f"class {native.name}",
                found=f"no class {attribute} in {module_name}",
                ssot=self.path,
            )
        return cls


def _fail(path: str, problem: str) -> SchemaError:
    return SchemaError(path, problem)


def _calls(data: Any, path: str, where: str) -> tuple[ReplayCall, ...]:
    if not isinstance(data, list):
        raise _fail(path, f"{where} must be a list of calls")
    calls = []
    for call in data:
        if not isinstance(call, Mapping) or not isinstance(call.get("method"), str) or set(call) - {"method", "kwargs"}:
            raise _fail(path, f"{where} entries need 'method' (and optional 'kwargs')")
        kwargs = call.get("kwargs") or {}
        if not isinstance(kwargs, Mapping):
            raise _fail(path, f"{where}.{call['method']}.kwargs must be a mapping")
        calls.append(ReplayCall(call["method"], dict(kwargs)))
    return tuple(calls)


def _replay_calls(data: Any, path: str, name: str) -> tuple[tuple[ReplayCall, ...], tuple[ReplayCall, ...]]:
    """The calls the gate makes after construction, and those that saving the config makes."""
    if data is None:
        return (), ()
    if not isinstance(data, Mapping) or set(data) - {"calls", "on_save"}:
        raise _fail(path, f"native_types.{name}.replay must be a mapping with 'calls' (and optional 'on_save')")
    where = f"native_types.{name}.replay"
    return _calls(data.get("calls") or [], path, where + ".calls"), _calls(
        data.get("on_save") or [], path, where + ".on_save"
    )


def _clusters(data: Any, path: str, name: str) -> tuple[Cluster, ...]:
    if data is None:
        return ()
    where = f"native_types.{name}.clusters"
    if not isinstance(data, Mapping):
        raise _fail(path, f"{where} must map cluster names to their fields")
    clusters = []
    for cluster_name in sorted(data):
        fields_data = data[cluster_name]
        if not isinstance(fields_data, Mapping) or not fields_data:
            raise _fail(path, f"{where}.{cluster_name} must map field names to {{type: ..., values: [...]}}")
        fields = []
        for field_name in sorted(fields_data):
            spec = fields_data[field_name]
            if (
                not isinstance(spec, Mapping)
                or spec.get("type") not in PROBE_TYPES
                or set(spec) - {"type", "values", "complete"}
            ):
                raise _fail(
                    path,
                    f"{where}.{cluster_name}.{field_name} needs type: one of {', '.join(PROBE_TYPES)} "
                    "(and optional values: [...], complete: true|false)",
                )
            values = spec.get("values") or []
            if not isinstance(values, list):
                raise _fail(path, f"{where}.{cluster_name}.{field_name}.values must be a list")
            fields.append(ProbeField(field_name, spec["type"], tuple(values), bool(spec.get("complete", False))))
        clusters.append(Cluster(cluster_name, tuple(fields)))
    return tuple(clusters)


# What a version's entry may set; native_types entries are merged class by class.
VERSION_KEYS = ("miner_pins", "native_types", "absent_modules")


def declared_versions(data: Mapping[str, Any], shown: str) -> list[str]:
    """The versions a multi-version SSOT declares, oldest first."""
    versions = data.get("versions")
    if not isinstance(versions, Mapping) or not versions:
        raise _fail(shown, "'versions' must map library versions (e.g. '5.23.0') to their miner_pins and landmarks")
    for version in versions:
        try:
            Version(str(version))
        except InvalidVersion:
            raise _fail(shown, f"versions: {version!r} is not a version (e.g. '5.23.0')") from None
    return sorted((str(v) for v in versions), key=Version)


def resolve(data: Mapping[str, Any], version: str, shown: str) -> dict[str, Any]:
    """`version`'s view of a multi-version SSOT, in the flat form `load` reads.

    The version's `miner_pins` are its own. Its `native_types` are the shared ones with
    the version's entries laid over them class by class: a mapping replaces the keys it
    gives (or adds a class), `null` removes a class that version does not have."""
    declared = declared_versions(data, shown)
    if version not in declared:
        raise _fail(shown, f"no version {version!r} here; versions declared: {', '.join(declared)}")
    entry = data["versions"][version] or {}
    if not isinstance(entry, Mapping) or set(entry) - set(VERSION_KEYS):
        raise _fail(shown, f"versions.{version} may set only {', '.join(VERSION_KEYS)}")
    if "miner_pins" not in entry:
        raise _fail(shown, f"versions.{version} needs its own miner_pins")
    natives = dict(data.get("native_types") or {})
    overrides = entry.get("native_types") or {}
    if not isinstance(overrides, Mapping):
        raise _fail(shown, f"versions.{version}.native_types must map class paths to entries (or null)")
    for name, override in overrides.items():
        if override is None:
            if name not in natives:
                raise _fail(
                    shown, f"versions.{version}.native_types.{name}: null removes a shared class, but none is listed"
                )
            del natives[name]
        elif isinstance(override, Mapping):
            natives[name] = {**(natives.get(name) or {}), **override}
        else:
            raise _fail(shown, f"versions.{version}.native_types.{name} must be a mapping or null")
    flat = {key: data[key] for key in ("library", "distribution", "absent_modules") if key in data}
    flat.update(version=version, miner_pins=entry["miner_pins"], native_types=natives)
    if "absent_modules" in entry:
        flat["absent_modules"] = entry["absent_modules"]
    for role, spec in flat["miner_pins"].items() if isinstance(flat["miner_pins"], Mapping) else ():
        try:
            inside = Version(version) in SpecifierSet(str(spec))
        except InvalidSpecifier:
            continue  # load names the bad specifier
        if not inside:
            raise _fail(shown, f"versions.{version}.miner_pins.{role}: {spec!r} does not contain {version} itself")
    return flat


def installed_or_declared(data: Mapping[str, Any], shown: str) -> str:
    """The version of a multi-version SSOT to use in this environment: the installed one."""
    declared = declared_versions(data, shown)
    distribution = data.get("distribution")
    try:
        installed = importlib.metadata.version(str(distribution))
    except (importlib.metadata.PackageNotFoundError, ValueError):
        raise _fail(
            shown, f"{distribution} is not installed here; pick one of the versions declared: {', '.join(declared)}"
        ) from None
    if installed not in declared:
        raise MinerVersionUndeclaredError(
            library=str(data.get("library")), installed=installed, declared=declared, ssot=shown
        )
    return installed


def _native_type(name: str, natives_data: Mapping[str, Any], shown: str) -> NativeType:
    entry = natives_data[name]
    if not isinstance(entry, Mapping) or not isinstance(entry.get("module"), str):
        raise _fail(shown, f"native_types.{name} needs a 'module'")
    extra = set(entry) - {"module", "validators", "replay", "constructor_kwargs", "construct", "clusters", "nested"}
    if extra:
        raise _fail(shown, f"native_types.{name} has unknown keys {', '.join(sorted(extra))}")
    validators = entry.get("validators") or []
    if not isinstance(validators, list) or not all(isinstance(v, str) for v in validators):
        raise _fail(shown, f"native_types.{name}.validators must be a list of method names")
    constructor_kwargs = entry.get("constructor_kwargs") or {}
    if not isinstance(constructor_kwargs, Mapping):
        raise _fail(shown, f"native_types.{name}.constructor_kwargs must be a mapping")
    nested = entry.get("nested") or {}
    if not isinstance(nested, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v in natives_data for k, v in nested.items()
    ):
        raise _fail(shown, f"native_types.{name}.nested must map field names to native types listed here")
    construct = entry.get("construct", "call")
    if construct not in CONSTRUCTORS:
        raise _fail(shown, f"native_types.{name}.construct must be one of {', '.join(CONSTRUCTORS)}")
    calls, on_save = _replay_calls(entry.get("replay"), shown, name)
    return NativeType(
        name,
        entry["module"],
        tuple(validators),
        calls,
        dict(constructor_kwargs),
        construct,
        _clusters(entry.get("clusters"), shown, name),
        dict(sorted(nested.items())),
        on_save,
    )


def load(path: str, *, display: str | None = None, version: str | None = None) -> LibrarySpec:
    """The spec of one library version. A multi-version SSOT is resolved for `version`, by
    default the version installed in this environment."""
    shown = display or path
    data = canonical_yaml.read(path, display=shown)
    if not isinstance(data, Mapping):
        raise _fail(shown, "an SSOT file must be a mapping")
    if "versions" in data:
        data = resolve(data, version or installed_or_declared(data, shown), shown)
    elif version is not None and data.get("version") != version:
        raise _fail(shown, f"this SSOT is of version {data.get('version')!r}, not {version!r}")
    unknown = set(data) - {"library", "distribution", "version", "miner_pins", "native_types", "absent_modules"}
    if unknown:
        raise _fail(shown, f"unknown keys {', '.join(sorted(unknown))}")
    for key in ("library", "distribution"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise _fail(shown, f"'{key}' must be a non-empty string")
    pins = data.get("miner_pins")
    if not isinstance(pins, Mapping) or not pins:
        raise _fail(shown, "'miner_pins' must map miner roles to version specifiers")
    for role, spec in pins.items():
        if role not in ROLES:
            raise _fail(shown, f"miner_pins: unknown role {role!r}; roles are {', '.join(ROLES)}")
        try:
            SpecifierSet(str(spec))
        except InvalidSpecifier:
            raise _fail(
                shown, f"miner_pins.{role}: {spec!r} is not a version specifier (e.g. '>=5.23,<5.24')"
            ) from None
    natives_data = data.get("native_types")
    if not isinstance(natives_data, Mapping) or not natives_data:
        raise _fail(shown, "'native_types' must map class paths to their module and validators")
    natives = [_native_type(name, natives_data, shown) for name in sorted(natives_data)]
    absent = data.get("absent_modules") or []
    if not isinstance(absent, list) or not all(isinstance(name, str) and name for name in absent):
        raise _fail(shown, "'absent_modules' must be a list of module names")
    hide_modules(absent)
    return LibrarySpec(
        library=data["library"],
        distribution=data["distribution"],
        miner_pins={role: str(spec) for role, spec in pins.items()},
        native_types=tuple(natives),
        path=shown,
        absent_modules=tuple(absent),
        version=str(data["version"]) if data.get("version") is not None else None,
    )


def hide_modules(names: list[str]) -> None:
    """Makes `import name` raise ModuleNotFoundError and find_spec(name) return None, as for
    a package that is not installed, for the rest of this process (before anything imports it)."""
    for name in names:
        sys.modules.setdefault(name, None)


def main(argv: list[str]) -> int:
    """Writes one version's view of a multi-version SSOT (what that version's actions read)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--ssot", required=True, help="the library's versions.yaml")
    parser.add_argument("--version", required=True, help="the library version, as declared under versions:")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    staged = args.out + ".tmp"
    try:
        data = canonical_yaml.read(args.ssot)
        if not isinstance(data, Mapping):
            raise _fail(args.ssot, "an SSOT file must be a mapping")
        canonical_yaml.write(staged, resolve(data, args.version, args.ssot))
        # Refused here what a miner would refuse, naming the version's entry.
        load(staged, display=f"{args.ssot} (version {args.version})")
    except SchemaError as err:
        Path(staged).unlink(missing_ok=True)
        print(f"error: {err}", file=sys.stderr)
        return 2
    os.replace(staged, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

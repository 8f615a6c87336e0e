"""The dynamic miner: probe each cluster, group what the library said into message classes,
infer predicates (infer.py), and keep only those confirmed outside the probe grid.

Overfitting guard: a predicate that fits the grid may only describe the grid
(`max_new_tokens not_in [1, 16]`). Each candidate is re-probed with values of
the same type that the grid never used, starting from a row that triggered
and from one that did not; the library must agree with the predicate on every
such probe, and at least one must be conclusive.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from miners.dynamic import enums, infer, messages, probe, types
from miners.introspect.declarations import annotated_classes, declared_fields, nested_fields
from miners.introspect.module_paths import relative_path
from miners.introspect.values import NotPlainData, plain_value
from miners.schema.predicate import Atom, Predicate, evaluate, fields_of, normalised
from miners.schema.rule import CorpusFile, Dropped, Rule, Source
from miners.ssot import Cluster, LibrarySpec, NativeType
from miners.staging import Candidate, Stager
from miners.witnesses import Witnesses

MAX_OBSERVED = 3


def _classes(row: probe.Row, strings: frozenset[str]) -> dict[str, str]:
    """Message class key -> emission, for everything one probe said."""
    if row.raised is not None:
        return {messages.template(row.raised, strings): "raise"}
    found = {messages.template(text, strings): "logger" for text in row.logged}
    found.update({messages.template(text, strings): "warnings.warn" for text in row.warned})
    return found


@dataclass(frozen=True)
class _Target:
    cls: type
    native: NativeType
    library: str
    defaults: Mapping[str, Any]

    def probe(self, kwargs: Mapping[str, Any]) -> probe.Row:
        return probe.probe(self.cls, self.native, kwargs, self.library)


def _defaults(cls: type, native: NativeType, fields: Sequence[str]) -> dict[str, Any]:
    """What unset fields hold: read off an instance built from the constructor arguments alone."""
    try:
        instance = cls(**native.constructor_kwargs)
    except Exception:  # no defaults is a usable answer
        return {}
    found = {}
    for name in fields:
        try:
            found[name] = plain_value(getattr(instance, name))
        except (AttributeError, NotPlainData):
            continue
    return found


def _unsupported(cluster: Cluster, predicate: Predicate, evidence: infer.Evidence) -> str | None:
    """A single-field claim about a grid value the library never answered for (every such row
    was stopped by another check) is a guess: name it, so the candidate is dropped. (A
    cross-field claim may cover another field's invalid values; those configs are rejected
    anyway, by that field's own check.)"""
    if len(fields_of(predicate)) != 1:
        return None
    answered = (*evidence.triggering, *evidence.clean)
    start = evidence.triggering[0].kwargs
    for field in cluster.fields:
        if field.name not in fields_of(predicate):
            continue
        for value in probe.field_values(field):
            seen = any(r.kwargs.get(field.name, probe.OMIT) == value for r in answered)
            if value is probe.OMIT or seen:
                continue
            if evaluate(predicate, {**start, field.name: value}, evidence.defaults):
                return f"claims {field.name}={value!r} is rejected, but every probe of it was stopped by another check"
    return None


def _confirmed(
    target: _Target,
    cluster: Cluster,
    predicate: Predicate,
    key: str,
    evidence: infer.Evidence,
    *,
    strings: frozenset[str],
) -> str | None:
    """None when fresh values agree with the predicate; otherwise why not."""
    unsupported = _unsupported(cluster, predicate, evidence)
    if unsupported is not None:
        return unsupported
    types = {f.name: f for f in cluster.fields}
    starts = [evidence.triggering[0].kwargs, evidence.clean[0].kwargs]
    conclusive = 0
    for name in fields_of(predicate):
        for value in probe.fresh_values(types[name]):
            for start in starts:
                kwargs = {**start, name: value}
                row = target.probe(kwargs)
                said = key in _classes(row, strings)
                if row.raised is not None and not said:
                    continue  # stopped by another check: says nothing about this one
                if said != evaluate(predicate, kwargs, target.defaults):
                    return f"disagrees with the library outside the grid at {dict(sorted(kwargs.items()))}"
                conclusive += 1
    if conclusive == 0 and any(types[n].type != "bool" for n in fields_of(predicate)):
        return "no conclusive probe outside the grid"
    return None


def _observed(rows: Sequence[probe.Row], key: str, strings: frozenset[str]) -> set[str]:
    """The library's own messages of one class, as it printed them."""
    texts = set()
    for row in rows:
        for text in (row.raised,) if row.raised is not None else (*row.logged, *row.warned):
            if messages.template(text, strings) == key:
                texts.add(text)
    return texts


def _materialise(kwargs: Mapping[str, Any], predicate: Predicate, target: _Target) -> dict[str, Any]:
    """The example config, with the predicate's unset fields written out as their defaults."""
    full = {**target.native.constructor_kwargs, **kwargs}
    for name in fields_of(predicate):
        if name not in full and name in target.defaults:
            full[name] = target.defaults[name]
    return {k: full[k] for k in sorted(full)}


def _distance(a: Mapping[str, Any], b: Mapping[str, Any]) -> int:
    return sum(1 for k in a.keys() | b.keys() if a.get(k, probe.OMIT) != b.get(k, probe.OMIT))


def _exception_name(qualified: str | None) -> str | None:
    if qualified is None:
        return None
    module, _, name = qualified.rpartition(".")
    return name if module == "builtins" else qualified


def _source(cls: type, native: NativeType) -> Source:
    try:
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        line = 1
    calls = "".join(f".{call.method}()" for call in native.replay)
    return Source(relative_path(sys.modules[cls.__module__]), f"{native.class_name}(**kwargs){calls}", line)


def _mine_cluster(target: _Target, cluster: Cluster, stager: Stager) -> tuple[list[Rule], list[Dropped]]:
    rows = [target.probe(kwargs) for kwargs in probe.grid(cluster)]
    strings = frozenset(
        v for f in cluster.fields for v in (*probe.field_values(f), *probe.fresh_values(f)) if isinstance(v, str)
    )
    classes = [_classes(row, strings) for row in rows]
    said: dict[str, str] = {}
    for found in classes:
        said.update(found)
    rules: list[Rule] = []
    dropped: list[Dropped] = []
    source = _source(target.cls, target.native)
    for key in sorted(said):
        triggering = tuple(r for r, c in zip(rows, classes, strict=True) if key in c)
        clean = tuple(r for r, c in zip(rows, classes, strict=True) if r.accepted and key not in c)
        evidence = infer.Evidence(triggering, clean, target.defaults)
        for template_name, predicate in infer.candidates(cluster, evidence):
            condition = f"{template_name}: {normalised(predicate)}"
            problem = _confirmed(target, cluster, predicate, key, evidence, strings=strings)
            if problem is not None:
                dropped.append(Dropped(source, condition, f"dynamic {key[:80]!r}: {problem}"))
                continue
            positive = min(triggering, key=lambda r: (len(r.kwargs), sorted(map(str, r.kwargs.items()))))
            negative = min(
                clean, key=lambda r: (_distance(r.kwargs, positive.kwargs), sorted(map(str, r.kwargs.items())))
            )
            emission = said[key]
            candidate = Candidate(
                native_type=target.native.name,
                predicate=predicate,
                message_template=key,
                primary=fields_of(predicate)[0],
                source=source,
                condition=condition,
                found_by="dynamic",
                added_by="dynamic",
                severity="error" if emission == "raise" else "warn",
                emission=emission,
                exception_type=_exception_name(positive.exception_type) if emission == "raise" else None,
                observed_messages=tuple(sorted(_observed(triggering, key, strings)))[:MAX_OBSERVED],
            )
            examples = Witnesses(
                _materialise(positive.kwargs, predicate, target), _materialise(negative.kwargs, predicate, target)
            )
            staged = stager.stage(candidate, examples, no_examples="examples need unknown defaults")
            (rules if isinstance(staged, Rule) else dropped).append(staged)
    return rules, dropped


def mine_native(cls: type, native: NativeType, stager: Stager) -> tuple[list[Rule], list[Dropped]]:
    """Probes every cluster of one native type."""
    fields = [f.name for cluster in native.clusters for f in cluster.fields]
    target = _Target(cls, native, stager.library, _defaults(cls, native, fields))
    rules: list[Rule] = []
    dropped: list[Dropped] = []
    for cluster in native.clusters:
        found, lost = _mine_cluster(target, cluster, stager)
        rules += found
        dropped += lost
    return rules, dropped


def _stage_probed(
    stager: Stager, native: NativeType, source: Source, predicate: Predicate, found: Any, *, kind: str, no_examples: str
) -> Rule | Dropped:
    """A type or enum finding (its refusal and the accepted value as the examples), staged."""
    candidate = Candidate(
        native_type=native.name,
        predicate=predicate,
        message_template=found.template,
        primary=found.field,
        source=source,
        condition=f"{kind}: {normalised(predicate)}",
        found_by="dynamic",
        added_by="dynamic",
        exception_type=_exception_name(found.exception_type),
        observed_messages=found.observed,
    )
    examples = Witnesses(dict(sorted(found.positive.items())), dict(sorted(found.negative.items())))
    return stager.stage(candidate, examples, no_examples=no_examples)


def type_rules(
    cls: type, native: NativeType, natives: dict[str, type], stager: Stager
) -> tuple[list[Rule], list[Dropped]]:
    """The plain types the library refuses for each declared field and nested-config field (types.py)."""
    base = dict(native.constructor_kwargs)
    nested = nested_fields(cls, natives, native.nested)

    def run(kwargs: Any) -> probe.Row:
        return probe.probe(cls, native, kwargs, stager.library)

    rules: list[Rule] = []
    dropped: list[Dropped] = []
    source = _source(cls, native)
    for found in types.probe_types(run, base, declared_fields(cls), sorted(nested), skip=sorted(base)):
        refused = list(found.refused)
        if "int" in refused and "bool" not in refused:
            refused.remove("int")  # `type_is int` holds for True too, which the library takes
        if not refused:
            continue
        predicate = Atom(found.field, "type_is", refused if len(refused) > 1 else refused[0])
        staged = _stage_probed(
            stager,
            native,
            source,
            predicate,
            found,
            kind="type probe",
            no_examples="the refused and the accepted value share a type",
        )
        (rules if isinstance(staged, Rule) else dropped).append(staged)
    return rules, dropped


def enum_rules(cls: type, native: NativeType, stager: Stager) -> tuple[list[Rule], list[Dropped]]:
    """The spellings the library refuses for each enum-typed field (enums.py)."""
    base = dict(native.constructor_kwargs)
    if not probe.probe(cls, native, base, stager.library).accepted:
        return [], []

    def run(kwargs: Any) -> probe.Row:
        return probe.probe(cls, native, kwargs, stager.library)

    declared = declared_fields(cls)
    rules: list[Rule] = []
    dropped: list[Dropped] = []
    source = _source(cls, native)
    for field, classes in sorted(annotated_classes(cls).items()):
        enum_cls = enums.enum_class(classes)
        if enum_cls is None or field in base or field.startswith("_"):
            continue
        entry = declared.get(field)
        default = entry.default if entry is not None and entry.has_default else probe.OMIT
        for found in enums.probe_enum(run, base, field, enum_cls, default):
            staged = _stage_probed(
                stager,
                native,
                source,
                found.predicate,
                found,
                kind="enum probe",
                no_examples="the refused and the accepted value agree",
            )
            (rules if isinstance(staged, Rule) else dropped).append(staged)
    return rules, dropped


def mine(spec: LibrarySpec) -> CorpusFile:
    version = spec.check_installed_version("dynamic")
    rules: list[Rule] = []
    dropped: list[Dropped] = []
    stager = Stager(spec.library)
    natives = {native.name: spec.import_class(native, version) for native in spec.native_types}
    for native in spec.native_types:
        cls = natives[native.name]
        if native.clusters:
            found, lost = mine_native(cls, native, stager)
            rules += found
            dropped += lost
        for mined in (type_rules(cls, native, natives, stager), enum_rules(cls, native, stager)):
            rules += mined[0]
            dropped += mined[1]
    return CorpusFile(library=spec.library, library_version=version, rules=tuple(rules), dropped=tuple(dropped))

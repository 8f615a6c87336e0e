"""The static miner: reads validator methods with `inspect` + `ast`, never runs them.

For each native type of the library's SSOT it walks the validators the SSOT
names and every property setter of the class (setters validate on
assignment), following calls one level deep. Every detector finding becomes
a rule when it passes the three filters, or a `dropped` entry saying why not:

1. its path conditions translate exactly and read a field of the config
   (conditions on the validator's own arguments, like `strict` or
   `user_set_attributes`, describe how it is called, not the config: they are
   set aside, and a finding guarded by nothing else is dropped);
2. a self-assign targets a public field, with a constant value, and is not a
   default fill (`if self.x is None: self.x = ...`);
3. a `kwargs_positive` (and a one-field-off `kwargs_negative`) is derivable.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from miners import witnesses
from miners.introspect.declarations import Declared, declared_fields
from miners.naming import primary_field
from miners.schema.algebra import simplify
from miners.schema.predicate import AllOf, Atom, Predicate, fields_of
from miners.schema.rule import ClassFacts, CorpusFile, Dropped, Rule, Source
from miners.ssot import LibrarySpec, NativeType
from miners.staging import Candidate, Derived, Stager
from miners.static.conditions import Field, Scope, Untranslatable, plain_value
from miners.static.defaults import class_facts
from miners.static.detectors import DEFAULT_DETECTORS, Detector
from miners.static.messages import template_of
from miners.static.source import Landmarks, ModuleSource, find_method, load_module_source
from miners.static.source_tree import SourceTree
from miners.static.walker import Callables, PathFinding, Walker, positional_params


@dataclass(frozen=True)
class _Entry:
    """One function the miner walks for a native type, with the scope it starts in."""

    function: ast.FunctionDef
    qualname: str
    scope: Scope


def _class_constants(cls: type, classdef: ast.ClassDef) -> dict[str, Any]:
    """Plain class attributes that no instance overrides: dataclass fields and `self.x = ...` targets are fields."""
    instance = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    instance |= {
        node.attr
        for node in ast.walk(classdef)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name)
    }
    constants: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if name.startswith("__") or name in instance:
                continue
            try:
                constants[name] = plain_value(value)
            except Untranslatable:
                constants.pop(name, None)
    return constants


def _setters(classdef: ast.ClassDef) -> Iterator[tuple[str, ast.FunctionDef]]:
    for node in classdef.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Attribute) and decorator.attr == "setter":
                yield node.name, node


def _decorator(function: ast.FunctionDef, name: str) -> ast.Call | None:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith(name):
            return decorator
    return None


def _entry_scope(function: ast.FunctionDef, base: Scope) -> Scope:
    """What a validator's parameters are: config fields for constructors, `__post_init__`
    InitVars, a pydantic field validator's value and a before-model validator's input
    mapping; otherwise arguments of the call (`strict`)."""
    base = base.child()  # each walk records its own locals and rewrites
    first, *rest = positional_params(function) + function.args.kwonlyargs
    field = _decorator(function, "field_validator")
    model = _decorator(function, "model_validator")
    if field is not None and rest:
        names = [a.value for a in field.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if len(names) == 1:
            # `@field_validator("backend") def check(cls, value)`: value is the field.
            return replace(base, self_name=first.arg, aliases={rest[0].arg: Field(names[0])})
        return replace(base, self_name=first.arg, params=frozenset(a.arg for a in rest))
    before = model is not None and any(
        k.arg == "mode" and isinstance(k.value, ast.Constant) and k.value.value == "before" for k in model.keywords
    )
    if before and rest:
        # `@model_validator(mode="before") def check(cls, data)`: data maps fields to values.
        return replace(base, self_name=first.arg, kwargs_name=rest[0].arg)
    if function.name in ("__init__", "__post_init__"):
        # A constructor's parameters, and __post_init__'s InitVars, are the config's fields.
        return replace(
            base,
            self_name=first.arg,
            aliases={p.arg: Field(p.arg) for p in rest},
            kwargs_name=function.args.kwarg.arg if function.args.kwarg else None,
        )
    return replace(base, self_name=first.arg, params=frozenset(p.arg for p in rest))


def _entries(
    native: NativeType, classdef: ast.ClassDef, landmarks: Landmarks, source: ModuleSource, base: Scope
) -> list[_Entry]:
    entries = []
    for name in native.validators:
        function = landmarks.find_method(classdef, name, source)
        entries.append(_Entry(function, f"{classdef.name}.{name}", _entry_scope(function, base)))
    for prop, setter in _setters(classdef):
        value = positional_params(setter)[1].arg
        scope = replace(base.child(), aliases={value: Field(prop)})
        entries.append(_Entry(setter, f"{classdef.name}.{prop}.setter", scope))
    return entries


def _callables(classdef: ast.ClassDef, source: ModuleSource, entries: Sequence[str]) -> Callables:
    """Helpers a validator may call: plain methods (not the validators walked on their own) and module functions."""
    methods = {
        node.name: node
        for node in classdef.body
        if isinstance(node, ast.FunctionDef)
        and node.name not in entries
        and not any(ast.unparse(d).endswith(("property", "setter")) for d in node.decorator_list)
    }
    functions = {node.name: node for node in source.tree.body if isinstance(node, ast.FunctionDef)}
    return Callables(class_name=classdef.name, methods=methods, functions=functions)


_EMISSION_SUFFIX = {
    "raise": "",
    "warnings.warn": "_warning",
    "logger": "_warning",
    "minor_issues": "_ignored",
    "normalise": "_normalised",
}


def _screen(found: PathFinding, source_file: ModuleSource, native_type: str) -> Candidate | Dropped | None:
    """Filters 1 and 2: translatable conditions on config fields; a public, constant, non-default self-assign."""
    finding = found.finding
    source = Source(path=source_file.path, method=found.function, line=finding.line)
    text = " and ".join(c.text for c in found.conditions) or "(none)"

    def dropped(reason: str) -> Dropped:
        return Dropped(source=source, condition=text, reason=f"{finding.detector}: {reason}")

    def candidate(predicate: Predicate, template: str, primary: str) -> Candidate:
        normalises = finding.emission == "normalise" and finding.target
        return Candidate(
            native_type=native_type,
            predicate=predicate,
            message_template=template,
            primary=primary,
            source=source,
            condition=text,
            found_by=finding.detector,
            added_by="static",
            severity=finding.severity,
            emission=finding.emission,
            exception_type=finding.exception_type,
            normalises_to={finding.target: finding.value} if normalises else None,
            id_suffix=_EMISSION_SUFFIX[finding.emission],
        )

    if finding.emission == "normalise" and not found.conditions:
        return None  # plain attribute initialisation, not a normalisation
    for condition in found.conditions:
        if condition.predicate is None and not condition.argument_gate:
            return dropped(f"untranslatable condition `{condition.text}`: {condition.problem}")
    terms = tuple(c.predicate for c in found.conditions if c.predicate is not None)
    if not terms:
        gates = [c.text for c in found.conditions if c.argument_gate]
        return dropped(f"guarded only by the validator's arguments ({', '.join(gates)})" if gates else "unconditional")
    predicate = simplify(AllOf(terms))
    fields = fields_of(predicate)
    if finding.emission == "normalise":
        target = finding.target or ""
        if target.startswith("_"):
            return dropped(f"assigns private state self.{target}")
        if not finding.value_known:
            return dropped(f"assigns self.{target} a value computed at run time")
        terms = predicate.terms if isinstance(predicate, AllOf) else (predicate,)
        if Atom(target, "==", None) in terms:
            return dropped(f"fills in a default for self.{target}")
        primary = target if target in fields else primary_field(predicate)
        return candidate(predicate, "", primary)
    if finding.message is None:
        return dropped("no message")
    try:
        template = template_of(finding.message, found.scope, printf=finding.printf)
    except Untranslatable as err:
        return dropped(str(err))
    primary = finding.target if finding.target in fields else primary_field(predicate, template)
    return candidate(predicate, template, primary)


def _examples(
    candidate: Candidate, native: NativeType, avoid: list[Predicate], declared: Mapping[str, Declared]
) -> Derived:
    """Where filter 3 starts its example configs: the constructor's arguments, a normalised field changed."""
    base = dict(native.constructor_kwargs)
    for target, value in (candidate.normalises_to or {}).items():
        # Set the target to something else, so the library visibly overrides it.
        base[target] = witnesses.other_than(value)
    return Derived(base, avoid, declared)


def _mine_class(
    native: NativeType,
    source: ModuleSource,
    classdef: ast.ClassDef,
    base: Scope,
    *,
    landmarks: Landmarks,
    declared: Mapping[str, Declared],
    detectors: Sequence[Detector],
    stager: Stager,
) -> tuple[list[Rule], list[Dropped]]:
    rules: list[Rule] = []
    dropped: list[Dropped] = []
    walker = Walker(detectors, _callables(classdef, source, native.validators))
    candidates: list[Candidate] = []
    for entry in _entries(native, classdef, landmarks, source, base):
        for found in walker.walk(entry.function, entry.scope, entry.qualname):
            screened = _screen(found, source, native.name)
            if isinstance(screened, Candidate):
                candidates.append(screened)
            elif isinstance(screened, Dropped):
                dropped.append(screened)
    # Example configs should trip their own rule and no other, with values of the declared types.
    for candidate in candidates:
        avoid = [c.predicate for c in candidates if c.predicate != candidate.predicate]
        result = stager.stage(
            candidate,
            _examples(candidate, native, avoid, declared),
            no_examples="no kwargs_positive/kwargs_negative pair is derivable from the predicate",
        )
        (rules if isinstance(result, Rule) else dropped).append(result)
    return rules, dropped


def mine(
    spec: LibrarySpec, detectors: Sequence[Detector] = DEFAULT_DETECTORS, *, source_root: str | None = None
) -> CorpusFile:
    """Runs the static miner over every validator the SSOT names; fails loudly on a moved landmark.

    With `source_root`, the library is read from its source tree instead of being
    imported (source_tree.py): for libraries that cannot be imported here."""
    tree = SourceTree(spec, source_root) if source_root else None
    version = spec.check_version("static", tree.version()) if tree else spec.check_installed_version("static")
    landmarks = Landmarks(spec, version)
    rules: list[Rule] = []
    dropped: list[Dropped] = []
    classes: dict[str, ClassFacts] = {}
    natives = {} if tree is not None else {n.name: spec.import_class(n, version) for n in spec.native_types}
    stager = Stager(spec.library)
    for native in spec.native_types:
        if tree is not None:
            source = tree.module_source(native)
            classdef = landmarks.find_class(source, native)
            namespace = tree.namespace(source)
            base = Scope(module_globals=namespace, class_constants=tree.class_constants(classdef, namespace))
            declared: Mapping[str, Declared] = {}
            classes[native.name] = ClassFacts(nested=dict(native.nested))
        else:
            cls = spec.import_class(native, version)
            module = landmarks.module_of(native, cls)
            source = load_module_source(module)
            classdef = landmarks.find_class(source, native)
            base = Scope(
                module_globals=vars(sys.modules[module.__name__]), class_constants=_class_constants(cls, classdef)
            )
            classes[native.name] = class_facts(cls, find_method(classdef, "__init__"), base, natives, native.nested)
            declared = declared_fields(cls)
        found, lost = _mine_class(
            native,
            source,
            classdef,
            base,
            landmarks=landmarks,
            declared=declared,
            detectors=detectors,
            stager=stager,
        )
        rules += found
        dropped += lost
    return CorpusFile(
        library=spec.library,
        library_version=version,
        rules=tuple(rules),
        dropped=tuple(dropped),
        classes=classes,
    )

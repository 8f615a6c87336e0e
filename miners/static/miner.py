"""The static miner: reads validator methods with `inspect` + `ast`, never runs them.

For each native type of the library's SSOT, each validator method is walked;
every detector finding becomes a rule when it passes the three filters, or a
`dropped` entry saying why not:

1. its path conditions translate exactly, and read a public field of `self`;
2. (self-assign findings) the assigned field is public;
3. a `kwargs_positive` (and a one-field-off `kwargs_negative`) is derivable.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from miners import witnesses
from miners.naming import primary_field, rule_id
from miners.schema.predicate import AllOf
from miners.schema.rule import CorpusFile, Dropped, Rule, Source
from miners.ssot import LibrarySpec, NativeType
from miners.static.conditions import Scope, Untranslatable, simplify
from miners.static.detectors import DEFAULT_DETECTORS, Detector
from miners.static.messages import template_of
from miners.static.source import Landmarks, ModuleSource, load_module_source
from miners.static.walker import PathFinding, Walker


@dataclass(frozen=True)
class _Context:
    library: str
    native: NativeType
    source: ModuleSource
    method: str


def _to_rule(found: PathFinding, ctx: _Context, taken: set[str]) -> Rule | Dropped:
    finding = found.finding
    line = finding.line
    source = Source(path=ctx.source.path, method=f"{ctx.native.class_name}.{ctx.method}", line=line)

    def dropped(condition: str, reason: str) -> Dropped:
        return Dropped(source=source, condition=condition or "(none)", reason=f"{finding.detector}: {reason}")

    conditions = found.conditions
    text = " and ".join(c.text for c in conditions)
    if not conditions:
        return dropped(text, "unconditional")
    for condition in conditions:
        if condition.predicate is None:
            return dropped(text, f"untranslatable condition `{condition.text}`: {condition.problem}")
    predicate = simplify(AllOf(tuple(c.predicate for c in conditions if c.predicate is not None)))
    if finding.message is None:
        return dropped(text, "no message")
    try:
        template = template_of(finding.message, found.scope)
    except Untranslatable as err:
        return dropped(text, str(err))
    found_witnesses = witnesses.derive(predicate, primary_field(predicate, template))
    if found_witnesses is None:
        return dropped(text, "no kwargs_positive/kwargs_negative pair is derivable from the predicate")
    identifier = rule_id(ctx.library, ctx.native.name, predicate, template, taken)
    taken.add(identifier)
    return Rule(
        id=identifier,
        native_type=ctx.native.name,
        severity=finding.severity,
        predicate=predicate,
        kwargs_positive=found_witnesses.positive,
        kwargs_negative=found_witnesses.negative,
        message_template=template,
        emission=finding.emission,
        source=source,
        added_by="static",
        exception_type=finding.exception_type,
    )


def mine(spec: LibrarySpec, detectors: Sequence[Detector] = DEFAULT_DETECTORS) -> CorpusFile:
    """Runs the static miner over every validator the SSOT names; fails loudly on a moved landmark."""
    version = spec.check_installed_version("static")
    landmarks = Landmarks(spec, version)
    walker = Walker(detectors)
    rules: list[Rule] = []
    dropped: list[Dropped] = []
    taken: set[str] = set()
    for native in spec.native_types:
        cls = spec.import_class(native, version)
        module = landmarks.module_of(native, cls)
        source = load_module_source(module)
        classdef = landmarks.find_class(source, native)
        for method_name in native.validators:
            method = landmarks.find_method(classdef, method_name, source)
            scope = Scope(module_globals=vars(sys.modules[module.__name__]))
            ctx = _Context(spec.library, native, source, method_name)
            for found in walker.walk(method, scope):
                result = _to_rule(found, ctx, taken)
                (rules if isinstance(result, Rule) else dropped).append(result)
    return CorpusFile(library=spec.library, library_version=version, rules=tuple(rules), dropped=tuple(dropped))

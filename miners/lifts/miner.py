"""The lift miner: runs every lift that applies to each native type of the SSOT.

Nothing is constructed or called: constraints are read from type metadata.
Each lifted constraint becomes a rule (`added_by: lift:<kind>`) with example
configs derived from its predicate, or a `dropped` entry when none can be.
"""

from __future__ import annotations

import sys

from miners.introspect.declarations import declared_fields
from miners.introspect.module_paths import relative_path
from miners.lifts import dataclass_lift, msgspec_lift, pydantic_lift
from miners.schema.rule import CorpusFile, Dropped, Rule, Source
from miners.ssot import LibrarySpec
from miners.staging import Candidate, Derived, Stager

LIFTS = (
    ("lift:pydantic", pydantic_lift),
    ("lift:msgspec", msgspec_lift),
    ("lift:dataclass", dataclass_lift),
)


def mine(spec: LibrarySpec) -> CorpusFile:
    version = spec.check_installed_version("lift")
    rules: list[Rule] = []
    dropped: list[Dropped] = []
    stager = Stager(spec.library)
    for native in spec.native_types:
        cls = spec.import_class(native, version)
        path = relative_path(sys.modules[cls.__module__])
        lifted = [(producer, lift) for producer, lift in LIFTS if lift.applies(cls)]
        items = [(producer, lift.EXCEPTION_TYPE, item) for producer, lift in lifted for item in lift.lift(cls)]
        predicates = [item.constraint.predicate() for _, _, item in items]
        for (producer, exception_type, item), predicate in zip(items, predicates, strict=True):
            constraint = item.constraint
            candidate = Candidate(
                native_type=native.name,
                predicate=predicate,
                message_template=item.message_template,
                primary=constraint.field,
                source=Source(path=path, method=f"{native.class_name}.{constraint.field}", line=item.line),
                condition=f"{constraint.field} {constraint.kind} {constraint.value!r}",
                found_by=producer,
                added_by=producer,
                exception_type=exception_type,
            )
            avoid = [p for p in predicates if p != predicate]
            examples = Derived(native.constructor_kwargs, avoid, declared_fields(cls))
            staged = stager.stage(candidate, examples, no_examples="no example configs")
            (rules if isinstance(staged, Rule) else dropped).append(staged)
    return CorpusFile(library=spec.library, library_version=version, rules=tuple(rules), dropped=tuple(dropped))

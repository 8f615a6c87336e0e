"""The lift miner: runs every lift that applies to each native type of the SSOT.

Nothing is constructed or called: constraints are read from type metadata.
Each lifted constraint becomes a rule (`added_by: lift:<kind>`) with example
configs derived from its predicate, or a `dropped` entry when none can be.
"""

from __future__ import annotations

import sys

from miners import witnesses
from miners.introspect.declarations import declared_fields
from miners.lifts import dataclass_lift, msgspec_lift, pydantic_lift
from miners.naming import rule_id
from miners.schema.rule import CorpusFile, Dropped, Rule, Source
from miners.ssot import LibrarySpec
from miners.static.source import relative_path

LIFTS = (
    ("lift:pydantic", pydantic_lift),
    ("lift:msgspec", msgspec_lift),
    ("lift:dataclass", dataclass_lift),
)


def mine(spec: LibrarySpec) -> CorpusFile:
    version = spec.check_installed_version("lift")
    rules: list[Rule] = []
    dropped: list[Dropped] = []
    taken: set[str] = set()
    for native in spec.native_types:
        cls = spec.import_class(native, version)
        path = relative_path(sys.modules[cls.__module__])
        lifted = [(producer, lift) for producer, lift in LIFTS if lift.applies(cls)]
        items = [(producer, lift.EXCEPTION_TYPE, item) for producer, lift in lifted for item in lift.lift(cls)]
        predicates = [item.constraint.predicate() for _, _, item in items]
        for (producer, exception_type, item), predicate in zip(items, predicates, strict=True):
            constraint = item.constraint
            source = Source(path=path, method=f"{native.class_name}.{constraint.field}", line=item.line)
            avoid = [p for p in predicates if p != predicate]
            found = witnesses.derive(
                predicate, constraint.field, base=native.constructor_kwargs, avoid=avoid, declared=declared_fields(cls)
            )
            if found is None:
                dropped.append(
                    Dropped(
                        source,
                        f"{constraint.field} {constraint.kind} {constraint.value!r}",
                        f"{producer}: no example configs",
                    )
                )
                continue
            identifier = rule_id(
                spec.library, native.name, predicate, item.message_template, taken, primary=constraint.field
            )
            taken.add(identifier)
            rules.append(
                Rule(
                    id=identifier,
                    native_type=native.name,
                    severity="error",
                    predicate=predicate,
                    kwargs_positive=found.positive,
                    kwargs_negative=found.negative,
                    message_template=item.message_template,
                    emission="raise",
                    source=source,
                    added_by=producer,
                    exception_type=exception_type,
                )
            )
    return CorpusFile(library=spec.library, library_version=version, rules=tuple(rules), dropped=tuple(dropped))

"""Type rules: which plain types the library refuses for a field, found by trying one of each.

A config file holds plain data: numbers, strings, booleans, lists, mappings and
null. For every field declared with plain types (or taking a nested config),
the prober builds the class with the field set to samples of each plain type
and records what the library does. A type is refused only when every sample of
it is refused: libraries coerce (pydantic takes "7" for an int and 7.0 for an
int), and a rule must never call a value the library takes an error. Refused
types become one rule per message class, `field type_is [refused types]`,
with the refusal as positive example and the field's default (or no value) as
negative; the gate replays both like any other rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from miners.dynamic import messages, probe
from miners.introspect.declarations import Declared
from miners.schema.template import static_pieces

# Samples per plain type, the way YAML or JSON spells them; several per type, so that a
# type counts as refused only if the library refuses values a lax coercion would take.
SAMPLES: dict[str, tuple[Any, ...]] = {
    "float": (0.5, 7.0, 1.0),
    "int": (7, 1, 0),
    "str": ("invalid", "7", "true", ""),
    "bool": (True, False),
    "list": ([1], [], ["value"]),
    "dict": ({}, {"value": 1}),
    "NoneType": (None,),
}

# What a declared plain type (miners.introspect.declarations) takes of the sample types.
ACCEPTS = {
    "int": {"int"},
    "float": {"float", "int"},
    "str": {"str"},
    "bool": {"bool"},
    "list": {"list"},
    "tuple": {"list"},
    "dict": {"dict"},
}


@dataclass(frozen=True)
class TypeFinding:
    """Refused types of one field that the library refuses with one class of message."""

    field: str
    refused: tuple[str, ...]  # sample type names, in SAMPLES order
    template: str
    exception_type: str | None
    positive: Mapping[str, Any]
    negative: Mapping[str, Any]
    observed: tuple[str, ...]


def message_class(row: probe.Row, field: str) -> str:
    """The template of a refusal: the sample's value and its type's name (`got float`) vary."""
    sample = row.kwargs[field]
    text = re.sub(rf"\b{re.escape(type(sample).__name__)}\b", "\0", row.raised or "")
    # Libraries echo a sample as given, or upper- or lower-cased (`Enum[value.upper()]`); the
    # quotes around a re-cased echo are the library's own (KeyError: 'PARTIAL'), so they stay.
    shown_forms = {repr(sample), str(sample)}
    if isinstance(sample, str):
        shown_forms |= {sample.upper(), sample.lower()}
    for shown in sorted(shown_forms - {""}, key=len, reverse=True):
        text = text.replace(shown, "\0")
    return messages.template(text, [])


def declared_types(declared: Declared | None, *, nested: bool) -> set[str] | None:
    """The sample types a field is declared to take, or None when its declaration says too little
    (an unknown or non-plain type: any refusal could be about the value, not its type)."""
    if nested:
        return {"dict", "NoneType"}
    if declared is None or not declared.types or "other" in declared.types or declared.choices is not None:
        return None
    return set().union(*(ACCEPTS.get(t, set()) for t in declared.types))


def probe_field(
    run: Any, base: Mapping[str, Any], field: str, accepted_types: set[str], default: Any
) -> list[TypeFinding]:
    """`run(kwargs) -> probe.Row`. The field's refused types, grouped by message class."""
    negative = dict(base)
    if default is not probe.OMIT:
        negative[field] = default
    if not run(negative).accepted:
        return []  # the class cannot be built here as it is: nothing to compare with
    refused: dict[str, list[probe.Row]] = {}
    for type_name, samples in SAMPLES.items():
        if type_name in accepted_types:
            continue
        rows = [run({**base, field: sample}) for sample in samples]
        if all(not row.accepted for row in rows):
            refused[type_name] = rows
    by_class: dict[str, list[tuple[str, probe.Row]]] = {}
    for type_name, rows in refused.items():
        key = message_class(rows[0], field)
        if static_pieces(key):  # a message with no fixed text (an empty KeyError) names nothing
            by_class.setdefault(key, []).append((type_name, rows[0]))
    found = []
    for key in sorted(by_class):
        members = by_class[key]
        first = members[0][1]
        found.append(
            TypeFinding(
                field=field,
                refused=tuple(name for name, _ in members),
                template=key,
                exception_type=first.exception_type,
                positive=dict(first.kwargs),
                negative=negative,
                observed=tuple(sorted({row.raised or "" for _, row in members}))[:3],
            )
        )
    return found


def probe_types(
    run: Any,
    base: Mapping[str, Any],
    declared: Mapping[str, Declared],
    nested: Sequence[str],
    skip: Sequence[str] = (),
) -> list[TypeFinding]:
    """Type findings for every declared field and nested-config field, in field order; none for a
    class that cannot be built here from `base` alone (vLLM's EngineArgs resolves a model)."""
    if not run(dict(base)).accepted:
        return []
    found = []
    for field in sorted(set(declared) | set(nested)):
        if field in skip or field in base:
            continue
        accepted = declared_types(declared.get(field), nested=field in nested)
        if accepted is None:
            continue
        entry = declared.get(field)
        default = entry.default if entry is not None and entry.has_default else probe.OMIT
        found += probe_field(run, base, field, accepted, default)
    return found

"""Enum rules: which spellings of an enum-typed field the library takes, found by trying them.

A config file spells an enum member as text or a number. Libraries parse such a
field in a before-validator (`AttentionBackendEnum[value.upper()]`), so what is
accepted is what the library does, not what the annotation says. For every
field annotated with an Enum class, the prober tries each member's spellings
(name, lower-case name, plain value) and the words libraries commonly map to a
default ("auto", "none", "default"), and then one value that is no member. When
that one is refused, the rule is "a string (or an integer) not among the
accepted spellings", with the refusal as positive example and the field's default
(or no value) as negative; the gate replays both like any other rule.

When the library also takes a member's name in mixed case (`Flash_attn`), it
parses case-insensitively, and the rule tests the value upper-cased (`of: upper`)
against the accepted spellings upper-cased.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from miners.dynamic import probe
from miners.dynamic.types import message_class
from miners.schema.predicate import AllOf, Atom, Predicate
from miners.schema.template import static_pieces

# Words libraries commonly accept for an enum field and map to a default member or to None.
COMMON_WORDS = ("auto", "none", "default")


@dataclass(frozen=True)
class EnumFinding:
    field: str
    predicate: Predicate
    template: str
    exception_type: str | None
    positive: Mapping[str, Any]
    negative: Mapping[str, Any]
    observed: tuple[str, ...]


def enum_class(classes: Sequence[type]) -> type[enum.Enum] | None:
    """The Enum class among a field's annotated classes, if exactly one."""
    found = [c for c in classes if isinstance(c, type) and issubclass(c, enum.Enum)]
    return found[0] if len(found) == 1 else None


def spellings(cls: type[enum.Enum]) -> list[Any]:
    """How a config may spell the members, strings first, without repeats."""
    words: list[Any] = []
    for member in cls:
        words += [member.name, member.name.lower()]
        value = member.value
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            words.append(value)
    words += list(COMMON_WORDS)
    unique: list[Any] = []
    for word in words:
        if not any(type(word) is type(u) and word == u for u in unique):
            unique.append(word)
    return unique


def _no_member(field: str, kind: type, accepted: list[Any], cls: type[enum.Enum]) -> Any:
    if kind is str:
        return f"not_a_valid_{field}"
    numbers = [m.value for m in cls if isinstance(m.value, int) and not isinstance(m.value, bool)]
    return max(numbers) + 1 if numbers else None


def probe_enum(run: Any, base: Mapping[str, Any], field: str, cls: type[enum.Enum], default: Any) -> list[EnumFinding]:
    """`run(kwargs) -> probe.Row`. One finding per spelling kind (text, integer) the library refuses
    outside the accepted spellings."""
    negative = dict(base)
    if default is not probe.OMIT:
        negative[field] = default
    if not run(negative).accepted:
        return []
    accepted = [word for word in spellings(cls) if run({**base, field: word}).accepted]
    texts = [w for w in accepted if isinstance(w, str)]
    mixed = next((w[:1].upper() + w[1:].lower() for w in texts if len(w) > 1), None)
    any_case = mixed is not None and mixed not in texts and run({**base, field: mixed}).accepted
    found = []
    for kind, type_name in ((str, "str"), (int, "int")):
        members = sorted(w for w in accepted if type(w) is kind)
        outsider = _no_member(field, kind, accepted, cls)
        if not members or outsider is None:
            continue
        row = run({**base, field: outsider})
        template = message_class(row, field) if not row.accepted else ""
        if not static_pieces(template):
            continue  # accepted, or a refusal with no fixed text (an empty KeyError names nothing)
        terms: list[Predicate] = [Atom(field, "type_is", type_name)]
        if kind is int:
            terms.append(Atom(field, "type_is_not", "bool"))
        if kind is str and any_case:
            terms.append(Atom(field, "not_in", sorted({w.upper() for w in members}), "upper"))
        else:
            terms.append(Atom(field, "not_in", members))
        found.append(
            EnumFinding(
                field=field,
                predicate=AllOf(tuple(terms)),
                template=template,
                exception_type=row.exception_type,
                positive=dict(row.kwargs),
                negative=negative,
                observed=(row.raised or "",),
            )
        )
    return found

"""Rule ids: `<library>.<NativeType>.<field>_<slug>`, readable and derived from the predicate.

The id names the field a rule is about (the first field its message names, or
else the innermost condition's) and the test on it, e.g.
`transformers.GenerationConfig.max_new_tokens_le_0`. Ids stay the same while
the rule's predicate does, whatever line the check moves to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from miners.schema.predicate import FALSY, AllOf, AnyOf, Atom, Each, Predicate, Ref
from miners.schema.template import static_pieces

_OP_WORDS = {
    "==": "eq",
    "!=": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "in": "in",
    "not_in": "not_in",
    "divisible_by": "divisible_by",
    "not_divisible_by": "not_divisible_by",
    "type_is": "type_is",
    "type_is_not": "type_is_not",
    "present": "present",
    "absent": "absent",
    "finite": "is_finite",
    "not_finite": "not_finite",
}


def _atoms(predicate: Predicate) -> list[Atom | Each]:
    """The tests of the config's fields; a quantifier is one test of its field."""
    if isinstance(predicate, (Atom, Each)):
        return [predicate]
    return [atom for term in predicate.terms for atom in _atoms(term)]


def _word(value: Any) -> str:
    if isinstance(value, Ref):
        return value.field.lstrip("$")
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value).replace("-", "minus_").replace(".", "_")
    if isinstance(value, list):
        return "allowed" if len(value) > 1 else _word(value[0]) if value else "empty"
    return re.sub(r"[^A-Za-z0-9]+", "_", str(value).rsplit(".", 1)[-1]).strip("_").lower() or "value"


def atom_slug(atom: Atom | Each) -> str:
    """`le_0`, `is_falsy`; on a part of the field, the part first: `length_ne_2`, `any_item_is_falsy`;
    a quantifier, by its tests of the element: `any_value_any_pair_ge_next`."""
    if isinstance(atom, Each):
        where = atom.where
        if isinstance(where, (Atom, Each)):
            return f"{atom.of}_{atom_slug(where)}"
        tests = _atoms(where)
        if len(tests) <= 3 and all(isinstance(t, Atom) for t in tests):
            return f"{atom.of}_" + ("_or_" if isinstance(where, AnyOf) else "_and_").join(atom_slug(t) for t in tests)
        return f"{atom.of}_is_invalid"
    if atom.of is not None:
        return f"{atom.of}_{atom_slug(Atom(atom.field, atom.op, atom.value))}"
    op = _OP_WORDS[atom.op]
    if atom.op == "type_is" and isinstance(atom.value, list) and len(atom.value) > 1:
        return "wrong_type"  # the types the library refuses: too many to spell out
    if atom.op in ("present", "absent", "finite", "not_finite"):
        return op
    if atom.op in ("in", "not_in") and atom.value == list(FALSY):
        return "is_falsy" if atom.op == "in" else "is_truthy"
    if atom.op in ("in", "not_in") and isinstance(atom.value, list):
        # `x not_in [None, 1.0]` reads as "x is set and not 1.0": name it `ne_1_0`.
        values = [v for v in atom.value if v is not None]
        if len(values) == 1:
            return f"{'eq' if atom.op == 'in' else 'ne'}_{_word(values[0])}"
    return f"{op}_{_word(atom.value)}"


def primary_field(predicate: Predicate, message_template: str = "") -> str:
    """The field a rule is about: the first predicate field the message names (in backticks, else as a
    word), else the innermost condition's."""
    atoms = _atoms(predicate)
    fields = [a.field for a in atoms]
    text = "".join(static_pieces(message_template))
    for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", text):
        if name in fields:
            return name
    named = [
        (match.start(), name) for name in fields for match in [re.search(rf"\b{re.escape(name)}\b", text)] if match
    ]
    if named:
        return min(named)[1]
    return fields[-1]


def _main_slug(predicate: Predicate, field: str) -> tuple[str, list[Atom]]:
    """The slug of the innermost test on `field`, and the atoms it does not cover."""
    terms = list(predicate.terms) if isinstance(predicate, AllOf) else [predicate]
    atoms = _atoms(predicate)
    for term in reversed(terms):
        covered = _atoms(term)
        if not any(a.field == field for a in covered):
            continue
        if isinstance(term, (Atom, Each)):
            slug = atom_slug(term)
        elif all(a.field == field for a in covered):
            joiner = "_or_" if isinstance(term, AnyOf) else "_and_"
            slug = joiner.join(atom_slug(a) for a in covered)
        else:
            innermost = [a for a in covered if a.field == field][-1]
            covered = [innermost]
            slug = atom_slug(innermost)
        return slug, [a for a in atoms if a not in covered]
    raise ValueError(f"{field} is not in the predicate")


def rule_id(
    library: str,
    native_type: str,
    predicate: Predicate,
    message_template: str,
    taken: Iterable[str],
    *,
    primary: str | None = None,
    suffix: str = "",
) -> str:
    """A readable id, made unique against `taken` by naming more of the predicate.

    `suffix` tells rules with one predicate but different effects apart
    (`_warning`, `_ignored`, `_normalised`).
    """
    class_name = native_type.rsplit(".", 1)[-1]
    field = primary or primary_field(predicate, message_template)
    slug, rest = _main_slug(predicate, field)
    taken = set(taken)
    candidate = f"{library}.{class_name}.{field}_{slug}{suffix}"
    for atom in rest:
        if candidate not in taken:
            break
        candidate += f"__{atom.field}_{atom_slug(atom)}"
    number = 2
    unique = candidate
    while unique in taken:
        unique = f"{candidate}_{number}"
        number += 1
    return unique

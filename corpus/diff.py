"""What changed in a library's validation rules between consecutive versions.

python -m corpus.diff --corpus <invariants.validated.yaml> --corpus <...> --out-md changes.md --out-json changes.json

The corpora (one library, any order) are ordered by their PEP 440 `library_version` and each
consecutive pair is compared, old -> new. Rules are matched by id; a removed rule and an added
rule of one class that share their message (or the fields they read) are one rule whose
predicate changed. Every change carries the config (a config-file section,
`{ShortClassName: {field: value}}`) that shows it.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from packaging.version import InvalidVersion, Version

from miners import cli
from miners.errors import MinerError
from miners.schema import canonical_yaml
from miners.schema import predicate as pred
from miners.schema.rule import CorpusFile, Rule, load_corpus

# Per consecutive pair, in this order in both outputs.
KINDS = ("added", "removed", "severity_changed", "predicate_changed", "message_changed", "renamed")
KIND_WORDS = {
    "added": "added",
    "removed": "removed",
    "severity_changed": "severity changed",
    "predicate_changed": "predicate changed",
    "message_changed": "message changed",
    "renamed": "renamed (paired by message or fields)",
}


class DiffInputError(MinerError):
    """The corpora given cannot be compared: mixed libraries, a version twice, a version that does not parse."""


# --- ordering -------------------------------------------------------------------


def _version(path: str, corpus: CorpusFile) -> Version:
    try:
        return Version(corpus.library_version)
    except InvalidVersion:
        raise DiffInputError(
            f"{path}: library_version {corpus.library_version!r} is not a PEP 440 version, so it cannot be "
            "ordered; fix the corpus's library_version"
        ) from None


def ordered(corpora: Sequence[tuple[str, CorpusFile]]) -> list[CorpusFile]:
    """The corpora, oldest first; refuses mixed libraries and a version given twice (`path` names each in errors)."""
    libraries = sorted({corpus.library for _, corpus in corpora})
    if len(libraries) > 1:
        where = ", ".join(f"{corpus.library} ({path})" for path, corpus in corpora)
        raise DiffInputError(f"the corpora are of different libraries: {where}; pass the corpora of one library only")
    seen: dict[Version, str] = {}
    for path, corpus in corpora:
        version = _version(path, corpus)
        if version in seen:
            raise DiffInputError(
                f"version {corpus.library_version} is given twice ({seen[version]}, {path}); pass each version's "
                "corpus once"
            )
        seen[version] = path
    return [corpus for _, corpus in sorted(corpora, key=lambda item: Version(item[1].library_version))]


# --- matching -------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One rule in both versions: by id, or a removed and an added rule paired as one."""

    old: Rule
    new: Rule
    by: str  # "id", "message and fields", "message", "fields"


def _fields(rule: Rule) -> frozenset[str]:
    return frozenset(pred.fields_of(rule.predicate))


# Pairing keys, strictest first: a generic message ("must be positive") shared by checks on
# different fields should pair the check on the same fields before any other. A normalise
# rule has no message, so an empty template pairs nothing.
_PAIRINGS: tuple[tuple[str, Callable[[Rule], Any]], ...] = (
    ("message and fields", lambda r: (r.message_template, _fields(r)) if r.message_template else None),
    ("message", lambda r: r.message_template or None),
    ("fields", _fields),
)


def _shared_prefix(one: str, other: str) -> int:
    return next((i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b), min(len(one), len(other)))


def match_rules(old: Iterable[Rule], new: Iterable[Rule]) -> tuple[list[Match], list[Rule], list[Rule]]:
    """(matches, removed, added): by id, then leftovers of one class paired by message or fields."""
    old_by_id = {rule.id: rule for rule in old}
    new_by_id = {rule.id: rule for rule in new}
    matches = [Match(old_by_id[i], new_by_id[i], "id") for i in sorted(old_by_id.keys() & new_by_id.keys())]
    removed = [old_by_id[i] for i in sorted(old_by_id.keys() - new_by_id.keys())]
    added = [new_by_id[i] for i in sorted(new_by_id.keys() - old_by_id.keys())]
    for by, key in _PAIRINGS:
        # Greedy in id order, so the pairing does not depend on the order rules were read in.
        for gone in list(removed):
            wanted = key(gone)
            if wanted is None:
                continue
            candidates = [r for r in added if r.native_type == gone.native_type and key(r) == wanted]
            if candidates:
                # Ids spell the field and the check (`size_le_0`, `size_lt_1`): of several
                # candidates, the one whose id shares the most with the old id is the likeliest.
                partner = min(candidates, key=lambda r: (-_shared_prefix(r.id, gone.id), r.id))
                matches.append(Match(gone, partner, by))
                removed.remove(gone)
                added.remove(partner)
    return sorted(matches, key=lambda m: (m.new.id, m.old.id)), removed, added


def known_classes(corpus: CorpusFile) -> set[str]:
    """Every class the corpus knows: those with facts and those with rules."""
    return set(corpus.classes) | {rule.native_type for rule in corpus.rules}


# --- examples -------------------------------------------------------------------


def short_name(native_type: str) -> str:
    return native_type.rsplit(".", 1)[-1]


def section(native_type: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """A config-file section: what a user would write to get these keyword arguments."""
    return {short_name(native_type): dict(kwargs)}


def firing(rule: Rule) -> dict[str, Any]:
    # kwargs_positive is the example that triggers the rule (the gate replays it so);
    # kwargs_negative is the one-field-off config it accepts.
    return section(rule.native_type, rule.kwargs_positive)


@dataclass(frozen=True)
class Disagreement:
    """A config on which the old and the new predicate disagree."""

    example: dict[str, Any]
    source: str  # which rule's example it is
    fires_in_new: bool


def disagreement(match: Match, old: CorpusFile, new: CorpusFile) -> Disagreement | None:
    """The first example of either rule on which the predicates, each over its version's defaults, disagree."""
    candidates = (
        ("the old rule's firing example", match.old.kwargs_positive),
        ("the old rule's passing example", match.old.kwargs_negative),
        ("the new rule's firing example", match.new.kwargs_positive),
        ("the new rule's passing example", match.new.kwargs_negative),
    )
    old_defaults = old.defaults(match.old.native_type)
    new_defaults = new.defaults(match.new.native_type)
    # Then each example with one field set to a value either predicate names: the member an
    # allowlist gained or lost, the bound that moved, or the field left unset (None).
    varied = [
        (f"{source}, with {name}={value!r}", {**kwargs, name: value})
        for source, kwargs in candidates[::2]
        for name, value in named_values(match.old.predicate, match.new.predicate)
        if kwargs.get(name, _ABSENT) != value
    ]
    for source, kwargs in (*candidates, *varied):
        was = pred.evaluate(match.old.predicate, kwargs, old_defaults)
        now = pred.evaluate(match.new.predicate, kwargs, new_defaults)
        if was != now:
            return Disagreement(section(match.new.native_type, kwargs), source, now)
    return None


_ABSENT = object()


def named_values(*predicates: pred.Predicate) -> list[tuple[str, Any]]:
    """(field, value) for each value a plain test of a field names (each member of a list), and
    (field, None): the values worth trying where two predicates may part. Sorted, deduplicated."""
    found: dict[tuple[str, str], tuple[str, Any]] = {}

    def visit(predicate: pred.Predicate) -> None:
        if isinstance(predicate, (pred.AllOf, pred.AnyOf)):
            for term in predicate.terms:
                visit(term)
        # A test of the upper-cased value names values the field itself can take.
        elif (
            isinstance(predicate, pred.Atom)
            and predicate.of in (None, "upper")
            and not isinstance(predicate.value, pred.Ref)
        ):
            values = predicate.value if isinstance(predicate.value, (list, tuple)) else [predicate.value]
            for value in [*values, None]:
                found.setdefault((predicate.field, repr(value)), (predicate.field, value))

    for predicate in predicates:
        visit(predicate)
    return [found[key] for key in sorted(found)]


# --- changes --------------------------------------------------------------------


def _severity(rule: Rule) -> dict[str, Any]:
    return {"on_save": rule.on_save, "severity": rule.severity}


def _rule_entry(rule: Rule) -> dict[str, Any]:
    return {
        "message": rule.message_template,
        "native_type": rule.native_type,
        "predicate": pred.to_data(rule.predicate),
        "rule": rule.id,
        **_severity(rule),
    }


def _match_entry(match: Match) -> dict[str, Any]:
    return {"native_type": match.new.native_type, "old_rule": match.old.id, "paired_by": match.by, "rule": match.new.id}


def _matched_changes(match: Match, old: CorpusFile, new: CorpusFile) -> dict[str, dict[str, Any]]:
    """Per kind, the entry for this match, for each kind it shows."""
    changes: dict[str, dict[str, Any]] = {}
    base = _match_entry(match)
    if _severity(match.old) != _severity(match.new):
        changes["severity_changed"] = base | {
            "example": firing(match.new),
            "new": _severity(match.new),
            "old": _severity(match.old),
        }
    if pred.normalised(match.old.predicate) != pred.normalised(match.new.predicate):
        found = disagreement(match, old, new)
        changes["predicate_changed"] = base | {
            "example": found.example if found else None,
            "example_from": found.source if found else None,
            "fires_in": (new.library_version if found.fires_in_new else old.library_version) if found else None,
            "new_predicate": pred.to_data(match.new.predicate),
            "old_predicate": pred.to_data(match.old.predicate),
        }
    if match.old.message_template != match.new.message_template:
        changes["message_changed"] = base | {
            "example": firing(match.new),
            "new_message": match.new.message_template,
            "old_message": match.old.message_template,
        }
    if match.by != "id":
        changes["renamed"] = base
    return changes


def _sorted(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda e: (e["rule"], e.get("old_rule", "")))


def compare(old: CorpusFile, new: CorpusFile) -> dict[str, Any]:
    """What changed from `old` to `new`, as plain data (see the module doc)."""
    matches, removed, added = match_rules(old.rules, new.rules)
    old_classes, new_classes = known_classes(old), known_classes(new)
    kinds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    kinds["added"] = [
        _rule_entry(rule) | {"class_in_old": rule.native_type in old_classes, "example": firing(rule)} for rule in added
    ]
    kinds["removed"] = [
        _rule_entry(rule) | {"class_in_new": rule.native_type in new_classes, "example": firing(rule)}
        for rule in removed
    ]
    for match in matches:
        for kind, entry in _matched_changes(match, old, new).items():
            kinds[kind].append(entry)
    return {
        "classes": {"added": sorted(new_classes - old_classes), "removed": sorted(old_classes - new_classes)},
        "counts": {kind: len(entries) for kind, entries in kinds.items()},
        "from": old.library_version,
        "to": new.library_version,
        **{kind: _sorted(entries) for kind, entries in kinds.items()},
    }


def diff(corpora: Sequence[tuple[str, CorpusFile]]) -> dict[str, Any]:
    """Every consecutive pair's changes; `corpora` are (path for errors, corpus), in any order."""
    if not corpora:
        raise DiffInputError("no corpus given; pass one --corpus per version")
    versions = ordered(corpora)
    return {
        "changes": [compare(old, new) for old, new in pairwise(versions)],
        "library": versions[0].library,
        "versions": [corpus.library_version for corpus in versions],
    }


# --- rendering ------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    # JSON has no infinities or NaN (vLLM's examples use them): write YAML's spelling, as a string.
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def render_json(data: Mapping[str, Any]) -> str:
    return json.dumps(_json_safe(data), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _longest_backtick_run(text: str) -> int:
    run = longest = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest


def _code(text: str) -> str:
    """An inline code span that holds any text (a message may contain backticks)."""
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _block(text: str, lang: str) -> list[str]:
    ticks = "`" * max(3, _longest_backtick_run(text) + 1)
    return [f"{ticks}{lang}", text.rstrip("\n"), ticks, ""]


def _yaml(data: Any) -> list[str]:
    return _block(canonical_yaml.dumps(data), "yaml")


def _message(text: str) -> list[str]:
    return _block(text, "text") if text else ["(no message: the library changes the field silently)", ""]


def _heading(entry: Mapping[str, Any]) -> str:
    rule = _code(entry["rule"])
    if entry.get("old_rule", entry["rule"]) == entry["rule"]:
        return f"#### {rule}"
    return f"#### {rule} (was {_code(entry['old_rule'])}, paired by {entry['paired_by']})"


def _severity_words(severity: Mapping[str, Any]) -> str:
    saved = f", {severity['on_save']} on save" if severity["on_save"] else ""
    return f"{severity['severity']}{saved}"


def _added(entry: Mapping[str, Any], change: Mapping[str, Any]) -> list[str]:
    where = "a class it already had" if entry["class_in_old"] else f"a class {change['from']} does not have"
    return [
        _heading(entry),
        "",
        f"New {_severity_words(entry)} rule on {_code(entry['native_type'])} ({where}). It fires on:",
        "",
        *_yaml(entry["example"]),
        "The library says:",
        "",
        *_message(entry["message"]),
    ]


def _removed(entry: Mapping[str, Any], change: Mapping[str, Any]) -> list[str]:
    where = "the class is still there" if entry["class_in_new"] else f"{change['to']} no longer has the class"
    return [
        _heading(entry),
        "",
        f"The {_severity_words(entry)} rule on {_code(entry['native_type'])} is gone ({where}). "
        f"It fired in {change['from']} on:",
        "",
        *_yaml(entry["example"]),
    ]


def _severity_changed(entry: Mapping[str, Any], change: Mapping[str, Any]) -> list[str]:
    return [
        _heading(entry),
        "",
        f"Was {_severity_words(entry['old'])} in {change['from']}, is {_severity_words(entry['new'])} in "
        f"{change['to']}. It fires on:",
        "",
        *_yaml(entry["example"]),
    ]


def _predicate_changed(entry: Mapping[str, Any], change: Mapping[str, Any]) -> list[str]:
    lines = [
        _heading(entry),
        "",
        f"Fired in {change['from']} when:",
        "",
        *_yaml(entry["old_predicate"]),
        f"fires in {change['to']} when:",
        "",
        *_yaml(entry["new_predicate"]),
    ]
    if entry["example"] is None:
        return [*lines, "No example of either rule tells the two apart.", ""]
    other = change["from"] if entry["fires_in"] == change["to"] else change["to"]
    return [
        *lines,
        f"On {entry['example_from']}, {entry['fires_in']} fires and {other} does not:",
        "",
        *_yaml(entry["example"]),
    ]


def _message_changed(entry: Mapping[str, Any], change: Mapping[str, Any]) -> list[str]:
    return [
        _heading(entry),
        "",
        "On this config:",
        "",
        *_yaml(entry["example"]),
        f"{change['from']} said:",
        "",
        *_message(entry["old_message"]),
        f"{change['to']} says:",
        "",
        *_message(entry["new_message"]),
    ]


def _renamed(entry: Mapping[str, Any], change: Mapping[str, Any]) -> list[str]:
    return [f"- {_code(entry['old_rule'])} is now {_code(entry['rule'])} (paired by {entry['paired_by']})"]


_RENDERERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]] = {
    "added": _added,
    "removed": _removed,
    "severity_changed": _severity_changed,
    "predicate_changed": _predicate_changed,
    "message_changed": _message_changed,
    "renamed": _renamed,
}


def _names(names: Sequence[str]) -> str:
    return ", ".join(_code(name) for name in names) if names else "none"


def _pair(change: Mapping[str, Any]) -> list[str]:
    lines = [
        f"## {change['from']} → {change['to']}",
        "",
        "| change | rules |",
        "|---|---|",
        *(f"| {KIND_WORDS[kind]} | {change['counts'][kind]} |" for kind in KINDS),
        "",
        f"Classes added: {_names(change['classes']['added'])}. "
        f"Classes removed: {_names(change['classes']['removed'])}.",
        "",
    ]
    for kind in KINDS:
        if not change[kind]:
            continue
        lines += [f"### {KIND_WORDS[kind].capitalize()}", ""]
        for entry in change[kind]:
            lines += _RENDERERS[kind](entry, change)
        if kind == "renamed":
            lines.append("")
    return lines


def render_markdown(data: Mapping[str, Any]) -> str:
    versions = data["versions"]
    lines = [
        f"# {data['library']}: what changed between versions",
        "",
        f"Generated by `corpus/diff.py` from the validated corpora of {', '.join(versions)}; do not edit.",
        "Each change comes with a config that shows it, as a config-file section (the class, then its fields).",
        "",
    ]
    if not data["changes"]:
        lines += [f"Only one version ({versions[0]}): nothing to compare yet.", ""]
    for change in data["changes"]:
        lines += _pair(change)
    return "\n".join(lines).rstrip("\n") + "\n"


# --- command line ---------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="corpus.diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", required=True, dest="corpora", help="one per version")
    parser.add_argument("--out-md", required=True)
    parser.add_argument("--out-json", required=True)
    args = parser.parse_args(argv)
    # Everything is read and rendered before anything is written: bad input leaves no output.
    data = diff([(path, load_corpus(path)) for path in args.corpora])
    markdown, text = render_markdown(data), render_json(data)
    canonical_yaml.write_text(args.out_json, text)
    canonical_yaml.write_text(args.out_md, markdown)
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)

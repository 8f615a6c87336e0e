"""Typed models of a rule and of a corpus file, with strict loading.

Every file the pipeline passes between steps (staging, merged, validated,
quarantine) is a `CorpusFile`. Loading rejects anything malformed with a
`SchemaError` that names the file, the rule id and the problem.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from miners.errors import SchemaError
from miners.schema import canonical_yaml
from miners.schema import predicate as pred

SCHEMA_VERSION = 2

SEVERITIES = ("error", "warn", "dormant")
# What a class does with a keyword it does not declare: refuse it (`error`), or store and
# ignore it (`dormant`); the gate finds out by replaying one.
UNKNOWN_FIELD_HANDLING = ("error", "dormant")
EMISSIONS = ("raise", "warnings.warn", "logger", "minor_issues", "normalise")
PRODUCERS = ("static", "dynamic", "lift:pydantic", "lift:msgspec", "lift:dataclass")

_ID = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z0-9_]+$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


@dataclass(frozen=True)
class Source:
    """Where the rule comes from: a path relative to the library's install root."""

    path: str
    method: str
    line: int

    def to_data(self) -> dict[str, Any]:
        return {"line": self.line, "method": self.method, "path": self.path}


@dataclass(frozen=True)
class Rule:
    id: str
    native_type: str
    severity: str
    predicate: pred.Predicate
    kwargs_positive: Mapping[str, Any]
    kwargs_negative: Mapping[str, Any]
    message_template: str
    emission: str
    source: Source
    added_by: str
    exception_type: str | None = None
    cross_validated_by: tuple[str, ...] = ()
    observed_messages: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    # `normalise` rules: what the library sets the field to, e.g. {"act_group_aware": False}.
    normalises_to: Mapping[str, Any] | None = None
    # Per `{}` of the template, the field whose value the library prints there (None: not a
    # field's value), as the gate saw it on kwargs_positive; a checker fills in the user's values.
    placeholders: tuple[str | None, ...] = ()
    # The severity when the config is saved, where saving checks more strictly than
    # constructing (transformers 5 logs a GenerationConfig's minor issues on construction and
    # raises on save_pretrained); None where saving adds nothing. The gate replays both.
    on_save: str | None = None

    @property
    def strictest(self) -> str:
        """The more severe of `severity` and `on_save`: what `--strict` reports."""
        if self.on_save is None:
            return self.severity
        return min(self.severity, self.on_save, key=SEVERITIES.index)

    def fingerprint(self, library: str) -> str:
        """Two rules with one fingerprint are one constraint found by two paths."""
        effect = canonical_yaml.dumps(dict(self.normalises_to)) if self.normalises_to is not None else ""
        return "|".join(
            (library, self.severity, self.emission, self.native_type, pred.normalised(self.predicate), effect)
        )

    def with_changes(self, **changes: Any) -> Rule:
        return replace(self, **changes)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "added_by": self.added_by,
            "emission": self.emission,
            "id": self.id,
            "kwargs_negative": dict(self.kwargs_negative),
            "kwargs_positive": dict(self.kwargs_positive),
            "message_template": self.message_template,
            "native_type": self.native_type,
            "predicate": pred.to_data(self.predicate),
            "severity": self.severity,
            "source": self.source.to_data(),
        }
        if self.exception_type:
            data["exception_type"] = self.exception_type
        if self.normalises_to is not None:
            data["normalises_to"] = dict(self.normalises_to)
        if self.placeholders:
            data["placeholders"] = list(self.placeholders)
        if self.on_save is not None:
            data["on_save"] = self.on_save
        for name in ("cross_validated_by", "observed_messages", "references"):
            values = getattr(self, name)
            if values:
                data[name] = list(values)
        return data


@dataclass(frozen=True)
class Dropped:
    """A condition the static miner saw but could not translate; logged, never guessed."""

    source: Source
    condition: str
    reason: str

    def to_data(self) -> dict[str, Any]:
        return {"condition": self.condition, "reason": self.reason, "source": self.source.to_data()}


@dataclass(frozen=True)
class Quarantined:
    rule: Rule
    reasons: tuple[str, ...]

    def to_data(self) -> dict[str, Any]:
        return {"reasons": list(self.reasons), "rule": self.rule.to_data()}


@dataclass(frozen=True)
class ClassFacts:
    """What a checker needs to know about one config class beside its rules."""

    # The value a field has when the config does not set it, as the library fills it in
    # (plain values only); predicates are evaluated over these.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # Every keyword the class declares (fields, constructor parameters, keys its
    # constructor reads); a key outside them is unknown to the class.
    fields: tuple[str, ...] = ()
    # Fields that take a config of another native type (or a mapping of its arguments).
    nested: Mapping[str, str] = field(default_factory=dict)
    # What the class does with an undeclared keyword (UNKNOWN_FIELD_HANDLING), when known.
    unknown_fields: str | None = None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.defaults:
            data["defaults"] = {name: self.defaults[name] for name in sorted(self.defaults)}
        if self.fields:
            data["fields"] = sorted(self.fields)
        if self.nested:
            data["nested"] = {name: self.nested[name] for name in sorted(self.nested)}
        if self.unknown_fields is not None:
            data["unknown_fields"] = self.unknown_fields
        return data


@dataclass(frozen=True)
class CorpusFile:
    library: str
    library_version: str
    rules: tuple[Rule, ...] = ()
    dropped: tuple[Dropped, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    # Per native type, its defaults, declared fields and nested configs.
    classes: Mapping[str, ClassFacts] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def facts(self, native_type: str) -> ClassFacts:
        return self.classes.get(native_type, ClassFacts())

    def defaults(self, native_type: str) -> Mapping[str, Any]:
        return self.facts(native_type).defaults

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "library": self.library,
            "library_version": self.library_version,
            "schema_version": self.schema_version,
        }
        # Sorted by id (then source) so the bytes do not depend on discovery order.
        data["rules"] = [r.to_data() for r in sorted(self.rules, key=_rule_order)]
        if self.dropped:
            data["dropped"] = [
                d.to_data()
                for d in sorted(self.dropped, key=lambda d: (d.source.path, d.source.line, d.condition, d.reason))
            ]
        if self.classes:
            data["classes"] = {name: self.classes[name].to_data() for name in sorted(self.classes)}
        if self.quarantined:
            data["quarantined"] = [q.to_data() for q in sorted(self.quarantined, key=lambda q: _rule_order(q.rule))]
        return data

    def write(self, path: str | os.PathLike[str]) -> None:
        canonical_yaml.write(path, self.to_data())


def _rule_order(rule: Rule) -> tuple[str, str, int]:
    return (rule.id, rule.source.path, rule.source.line)


# --- loading ------------------------------------------------------------------


class _Reader:
    """Reads one mapping, raising SchemaError with the file and rule id on any problem."""

    def __init__(self, data: Any, path: str, rule_id: str | None, what: str) -> None:
        if not isinstance(data, Mapping):
            raise SchemaError(path, f"{what} must be a mapping, got {type(data).__name__}", rule_id=rule_id)
        self.data, self.path, self.rule_id, self.what = data, path, rule_id, what

    def fail(self, problem: str) -> SchemaError:
        return SchemaError(self.path, problem, rule_id=self.rule_id)

    def known_keys(self, required: set[str], optional: set[str]) -> None:
        keys = set(self.data)
        missing = required - keys
        if missing:
            raise self.fail(f"{self.what} is missing {', '.join(sorted(missing))}")
        unknown = keys - required - optional
        if unknown:
            raise self.fail(f"{self.what} has unknown keys {', '.join(sorted(map(str, unknown)))}")

    def string(self, key: str, *, allow_empty: bool = False) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or (not value and not allow_empty):
            raise self.fail(f"'{key}' must be a non-empty string, got {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.string(key)
        if value not in choices:
            raise self.fail(f"'{key}' must be one of {', '.join(choices)}, got {value!r}")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise self.fail(f"'{key}' must be a mapping of field names to values, got {value!r}")
        return dict(value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"'{key}' must be a list of strings, got {value!r}")
        return tuple(value)

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"'{key}' must be a list, got {type(value).__name__}")
        return value


def _source_from(data: Any, path: str, rule_id: str | None) -> Source:
    reader = _Reader(data, path, rule_id, "'source'")
    reader.known_keys({"path", "method", "line"}, set())
    line = reader.data["line"]
    if isinstance(line, bool) or not isinstance(line, int) or line < 1:
        raise reader.fail(f"'source.line' must be a positive integer, got {line!r}")
    source_path = reader.string("path")
    if os.path.isabs(source_path):
        raise reader.fail(f"'source.path' must be relative to the library's install root, got {source_path!r}")
    return Source(path=source_path, method=reader.string("method"), line=line)


def rule_from_data(data: Any, path: str) -> Rule:
    rule_id = data.get("id") if isinstance(data, Mapping) and isinstance(data.get("id"), str) else None
    reader = _Reader(data, path, rule_id, "a rule")
    reader.known_keys(
        {
            "id",
            "native_type",
            "severity",
            "predicate",
            "kwargs_positive",
            "kwargs_negative",
            "message_template",
            "emission",
            "source",
            "added_by",
        },
        {
            "exception_type",
            "cross_validated_by",
            "observed_messages",
            "references",
            "normalises_to",
            "placeholders",
            "on_save",
        },
    )
    if not _ID.match(reader.string("id")):
        raise reader.fail("'id' must look like <library>.<NativeType>.<field>_<slug>")
    native_type = reader.string("native_type")
    if not _DOTTED.match(native_type):
        raise reader.fail(f"'native_type' must be an importable dotted path, got {native_type!r}")
    emission = reader.choice("emission", EMISSIONS)
    try:
        predicate = pred.from_data(reader.data["predicate"])
    except pred.PredicateError as err:
        raise reader.fail(f"bad predicate: {err}") from None
    exception_type = reader.data.get("exception_type")
    if exception_type is not None and (not isinstance(exception_type, str) or not exception_type):
        raise reader.fail(f"'exception_type' must be a class name, got {exception_type!r}")
    normalises_to = None
    if emission == "normalise":
        normalises_to = reader.mapping("normalises_to")
        if len(normalises_to) != 1:
            raise reader.fail("a normalise rule needs 'normalises_to' with exactly one field")
    elif "normalises_to" in reader.data:
        raise reader.fail("'normalises_to' belongs to normalise rules only")
    template = reader.string("message_template", allow_empty=emission == "normalise")
    if emission != "normalise" and not template.replace("{}", "").strip():
        # Every message would match it: the gate could not tell the rule's message from any other.
        raise reader.fail(
            f"'message_template' {template!r} has no fixed text, so it matches any message; "
            "keep the library's own words around the {} placeholders"
        )
    placeholders = reader.data.get("placeholders", [])
    if not isinstance(placeholders, list) or not all(p is None or isinstance(p, str) for p in placeholders):
        raise reader.fail(f"'placeholders' must be a list of field names (or null), got {placeholders!r}")
    if placeholders and len(placeholders) != reader.string("message_template").count("{}"):
        raise reader.fail("'placeholders' must name one field (or null) per {} of the message template")
    on_save = reader.data.get("on_save")
    if on_save is not None and on_save not in SEVERITIES:
        raise reader.fail(f"'on_save' must be one of {', '.join(SEVERITIES)}, got {on_save!r}")
    added_by = reader.string("added_by")
    producers = (added_by, *reader.strings("cross_validated_by"))
    for producer in producers:
        if producer not in PRODUCERS:
            raise reader.fail(f"unknown producer {producer!r}; known: {', '.join(PRODUCERS)}")
    return Rule(
        id=reader.string("id"),
        native_type=native_type,
        severity=reader.choice("severity", SEVERITIES),
        predicate=predicate,
        kwargs_positive=reader.mapping("kwargs_positive"),
        kwargs_negative=reader.mapping("kwargs_negative"),
        message_template=reader.string("message_template", allow_empty=emission == "normalise"),
        emission=emission,
        source=_source_from(reader.data["source"], path, rule_id),
        added_by=added_by,
        exception_type=exception_type,
        cross_validated_by=reader.strings("cross_validated_by"),
        observed_messages=reader.strings("observed_messages"),
        references=reader.strings("references"),
        normalises_to=normalises_to,
        placeholders=tuple(placeholders),
        on_save=on_save,
    )


def _class_facts(name: str, data: Any, path: str) -> ClassFacts:
    reader = _Reader(data, path, None, f"classes.{name}")
    reader.known_keys(set(), {"defaults", "fields", "nested", "unknown_fields"})
    defaults = reader.mapping("defaults") if "defaults" in reader.data else {}
    nested = reader.mapping("nested") if "nested" in reader.data else {}
    for field_name, native in nested.items():
        if not isinstance(native, str) or not _DOTTED.match(native):
            raise reader.fail(f"classes.{name}.nested.{field_name} must name a native type, got {native!r}")
    unknown = reader.data.get("unknown_fields")
    if unknown is not None and unknown not in UNKNOWN_FIELD_HANDLING:
        raise reader.fail(
            f"classes.{name}.unknown_fields must be one of {', '.join(UNKNOWN_FIELD_HANDLING)}, got {unknown!r}"
        )
    return ClassFacts(defaults=defaults, fields=reader.strings("fields"), nested=nested, unknown_fields=unknown)


def corpus_from_data(data: Any, path: str) -> CorpusFile:
    reader = _Reader(data, path, None, "a corpus file")
    reader.known_keys({"schema_version", "library", "library_version", "rules"}, {"dropped", "quarantined", "classes"})
    if reader.data["schema_version"] != SCHEMA_VERSION:
        raise reader.fail(
            f"schema_version {reader.data['schema_version']!r} is not supported (this build reads {SCHEMA_VERSION})"
        )
    rules = tuple(rule_from_data(item, path) for item in reader.items("rules"))
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise SchemaError(path, "duplicate rule id", rule_id=rule.id)
        seen.add(rule.id)
    dropped = []
    for item in reader.items("dropped"):
        entry = _Reader(item, path, None, "a dropped entry")
        entry.known_keys({"source", "condition", "reason"}, set())
        dropped.append(
            Dropped(_source_from(item["source"], path, None), entry.string("condition"), entry.string("reason"))
        )
    quarantined = []
    for item in reader.items("quarantined"):
        entry = _Reader(item, path, None, "a quarantined entry")
        entry.known_keys({"rule", "reasons"}, set())
        quarantined.append(Quarantined(rule_from_data(item["rule"], path), entry.strings("reasons")))
    classes = reader.data.get("classes", {})
    if not isinstance(classes, Mapping) or not all(isinstance(name, str) for name in classes):
        raise reader.fail("'classes' must map native types to their defaults, fields and nested configs")
    return CorpusFile(
        library=reader.string("library"),
        library_version=reader.string("library_version"),
        rules=rules,
        dropped=tuple(dropped),
        quarantined=tuple(quarantined),
        classes={name: _class_facts(name, facts, path) for name, facts in classes.items()},
    )


def load_corpus(path: str | os.PathLike[str], *, display: str | None = None) -> CorpusFile:
    """Loads and checks a corpus file; any problem is a SchemaError naming the file and rule."""
    shown = display or str(path)
    return corpus_from_data(canonical_yaml.read(path, display=shown), shown)

"""Corpus files: canonical bytes, strict loading, errors that name the file, the rule and the problem."""

from __future__ import annotations

import copy

import pytest
import yaml

from miners.errors import SchemaError
from miners.schema import canonical_yaml
from miners.schema.rule import CorpusFile, load_corpus

RULE = {
    "added_by": "static",
    "emission": "raise",
    "exception_type": "ValueError",
    "id": "demo.Config.size_le_0",
    "kwargs_negative": {"size": 1},
    "kwargs_positive": {"size": 0},
    "message_template": "`size` must be greater than 0, but is {}.",
    "native_type": "demo.Config",
    "predicate": {"field": "size", "op": "<=", "value": 0},
    "severity": "error",
    "source": {"line": 12, "method": "Config.validate", "path": "demo/config.py"},
}
CORPUS = {"library": "demo", "library_version": "1.0", "rules": [RULE], "schema_version": 2}


def write(tmp_path, data, name="corpus.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_round_trip_is_canonical_and_byte_stable(tmp_path):
    corpus = load_corpus(write(tmp_path, CORPUS))
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    corpus.write(first)
    load_corpus(first).write(second)
    assert first.read_bytes() == second.read_bytes()
    text = first.read_text(encoding="utf-8")
    assert text.index("library:") < text.index("rules:") < text.index("schema_version:")
    assert "&id" not in text and "*id" not in text  # no YAML aliases


def test_rule_order_does_not_depend_on_input_order(tmp_path):
    second = dict(RULE, id="demo.Config.size_gt_9", predicate={"field": "size", "op": ">", "value": 9})
    one = load_corpus(write(tmp_path, dict(CORPUS, rules=[RULE, second]), "one.yaml"))
    two = load_corpus(write(tmp_path, dict(CORPUS, rules=[second, RULE]), "two.yaml"))
    assert canonical_yaml.dumps(one.to_data()) == canonical_yaml.dumps(two.to_data())


def test_shared_objects_are_not_written_as_aliases():
    shared = {"size": 1}
    text = canonical_yaml.dumps({"a": shared, "b": shared})
    assert "&" not in text and "*" not in text


def broken(**changes):
    rule = copy.deepcopy(RULE)
    for key, value in changes.items():
        if value is None:
            rule.pop(key)
        else:
            rule[key] = value
    return dict(CORPUS, rules=[rule])


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (broken(predicate={"field": "size", "op": "approx", "value": 0}), "unknown operator 'approx'"),
        (broken(severity="fatal"), "'severity' must be one of error, warn, dormant"),
        (broken(kwargs_positive=None), "missing kwargs_positive"),
        (broken(extra=1), "unknown keys extra"),
        (broken(id="no dots"), "'id' must look like"),
        (broken(source={"line": 0, "method": "m", "path": "p.py"}), "positive integer"),
        (broken(source={"line": 3, "method": "m", "path": "/abs/p.py"}), "relative"),
        (broken(added_by="guess"), "unknown producer 'guess'"),
        (broken(message_template=""), "'message_template' must be a non-empty string"),
        (dict(CORPUS, rules=[RULE, RULE]), "duplicate rule id"),
    ],
)
def test_malformed_rules_name_file_rule_and_problem(tmp_path, data, problem):
    path = write(tmp_path, data)
    with pytest.raises(SchemaError) as caught:
        load_corpus(path)
    message = str(caught.value)
    assert str(path) in message
    assert "demo.Config.size_le_0" in message or "no dots" in message
    assert problem in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rules: [\n", "not valid YAML at line"),
        ("- 1\n- 2\n", "a corpus file must be a mapping"),
        ("library: demo\nrules: []\nschema_version: 2\n", "missing library_version"),
        ("library: demo\nlibrary_version: '1'\nrules: []\nschema_version: 7\n", "schema_version 7 is not supported"),
    ],
)
def test_malformed_files_name_the_file_and_problem(tmp_path, text, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match=problem) as caught:
        load_corpus(path)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(SchemaError, match="file not found"):
        load_corpus(tmp_path / "nope.yaml")


def test_atomic_write_leaves_no_partial_file(tmp_path):
    class Unserialisable:
        pass

    target = tmp_path / "out.yaml"
    with pytest.raises(yaml.YAMLError):
        canonical_yaml.write(target, {"bad": Unserialisable()})
    assert list(tmp_path.iterdir()) == []


def test_empty_corpus_writes_schema_fields():
    data = CorpusFile(library="demo", library_version="1.0").to_data()
    assert data == {"library": "demo", "library_version": "1.0", "rules": [], "schema_version": 2}


CLASSES = {
    "demo.Config": {
        "defaults": {"size": 4},
        "fields": ["mode", "size", "sub"],
        "nested": {"sub": "demo.SubConfig"},
        "unknown_fields": "error",
    }
}


def test_class_facts_round_trip(tmp_path):
    path = write(tmp_path, dict(CORPUS, classes=CLASSES))
    corpus = load_corpus(path)
    facts = corpus.facts("demo.Config")
    assert (facts.defaults, facts.fields, facts.nested, facts.unknown_fields) == (
        {"size": 4},
        ("mode", "size", "sub"),
        {"sub": "demo.SubConfig"},
        "error",
    )
    assert corpus.defaults("demo.Other") == {}
    assert corpus.to_data()["classes"] == CLASSES


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        ({"unknown_fields": "ignored"}, "unknown_fields must be one of error, dormant"),
        ({"nested": {"sub": "not a type"}}, "must name a native type"),
        ({"fields": "size"}, "'fields' must be a list of strings"),
        ({"colour": 1}, "unknown keys colour"),
    ],
)
def test_malformed_class_facts(tmp_path, facts, problem):
    with pytest.raises(SchemaError, match=problem):
        load_corpus(write(tmp_path, dict(CORPUS, classes={"demo.Config": facts})))


def test_placeholders_name_one_field_per_placeholder(tmp_path):
    good = dict(RULE, placeholders=["size"])
    assert load_corpus(write(tmp_path, dict(CORPUS, rules=[good]))).rules[0].placeholders == ("size",)
    for bad, problem in (
        (["size", None], "one field \\(or null\\) per"),
        ([3], "must be a list of field names"),
    ):
        with pytest.raises(SchemaError, match=problem):
            load_corpus(write(tmp_path, dict(CORPUS, rules=[dict(RULE, placeholders=bad)])))


def test_on_save_is_a_severity_and_strictest_takes_the_more_severe(tmp_path):
    saved = load_corpus(write(tmp_path, dict(CORPUS, rules=[dict(RULE, severity="warn", on_save="error")]))).rules[0]
    assert (saved.severity, saved.on_save, saved.strictest) == ("warn", "error", "error")
    assert saved.to_data()["on_save"] == "error"
    plain = load_corpus(write(tmp_path, dict(CORPUS, rules=[dict(RULE, severity="warn")]))).rules[0]
    assert (plain.on_save, plain.strictest, "on_save" in plain.to_data()) == (None, "warn", False)
    with pytest.raises(SchemaError, match="'on_save' must be one of error, warn, dormant, got 'fatal'"):
        load_corpus(write(tmp_path, dict(CORPUS, rules=[dict(RULE, on_save="fatal")])))


@pytest.mark.parametrize("template", ["{}", " {} ", "{}{}", ""])
def test_a_template_with_no_fixed_text_is_refused(tmp_path, template):
    with pytest.raises(SchemaError, match=r"no fixed text, so it matches any message|'message_template'"):
        load_corpus(write(tmp_path, dict(CORPUS, rules=[dict(RULE, message_template=template)])))


def test_quotes_around_a_placeholder_are_fixed_text(tmp_path):
    # A bare KeyError: 'X' keeps its quotes (the exception type narrows it further).
    loaded = load_corpus(write(tmp_path, dict(CORPUS, rules=[dict(RULE, message_template="'{}'")])))
    assert loaded.rules[0].message_template == "'{}'"

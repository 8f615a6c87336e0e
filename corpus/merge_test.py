"""Merging staging files: dedup by fingerprint, per-field precedence, refusing inconsistent input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from corpus.merge import merge
from miners.errors import SchemaError
from miners.schema.predicate import from_data
from miners.schema.rule import ClassFacts, CorpusFile, Rule, Source


def rule(**changes) -> Rule:
    base = Rule(
        id="demo.Config.size_le_0",
        native_type="demo.Config",
        severity="error",
        predicate=from_data({"field": "size", "op": "<=", "value": 0}),
        kwargs_positive={"size": 0},
        kwargs_negative={"size": 1},
        message_template="`size` must be positive",
        emission="raise",
        source=Source("demo/config.py", "Config.validate", 10),
        added_by="static",
        exception_type="ValueError",
    )
    return base.with_changes(**changes)


def staged(*rules: Rule, version: str = "1.0") -> CorpusFile:
    return CorpusFile(library="demo", library_version=version, rules=rules)


def test_same_fingerprint_merges_with_precedence():
    static = rule(references=("a",))
    dynamic = rule(
        id="demo.Config.size_dynamic",
        added_by="dynamic",
        message_template="`size` must be positive, got {}",
        observed_messages=("`size` must be positive, got 0", "`size` must be positive, got -1"),
        kwargs_positive={"size": -1},
        references=("b",),
        # Same constraint, terms written in another order.
        predicate=from_data({"all": [{"field": "size", "op": "<=", "value": 0}]}),
    )
    merged = merge([("d.yaml", staged(dynamic)), ("s.yaml", staged(static))])
    assert len(merged.rules) == 1
    (result,) = merged.rules
    assert result.id == static.id  # static's id, predicate, kwargs, source
    assert result.kwargs_positive == {"size": 0}
    assert result.message_template == dynamic.message_template  # dynamic's real text
    assert result.observed_messages == tuple(sorted(dynamic.observed_messages))
    assert result.references == ("a", "b")
    assert result.cross_validated_by == ("dynamic",)


def test_different_predicates_stay_apart():
    other = rule(id="demo.Config.size_gt_9", predicate=from_data({"field": "size", "op": ">", "value": 9}))
    assert len(merge([("s.yaml", staged(rule(), other))]).rules) == 2


def test_version_mismatch_between_staging_files_is_refused():
    with pytest.raises(SchemaError, match=r"is for demo 2\.0 but a\.yaml is for demo 1\.0"):
        merge([("a.yaml", staged(rule())), ("b.yaml", staged(rule(), version="2.0"))])


def test_id_collision_between_different_rules_is_resolved_by_producer():
    static = rule()
    dynamic = rule(added_by="dynamic", predicate=from_data({"field": "size", "op": "<", "value": 0}))
    merged = merge([("a.yaml", staged(dynamic)), ("b.yaml", staged(static))])
    assert sorted(r.id for r in merged.rules) == ["demo.Config.size_le_0", "demo.Config.size_le_0__dynamic"]
    assert next(r for r in merged.rules if r.id == "demo.Config.size_le_0").added_by == "static"


def test_membership_order_does_not_split_a_rule():
    one = rule(predicate=from_data({"field": "bits", "op": "not_in", "value": [2, 3, 4, 8]}))
    two = rule(added_by="dynamic", predicate=from_data({"field": "bits", "op": "not_in", "value": [4, 2, 8, 3]}))
    (merged,) = merge([("a.yaml", staged(one, two))]).rules
    assert merged.cross_validated_by == ("dynamic",)


def test_class_facts_are_merged_and_defaults_must_agree():
    a = CorpusFile(
        "demo", "1.0", rules=(rule(),), classes={"demo.Config": ClassFacts(defaults={"size": 1}, fields=("size",))}
    )
    b = CorpusFile(
        "demo",
        "1.0",
        rules=(),
        classes={"demo.Config": ClassFacts(defaults={"mode": "x"}, fields=("mode",), unknown_fields="error")},
    )
    merged = merge([("a.yaml", a), ("b.yaml", b)]).facts("demo.Config")
    assert merged == ClassFacts(defaults={"mode": "x", "size": 1}, fields=("mode", "size"), unknown_fields="error")
    c = CorpusFile("demo", "1.0", rules=(), classes={"demo.Config": ClassFacts(defaults={"size": 2})})
    with pytest.raises(SchemaError, match=r"default of demo\.Config\.size is 2 here but 1 elsewhere"):
        merge([("a.yaml", a), ("c.yaml", c)])


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("library: demo\nrules: [\n", encoding="utf-8")
    out = tmp_path / "merged.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "corpus.merge", "--out", str(out), str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"{bad}: not valid YAML at line" in result.stderr
    assert not out.exists()

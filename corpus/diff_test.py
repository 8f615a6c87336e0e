"""The version diff: every kind of change, pairing, version order, bad input, byte-stable outputs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from corpus.diff import diff, main, render_json, render_markdown
from miners import cli
from miners.schema.rule import load_corpus

REAL = "corpus/transformers/5.23.0/invariants.validated.yaml"

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


def rule(**changes):
    data = copy.deepcopy(RULE)
    data.update(changes)
    return data


def corpus(version, *rules, library="demo", classes=None):
    data = {"library": library, "library_version": version, "rules": list(rules), "schema_version": 2}
    if classes is not None:
        data["classes"] = classes
    return data


def write(tmp_path, data, name=None):
    path = tmp_path / (name or f"{data['library']}-{data['library_version']}.yaml")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def loaded(tmp_path, *datas):
    return [(str(path), load_corpus(path)) for path in (write(tmp_path, data) for data in datas)]


def one_pair(tmp_path, old, new):
    (change,) = diff(loaded(tmp_path, old, new))["changes"]
    return change


def counts(change):
    return {kind: n for kind, n in change["counts"].items() if n}


# --- kinds ----------------------------------------------------------------------


def test_unchanged_rules_are_no_change(tmp_path):
    change = one_pair(tmp_path, corpus("1.0", rule()), corpus("1.1", rule()))
    assert counts(change) == {}
    assert change["from"] == "1.0" and change["to"] == "1.1"


def test_added_rule_carries_its_firing_example_and_whether_the_class_existed(tmp_path):
    bigger = rule(id="demo.Config.size_gt_9", predicate={"field": "size", "op": ">", "value": 9})
    bigger |= {"kwargs_positive": {"size": 10}, "kwargs_negative": {"size": 9}, "message_template": "too big"}
    other = rule(id="demo.Other.size_le_0", native_type="demo.Other")
    change = one_pair(tmp_path, corpus("1.0", rule()), corpus("1.1", rule(), bigger, other))
    assert counts(change) == {"added": 2}
    by_id = {entry["rule"]: entry for entry in change["added"]}
    assert by_id["demo.Config.size_gt_9"]["example"] == {"Config": {"size": 10}}
    assert by_id["demo.Config.size_gt_9"]["class_in_old"] is True
    assert by_id["demo.Config.size_gt_9"]["severity"] == "error"
    assert by_id["demo.Other.size_le_0"]["class_in_old"] is False
    assert change["classes"] == {"added": ["demo.Other"], "removed": []}


def test_removed_rule_carries_the_old_firing_example(tmp_path):
    other = rule(id="demo.Other.size_le_0", native_type="demo.Other")
    change = one_pair(tmp_path, corpus("1.0", rule(), other), corpus("1.1", rule()))
    assert counts(change) == {"removed": 1}
    (entry,) = change["removed"]
    assert entry["rule"] == "demo.Other.size_le_0"
    assert entry["example"] == {"Other": {"size": 0}}
    assert entry["class_in_new"] is False
    assert change["classes"] == {"added": [], "removed": ["demo.Other"]}


def test_a_class_known_only_from_its_facts_still_counts_as_present(tmp_path):
    classes = {"demo.Other": {"defaults": {"size": 3}}}
    other = rule(id="demo.Other.size_le_0", native_type="demo.Other")
    change = one_pair(tmp_path, corpus("1.0", rule(), classes=classes), corpus("1.1", rule(), other))
    assert change["added"][0]["class_in_old"] is True
    assert change["classes"] == {"added": [], "removed": []}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"severity": "warn", "emission": "logger"}, {}),
        ({}, {"on_save": "error", "severity": "warn"}),
        ({"on_save": "error", "severity": "warn"}, {"severity": "warn"}),
    ],
)
def test_severity_or_on_save_changed(tmp_path, old, new):
    change = one_pair(tmp_path, corpus("1.0", rule(**old)), corpus("1.1", rule(**new)))
    assert counts(change) == {"severity_changed": 1}
    (entry,) = change["severity_changed"]
    assert entry["old"] == {"severity": old.get("severity", "error"), "on_save": old.get("on_save")}
    assert entry["new"] == {"severity": new.get("severity", "error"), "on_save": new.get("on_save")}
    assert entry["example"] == {"Config": {"size": 0}}


def test_predicate_changed_by_id_shows_a_config_the_versions_disagree_on(tmp_path):
    # 1.0 refused size <= 0; 1.1 refuses size <= 5: size 3 passes 1.0 and fails 1.1.
    new = rule(predicate={"field": "size", "op": "<=", "value": 5}, kwargs_positive={"size": 3})
    new["kwargs_negative"] = {"size": 6}
    change = one_pair(tmp_path, corpus("1.0", rule()), corpus("1.1", new))
    assert counts(change) == {"predicate_changed": 1}
    (entry,) = change["predicate_changed"]
    # The old firing example (0) fires in both; the old passing one (1) tells them apart.
    assert entry["example"] == {"Config": {"size": 1}}
    assert entry["example_from"] == "the old rule's passing example"
    assert entry["fires_in"] == "1.1"
    assert entry["old_predicate"] == RULE["predicate"]
    assert entry["paired_by"] == "id"


def test_predicate_disagreement_uses_each_versions_defaults(tmp_path):
    # The predicate reads an unset field: only the class defaults make the versions disagree.
    gated = {"all": [{"field": "size", "op": "<=", "value": 0}, {"field": "mode", "op": "==", "value": "strict"}]}
    old = rule(predicate=gated)
    new = rule(predicate={"all": [*gated["all"], {"field": "limit", "op": ">", "value": 1}]})
    classes_old = {"demo.Config": {"defaults": {"mode": "strict"}}}
    classes_new = {"demo.Config": {"defaults": {"mode": "strict", "limit": 0}}}
    change = one_pair(tmp_path, corpus("1.0", old, classes=classes_old), corpus("1.1", new, classes=classes_new))
    (entry,) = change["predicate_changed"]
    assert entry["example"] == {"Config": {"size": 0}}
    assert entry["example_from"] == "the old rule's firing example"
    assert entry["fires_in"] == "1.0"


def test_predicate_changed_shown_by_a_value_the_predicates_name(tmp_path):
    # size <= 0 and size < 0 agree on both examples (-1 and 1), and part at the bound they name.
    old = rule(kwargs_positive={"size": -1})
    new = rule(predicate={"field": "size", "op": "<", "value": 0}, kwargs_positive={"size": -1})
    (entry,) = diff(loaded(tmp_path, corpus("1.0", old), corpus("1.1", new)))["changes"][0]["predicate_changed"]
    assert entry["example"] == {"Config": {"size": 0}} and entry["fires_in"] == "1.0"
    assert entry["example_from"] == "the old rule's firing example, with size=0"


def test_predicate_changed_without_a_telling_example(tmp_path):
    # A test of a field's length: no plain value of the field is named to try.
    old = rule(predicate={"field": "size", "op": "<=", "value": 0, "of": "length"}, kwargs_positive={"size": []})
    new = rule(predicate={"field": "size", "op": "<", "value": 1, "of": "length"}, kwargs_positive={"size": []})
    new["kwargs_negative"] = old["kwargs_negative"] = {"size": [1]}
    result = diff(loaded(tmp_path, corpus("1.0", old), corpus("1.1", new)))
    (entry,) = result["changes"][0]["predicate_changed"]
    assert entry["example"] is None and entry["fires_in"] is None
    assert "No example of either rule tells the two apart." in render_markdown(result)


def test_reordered_terms_are_not_a_predicate_change(tmp_path):
    terms = [{"field": "size", "op": "<=", "value": 0}, {"field": "mode", "op": "in", "value": ["a", "b"]}]
    old = rule(predicate={"all": terms}, kwargs_positive={"size": 0, "mode": "a"})
    new = rule(predicate={"all": [{"field": "mode", "op": "in", "value": ["b", "a"]}, terms[0]]})
    new["kwargs_positive"] = {"size": 0, "mode": "a"}
    assert counts(one_pair(tmp_path, corpus("1.0", old), corpus("1.1", new))) == {}


def test_message_changed_shows_both_templates(tmp_path):
    change = one_pair(tmp_path, corpus("1.0", rule()), corpus("1.1", rule(message_template="size {} is too small")))
    assert counts(change) == {"message_changed": 1}
    (entry,) = change["message_changed"]
    assert entry["old_message"] == RULE["message_template"]
    assert entry["new_message"] == "size {} is too small"
    assert entry["example"] == {"Config": {"size": 0}}


def test_one_rule_can_show_several_kinds(tmp_path):
    new = rule(severity="warn", emission="logger", message_template="size is small")
    new["predicate"] = {"field": "size", "op": "<", "value": 0}
    new["kwargs_positive"] = {"size": -1}
    change = one_pair(tmp_path, corpus("1.0", rule()), corpus("1.1", new))
    assert counts(change) == {"severity_changed": 1, "predicate_changed": 1, "message_changed": 1}
    assert change["predicate_changed"][0]["example"] == {"Config": {"size": 0}}
    assert change["predicate_changed"][0]["fires_in"] == "1.0"


# --- pairing --------------------------------------------------------------------


def test_a_renamed_rule_with_its_message_is_a_predicate_change_not_removed_and_added(tmp_path):
    new = rule(id="demo.Config.size_lt_1", predicate={"field": "size", "op": "<", "value": 1})
    new["kwargs_positive"] = {"size": 0.5}
    change = one_pair(tmp_path, corpus("1.0", rule()), corpus("1.1", new))
    assert counts(change) == {"predicate_changed": 1, "renamed": 1}
    (entry,) = change["predicate_changed"]
    assert (entry["old_rule"], entry["rule"]) == ("demo.Config.size_le_0", "demo.Config.size_lt_1")
    assert entry["paired_by"] == "message and fields"
    assert entry["example"] == {"Config": {"size": 0.5}} and entry["fires_in"] == "1.1"


def test_pairing_by_fields_when_the_message_changed_too(tmp_path):
    new = rule(id="demo.Config.size_lt_1", predicate={"field": "size", "op": "<", "value": 1})
    new |= {"kwargs_positive": {"size": 0.5}, "message_template": "size must be at least 1"}
    change = one_pair(tmp_path, corpus("1.0", rule()), corpus("1.1", new))
    assert counts(change) == {"predicate_changed": 1, "message_changed": 1, "renamed": 1}
    assert change["renamed"][0]["paired_by"] == "fields"


def test_pairing_prefers_the_rule_on_the_same_fields_when_messages_are_shared(tmp_path):
    generic = "must be positive"
    old = rule(id="demo.Config.size_le_0", message_template=generic)
    # Both new rules share the message; only the second reads `size`.
    width = rule(
        id="demo.Config.a_width_le_0", message_template=generic, predicate={"field": "width", "op": "<=", "value": 0}
    )
    width |= {"kwargs_positive": {"width": 0}, "kwargs_negative": {"width": 1}}
    size = rule(
        id="demo.Config.size_lt_1", message_template=generic, predicate={"field": "size", "op": "<", "value": 1}
    )
    change = one_pair(tmp_path, corpus("1.0", old), corpus("1.1", width, size))
    assert [(e["old_rule"], e["rule"]) for e in change["renamed"]] == [
        ("demo.Config.size_le_0", "demo.Config.size_lt_1")
    ]
    assert [e["rule"] for e in change["added"]] == ["demo.Config.a_width_le_0"]


def test_of_several_candidates_the_one_with_the_closest_id_is_paired(tmp_path):
    old = rule(message_template="old text")
    finite = rule(id="demo.Config.inf_not_finite", predicate={"field": "size", "op": "not_finite"})
    finite |= {"kwargs_positive": {"size": float("inf")}, "message_template": "new text"}
    closer = rule(id="demo.Config.size_lt_1", predicate={"field": "size", "op": "<", "value": 1})
    closer |= {"kwargs_positive": {"size": 0.5}, "message_template": "new text"}
    change = one_pair(tmp_path, corpus("1.0", old), corpus("1.1", finite, closer))
    assert [(e["old_rule"], e["rule"]) for e in change["renamed"]] == [
        ("demo.Config.size_le_0", "demo.Config.size_lt_1")
    ]
    assert [e["rule"] for e in change["added"]] == ["demo.Config.inf_not_finite"]


def test_no_pairing_across_classes(tmp_path):
    moved = rule(id="demo.Other.size_lt_1", native_type="demo.Other")
    change = one_pair(tmp_path, corpus("1.0", rule()), corpus("1.1", moved))
    assert counts(change) == {"added": 1, "removed": 1}


def test_rules_without_a_message_pair_by_fields_only(tmp_path):
    normalise = {"emission": "normalise", "message_template": "", "severity": "dormant"}
    old = rule(**normalise, normalises_to={"size": 1})
    new = rule(**normalise, id="demo.Config.width_le_0", normalises_to={"width": 1})
    new |= {"predicate": {"field": "width", "op": "<=", "value": 0}, "kwargs_positive": {"width": 0}}
    change = one_pair(tmp_path, corpus("1.0", old), corpus("1.1", new))
    assert counts(change) == {"added": 1, "removed": 1}
    assert "(no message" in render_markdown(diff(loaded(tmp_path, corpus("1.0"), corpus("1.1", new))))


# --- versions -------------------------------------------------------------------


def test_corpora_are_ordered_by_version_not_by_argument_or_text(tmp_path):
    datas = [corpus(v, rule(severity=s)) for v, s in (("5.23.0", "error"), ("4.57.3", "warn"), ("5.0.0", "dormant"))]
    datas.append(corpus("5.9.0", rule(severity="error")))
    result = diff(loaded(tmp_path, *datas))
    assert result["versions"] == ["4.57.3", "5.0.0", "5.9.0", "5.23.0"]
    assert [(c["from"], c["to"]) for c in result["changes"]] == [
        ("4.57.3", "5.0.0"),
        ("5.0.0", "5.9.0"),
        ("5.9.0", "5.23.0"),
    ]
    assert result["changes"][0]["severity_changed"][0]["new"]["severity"] == "dormant"
    assert result["changes"][2]["counts"]["severity_changed"] == 0


def test_one_version_has_nothing_to_compare(tmp_path):
    result = diff(loaded(tmp_path, corpus("1.0", rule())))
    assert result == {"changes": [], "library": "demo", "versions": ["1.0"]}
    assert "nothing to compare yet" in render_markdown(result)


# --- bad input ------------------------------------------------------------------


def run_cli(tmp_path, *paths):
    out_md, out_json = tmp_path / "out" / "changes.md", tmp_path / "out" / "changes.json"
    argv = [arg for path in paths for arg in ("--corpus", str(path))]
    with pytest.raises(SystemExit) as exit_info:
        cli.run(main, [*argv, "--out-md", str(out_md), "--out-json", str(out_json)])
    return exit_info.value.code, out_md, out_json


@pytest.mark.parametrize(
    ("datas", "problem"),
    [
        (
            [
                corpus("1.0", rule()),
                corpus("2.0", rule(id="other.Config.size_le_0", native_type="other.Config"), library="other"),
            ],
            "the corpora are of different libraries: demo (",
        ),
        ([corpus("5.0", rule()), corpus("5.0.0", rule())], "version 5.0.0 is given twice ("),
        ([corpus("1.0", rule()), corpus("latest", rule())], "library_version 'latest' is not a PEP 440 version"),
    ],
)
def test_incomparable_corpora_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, datas, problem):
    code, out_md, out_json = run_cli(tmp_path, *(write(tmp_path, data) for data in datas))
    err = capsys.readouterr().err
    assert code == 2
    assert problem in err and err.startswith("error: DiffInputError: ")
    assert err.count("\n") == 1
    assert not out_md.exists() and not out_json.exists()


def test_a_malformed_corpus_is_a_schema_error_naming_the_file_and_rule(tmp_path, capsys):
    good = write(tmp_path, corpus("1.0", rule()))
    bad = write(tmp_path, corpus("1.1", rule(severity="fatal")))
    code, out_md, out_json = run_cli(tmp_path, good, bad)
    err = capsys.readouterr().err
    assert code == 2
    assert f"SchemaError: {bad}: rule 'demo.Config.size_le_0': 'severity' must be one of error, warn, dormant" in err
    assert not out_md.exists() and not out_json.exists()


def test_a_failed_run_leaves_earlier_outputs_alone(tmp_path, capsys):
    old, new = write(tmp_path, corpus("1.0", rule())), write(tmp_path, corpus("1.1", rule(severity="warn")))
    code, out_md, out_json = run_cli(tmp_path, old, new)
    assert code == 0
    before = (out_md.read_bytes(), out_json.read_bytes())
    broken = tmp_path / "broken.yaml"
    broken.write_text("library: demo\nrules: [\n", encoding="utf-8")
    code, _, _ = run_cli(tmp_path, old, broken)
    assert code == 2 and "not valid YAML" in capsys.readouterr().err
    assert (out_md.read_bytes(), out_json.read_bytes()) == before
    assert sorted(p.name for p in out_md.parent.iterdir()) == ["changes.json", "changes.md"]  # no temp files left


# --- outputs --------------------------------------------------------------------


def mixed(tmp_path):
    """Three versions with every kind of change between them."""
    added = rule(id="demo.Other.size_le_0", native_type="demo.Other")
    renamed = rule(
        id="demo.Config.size_lt_1", predicate={"field": "size", "op": "<", "value": 1}, kwargs_positive={"size": 0.5}
    )
    return [
        corpus("1.0", rule(), classes={"demo.Config": {"defaults": {"size": 4}}}),
        corpus("1.1", rule(severity="warn", emission="logger", message_template="small"), added),
        corpus(
            "2.0",
            renamed,
            rule(
                id="demo.Config.inf_example",
                predicate={"field": "size", "op": "not_finite"},
                kwargs_positive={"size": float("inf")},
            ),
        ),
    ]


def test_outputs_are_byte_stable_whatever_the_argument_order(tmp_path):
    datas = mixed(tmp_path)
    paths = [write(tmp_path, data) for data in datas]
    outputs = []
    for order in (paths, paths[::-1], [paths[1], paths[2], paths[0]]):
        out = tmp_path / f"run{len(outputs)}"
        argv = [arg for path in order for arg in ("--corpus", str(path))]
        assert main([*argv, "--out-md", str(out / "c.md"), "--out-json", str(out / "c.json")]) == 0
        outputs.append(((out / "c.md").read_bytes(), (out / "c.json").read_bytes()))
    assert outputs[0] == outputs[1] == outputs[2]
    markdown, text = outputs[0]
    assert str(tmp_path).encode() not in markdown and str(tmp_path).encode() not in text
    data = json.loads(text)
    assert text.decode() == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert data["versions"] == ["1.0", "1.1", "2.0"]
    assert set(data["changes"][0]["counts"]) == {
        "added",
        "removed",
        "severity_changed",
        "predicate_changed",
        "message_changed",
        "renamed",
    }


def test_json_is_strict_json_even_with_infinite_examples(tmp_path):
    text = render_json(diff(loaded(tmp_path, *mixed(tmp_path))))
    assert "Infinity" not in text and "NaN" not in text
    (entry,) = [e for e in json.loads(text)["changes"][1]["added"] if e["rule"] == "demo.Config.inf_example"]
    assert entry["example"] == {"Config": {"size": ".inf"}}


def test_markdown_has_a_counts_table_and_each_change_with_its_config(tmp_path):
    markdown = render_markdown(diff(loaded(tmp_path, *mixed(tmp_path))))
    assert markdown.startswith("# demo: what changed between versions\n")
    assert "## 1.0 → 1.1\n" in markdown and "## 1.1 → 2.0\n" in markdown
    assert "| severity changed | 1 |" in markdown
    assert "#### `demo.Config.size_lt_1` (was `demo.Config.size_le_0`, paired by" in markdown
    assert "```yaml\nOther:\n  size: 0\n```" in markdown
    assert "``` `size` must be greater than 0, but is {}. ```" not in markdown  # templates go in text blocks
    assert "```text\n`size` must be greater than 0, but is {}.\n```" in markdown
    assert markdown.endswith("\n") and not markdown.endswith("\n\n")


# --- the real corpus ------------------------------------------------------------


def test_the_checked_in_transformers_corpus_against_a_modified_copy(tmp_path):
    data = yaml.safe_load(Path(REAL).read_text(encoding="utf-8"))
    assert data["library"] == "transformers"
    old_version = data["library_version"]
    rules = data["rules"]
    gone = rules.pop(0)
    rules[0]["severity"] = "warn" if rules[0]["severity"] == "error" else "error"
    rules[1]["message_template"] += " (reworded)"
    changed = rules[2]
    changed["predicate"] = {"all": [changed["predicate"], {"field": "zz_new_switch", "op": "present"}]}
    changed["kwargs_positive"] = dict(changed["kwargs_positive"], zz_new_switch=True)
    data["library_version"] = "99.0.0"
    result = diff([(REAL, load_corpus(REAL)), ("copy", load_corpus(write(tmp_path, data)))])
    (change,) = result["changes"]
    assert (change["from"], change["to"]) == (old_version, "99.0.0")
    assert counts(change) == {"removed": 1, "severity_changed": 1, "message_changed": 1, "predicate_changed": 1}
    assert change["removed"][0]["rule"] == gone["id"]
    assert change["severity_changed"][0]["rule"] == rules[0]["id"]
    assert change["message_changed"][0]["rule"] == rules[1]["id"]
    (entry,) = change["predicate_changed"]
    assert entry["rule"] == changed["id"] and entry["fires_in"] == old_version
    short = changed["native_type"].rsplit(".", 1)[1]
    assert list(entry["example"]) == [short]
    render_markdown(result)  # renders without error


def test_the_module_runs_as_a_program(tmp_path):
    old, new = write(tmp_path, corpus("1.0", rule())), write(tmp_path, corpus("1.1"))
    out = tmp_path / "out"
    argv = [
        "--corpus",
        str(new),
        "--corpus",
        str(old),
        "--out-md",
        str(out / "c.md"),
        "--out-json",
        str(out / "c.json"),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "corpus.diff", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "c.json").read_text(encoding="utf-8"))["changes"][0]["counts"]["removed"] == 1


def test_an_allowlist_of_upper_cased_names_is_shown_by_a_member_it_lost(tmp_path):
    old = rule(
        predicate={"field": "backend", "op": "not_in", "value": ["A", "B"], "of": "upper"},
        kwargs_positive={"backend": "x"},
        kwargs_negative={"backend": "a"},
    )
    new = dict(old, predicate={"field": "backend", "op": "not_in", "value": ["A"], "of": "upper"})
    (entry,) = diff(loaded(tmp_path, corpus("1.0", old), corpus("1.1", new)))["changes"][0]["predicate_changed"]
    assert entry["example"] == {"Config": {"backend": "B"}} and entry["fires_in"] == "1.1"

"""The checker's report formats: text and JSON with locations, GitHub workflow commands, SARIF 2.1.0."""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tools.check import Finding, available_versions
from tools.check_output import FORMATS, RunContext, report

SCHEMA_PATH = Path("tools/testdata/sarif-schema-2.1.0.json")
CONFIGS = Path("tools/testdata/configs")
# Pinned: the CLI runs say nothing on stderr about which version they chose.
LIBRARY = f"transformers=={available_versions('transformers')[0]}"
CONTEXT = RunContext(library="lib", library_version="1.2.3", version_source="requested")


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def finding(rule_id, *, severity="error", path=("GenerationConfig", "top_k"), message="m", fix="", notes=()):
    return Finding(id=rule_id, severity=severity, path=path, message=message, fix=fix, notes=notes)


TRICKY = finding(
    "lib.Config.a:b,c",
    message="100% sure: a, b\r\nnext line",
    fix="set top_k=1",
    notes=("see: the docs, section 2",),
)
RESULTS = {
    "jobs/a,b:c.yaml": [(TRICKY, (3, 5))],
    "jobs/plain.json": [
        (finding("lib.Config.warned", severity="warn", message="it warns"), (1, 2)),
        (finding("lib.Config.ignored", severity="dormant", message="it ignores"), (7, 1)),
    ],
    "jobs/clean.yaml": [],
}


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "tools/check.py", "--library", LIBRARY, *args],
        capture_output=True,
        text=True,
        check=False,
    )


def position_of(text, needle):
    offset = text.index(needle)
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


# --- github ---------------------------------------------------------------------------------


def test_github_commands_are_escaped_exactly():
    # The runner decodes %25, %0D, %0A in messages, and %3A, %2C as well in property values.
    assert report("github", RESULTS, CONTEXT).splitlines() == [
        "::error file=jobs/a%2Cb%3Ac.yaml,line=3,col=5,title=lib.Config.a%3Ab%2Cc"
        "::100%25 sure: a, b%0D%0Anext line%0Asee: the docs, section 2%0Afix: set top_k=1",
        "::warning file=jobs/plain.json,line=1,col=2,title=lib.Config.warned::it warns",
        "::notice file=jobs/plain.json,line=7,col=1,title=lib.Config.ignored::it ignores",
    ]


def test_github_report_of_nothing_is_empty():
    assert report("github", {"jobs/clean.yaml": []}, CONTEXT) == ""
    clean = run_cli("--format", "github", str(CONFIGS / "valid_sampling.yaml"))
    assert clean.returncode == 0 and clean.stdout == "", clean.stderr


def test_github_annotation_points_at_the_key():
    config = CONFIGS / "zero_new_tokens.yaml"
    text = config.read_text(encoding="utf-8")
    failing = run_cli("--format", "github", str(config))
    assert failing.returncode == 1, failing.stderr
    line, column = position_of(text, "max_new_tokens")
    assert failing.stdout.startswith(
        f"::error file={config},line={line},col={column},title=transformers.GenerationConfig.max_new_tokens_le_0::"
    )


# --- text and json --------------------------------------------------------------------------


def test_text_names_each_findings_file_line_and_column():
    text = report("text", RESULTS, CONTEXT)
    assert text.splitlines()[0] == "corpus: lib==1.2.3 (requested)"
    assert "jobs/clean.yaml: no rule fires" in text
    assert "jobs/plain.json: 2 rule(s) fire" in text
    assert "  warn    lib.Config.warned\n          at: jobs/plain.json:1:2 GenerationConfig.top_k\n" in text
    assert "  dormant lib.Config.ignored\n          at: jobs/plain.json:7:1 GenerationConfig.top_k\n" in text
    assert "          note: see: the docs, section 2" in text


def test_json_names_the_corpus_and_adds_file_line_and_column_to_each_finding():
    data = json.loads(report("json", RESULTS, CONTEXT))
    assert data == {
        "library": "lib",
        "library_version": "1.2.3",
        "version_source": "requested",
        "files": data["files"],
    }
    assert list(data) == ["library", "library_version", "version_source", "files"]
    assert list(data["files"]) == list(RESULTS)
    for path, located in RESULTS.items():
        assert data["files"][path] == [
            f.to_data() | {"file": path, "line": line, "column": column} for f, (line, column) in located
        ]


def test_cli_json_locates_a_json_configs_key():
    config = CONFIGS / "more_sequences_than_beams.json"
    failing = run_cli("--format", "json", str(config))
    assert failing.returncode == 1, failing.stderr
    (found,) = json.loads(failing.stdout)["files"][str(config)]
    key = found["path"][-1]
    line, column = position_of(config.read_text(encoding="utf-8"), f'"{key}"')
    assert (found["file"], found["line"], found["column"]) == (str(config), line, column)


# --- sarif ----------------------------------------------------------------------------------


def test_the_vendored_schema_is_the_oasis_sarif_2_1_0_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


def test_sarif_is_valid(sarif_validator):
    log = json.loads(report("sarif", RESULTS, CONTEXT))
    sarif_validator.validate(log)
    assert log["version"] == "2.1.0"


def broken(log, where, *, delete=None, set_to=None):
    log = copy.deepcopy(log)
    target = log
    for key in where:
        target = target[key]
    if delete is not None:
        del target[delete]
    else:
        target.update(set_to)
    return log


@pytest.mark.parametrize(
    "breakage",
    [
        {"where": ("runs", 0, "results", 0), "delete": "message"},
        {"where": ("runs", 0, "results", 0), "set_to": {"level": "warn"}},
        {"where": ("runs", 0, "tool", "driver"), "delete": "name"},
        {"where": ("runs", 0, "results", 0, "locations", 0, "physicalLocation", "region"), "set_to": {"startLine": 0}},
        {"where": (), "set_to": {"version": "2.0.0"}},
    ],
    ids=["result without message", "unknown level", "driver without name", "line 0", "other version"],
)
def test_the_schema_rejects_a_broken_log(sarif_validator, breakage):
    """The validation can fail: the same log, broken in one place, is refused."""
    log = json.loads(report("sarif", RESULTS, CONTEXT))
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator.validate(broken(log, **breakage))


def test_sarif_rules_results_and_locations():
    run = json.loads(report("sarif", RESULTS, CONTEXT))["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "kiln-check"
    assert [rule["id"] for rule in driver["rules"]] == sorted(f.id for located in RESULTS.values() for f, _ in located)
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert rules["lib.Config.a:b,c"]["shortDescription"] == {"text": TRICKY.message}
    assert {rule["defaultConfiguration"]["level"] for rule in driver["rules"]} == {"error", "warning", "note"}
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["properties"] == {"library": "lib", "libraryVersion": "1.2.3", "versionSource": "requested"}
    by_rule = {result["ruleId"]: result for result in run["results"]}
    assert len(by_rule) == len(run["results"]) == 3
    tricky = by_rule["lib.Config.a:b,c"]
    assert tricky["level"] == "error"
    assert tricky["message"]["text"] == "100% sure: a, b\r\nnext line\nsee: the docs, section 2\nfix: set top_k=1"
    assert tricky["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "jobs/a%2Cb%3Ac.yaml"},
                "region": {"startLine": 3, "startColumn": 5},
            }
        }
    ]
    assert by_rule["lib.Config.warned"]["level"] == "warning"
    assert by_rule["lib.Config.ignored"]["level"] == "note"
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_is_the_same_whatever_the_order_findings_come_in():
    located = [(path, f, where) for path, entries in RESULTS.items() for f, where in entries]
    expected = report("sarif", RESULTS, CONTEXT)
    shuffler = random.Random(7)  # noqa: S311 - a seeded shuffle, not a secret
    for _ in range(5):
        shuffler.shuffle(located)
        results: dict[str, list] = {}
        for path, f, where in located:
            results.setdefault(path, []).append((f, where))
        assert report("sarif", results, CONTEXT) == expected


def test_sarif_uris_are_relative_with_forward_slashes():
    run = json.loads(report("sarif", {"jobs/sub dir/ü.yaml": [(finding("x"), (1, 1))]}, CONTEXT))["runs"][0]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "jobs/sub%20dir/%C3%BC.yaml"
    )


def test_cli_sarif_of_real_configs_is_valid_and_points_at_the_keys(sarif_validator):
    configs = [
        CONFIGS / "zero_new_tokens.yaml",
        CONFIGS / "greedy_with_temperature.yaml",
        CONFIGS / "valid_sampling.yaml",
    ]
    failing = run_cli("--format", "sarif", *map(str, configs))
    assert failing.returncode == 1, failing.stderr
    log = json.loads(failing.stdout)
    sarif_validator.validate(log)
    results = log["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        str(configs[0]),
        str(configs[1]),
    }
    zero = next(r for r in results if r["ruleId"] == "transformers.GenerationConfig.max_new_tokens_le_0")
    line, column = position_of(configs[0].read_text(encoding="utf-8"), "max_new_tokens")
    assert zero["locations"][0]["physicalLocation"]["region"] == {"startLine": line, "startColumn": column}
    assert zero["level"] == "error"


def test_every_format_is_a_cli_choice():
    for output_format in FORMATS:
        ran = run_cli("--format", output_format, str(CONFIGS / "valid_sampling.yaml"))
        assert ran.returncode == 0, ran.stderr
    other = run_cli("--format", "xml", str(CONFIGS / "valid_sampling.yaml"))
    assert other.returncode == 2 and "invalid choice: 'xml'" in other.stderr


def test_the_cli_refuses_non_utf8_in_one_line(tmp_path):
    config = tmp_path / "cp1252.yaml"
    config.write_bytes("GenerationConfig:\n  stop_strings: [“end”]\n".encode("cp1252"))
    for output_format in FORMATS:
        refused = run_cli("--format", output_format, str(config))
        assert refused.returncode == 2
        assert refused.stdout == ""
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
        offset = config.read_bytes().index(b"\x93")
        assert (
            refused.stderr
            == f"error: {config}: not UTF-8: byte 0x93 at byte offset {offset} (line 2); save it as UTF-8\n"
        )


def test_paths_are_named_as_given_relative_to_where_bazel_run_started(tmp_path):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "zero.yaml").write_bytes((CONFIGS / "zero_new_tokens.yaml").read_bytes())
    env = os.environ | {"BUILD_WORKING_DIRECTORY": str(tmp_path)}
    ran = subprocess.run(
        [sys.executable, "tools/check.py", "--library", LIBRARY, "--format", "sarif", "jobs/zero.yaml"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert ran.returncode == 1, ran.stderr
    (result,) = json.loads(ran.stdout)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "jobs/zero.yaml"

"""The checker: its reports, its errors, and agreement with transformers itself on hand-written configs;
which library version it checks against, and severities with --strict."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from miners.schema import canonical_yaml
from tools.check import (
    CORPUS_FILE,
    ConfigError,
    available_versions,
    check_config,
    choose_version,
    installed_version,
    known_libraries,
    load_library_corpus,
    main,
    matching_version,
    read_config,
    version_key,
    version_notice,
)

CONFIGS = sorted(Path("tools/testdata/configs").iterdir())
# transformers' one-line summary of ignored flags (the details go to INFO): a `dormant` signal.
IGNORED_SUMMARY = "The following generation flags are not valid and may be ignored"


@pytest.fixture(scope="module")
def corpus():
    return load_library_corpus("transformers")


def library_verdict(native: str, kwargs: dict) -> set[str]:
    """What transformers does with a config: {"error"} if it refuses it, else the subset of
    {"warn", "dormant"} it shows — warnings, and flags it ignores (the minor issues that
    GenerationConfig's strict validation turns into errors)."""
    import transformers
    from transformers.generation import configuration_utils

    cls = getattr(transformers, native.rsplit(".", 1)[-1])
    logger = logging.getLogger("transformers")
    records: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())
    saved, logger.handlers = logger.handlers, [handler]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            configuration_utils.logging.get_logger  # noqa: B018 - transformers' logger is set up on import
            logging.Logger.warning_once.cache_clear()
            try:
                instance = cls(**kwargs)
                if hasattr(instance, "validate") and cls is not transformers.GenerationConfig:
                    instance.validate()
            except Exception:  # a refusal is the verdict
                return {"error"}
    finally:
        logger.handlers = saved
    verdict = set()
    said = [str(w.message) for w in caught] + records
    if any(IGNORED_SUMMARY not in text for text in said):
        verdict.add("warn")
    if cls is transformers.GenerationConfig:
        try:
            instance.validate(strict=True)
        except ValueError:
            verdict.add("dormant")
    return verdict


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_checker_agrees_with_transformers(corpus, path):
    config = read_config(str(path))
    ((native, kwargs),) = config.items()
    findings = check_config(corpus, config, str(path))
    severities = {f.severity for f in findings}
    expected = library_verdict(native, kwargs)
    if expected == {"error"}:
        assert "error" in severities, [f.rule.id for f in findings]
    else:
        assert severities == expected, [f.rule.id for f in findings]


def test_the_hand_written_configs_cover_every_severity_and_valid_ones(corpus):
    seen = set()
    for path in CONFIGS:
        findings = check_config(corpus, read_config(str(path)), str(path))
        seen |= {f.severity for f in findings} or {"valid"}
    assert seen == {"error", "warn", "dormant", "valid"}
    assert len(CONFIGS) >= 10


def test_report_names_rule_fields_message_and_fix(corpus):
    (finding,) = [f for f in check_config(corpus, {"GenerationConfig": {"max_new_tokens": 0}}) if f.severity == "error"]
    assert finding.rule.id == "transformers.GenerationConfig.max_new_tokens_le_0"
    assert finding.fields == ["max_new_tokens"]
    # The library's constant stays `…`; the config's own value is filled in.
    assert finding.message == "`max_new_tokens` must be greater than …, but is 0."
    assert finding.fix == "e.g. max_new_tokens=1"
    assert finding.path == ("GenerationConfig", "max_new_tokens")


def test_unknown_class_and_malformed_files_are_clear_errors(corpus, tmp_path):
    with pytest.raises(
        ConfigError, match=r"unknown config class 'GenConfig' for transformers; known classes: .*GenerationConfig"
    ):
        check_config(corpus, {"GenConfig": {}}, "c.yaml")
    with pytest.raises(ConfigError, match="expected a mapping of argument names to values"):
        check_config(corpus, {"GenerationConfig": [1, 2]}, "c.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("GenerationConfig: {temperature: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        read_config(str(bad))


def run_cli(*args):
    return subprocess.run([sys.executable, "tools/check.py", *args], capture_output=True, text=True, check=False)


def test_cli_exit_codes_and_json(tmp_path):
    ok = run_cli("--library", "transformers", "tools/testdata/configs/valid_sampling.yaml")
    assert ok.returncode == 0, ok.stderr
    assert "no rule fires" in ok.stdout
    failing = run_cli(
        "--library",
        "transformers",
        "--format",
        "json",
        "tools/testdata/configs/zero_new_tokens.yaml",
        "tools/testdata/configs/greedy_with_temperature.yaml",
    )
    assert failing.returncode == 1
    report = json.loads(failing.stdout)
    assert list(report) == ["library", "library_version", "version_source", "files"]
    assert report["library"] == "transformers"
    assert report["library_version"] in available_versions("transformers")
    assert report["version_source"] in ("installed", "newest")
    report = report["files"]
    assert report["tools/testdata/configs/zero_new_tokens.yaml"][0] == {
        "fields": ["max_new_tokens"],
        "fix": "e.g. max_new_tokens=1",
        "id": "transformers.GenerationConfig.max_new_tokens_le_0",
        "message": "`max_new_tokens` must be greater than …, but is 0.",
        "path": ["transformers.GenerationConfig", "max_new_tokens"],
        "severity": "error",
        # Where the key is in the file (tools/check_input_test.py checks the locating itself).
        "file": "tools/testdata/configs/zero_new_tokens.yaml",
        "line": 2,
        "column": 3,
    }
    assert {f["severity"] for f in report["tools/testdata/configs/greedy_with_temperature.yaml"]} == {"dormant"}
    bad = tmp_path / "broken.json"
    bad.write_text("{", encoding="utf-8")
    broken = run_cli("--library", "transformers", str(bad))
    assert broken.returncode == 2
    assert "not valid JSON" in broken.stderr and "Traceback" not in broken.stderr
    unknown = run_cli("--library", "vllm2", str(bad))
    assert unknown.returncode == 2 and "no corpus for library 'vllm2'" in unknown.stderr


def test_cli_version_pin(corpus):
    valid = "tools/testdata/configs/valid_sampling.yaml"
    pinned = run_cli("--library", f"transformers=={corpus.library_version}", valid)
    assert pinned.returncode == 0, pinned.stderr
    other = run_cli("--library", "transformers==4.0.0", valid)
    assert other.returncode == 2
    assert (
        f"no corpus for transformers==4.0.0; transformers versions there are: {corpus.library_version}" in other.stderr
    )
    malformed = run_cli("--library", "transformers>=5", valid)
    assert malformed.returncode == 2 and "expected LIBRARY or LIBRARY==VERSION" in malformed.stderr
    assert "Traceback" not in other.stderr + malformed.stderr


def test_cli_strict_fails_on_any_finding():
    dormant_only = "tools/testdata/configs/greedy_with_temperature.yaml"
    lenient = run_cli("--library", "transformers", "--format", "json", dormant_only)
    assert lenient.returncode == 0 and '"severity": "dormant"' in lenient.stdout
    strict = run_cli("--library", "transformers", "--format", "json", "--strict", dormant_only)
    assert strict.returncode == 1
    # The same rules fire; --strict may report them more severely (on_save).
    ids = [[f["id"] for f in json.loads(run.stdout)["files"][dormant_only]] for run in (lenient, strict)]
    assert ids[0] == ids[1]
    clean = run_cli("--library", "transformers", "--strict", "tools/testdata/configs/valid_sampling.yaml")
    assert clean.returncode == 0, clean.stdout


def test_cli_says_which_version_it_chose():
    """No version asked for: the installed transformers (Bazel's hub has one), else the newest, on stderr."""
    valid = "tools/testdata/configs/valid_sampling.yaml"
    ran = run_cli("--library", "transformers", valid)
    assert ran.returncode == 0, ran.stderr
    installed = installed_version("transformers")
    available = available_versions("transformers")
    version, source = choose_version("transformers", None, installed, available)
    assert ran.stderr == version_notice("transformers", version, source) + "\n"
    assert ran.stdout.splitlines()[0].startswith(f"corpus: transformers=={version} (")
    pinned = run_cli("--library", f"transformers=={available[-1]}", valid)
    assert pinned.returncode == 0 and pinned.stderr == "", pinned.stderr
    assert pinned.stdout.splitlines()[0] == f"corpus: transformers=={available[-1]} (requested)"


# --- which version: pure helpers, and the CLI on corpora written for the test ---------------


def test_version_key_orders_as_pep_440():
    ordered = ["0.9", "0.10.0.dev0", "0.10.0a1", "0.10.0b2", "0.10.0rc1", "0.10.0", "0.10.0.post1", "0.10.1", "1.0"]
    assert sorted(reversed(ordered), key=version_key) == ordered
    assert version_key("5.23") == version_key("5.23.0") == version_key("5.23.0+cu128")
    assert version_key("not-a-version") < version_key("0.0.1")
    packaging_version = pytest.importorskip("packaging.version")
    assert sorted(ordered, key=packaging_version.Version) == ordered


def test_matching_version():
    available = ["5.23.0", "4.57.3"]
    assert matching_version("4.57.3", available) == "4.57.3"
    assert matching_version("5.23", available) == "5.23.0"
    assert matching_version("5.23.0+cu128", available) == "5.23.0"
    assert matching_version("5.23.1", available) is None
    assert matching_version("main", available) is None


AVAILABLE = ["5.23.0", "4.57.3"]


def test_choose_requested_version():
    assert choose_version("transformers", "4.57.3", None, AVAILABLE) == ("4.57.3", "requested")
    # Asked for wins over installed.
    assert choose_version("transformers", "4.57.3", "5.23.0", AVAILABLE) == ("4.57.3", "requested")


def test_choose_requested_version_without_corpus():
    with pytest.raises(ConfigError) as refused:
        choose_version("transformers", "4.0.0", "5.23.0", AVAILABLE)
    assert str(refused.value) == "no corpus for transformers==4.0.0; transformers versions there are: 5.23.0, 4.57.3"


def test_choose_installed_version_with_corpus():
    assert choose_version("transformers", None, "4.57.3", AVAILABLE) == ("4.57.3", "installed")
    assert choose_version("vllm", None, "0.32.0+cu128", ["0.32.0"]) == ("0.32.0", "installed")


def test_choose_installed_version_without_corpus_refuses():
    """No silent fallback: the rules of another version may say the opposite."""
    with pytest.raises(ConfigError) as refused:
        choose_version("transformers", None, "4.40.0", AVAILABLE)
    message = str(refused.value)
    assert message.startswith("transformers 4.40.0 is installed here and there is no corpus for it; ")
    assert "transformers versions there are: 5.23.0, 4.57.3" in message
    assert message.endswith("--library transformers==5.23.0")
    assert "\n" not in message


def test_choose_newest_when_not_installed():
    assert choose_version("transformers", None, None, AVAILABLE) == ("5.23.0", "newest")
    assert version_notice("transformers", "5.23.0", "newest") == (
        "kiln-check: transformers is not installed here; checking against the newest corpus, 5.23.0 "
        "(pick one with --library transformers==VERSION)"
    )
    assert "installed here" in version_notice("transformers", "4.57.3", "installed")
    assert version_notice("transformers", "4.57.3", "requested") == ""


def test_installed_version_lookup_is_injectable():
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    assert installed_version("transformers", not_installed) is None
    assert installed_version("transformers", {"transformers": "4.57.3"}.__getitem__) == "4.57.3"


# Fixture corpora: the real transformers corpus's GenerationConfig, as two versions that
# disagree. In "4.57.3", `max_new_tokens: 0` passes (the rule is not there) and a
# temperature with greedy decoding is an error; in "5.23.0" the former is an error and the
# latter dormant, an error on save (on_save).
ZERO_TOKENS = {"GenerationConfig": {"max_new_tokens": 0}}
GREEDY_TEMPERATURE = {"GenerationConfig": {"do_sample": False, "temperature": 0.5}}
ZERO_TOKENS_RULE = "transformers.GenerationConfig.max_new_tokens_le_0"
TEMPERATURE_RULE = "transformers.GenerationConfig.temperature_ne_1_0_ignored"


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    real = load_library_corpus("transformers")
    generation = [r for r in real.rules if r.native_type == "transformers.GenerationConfig"]
    assert {ZERO_TOKENS_RULE, TEMPERATURE_RULE} <= {r.id for r in generation}
    classes = {name: facts for name, facts in real.classes.items() if name == "transformers.GenerationConfig"}

    def variant(version, rules):
        return dataclasses.replace(
            real, library_version=version, rules=tuple(rules), dropped=(), quarantined=(), classes=classes
        )

    old = [
        dataclasses.replace(r, severity="error") if r.id == TEMPERATURE_RULE else r
        for r in generation
        if r.id != ZERO_TOKENS_RULE
    ]
    new = [dataclasses.replace(r, on_save="error") if r.id == TEMPERATURE_RULE else r for r in generation]
    root = tmp_path_factory.mktemp("corpora")
    for corpus in (variant("4.57.3", old), variant("5.23.0", new)):
        path = root / "transformers" / corpus.library_version / CORPUS_FILE
        path.parent.mkdir(parents=True)
        canonical_yaml.write(path, corpus.to_data())
    return root


@pytest.fixture
def config_file(tmp_path):
    def write(config):
        path = tmp_path / "job.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        return str(path)

    return write


def check(corpora, capsys, *args, installed=None):
    def lookup(name):
        if installed is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return installed

    status = main(["--library", *args], corpora=corpora, lookup=lookup)
    out, err = capsys.readouterr()
    return status, out, err


def test_fixture_corpora_versions(corpora):
    assert known_libraries(corpora) == ["transformers"]
    assert available_versions("transformers", corpora) == ["5.23.0", "4.57.3"]
    assert load_library_corpus("transformers", corpora=corpora).library_version == "5.23.0"
    assert load_library_corpus("transformers", "4.57.3", corpora=corpora).library_version == "4.57.3"
    with pytest.raises(ConfigError, match="no corpus for library 'vllm'; known libraries: transformers"):
        available_versions("vllm", corpora)


def test_cli_requested_version(corpora, capsys, config_file):
    status, out, err = check(
        corpora, capsys, "transformers==4.57.3", "--format", "json", config_file(ZERO_TOKENS), installed="5.23.0"
    )
    assert (status, err) == (0, "")
    report = json.loads(out)
    assert (report["library"], report["library_version"], report["version_source"]) == (
        "transformers",
        "4.57.3",
        "requested",
    )


def test_cli_requested_version_without_corpus(corpora, capsys, config_file):
    status, out, err = check(corpora, capsys, "transformers==4.0.0", config_file(ZERO_TOKENS))
    assert (status, out) == (2, "")
    assert err == "error: no corpus for transformers==4.0.0; transformers versions there are: 5.23.0, 4.57.3\n"


def test_cli_installed_version(corpora, capsys, config_file):
    status, out, err = check(
        corpora, capsys, "transformers", "--format", "json", config_file(ZERO_TOKENS), installed="4.57.3"
    )
    assert status == 0
    assert err == version_notice("transformers", "4.57.3", "installed") + "\n"
    report = json.loads(out)
    assert (report["library_version"], report["version_source"]) == ("4.57.3", "installed")


def test_cli_installed_version_without_corpus(corpora, capsys, config_file):
    status, out, err = check(corpora, capsys, "transformers", config_file(ZERO_TOKENS), installed="4.40.0")
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith(
        "error: transformers 4.40.0 is installed here and there is no corpus"
    )
    assert "5.23.0, 4.57.3" in err and "--library transformers==5.23.0" in err


def test_cli_not_installed_uses_the_newest(corpora, capsys, config_file):
    status, out, err = check(corpora, capsys, "transformers", "--format", "json", config_file(ZERO_TOKENS))
    assert status == 1
    assert err == (
        "kiln-check: transformers is not installed here; checking against the newest corpus, 5.23.0 "
        "(pick one with --library transformers==VERSION)\n"
    )
    report = json.loads(out)
    assert (report["library_version"], report["version_source"]) == ("5.23.0", "newest")
    assert [f["id"] for f in next(iter(report["files"].values()))] == [ZERO_TOKENS_RULE]


def test_cli_text_and_sarif_name_the_version(corpora, capsys, config_file):
    path = config_file(ZERO_TOKENS)
    _, out, _ = check(corpora, capsys, "transformers==4.57.3", path)
    assert out.splitlines()[0] == "corpus: transformers==4.57.3 (requested)"
    _, out, _ = check(corpora, capsys, "transformers", "--format", "sarif", path)
    assert json.loads(out)["runs"][0]["properties"] == {
        "library": "transformers",
        "libraryVersion": "5.23.0",
        "versionSource": "newest",
    }


@pytest.mark.parametrize(
    ("config", "rejected_by"),
    [(ZERO_TOKENS, "5.23.0"), (GREEDY_TEMPERATURE, "4.57.3")],
    ids=["only_5.23.0_rejects", "only_4.57.3_rejects"],
)
def test_version_specific_verdict(corpora, capsys, config_file, config, rejected_by):
    """A config one version refuses and the other does not: the verdict is the chosen version's.
    (Fixture corpora: the real 4.57.3 corpus is not checked in yet.)"""
    path = config_file(config)
    for version in available_versions("transformers", corpora):
        status, out, _ = check(corpora, capsys, f"transformers=={version}", "--format", "json", path)
        severities = {f["severity"] for f in json.loads(out)["files"][path]}
        assert (status == 1) == (version == rejected_by), (version, out)
        assert ("error" in severities) == (version == rejected_by)


def test_strict_reports_the_on_save_severity(corpora, capsys, config_file):
    path = config_file(GREEDY_TEMPERATURE)
    status, out, _ = check(corpora, capsys, "transformers==5.23.0", "--format", "json", path)
    (lenient,) = json.loads(out)["files"][path]
    assert status == 0
    assert (lenient["id"], lenient["severity"]) == (TEMPERATURE_RULE, "dormant")
    assert "raises on save_pretrained (on_save: error); --strict reports it as error" in lenient["notes"]
    status, out, _ = check(corpora, capsys, "transformers==5.23.0", "--strict", "--format", "json", path)
    (strict,) = json.loads(out)["files"][path]
    assert status == 1
    assert (strict["id"], strict["severity"]) == (TEMPERATURE_RULE, "error")
    assert strict["notes"][0] == "raises on save_pretrained (on_save: error)"


def test_check_config_strict_uses_strictest(corpora):
    corpus = load_library_corpus("transformers", "5.23.0", corpora=corpora)
    (lenient,) = check_config(corpus, GREEDY_TEMPERATURE)
    (strict,) = check_config(corpus, GREEDY_TEMPERATURE, strict=True)
    assert (lenient.severity, strict.severity) == ("dormant", lenient.rule.strictest) == ("dormant", "error")
    # A rule without on_save: --strict changes nothing but the exit status.
    old = load_library_corpus("transformers", "4.57.3", corpora=corpora)
    assert check_config(old, GREEDY_TEMPERATURE, strict=True) == check_config(old, GREEDY_TEMPERATURE)

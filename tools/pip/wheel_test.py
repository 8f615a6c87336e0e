"""The kiln-check wheel, installed into a fresh venv from its own files only, checks configs."""

from __future__ import annotations

import email.parser
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

WHEEL = Path(os.environ["KILN_CHECK_WHEEL"]).resolve()
PYYAML_WHEEL = Path(os.environ["PYYAML_WHEEL"]).resolve()
PYPROJECT = tomllib.loads(Path(os.environ["PYPROJECT"]).read_text(encoding="utf-8"))
CONFIGS = Path("tools/testdata/configs").resolve()
# Every checked-in corpus, as //tools:corpora gives them: corpus/<library>/<version>/...
CORPORA = sorted(Path("corpus").glob("*/*/invariants.validated.yaml"))
VERSION = WHEEL.name.split("-")[1]


@pytest.fixture(scope="module")
def sandbox() -> Path:
    """An empty working directory, a home of its own, and the wheelhouse: nothing of the workspace."""
    root = Path(os.environ["TEST_TMPDIR"], "install")
    for directory in ("cwd", "home", "wheelhouse"):
        (root / directory).mkdir(parents=True)
    for wheel in (WHEEL, PYYAML_WHEEL):
        shutil.copy(wheel, root / "wheelhouse")
    return root


def run(sandbox: Path, *command: str | Path) -> subprocess.CompletedProcess[str]:
    """`command` in the sandbox, with no PYTHONPATH, runfiles or pip configuration of the test's."""
    env = {"PATH": f"{sandbox / 'venv/bin'}:/usr/bin:/bin", "HOME": str(sandbox / "home"), "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [str(part) for part in command], cwd=sandbox / "cwd", env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def venv(sandbox: Path) -> Path:
    venv = sandbox / "venv"
    # The interpreter itself, not the runfiles symlink: a venv finds its standard library from it.
    made = run(sandbox, os.path.realpath(sys.executable), "-m", "venv", venv)
    assert made.returncode == 0, made.stderr
    installed = run(
        sandbox,
        venv / "bin/python",
        "-m",
        "pip",
        "install",
        "--isolated",
        "--no-index",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--find-links",
        sandbox / "wheelhouse",
        f"kiln_check=={VERSION}",
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv


def test_help(sandbox, venv):
    help_text = run(sandbox, "kiln-check", "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert help_text.stdout.startswith("usage: kiln-check ")
    assert "--library LIBRARY" in help_text.stdout and "--strict" in help_text.stdout


def test_clean_config_passes(sandbox, venv):
    config = CONFIGS / "valid_sampling.yaml"
    clean = run(sandbox, "kiln-check", "--library", "transformers", config)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # Not installed in the venv: the newest corpus, said on stderr and named first in the report.
    assert clean.stderr.startswith("kiln-check: transformers is not installed here; checking against the newest corpus")
    header, *rest = clean.stdout.splitlines()
    assert header.startswith("corpus: transformers==") and header.endswith(" (the newest corpus)")
    assert rest == [f"{config}: no rule fires"]


def test_erroring_config_fails_with_the_finding(sandbox, venv):
    config = CONFIGS / "zero_new_tokens.yaml"
    failing = run(sandbox, "kiln-check", "--library", "transformers", config)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert f"{config}: 1 rule(s) fire" in failing.stdout
    assert "error   transformers.GenerationConfig.max_new_tokens_le_0" in failing.stdout


def test_the_report_formats_are_installed(sandbox, venv):
    """check_input and check_output come with the wheel: locations, GitHub commands, SARIF."""
    config = CONFIGS / "zero_new_tokens.yaml"
    github = run(sandbox, "kiln-check", "--library", "transformers", "--format", "github", config)
    assert github.returncode == 1, github.stdout + github.stderr
    assert github.stdout.startswith(f"::error file={config},line=")
    assert ",title=transformers.GenerationConfig.max_new_tokens_le_0::" in github.stdout
    sarif = run(sandbox, "kiln-check", "--library", "transformers", "--format", "sarif", config)
    assert sarif.returncode == 1, sarif.stdout + sarif.stderr
    (result,) = json.loads(sarif.stdout)["runs"][0]["results"]
    assert result["ruleId"] == "transformers.GenerationConfig.max_new_tokens_le_0"


def test_every_corpus_is_installed(sandbox, venv):
    unknown = run(sandbox, "kiln-check", "--library", "vllm2", CONFIGS / "valid_sampling.yaml")
    assert unknown.returncode == 2
    assert unknown.stderr == "error: no corpus for library 'vllm2'; known libraries: transformers, vllm\n"


@pytest.mark.parametrize("corpus", CORPORA, ids=[f"{c.parent.parent.name}=={c.parent.name}" for c in CORPORA])
def test_every_version_is_installed(sandbox, venv, corpus):
    library, version = corpus.parent.parent.name, corpus.parent.name
    code = (
        "import sys, kiln_check; from tools.check import load_library_corpus; "
        "print(load_library_corpus(sys.argv[1], sys.argv[2]).library_version)"
    )
    loaded = run(sandbox, venv / "bin/python", "-c", code, library, version)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == f"{version}\n"


def test_the_checker_and_pyyaml_come_from_the_venv(sandbox, venv):
    where = run(
        sandbox,
        venv / "bin/python",
        "-c",
        "import kiln_check, tools.check, yaml; print(kiln_check.__file__, tools.check.__file__, yaml.__file__)",
    )
    assert where.returncode == 0, where.stderr
    package, checker, pyyaml = where.stdout.split()
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    assert Path(package).parent == Path(checker).parent.parent == site_packages / "kiln_check"
    assert Path(pyyaml).is_relative_to(site_packages)


def test_only_kiln_check_is_installed_at_the_top(sandbox, venv):
    """The checker's modules are named tools and miners inside the package; a user's own are not shadowed."""
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    record = (site_packages / f"kiln_check-{VERSION}.dist-info" / "RECORD").read_text()
    installed = {line.split(",")[0] for line in record.splitlines()}
    tops = {path.split("/")[0] for path in installed if not path.startswith("../")}
    assert tops == {"kiln_check", f"kiln_check-{VERSION}.dist-info"}
    assert {path for path in installed if path.startswith("../")} == {"../../../bin/kiln-check"}


def test_the_python_api(sandbox, venv):
    code = (
        "from kiln_check import check_config, load_library_corpus; "
        "found = check_config(load_library_corpus('transformers'), {'GenerationConfig': {'max_new_tokens': 0}}); "
        "print(*[f.rule.id for f in found])"
    )
    api = run(sandbox, venv / "bin/python", "-c", code)
    assert api.returncode == 0, api.stderr
    assert api.stdout.split() == ["transformers.GenerationConfig.max_new_tokens_le_0"]


def test_pyproject_packages_what_the_bazel_wheel_does():
    """pre-commit builds the wheel from pyproject.toml: it must be this one, file for file."""
    with zipfile.ZipFile(WHEEL) as wheel:
        names = wheel.namelist()
        distinfo = f"kiln_check-{VERSION}.dist-info"
        metadata = email.parser.Parser().parsestr(wheel.read(f"{distinfo}/METADATA").decode())
        entry_points = wheel.read(f"{distinfo}/entry_points.txt").decode()
    project = PYPROJECT["project"]
    wheel_target = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]
    # hatch: the `include` patterns (anchored at the root), every path prefixed by the empty `sources` key.
    prefix = wheel_target["sources"][""].rstrip("/") + "/"
    patterns = [pattern.lstrip("/") for pattern in wheel_target["include"]]
    packed = [n.removeprefix(prefix) for n in names if not n.startswith(distinfo)]
    assert all(n.startswith(prefix) for n in names if not n.startswith(distinfo))
    forced = sorted(wheel_target["force-include"].values())
    selected = sorted(n for n in packed if n not in forced)
    assert all(any(glob_matches(n, pattern) for pattern in patterns) for n in selected), selected
    assert all(any(glob_matches(n, pattern) for n in selected) for pattern in patterns), patterns
    assert sorted(n for n in packed if n in forced) == forced
    # The corpus glob selects every corpus of every version, as the Bazel wheel packs them.
    assert CORPORA and {str(c) for c in CORPORA} <= set(selected)
    assert (project["name"], project["version"]) == (metadata["Name"], metadata["Version"])
    assert project["dependencies"] == metadata.get_all("Requires-Dist")
    assert project["requires-python"] == metadata["Requires-Python"]
    scripts = [f"{name} = {target}" for name, target in project["scripts"].items()]
    assert entry_points.splitlines() == ["[console_scripts]", *scripts]


def glob_matches(path: str, pattern: str) -> bool:
    """hatch's (gitignore's) glob, for the patterns pyproject.toml uses: `*` within one path segment."""
    parts, wanted = path.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True))

"""The SSOT's absent_modules: locked packages the miners run without."""

import importlib
import importlib.util
import subprocess
import sys
import textwrap

import pytest
import yaml

from miners import ssot
from miners.errors import MinerVersionUndeclaredError, SchemaError

SSOT = """\
library: json
distribution: pyyaml
miner_pins: {static: ">=1"}
native_types:
  json.JSONDecoder: {module: json.decoder}
"""


def test_absent_modules_import_as_if_not_installed(tmp_path):
    # In a fresh interpreter: hiding a module is for the rest of the process.
    path = tmp_path / "versions.yaml"
    path.write_text(SSOT + "absent_modules: [wave, email.mime]\n")
    probe = textwrap.dedent(f"""
        import importlib.util
        from miners import ssot
        spec = ssot.load({str(path)!r})
        assert spec.absent_modules == ("wave", "email.mime"), spec.absent_modules
        assert importlib.util.find_spec("wave") is None
        for name in ("wave", "email.mime"):
            try:
                __import__(name)
            except ModuleNotFoundError:
                pass
            else:
                raise AssertionError(name + " imported")
        import json  # the library itself still imports
        print("ok")
    """)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": ":".join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_without_absent_modules_nothing_is_hidden(tmp_path):
    path = tmp_path / "versions.yaml"
    path.write_text(SSOT)
    assert ssot.load(str(path)).absent_modules == ()
    assert importlib.util.find_spec("wave") is not None
    importlib.import_module("wave")


@pytest.mark.parametrize("value", ["torchvision", "[1]", "['']"])
def test_malformed_absent_modules_are_refused(tmp_path, value):
    path = tmp_path / "versions.yaml"
    path.write_text(SSOT + f"absent_modules: {value}\n")
    with pytest.raises(SchemaError, match="'absent_modules' must be a list of module names"):
        ssot.load(str(path))


MULTI = """\
library: json
distribution: pyyaml
versions:
  "2.0":
    miner_pins: {static: ">=2,<3"}
    native_types:
      json.JSONDecoder: null
      json.JSONEncoder: {module: json.encoder, validators: [__init__]}
  "1.10":
    miner_pins: {static: ">=1.10,<1.11"}
    native_types:
      json.JSONDecoder: {validators: [decode]}
native_types:
  json.JSONDecoder: {module: json.decoder, validators: [__init__]}
"""


def test_versions_are_ordered_as_versions_not_as_text(tmp_path):
    assert ssot.declared_versions(yaml.safe_load(MULTI), "v.yaml") == ["1.10", "2.0"]


def test_a_version_sees_the_shared_classes_with_its_own_differences(tmp_path):
    path = tmp_path / "versions.yaml"
    path.write_text(MULTI)
    old = ssot.load(str(path), version="1.10")
    assert (old.version, dict(old.miner_pins)) == ("1.10", {"static": ">=1.10,<1.11"})
    assert [(n.name, n.module, n.validators) for n in old.native_types] == [
        ("json.JSONDecoder", "json.decoder", ("decode",))
    ]
    new = ssot.load(str(path), version="2.0")
    assert [n.name for n in new.native_types] == ["json.JSONEncoder"]


def test_the_resolver_writes_one_versions_view_and_loads_it_back(tmp_path):
    path, out = tmp_path / "versions.yaml", tmp_path / "view.yaml"
    path.write_text(MULTI)
    assert ssot.main(["--ssot", str(path), "--version", "2.0", "--out", str(out)]) == 0
    assert ssot.load(str(out)).version == "2.0"
    assert "versions" not in yaml.safe_load(out.read_text())


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d["versions"].pop("2.0") and d["versions"].pop("1.10"), "'versions' must map library versions"),
        (lambda d: d["versions"]["2.0"].pop("miner_pins"), "versions.2.0 needs its own miner_pins"),
        (lambda d: d["versions"]["2.0"].update(library="x"), "versions.2.0 may set only"),
        (lambda d: d["versions"]["2.0"]["miner_pins"].update(static=">=3"), "does not contain 2.0 itself"),
        (lambda d: d["versions"]["2.0"]["native_types"].update({"json.Nope": None}), "null removes a shared class"),
        (lambda d: d["versions"].update({"two": {"miner_pins": {}}}), "'two' is not a version"),
    ],
)
def test_malformed_version_entries_are_refused_by_name(tmp_path, edit, problem, capsys):
    data = yaml.safe_load(MULTI)
    edit(data)
    path, out = tmp_path / "versions.yaml", tmp_path / "view.yaml"
    path.write_text(yaml.safe_dump(data))
    assert ssot.main(["--ssot", str(path), "--version", "2.0", "--out", str(out)]) == 2
    assert problem in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "view.yaml.tmp").exists()


def test_an_undeclared_version_lists_the_declared_ones(tmp_path):
    path = tmp_path / "versions.yaml"
    path.write_text(MULTI)
    with pytest.raises(SchemaError, match=r"no version '3\.0' here; versions declared: 1\.10, 2\.0"):
        ssot.load(str(path), version="3.0")


def test_the_installed_version_must_be_declared(tmp_path):
    # pyyaml is installed here at a version MULTI does not declare.
    path = tmp_path / "versions.yaml"
    path.write_text(MULTI)
    with pytest.raises(MinerVersionUndeclaredError, match=r"declares only 1\.10, 2\.0\. Add it under versions:"):
        ssot.load(str(path))

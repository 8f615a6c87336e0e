"""The SSOT's absent_modules: locked packages the miners run without."""

import importlib
import importlib.util
import subprocess
import sys
import textwrap

import pytest

from miners import ssot
from miners.errors import SchemaError

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

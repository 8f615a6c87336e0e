"""Regenerates a lock with pip-compile, then drops extras from its requirement lines.

rules_python 0.22 derives each wheel's dependencies from its metadata, extras
included, and a package whose extra names the package itself (vLLM's
`mistral-common[image]` requires `mistral_common[opencv]`) then depends on
itself, which Bazel refuses as a cycle. Every extra's dependencies are pinned
on lines of their own, and every binary depends on the whole hub, so the lock
loses nothing by naming packages without their extras.

python pip_lock.py <pip-compile update binary> <workspace-relative lock path> -- <its arguments>
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

_EXTRAS = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\[[^\]]*\](==)", re.MULTILINE)


def strip_extras(text: str) -> str:
    return _EXTRAS.sub(r"\1\2", text)


def main(argv: list[str]) -> int:
    compile_binary, lock, separator, *compile_args = argv
    if separator != "--":
        raise SystemExit("usage: pip_lock.py <update binary> <lock> -- <update binary arguments>")
    result = subprocess.run([compile_binary, *compile_args], check=False)
    if result.returncode != 0:
        return result.returncode
    path = Path(os.environ["BUILD_WORKSPACE_DIRECTORY"]) / lock
    path.write_text(strip_extras(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

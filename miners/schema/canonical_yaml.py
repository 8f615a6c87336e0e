"""Canonical YAML: the same data always gives the same bytes.

Keys are sorted, no anchors or aliases, block style, a fixed width, and a
trailing newline. Files are written atomically, so a failed step leaves no
partial output behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from miners.errors import SchemaError


class _CanonicalDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dumps(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_CanonicalDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
        indent=2,
        explicit_start=False,
    )


def write(path: str | os.PathLike[str], data: Any) -> None:
    """Writes `data` to `path` as canonical YAML, atomically."""
    write_text(path, dumps(data))


def write_text(path: str | os.PathLike[str], text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: str | os.PathLike[str], *, display: str | None = None) -> Any:
    """Reads a YAML file; a syntax error becomes a SchemaError naming the file and the line."""
    shown = display or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(shown, "file not found") from None
    except UnicodeDecodeError as err:
        raise SchemaError(shown, f"not UTF-8 text ({err.reason})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise SchemaError(shown, f"not valid YAML{where}: {problem}") from None

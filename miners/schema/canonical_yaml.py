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


# Bounds on what a file read here may hold; canonical files (no aliases, rules a few levels
# deep) are far inside them. Deeper nesting would exhaust the stack of whatever walks the
# data; aliases repeating more values, a "billion laughs", would expand past memory.
MAX_DEPTH = 100
MAX_ALIAS_REPEATS = 10_000


def read(path: str | os.PathLike[str], *, display: str | None = None) -> Any:
    """Reads a YAML file (safe_load's data); any problem becomes a one-line SchemaError naming the file."""
    shown = display or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(shown, "file not found") from None
    except UnicodeDecodeError as err:
        line = err.object.count(b"\n", 0, err.start) + 1
        raise SchemaError(shown, f"not UTF-8 text ({err.reason} at byte offset {err.start}, line {line})") from None
    except OSError as err:
        raise SchemaError(shown, f"cannot read it ({err.strerror or err})") from None
    try:
        return _load(text, shown)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise SchemaError(shown, _one_line(f"not valid YAML{where}: {problem}")) from None
    except RecursionError:
        raise SchemaError(shown, f"nested too deeply to read (at most {MAX_DEPTH} levels)") from None
    except ValueError as err:  # a scalar the safe constructors refuse: a date out of range, an int too long
        problem = str(err).split("; use sys.set_int_max_str_digits()")[0]
        raise SchemaError(shown, _one_line(f"not valid YAML: {problem}")) from None
    except (AttributeError, IndexError, KeyError, TypeError):
        # How the safe constructors fail on an explicit tag its text does not fit (`!!bool maybe`).
        raise SchemaError(shown, "not valid YAML: a value is not one of its tag's (!!bool, !!int, ...)") from None


def _load(text: str, shown: str) -> Any:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_shape(node, shown)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_shape(root: yaml.Node, shown: str) -> None:
    """Refuses nesting past MAX_DEPTH and aliases that repeat more than MAX_ALIAS_REPEATS values."""
    seen: set[int] = set()
    repeats = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, again = stack.pop()
        again = again or id(node) in seen  # reached before, through an alias: each value inside counts
        if again:
            repeats += 1
            if repeats > MAX_ALIAS_REPEATS:
                raise SchemaError(
                    shown,
                    f"its aliases expand to more than {MAX_ALIAS_REPEATS} repeated values; "
                    "canonical YAML has no aliases: write it again with canonical_yaml.write",
                )
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            continue
        if depth >= MAX_DEPTH:
            raise SchemaError(
                shown, f"line {node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep; flatten it"
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1, again) for child in node.value)
        else:
            stack.extend((part, depth + 1, again) for pair in node.value for part in pair)


def _one_line(text: str) -> str:
    return " ".join(text.split())

"""Fails while a checked-in reference page differs from the one stardoc renders.

python check_page.py --rendered BUILT --checked-in docs/rules/NAME.md --update-target LABEL

Run by `rule_docs`' `<name>_test` (tools/docs/rule_docs.bzl), in its runfiles.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

MAX_DIFF_LINES = 200


def check(rendered: Path, checked_in: Path, page: str, update: str) -> tuple[bool, str]:
    """(whether the copy is current, the report for a stale one)."""
    new = rendered.read_text(encoding="utf-8")
    if not checked_in.is_file():
        return False, f"{page} does not exist: run {update} and commit it\n"
    old = checked_in.read_text(encoding="utf-8")
    if old == new:
        return True, ""
    diff = list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{page} (checked in)",
            tofile=f"{page} (rendered)",
        )
    )
    shown = diff[:MAX_DIFF_LINES]
    if len(diff) > MAX_DIFF_LINES:
        shown.append(f"... {len(diff) - MAX_DIFF_LINES} more diff lines\n")
    body = "".join(line if line.endswith("\n") else line + "\n" for line in shown)
    return False, f"{body}\n{page} is stale: run {update} and commit the diff\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="check_page", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rendered", required=True, type=Path, help="the page stardoc rendered")
    parser.add_argument("--checked-in", required=True, help="workspace-relative path of the copy")
    parser.add_argument("--update-target", required=True, help="the target that rewrites the copy")
    args = parser.parse_args(argv)
    update = f"./bazelw run {args.update_target}"
    current, report = check(args.rendered, Path(args.checked_in), args.checked_in, update)
    if not current:
        sys.stderr.write(report)
        return 1
    print(f"{args.checked_in} is current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

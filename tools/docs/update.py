"""Writes rendered reference pages over their checked-in copies (run through `bazel run`).

python update.py BUILT=docs/rules/NAME.md ...

Run by `rule_docs_update`'s target (tools/docs/rule_docs.bzl).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rule_docs.update", description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", help="BUILT=WORKSPACE_RELATIVE_PATH pairs")
    args = parser.parse_args(argv)
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if not workspace:
        print("error: run this with `./bazelw run`, which says where the workspace is", file=sys.stderr)
        return 2
    for pair in args.pages:
        built, _, page = pair.partition("=")
        target = Path(workspace) / page
        changed = not target.is_file() or target.read_bytes() != Path(built).read_bytes()
        if changed:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(built, target)
            target.chmod(0o644)
        print(f"{'updated' if changed else 'unchanged'}: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

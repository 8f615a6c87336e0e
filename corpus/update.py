"""Writes built corpus files back into the source tree (run through `bazel run`).

python corpus/update.py --dest corpus/transformers BUILT=NAME ...   (NAME may be in a folder: 5.23.0/rules.md)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="corpus.update", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", required=True, help="workspace-relative folder of the checked-in copy")
    parser.add_argument("files", nargs="+", help="BUILT=NAME pairs")
    args = parser.parse_args(argv)
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if not workspace:
        print("error: run this with `./bazelw run`, which says where the workspace is", file=sys.stderr)
        return 2
    dest = Path(workspace) / args.dest
    dest.mkdir(parents=True, exist_ok=True)
    for pair in args.files:
        built, _, name = pair.partition("=")
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        changed = not target.exists() or target.read_bytes() != Path(built).read_bytes()
        shutil.copyfile(built, target)
        target.chmod(0o644)
        print(f"{'updated' if changed else 'unchanged'}: {args.dest}/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

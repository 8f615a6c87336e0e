"""python -m miners.static --ssot miners/<library>/versions.yaml --out <library>.static.yaml"""

from __future__ import annotations

import argparse

from miners import cli, ssot
from miners.static.miner import mine


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="miners.static", description=__doc__)
    parser.add_argument("--ssot", required=True, help="the library's versions.yaml")
    parser.add_argument("--out", required=True, help="the staging file to write")
    parser.add_argument("--source-root", help="read the library from this source tree instead of importing it")
    args = parser.parse_args(argv)
    corpus = mine(ssot.load(args.ssot), source_root=args.source_root)
    corpus.write(args.out)
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)

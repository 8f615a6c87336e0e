"""python -m miners.lifts --ssot miners/<library>/versions.yaml --out <library>.lift.yaml"""

from __future__ import annotations

import argparse

from miners import cli, ssot
from miners.lifts.miner import mine


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="miners.lifts", description=__doc__)
    parser.add_argument("--ssot", required=True, help="the library's versions.yaml")
    parser.add_argument("--out", required=True, help="the staging file to write")
    args = parser.parse_args(argv)
    mine(ssot.load(args.ssot)).write(args.out)
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)

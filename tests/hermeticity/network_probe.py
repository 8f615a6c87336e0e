"""Stands in for a miner in a miner_staging action and records what network it can reach.

Same command line as a miner (--ssot, --out), run by the same rule, so it gets
exactly the sandbox and execution requirements every miner action gets.
"""

from __future__ import annotations

import argparse
import json
import socket

# PyPI is reachable from the machines this project runs on; its name and one
# of its addresses are what a miner would try first if it tried at all.
HOST, ADDRESS, PORT = "pypi.org", "151.101.0.223", 443


def attempt(action) -> str:
    try:
        action()
    except OSError as err:
        return f"failed: {type(err).__name__}"
    return "ok"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ssot")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    report = {
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "resolve": attempt(lambda: socket.getaddrinfo(HOST, PORT)),
        "connect": attempt(lambda: socket.create_connection((ADDRESS, PORT), timeout=5).close()),
    }
    with open(args.out, "w", encoding="utf-8") as stream:
        json.dump(report, stream, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()

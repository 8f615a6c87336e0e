"""What every pipeline CLI shares: exit codes derived from outcomes, errors on stderr.

Exit 0: success. Exit 2: a MinerError (bad input, version mismatch, missing
landmark) — the message says what was expected, what was found, what to do,
and no output file is written (outputs are written atomically at the end).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from miners.errors import MinerError

EXIT_OK = 0
EXIT_ERROR = 2


def run(main: Callable[[list[str]], int], argv: list[str] | None = None) -> None:
    try:
        code = main(sys.argv[1:] if argv is None else argv)
    except MinerError as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        code = EXIT_ERROR
    sys.exit(code)

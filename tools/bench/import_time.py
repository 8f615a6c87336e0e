"""Prints how long importing a library's config modules takes in a fresh process, in seconds.

python import_time.py [--absent MODULE ...] MODULE [MODULE ...]

`--absent` hides a module from import first, as the miners do for the SSOT's
absent_modules.
"""

from __future__ import annotations

import importlib
import sys
import time

if __name__ == "__main__":
    arguments = sys.argv[1:]
    while arguments[:1] == ["--absent"]:
        sys.modules.setdefault(arguments[1], None)
        arguments = arguments[2:]
    start = time.perf_counter()
    for name in arguments:
        importlib.import_module(name)
    print(f"{time.perf_counter() - start:.2f}")

"""Prints how long importing a library's config modules takes in a fresh process, in seconds.

python import_time.py MODULE [MODULE ...]
"""

from __future__ import annotations

import importlib
import sys
import time

if __name__ == "__main__":
    start = time.perf_counter()
    for name in sys.argv[1:]:
        importlib.import_module(name)
    print(f"{time.perf_counter() - start:.2f}")

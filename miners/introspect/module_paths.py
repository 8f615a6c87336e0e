"""Where a module's source is, as rules record it: relative to the library's install root."""

from __future__ import annotations

import inspect
import os
import sys
from types import ModuleType


def relative_path(module: ModuleType) -> str:
    """The module's file relative to the directory holding its top-level package."""
    top = sys.modules[module.__name__.split(".")[0]]
    top_file = getattr(top, "__file__", None)
    module_file = inspect.getsourcefile(module)
    if not top_file or not module_file:
        return module.__name__.replace(".", "/") + ".py"
    root = os.path.dirname(os.path.dirname(os.path.realpath(top_file)))
    return os.path.relpath(os.path.realpath(module_file), root).replace(os.sep, "/")

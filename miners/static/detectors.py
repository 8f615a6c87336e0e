"""Detectors: each knows one statement pattern and reports it as data.

The walker (walker.py) hands every statement of a validator body to every
detector, together with the scope at that point; a detector answers with a
`Finding` or None. It does not look at the conditions around the statement —
the walker collects those.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Protocol

from miners.static.conditions import Scope, Untranslatable, class_name


@dataclass(frozen=True)
class Finding:
    """One statement that objects to a config: what it does, where, and its message expression."""

    detector: str
    severity: str
    emission: str
    line: int
    message: ast.expr | None
    exception_type: str | None = None


class Detector(Protocol):
    name: str

    def detect(self, stmt: ast.stmt, scope: Scope) -> Finding | None: ...


class ConditionalRaiseDetector:
    """`if <condition>: raise SomeError(message)` — the library refuses the config."""

    name = "conditional_raise"

    def detect(self, stmt: ast.stmt, scope: Scope) -> Finding | None:
        if not isinstance(stmt, ast.Raise) or not isinstance(stmt.exc, ast.Call):
            return None
        call = stmt.exc
        try:
            exception_type = class_name(call.func, scope)
        except Untranslatable:
            exception_type = ast.unparse(call.func).rsplit(".", 1)[-1]
        message = call.args[0] if call.args else None
        return Finding(self.name, "error", "raise", stmt.lineno, message, exception_type)


DEFAULT_DETECTORS: tuple[Detector, ...] = (ConditionalRaiseDetector(),)

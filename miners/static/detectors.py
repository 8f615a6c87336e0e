"""Detectors: each knows one statement pattern and reports it as data.

The walker (walker.py) hands every statement of a validator body to every
detector, together with the scope at that point; a detector answers with a
`Finding` or None. It does not look at the conditions around the statement —
the walker collects those — and it does not filter: the miner does.
"""

from __future__ import annotations

import ast
import logging
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

from miners.static.conditions import Scope, Untranslatable, class_name, constant_value

_LOGGER_METHODS = ("warning", "warning_once", "warn")


@dataclass(frozen=True)
class Finding:
    """One statement that objects to a config: what it does, where, and its message expression."""

    detector: str
    severity: str
    emission: str
    line: int
    message: ast.expr | None = None
    exception_type: str | None = None
    target: str | None = None  # self-assign: the field assigned; minor issue: the field it is about
    value: Any = None  # self-assign: the constant assigned
    value_known: bool = False  # self-assign: whether `value` is a constant
    printf: bool = False  # the message is a %-format string with its values passed separately


class Detector(Protocol):
    name: str

    def detect(self, stmt: ast.stmt, scope: Scope) -> Finding | None: ...


def _call_of(stmt: ast.stmt) -> ast.Call | None:
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return stmt.value
    return None


def _message(call: ast.Call, keyword: str = "msg") -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


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
        return Finding(self.name, "error", "raise", stmt.lineno, _message(call), exception_type)


class ConditionalWarningsWarnDetector:
    """`if <condition>: warnings.warn(message, ...)` — the library accepts but warns."""

    name = "conditional_warnings_warn"

    def detect(self, stmt: ast.stmt, scope: Scope) -> Finding | None:
        call = _call_of(stmt)
        if call is None:
            return None
        func = call.func
        by_module = (
            isinstance(func, ast.Attribute)
            and func.attr == "warn"
            and isinstance(func.value, ast.Name)
            and scope.module_globals.get(func.value.id) is warnings
        )
        by_name = isinstance(func, ast.Name) and scope.module_globals.get(func.id) is warnings.warn
        if not (by_module or by_name):
            return None
        return Finding(self.name, "warn", "warnings.warn", stmt.lineno, _message(call, "message"))


def _is_logger(obj: object) -> bool:
    """A logging.Logger, or (read from source) a name imported as a module's `logger`."""
    if isinstance(obj, logging.Logger):
        return True
    qualname = getattr(obj, "qualname", None)
    return isinstance(qualname, str) and qualname.rsplit(".", 1)[-1] in ("logger", "_logger", "log")


class ConditionalLoggerWarningDetector:
    """`if <condition>: logger.warning(message)` (or `warning_once`) — accepted, with a log warning."""

    name = "conditional_logger_warning"

    def detect(self, stmt: ast.stmt, scope: Scope) -> Finding | None:
        call = _call_of(stmt)
        if call is None or not isinstance(call.func, ast.Attribute) or call.func.attr not in _LOGGER_METHODS:
            return None
        owner = call.func.value
        if not (isinstance(owner, ast.Name) and _is_logger(scope.module_globals.get(owner.id))):
            return None
        # logger.warning("x is %s", x): the values come as arguments, the message is a %-format.
        return Finding(self.name, "warn", "logger", stmt.lineno, _message(call), printf=len(call.args) > 1)


class MinorIssuesDictAssignDetector:
    """`minor_issues[key] = message` — transformers collects soft problems, then warns (or raises when strict)."""

    name = "minor_issues_dict_assign"
    dict_name = "minor_issues"

    def detect(self, stmt: ast.stmt, scope: Scope) -> Finding | None:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            return None
        target = stmt.targets[0]
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)):
            return None
        if target.value.id != self.dict_name:
            return None
        try:
            key = constant_value(target.slice, scope)
        except Untranslatable:
            key = None
        return Finding(
            self.name, "dormant", "minor_issues", stmt.lineno, stmt.value, target=key if isinstance(key, str) else None
        )


class ConditionalSelfAssignDetector:
    """`if <condition>: self.x = value` — the library silently normalises the config."""

    name = "conditional_self_assign"

    def detect(self, stmt: ast.stmt, scope: Scope) -> Finding | None:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            return None
        target = stmt.targets[0]
        if not (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == scope.self_name
        ):
            return None
        try:
            value, known = constant_value(stmt.value, scope), True
        except Untranslatable:
            value, known = None, False
        return Finding(
            self.name, "dormant", "normalise", stmt.lineno, target=target.attr, value=value, value_known=known
        )


DEFAULT_DETECTORS: tuple[Detector, ...] = (
    ConditionalRaiseDetector(),
    ConditionalWarningsWarnDetector(),
    ConditionalLoggerWarningDetector(),
    MinorIssuesDictAssignDetector(),
    ConditionalSelfAssignDetector(),
)

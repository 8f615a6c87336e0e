"""The walker: visits a validator body, tracking the conditions that guard each statement.

For every statement a detector reports, the walker records the path
conditions that must hold to reach it: enclosing `if` tests (negated in
`else` branches), and the negated tests of earlier `if`s in the same block
whose body always exits (raise / return). Loops over constant collections
are unrolled, binding the loop variable to each element.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from miners.schema.predicate import Predicate
from miners.static.conditions import Scope, Untranslatable, constant_value, negate, references_self, translate
from miners.static.detectors import Detector, Finding


@dataclass(frozen=True)
class Condition:
    """One guard on the path to a finding: translated, or the reason it could not be."""

    text: str
    predicate: Predicate | None
    problem: str | None = None

    def negated(self) -> Condition:
        if self.predicate is None:
            return Condition(f"not ({self.text})", None, self.problem)
        return Condition(f"not ({self.text})", negate(self.predicate))


@dataclass(frozen=True)
class PathFinding:
    finding: Finding
    conditions: tuple[Condition, ...]
    scope: Scope


def _returns(body: Sequence[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return)


def _remember(scope: Scope, name: str, value: ast.expr) -> None:
    """Records `name = value` for later resolution; a self-referencing update (`x = x + 1`) forgets `name`."""
    if any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(value)):
        scope.locals.pop(name, None)
    else:
        scope.locals[name] = value


class Walker:
    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.detectors = tuple(detectors)

    def walk(self, function: ast.FunctionDef, scope: Scope) -> list[PathFinding]:
        found: list[PathFinding] = []
        self._block(function.body, (), scope, found)
        return found

    def condition(self, test: ast.expr, scope: Scope) -> Condition:
        text = ast.unparse(test)
        if not references_self(test, scope):
            return Condition(text, None, "argument-gated or local state: reads no field of self")
        try:
            return Condition(text, translate(test, scope))
        except Untranslatable as err:
            return Condition(text, None, str(err))

    def _block(
        self, body: Sequence[ast.stmt], conditions: tuple[Condition, ...], scope: Scope, found: list[PathFinding]
    ) -> None:
        for stmt in body:
            for detector in self.detectors:
                finding = detector.detect(stmt, scope)
                if finding is not None:
                    found.append(PathFinding(finding, conditions, scope.child()))
            if isinstance(stmt, ast.If):
                guard = self.condition(stmt.test, scope)
                self._block(stmt.body, (*conditions, guard), scope.child(), found)
                self._block(stmt.orelse, (*conditions, guard.negated()), scope.child(), found)
                # `if <guard>: return` makes the rest of the block conditional on the
                # guard being false. An earlier `if ...: raise` does not: it is a
                # sibling check, not part of the later checks' constraints.
                if _returns(stmt.body):
                    conditions = (*conditions, guard.negated())
                elif _returns(stmt.orelse):
                    conditions = (*conditions, guard)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                self._loop(stmt, conditions, scope, found)
            elif isinstance(stmt, (ast.With, ast.AsyncWith, ast.While)):
                self._block(stmt.body, conditions, scope.child(), found)
            elif isinstance(stmt, ast.Try):
                for block in (stmt.body, stmt.orelse, stmt.finalbody):
                    self._block(block, conditions, scope.child(), found)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                _remember(scope, stmt.targets[0].id, stmt.value)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                _remember(scope, stmt.target.id, stmt.value)

    def _loop(
        self, loop: ast.For | ast.AsyncFor, conditions: tuple[Condition, ...], scope: Scope, found: list[PathFinding]
    ) -> None:
        values: list[object] | None
        try:
            iterable = constant_value(loop.iter, scope)
            values = iterable if isinstance(iterable, list) and isinstance(loop.target, ast.Name) else None
        except Untranslatable:
            values = None
        if values is None:
            # Not unrollable: walk once with the loop variable unknown, so any
            # condition that reads it is reported as untranslatable.
            self._block(loop.body, conditions, scope.child(), found)
            return
        assert isinstance(loop.target, ast.Name)
        for value in values:
            self._block(loop.body, conditions, scope.child(**{loop.target.id: value}), found)

"""The walker: visits a validator body, tracking the conditions that guard each statement.

For every statement a detector reports, the walker records the path
conditions that must hold to reach it: enclosing `if` tests (negated in
`else` branches), and the negated tests of earlier `if`s in the same block
whose body returns (early-exit guards; in a loop, `continue` too). Loops over
constant collections are unrolled, binding the loop variable to each element.
A loop over a field (its items, a mapping's keys, values or items(), adjacent
pairs) is read once, with the loop variable bound to the element: a statement
found in its body is guarded by "some element meets the body's conditions", a
quantifier (miners.schema.predicate.Each).

Depth 1: a call statement to a method of the same class (`self._check()`) or
to a function of the same module (`_verify(self.n)`) is followed once, with
the callee's parameters bound to what the call passes; calls inside the
callee are not followed further.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from miners.schema.algebra import is_contradiction, negate, simplify
from miners.schema.predicate import AllOf, AnyOf, Predicate, fields_of
from miners.static.conditions import (
    Const,
    Field,
    Iteration,
    Scope,
    Untranslatable,
    argument_gate,
    constant_value,
    iteration,
    operand,
    quantify,
    reads_config,
    reads_element,
    translate,
)
from miners.static.detectors import Detector, Finding


@dataclass(frozen=True)
class Condition:
    """One guard on the path to a finding: translated, an argument gate, or why it could not be."""

    text: str
    predicate: Predicate | None
    problem: str | None = None
    argument_gate: bool = False  # depends only on the validator's arguments (e.g. `strict`)

    def negated(self) -> Condition:
        text = f"not ({self.text})"
        if self.predicate is None:
            return Condition(text, None, self.problem, self.argument_gate)
        return Condition(text, negate(self.predicate))


@dataclass(frozen=True)
class PathFinding:
    finding: Finding
    conditions: tuple[Condition, ...]
    scope: Scope
    function: str  # qualified name of the function holding the statement


@dataclass(frozen=True)
class Callables:
    """Where depth-1 calls lead: the class's plain methods and the module's functions."""

    class_name: str
    methods: dict[str, ast.FunctionDef] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)


@dataclass(frozen=True)
class _Place:
    """Where the walk is: the findings so far, the call depth, the function being read."""

    found: list[PathFinding]
    depth: int
    function: str


def _returns(body: Sequence[ast.stmt]) -> bool:
    """Whether the block ends the rest of its own: a `return`, or in a loop body `continue`."""
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Continue))


def _over_elements(conditions: Sequence[Condition], loop: Iteration, header: str) -> tuple[Condition, ...]:
    """The guards of a statement in a loop's body, as seen from outside the loop: those that read
    the element become one quantifier ("some element meets them all"); the rest stay as they are."""
    element = [c for c in conditions if c.predicate is not None and reads_element(c.predicate, loop)]
    rest = tuple(c for c in conditions if not (c.predicate is not None and reads_element(c.predicate, loop)))
    text = f"{header}: " + (" and ".join(c.text for c in element) or "(every element)")
    if not element:
        return (*rest, Condition(text, None, "a statement in a loop over a field that tests no element"))
    body = [c.predicate for c in element if c.predicate is not None]
    try:
        predicate = quantify(loop, body[0] if len(body) == 1 else AllOf(tuple(body)))
    except Untranslatable as err:
        return (*rest, Condition(text, None, str(err)))
    return (*rest, Condition(text, predicate))


def _imported(stmt: ast.ImportFrom) -> dict[str, object]:
    """The names a function-local `from package.module import NAME` binds (validators import
    lazily to dodge import cycles), read from the live module; none if it cannot be imported."""
    if stmt.level or not stmt.module:
        return {}
    try:
        module = importlib.import_module(stmt.module)
    except Exception:  # a module the miner cannot import only leaves the names unknown
        return {}
    names = {}
    for alias in stmt.names:
        if alias.name != "*" and hasattr(module, alias.name):
            names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def _remember(scope: Scope, name: str, value: ast.expr) -> None:
    """Records `name = value` for later resolution; a self-referencing update (`x = x + 1`) forgets `name`."""
    scope.aliases.pop(name, None)
    if any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(value)):
        scope.locals.pop(name, None)
    else:
        scope.locals[name] = value


def _note_rewrite(scope: Scope, target: ast.expr, value: ast.expr, line: int) -> set[str]:
    """`self.x = <anything but x itself>`: later checks on x read the library's value, not the config's."""
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
        return set()
    if target.value.id != scope.self_name:
        return set()
    try:
        same = operand(value, scope) == Field(target.attr)
    except Untranslatable:
        same = False
    if same:
        return set()
    scope.rewritten[target.attr] = line
    return {target.attr}


def positional_params(function: ast.FunctionDef) -> list[ast.arg]:
    return [*function.args.posonlyargs, *function.args.args]


def constant_defaults(function: ast.FunctionDef, scope: Scope) -> dict[str, object]:
    """Parameters with a constant default value (the rest are left unknown)."""
    positional = positional_params(function)
    pairs = list(zip(positional[len(positional) - len(function.args.defaults) :], function.args.defaults, strict=True))
    pairs += [(p, d) for p, d in zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True) if d is not None]
    defaults: dict[str, object] = {}
    for param, default in pairs:
        with contextlib.suppress(Untranslatable):
            defaults[param.arg] = constant_value(default, scope)
    return defaults


class Walker:
    def __init__(self, detectors: Sequence[Detector], callables: Callables | None = None, max_depth: int = 1) -> None:
        self.detectors = tuple(detectors)
        self.callables = callables or Callables(class_name="")
        self.max_depth = max_depth

    def walk(self, function: ast.FunctionDef, scope: Scope, qualname: str) -> list[PathFinding]:
        found: list[PathFinding] = []
        self._block(function.body, (), scope, _Place(found, 0, qualname))
        return found

    def condition(self, test: ast.expr, scope: Scope) -> Condition:
        """Translates an `if` test. Conjuncts that depend only on the validator's
        arguments (`strict`, `_should_warn(..., user_set_attributes)`) are set
        aside: they say how the validator is called, not what the config holds."""
        text = ast.unparse(test)
        conjuncts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
        kept = [c for c in conjuncts if not argument_gate(c, scope) or reads_config(c, scope)]
        if not kept:
            return Condition(text, None, "depends only on the validator's arguments", argument_gate=True)
        for conjunct in kept:
            if not reads_config(conjunct, scope):
                return Condition(text, None, f"`{ast.unparse(conjunct)}` reads local state, no field of the config")
        try:
            predicates = tuple(translate(c, scope) for c in kept)
        except Untranslatable as err:
            return Condition(text, None, str(err))
        # A field overwritten earlier under a guard holds the config's value only where the guard failed.
        for name in dict.fromkeys(f for p in predicates for f in fields_of(p)):
            if name not in scope.rewritten_when:
                continue
            guard = scope.rewritten_when[name]
            if guard is None:
                problem = f"self.{name} may be rewritten earlier, under a condition the miner cannot read"
                return Condition(text, None, problem)
            predicates = (*predicates, negate(guard))
        return Condition(text, predicates[0] if len(predicates) == 1 else AllOf(predicates))

    def _block(
        self, body: Sequence[ast.stmt], conditions: tuple[Condition, ...], scope: Scope, place: _Place
    ) -> set[str]:
        """Walks a block; returns the fields it overwrites (`self.x = ...`), in any branch."""
        rewrites: set[str] = set()
        for stmt in body:
            for detector in self.detectors:
                finding = detector.detect(stmt, scope)
                if finding is not None:
                    place.found.append(PathFinding(finding, conditions, scope.child(), place.function))
            if isinstance(stmt, ast.If):
                guard = self.condition(stmt.test, scope)
                in_body = self._block(stmt.body, (*conditions, guard), scope.child(), place)
                in_else = self._block(stmt.orelse, (*conditions, guard.negated()), scope.child(), place)
                self._rewritten_under(scope, guard, in_body, in_else, stmt.lineno)
                rewrites |= in_body | in_else
                # `if <guard>: return` makes the rest of the block conditional on the
                # guard being false. An earlier `if ...: raise` does not: it is a
                # sibling check, not part of the later checks' constraints.
                if _returns(stmt.body):
                    conditions = (*conditions, guard.negated())
                elif _returns(stmt.orelse):
                    conditions = (*conditions, guard)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                inner = self._loop(stmt, conditions, scope, place)
                scope.rewritten.update(dict.fromkeys(inner, stmt.lineno))
                rewrites |= inner
            elif isinstance(stmt, (ast.With, ast.AsyncWith, ast.While, ast.Try)):
                blocks = [stmt.body] + ([stmt.orelse, stmt.finalbody] if isinstance(stmt, ast.Try) else [])
                for block in blocks:
                    inner = self._block(block, conditions, scope.child(), place)
                    scope.rewritten.update(dict.fromkeys(inner, stmt.lineno))
                    rewrites |= inner
            elif isinstance(stmt, ast.ImportFrom):
                scope.module_globals = {**scope.module_globals, **_imported(stmt)}
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                _remember(scope, stmt.targets[0].id, stmt.value)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                rewrites |= _note_rewrite(scope, stmt.targets[0], stmt.value, stmt.lineno)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                _remember(scope, stmt.target.id, stmt.value)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and place.depth < self.max_depth:
                callee = self._callee(stmt.value, scope)
                if callee is not None:
                    function, name, inner_scope = callee
                    self._block(function.body, conditions, inner_scope, _Place(place.found, place.depth + 1, name))
        return rewrites

    @staticmethod
    def _rewritten_under(scope: Scope, guard: Condition, in_body: set[str], in_else: set[str], line: int) -> None:
        """Records what an `if` overwrote: in both branches, always; in one, under its guard."""
        for name in in_body | in_else:
            if name in in_body and name in in_else:
                scope.rewritten[name] = line
                continue
            when = guard if name in in_body else guard.negated()
            if when.predicate is not None and is_contradiction(simplify(when.predicate)):
                continue  # a branch that cannot run overwrites nothing
            previous = scope.rewritten_when.get(name, False)
            if when.predicate is None or previous is None:
                scope.rewritten_when[name] = None
            elif previous is False:
                scope.rewritten_when[name] = when.predicate
            else:
                scope.rewritten_when[name] = AnyOf((previous, when.predicate))

    def _loop(
        self, loop: ast.For | ast.AsyncFor, conditions: tuple[Condition, ...], scope: Scope, place: _Place
    ) -> set[str]:
        values: list[object] | None
        try:
            iterable = constant_value(loop.iter, scope)
            values = iterable if isinstance(iterable, list) and isinstance(loop.target, ast.Name) else None
        except Untranslatable:
            values = None
        if values is None:
            # Not unrollable: walk once. Over a field, the loop variable is the element;
            # otherwise it is unknown, so any condition that reads it is untranslatable.
            inner = scope.child()
            for node in ast.walk(loop.target):
                if isinstance(node, ast.Name):
                    inner.aliases.pop(node.id, None)
                    inner.locals.pop(node.id, None)
            try:
                walked = iteration(loop.iter, loop.target, scope)
            except Untranslatable:
                return self._block(loop.body, conditions, inner, place)
            inner.aliases.update(walked.bindings)
            found: list[PathFinding] = []
            rewrites = self._block(loop.body, (), inner, _Place(found, place.depth, place.function))
            header = f"for {ast.unparse(loop.target)} in {ast.unparse(loop.iter)}"
            for path in found:
                quantified = _over_elements(path.conditions, walked, header)
                place.found.append(replace(path, conditions=(*conditions, *quantified)))
            return rewrites
        assert isinstance(loop.target, ast.Name)
        rewrites: set[str] = set()
        for value in values:
            rewrites |= self._block(loop.body, conditions, scope.child(**{loop.target.id: value}), place)
        return rewrites

    def _callee(self, call: ast.Call, scope: Scope) -> tuple[ast.FunctionDef, str, Scope] | None:
        """The helper a call statement leads to, with its parameters bound; None if not followed."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == scope.self_name:
            method = self.callables.methods.get(func.attr)
            if method is None:
                return None
            params = positional_params(method)
            inner = replace(
                scope, self_name=params[0].arg if params else "self", aliases={}, locals={}, params=frozenset()
            )
            return method, f"{self.callables.class_name}.{method.name}", self._bind(method, call, scope, inner, 1)
        if isinstance(func, ast.Name) and func.id in self.callables.functions:
            function = self.callables.functions[func.id]
            inner = replace(scope, self_name="", aliases={}, locals={}, params=frozenset(), kwargs_name=None)
            return function, function.name, self._bind(function, call, scope, inner, 0)
        return None

    def _bind(self, function: ast.FunctionDef, call: ast.Call, caller: Scope, inner: Scope, skip: int) -> Scope:
        names = [p.arg for p in positional_params(function)][skip:] + [p.arg for p in function.args.kwonlyargs]
        pairs = list(zip(names, call.args, strict=False)) + [
            (kw.arg, kw.value) for kw in call.keywords if kw.arg in names
        ]
        for name, value in constant_defaults(function, inner).items():
            inner.aliases[name] = Const(value)
        unbound = set(names)
        for name, argument in pairs:
            unbound.discard(name)
            if isinstance(argument, ast.Name) and argument.id == caller.self_name:
                inner.self_name = name  # a module helper taking the config itself
                inner.aliases.pop(name, None)
                continue
            try:
                inner.aliases[name] = operand(argument, caller)
            except Untranslatable:
                inner.aliases.pop(name, None)
        inner.params = frozenset(unbound - set(inner.aliases))
        return inner

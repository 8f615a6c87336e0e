"""Translating `if` conditions of validator methods into predicates.

Only what can be translated exactly is translated; anything else raises
`Untranslatable` with a reason, and the miner logs the condition as dropped.

A *field* is what a user sets in a config: `self.<name>` (or `getattr(self,
"<name>")`) in any validator; in a constructor also its parameters and
`kwargs.get("<name>")`. Names may be aliases of fields or constants: a local
`value = self.x`, an unrolled loop variable, or a helper's parameter bound at
the call site.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Any

from miners.introspect.values import NotPlainData
from miners.introspect.values import plain_value as _plain_value
from miners.schema.algebra import negate, quantified
from miners.schema.predicate import FALSY, ITEM, NEXT, AllOf, AnyOf, Atom, Each, Predicate, Ref

_COMPARE_OPS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not_in",
    ast.Is: "==",
    ast.IsNot: "!=",
}
_MIRROR = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


class Untranslatable(Exception):
    """A condition (or message) the miner cannot translate exactly."""


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass
class Scope:
    """What names mean at a point in a validator body."""

    module_globals: dict[str, Any]
    self_name: str = "self"
    # Names bound to a field or a constant: unrolled loop variables, helper
    # parameters bound at the call site, a setter's value parameter.
    aliases: dict[str, Field | Const] = field(default_factory=dict)
    locals: dict[str, ast.expr] = field(default_factory=dict)  # `name = expr` seen so far
    params: frozenset[str] = frozenset()  # the function's own parameters (not self)
    kwargs_name: str | None = None  # a constructor's **kwargs, whose keys are fields
    class_constants: dict[str, Any] = field(default_factory=dict)  # plain class attributes
    # Fields the function has already overwritten (`self.x = int(self.x)`), by line:
    # later reads see the library's value, not the config's.
    rewritten: dict[str, int] = field(default_factory=dict)
    # Fields overwritten earlier only when a guard held (`if self.x is None: self.x = 16`):
    # later reads see the config's value only when it did not (None: a guard the miner cannot read).
    rewritten_when: dict[str, Predicate | None] = field(default_factory=dict)

    def child(self, **bindings: Any) -> Scope:
        """A copy for a nested block; `bindings` bind loop variables to constants."""
        aliases = {**self.aliases, **{name: Const(value) for name, value in bindings.items()}}
        return replace(
            self,
            aliases=aliases,
            locals=dict(self.locals),
            rewritten=dict(self.rewritten),
            rewritten_when=dict(self.rewritten_when),
        )

    def binding(self, name: str) -> Any:
        alias = self.aliases.get(name)
        return alias.value if isinstance(alias, Const) else None


def plain_value(value: Any) -> Any:
    """Plain data for a runtime constant, or Untranslatable."""
    try:
        return _plain_value(value)
    except NotPlainData as err:
        raise Untranslatable(str(err)) from None


def _is_self(expr: ast.expr, scope: Scope) -> bool:
    return isinstance(expr, ast.Name) and expr.id == scope.self_name


def constant_value(expr: ast.expr, scope: Scope) -> Any:
    """The value of a constant expression: literals, bound names, local, class or module constants."""
    if isinstance(expr, ast.Constant):
        return plain_value(expr.value)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return [constant_value(e, scope) for e in expr.elts]
    if isinstance(expr, ast.Name):
        alias = scope.aliases.get(expr.id)
        if isinstance(alias, Const):
            return alias.value
        if alias is None and expr.id in scope.locals:
            return constant_value(scope.locals[expr.id], scope)
        if alias is None and expr.id not in scope.params and expr.id in scope.module_globals:
            return plain_value(scope.module_globals[expr.id])
        raise Untranslatable(f"name {expr.id!r} is not a known constant")
    if isinstance(expr, ast.Attribute) and _is_self(expr.value, scope) and expr.attr in scope.class_constants:
        return plain_value(scope.class_constants[expr.attr])
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        value = constant_value(expr.operand, scope)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(expr, ast.BinOp):
        left, right = constant_value(expr.left, scope), constant_value(expr.right, scope)
        if isinstance(expr.op, ast.Add) and type(left) is type(right) and isinstance(left, (list, str)):
            return left + right
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
        if numbers and isinstance(expr.op, ast.Pow) and isinstance(right, int) and 0 <= right <= 64:
            return left**right
        if numbers and isinstance(expr.op, (ast.Add, ast.Sub, ast.Mult)):
            return {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}[type(expr.op)]
    if isinstance(expr, ast.Call):
        raise Untranslatable(f"call to {ast.unparse(expr.func)}() is opaque")
    raise Untranslatable(f"not a constant: {ast.unparse(expr)}")


def _kwargs_key(expr: ast.expr, scope: Scope) -> str | None:
    """`kwargs.get("x", ...)` / `kwargs.pop("x", ...)` in a constructor: the field x."""
    if (
        scope.kwargs_name
        and isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in ("get", "pop")
        and isinstance(expr.func.value, ast.Name)
        and expr.func.value.id == scope.kwargs_name
        and expr.args
        and isinstance(expr.args[0], ast.Constant)
        and isinstance(expr.args[0].value, str)
    ):
        return expr.args[0].value
    return None


def operand(expr: ast.expr, scope: Scope) -> Field | Const:
    """A field of the config or a constant."""
    if isinstance(expr, ast.Attribute) and _is_self(expr.value, scope):
        return _field(expr.attr, scope)
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "getattr"
        and len(expr.args) == 2
        and _is_self(expr.args[0], scope)
    ):
        name = constant_value(expr.args[1], scope)
        if not isinstance(name, str):
            raise Untranslatable(f"attribute name is not a string: {ast.unparse(expr)}")
        return _field(name, scope)
    key = _kwargs_key(expr, scope)
    if key is not None:
        return _field(key)
    if (
        scope.kwargs_name
        and isinstance(expr, ast.Subscript)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == scope.kwargs_name
        and isinstance(expr.slice, ast.Constant)
        and isinstance(expr.slice.value, str)
    ):
        return _field(expr.slice.value)  # `data["x"]` in a before-model validator
    if isinstance(expr, ast.Name):
        alias = scope.aliases.get(expr.id)
        if alias is not None:
            return alias
        if expr.id in scope.locals:
            local = scope.locals[expr.id]
            if reads_config(local, scope):
                return operand(local, scope)
    return Const(constant_value(expr, scope))


def _field(name: str, scope: Scope | None = None) -> Field:
    if name.startswith("_"):
        raise Untranslatable(f"reads private state {name}")
    if scope is not None and name in scope.rewritten:
        raise Untranslatable(f"self.{name} is rewritten at line {scope.rewritten[name]}, before this check reads it")
    return Field(name)


def _resolve_name(expr: ast.expr, scope: Scope) -> Any:
    """The object a dotted name (`ValueError`, `torch.Tensor`) refers to in the module, or None."""
    if isinstance(expr, ast.Name):
        return scope.module_globals.get(expr.id, getattr(builtins, expr.id, None))
    if isinstance(expr, ast.Attribute):
        owner = _resolve_name(expr.value, scope)
        return getattr(owner, expr.attr, None) if owner is not None else None
    return None


def class_name(expr: ast.expr, scope: Scope) -> str:
    """`int` for builtins, `package.module.Class` otherwise; Untranslatable if not a class."""
    obj = _resolve_name(expr, scope)
    qualname = getattr(obj, "qualname", None)
    if isinstance(qualname, str) and not isinstance(obj, type):
        return qualname  # read from a source tree: the imported name's dotted path
    if not isinstance(obj, type):
        raise Untranslatable(f"not a class: {ast.unparse(expr)}")
    if obj.__module__ == "builtins":
        return obj.__name__
    return f"{obj.__module__}.{obj.__qualname__}"


def _length_of(expr: ast.expr, scope: Scope) -> str | None:
    """`len(self.f)`: the field f."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "len" and len(expr.args) == 1:
        subject = _item_source(expr.args[0], scope)
        if isinstance(subject, Field):
            return subject.name
    return None


def _first_of(expr: ast.expr, scope: Scope) -> str | None:
    """`self.f[0]`: the field f, whose first element is tested."""
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant) and expr.slice.value == 0:
        subject = _item_source(expr.value, scope)
        if isinstance(subject, Field):
            return subject.name
    return None


def _item_source(expr: ast.expr, scope: Scope) -> Field | Const:
    """A field read for its items or length. Rewrites that only normalise the container
    (`self.stop = []`, `[self.stop]`, `list(dict.fromkeys(self.stop))`) keep its items, so a
    rewritten field is read anyway; the gate replays the rule on the library to confirm it."""
    if isinstance(expr, ast.Attribute) and _is_self(expr.value, scope) and not expr.attr.startswith("_"):
        return Field(expr.attr)
    return operand(expr, scope)


# Element names are provisional while a loop's body is read, one set per loop (`$item3`), so
# that an inner loop's condition cannot capture an outer loop's element by name; a finished
# quantifier names its element `$item` (miners.schema.predicate.ITEM).
_LOOPS = itertools.count(1)


@dataclass(frozen=True)
class Iteration:
    """What a loop or comprehension walks: a field's elements, and the names bound to them."""

    field: str
    part: str  # any_item, any_pair, or "entries" (a mapping's items(): keys and values)
    bindings: dict[str, Field]  # loop variable -> provisional element name
    names: dict[str, str]  # provisional element name -> its name in the quantifier


def _names(target: ast.expr, count: int) -> list[str] | None:
    if isinstance(target, ast.Name) and count == 1:
        return [target.id]
    elements = target.elts if isinstance(target, ast.Tuple) else []
    if len(elements) == count and all(isinstance(e, ast.Name) for e in elements):
        return [e.id for e in elements]  # type: ignore[attr-defined]
    return None


def _field_source(expr: ast.expr, scope: Scope) -> str:
    source = _item_source(expr, scope)
    if not isinstance(source, Field):
        raise Untranslatable(f"a loop over something other than a field: {ast.unparse(expr)}")
    return source.name


def iteration(iterable: ast.expr, target: ast.expr, scope: Scope) -> Iteration:
    """Reads `for <target> in <iterable>` over a field: its items, a mapping's keys, values or
    items(), or adjacent pairs (`pairwise(f)`, `zip(f, f[1:])`); Untranslatable otherwise."""
    n = next(_LOOPS)
    item, nxt, key, value = f"{ITEM}{n}", f"{NEXT}{n}", f"$key{n}", f"$value{n}"
    call = iterable if isinstance(iterable, ast.Call) and not iterable.keywords else None
    callee = ast.unparse(call.func) if call is not None else ""
    pair = _names(target, 2)
    if call is not None and callee in ("pairwise", "itertools.pairwise") and len(call.args) == 1 and pair:
        field = _field_source(call.args[0], scope)
        return Iteration(field, "any_pair", {pair[0]: Field(item), pair[1]: Field(nxt)}, {item: ITEM, nxt: NEXT})
    if call is not None and callee == "zip" and len(call.args) == 2 and pair:
        first, second = call.args
        shifted = (
            isinstance(second, ast.Subscript)
            and isinstance(second.slice, ast.Slice)
            and ast.dump(second.value) == ast.dump(first)
            and isinstance(second.slice.lower, ast.Constant)
            and second.slice.lower.value == 1
            and second.slice.upper is None
            and second.slice.step is None
        )
        if shifted:
            field = _field_source(first, scope)
            return Iteration(field, "any_pair", {pair[0]: Field(item), pair[1]: Field(nxt)}, {item: ITEM, nxt: NEXT})
    if call is not None and isinstance(call.func, ast.Attribute) and not call.args:
        method = call.func.attr
        if method == "items" and pair:
            field = _field_source(call.func.value, scope)
            return Iteration(field, "entries", {pair[0]: Field(key), pair[1]: Field(value)}, {key: ITEM, value: ITEM})
        single = _names(target, 1)
        if method in ("keys", "values") and single:
            field = _field_source(call.func.value, scope)
            part = "any_key" if method == "keys" else "any_value"
            return Iteration(field, part, {single[0]: Field(item)}, {item: ITEM})
    single = _names(target, 1)
    if single is None:
        raise Untranslatable(f"a loop target the miner cannot bind: {ast.unparse(target)}")
    return Iteration(_field_source(iterable, scope), "any_item", {single[0]: Field(item)}, {item: ITEM})


def rename(predicate: Predicate, names: dict[str, str]) -> Predicate:
    """The predicate with element names replaced; a quantifier's own `where` keeps its names, and
    may not read the outer element (Untranslatable: it would be captured)."""
    if isinstance(predicate, Atom):
        value = predicate.value
        if isinstance(value, Ref):
            value = Ref(names.get(value.field, value.field))
        return Atom(names.get(predicate.field, predicate.field), predicate.op, value, predicate.of)
    if isinstance(predicate, Each):
        if set(predicate.where.fields()) & set(names):
            raise Untranslatable("an inner loop's condition reads the outer loop's element")
        return Each(names.get(predicate.field, predicate.field), predicate.of, predicate.where)
    return type(predicate)(tuple(rename(t, names) for t in predicate.terms))


def reads_element(predicate: Predicate, loop: Iteration) -> bool:
    return any(name in loop.names for name in predicate.fields())


def quantify(loop: Iteration, condition: Predicate) -> Predicate:
    """`any element of the loop's field meets the condition` (an `Each`); over a mapping's items(),
    the condition must read the keys only or the values only."""
    part = loop.part
    if part == "entries":
        used = {name for name in condition.fields() if name in loop.names}
        if len(used) != 1:
            raise Untranslatable("a condition on a mapping's keys and values together")
        part = "any_key" if next(iter(used)).startswith("$key") else "any_value"
    return quantified(loop.field, part, rename(condition, loop.names))


def _quantified(expr: ast.Call, scope: Scope) -> Predicate:
    """`any(cond for x in self.f)` / `all(...)`, over a generator or a list comprehension."""
    (generated,) = expr.args
    if not isinstance(generated, (ast.GeneratorExp, ast.ListComp)) or len(generated.generators) != 1:
        raise Untranslatable("any()/all() of something other than one comprehension")
    loop = generated.generators[0]
    if loop.ifs or loop.is_async:
        raise Untranslatable("a comprehension with filters")
    walked = iteration(loop.iter, loop.target, scope)
    inner = scope.child()
    inner.aliases.update(walked.bindings)
    condition = translate(generated.elt, inner)
    if not reads_element(condition, walked):
        raise Untranslatable("any()/all() of a condition that does not read the element")
    found = quantify(walked, condition)
    # all(c for x in f) is not any(not c for x in f).
    return found if expr.func.id == "any" else negate(quantify(walked, negate(condition)))  # type: ignore[attr-defined]


def _compare_pair(left: ast.expr, op: ast.cmpop, right: ast.expr, scope: Scope) -> Predicate:
    name = _COMPARE_OPS.get(type(op))
    if name is None:
        raise Untranslatable(f"operator {type(op).__name__} is not in the vocabulary")
    for measured, other, flip in ((left, right, False), (right, left, True)):
        field_name = _length_of(measured, scope)
        if field_name is not None and name in _MIRROR:
            bound = operand(other, scope)
            value = Ref(bound.name) if isinstance(bound, Field) else bound.value
            if not isinstance(value, (int, Ref)) or isinstance(value, bool):
                raise Untranslatable("a length compared with something other than a number or a field")
            return Atom(field_name, _MIRROR[name] if flip else name, value, "length")
    for measured, other, flip in ((left, right, False), (right, left, True)):
        field_name = _first_of(measured, scope)
        if field_name is not None:
            bound = operand(other, scope)
            if not isinstance(bound, Const) or (flip and name in ("in", "not_in")):
                raise Untranslatable("a first element compared with something other than a constant")
            return Atom(field_name, _MIRROR.get(name, name) if flip else name, bound.value, "first")
    # `a % b == 0` / `a % b != 0`
    if isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mod) and name in ("==", "!="):
        if constant_value(right, scope) != 0:
            raise Untranslatable("a remainder compared with a non-zero value")
        dividend, divisor = operand(left.left, scope), operand(left.right, scope)
        if not isinstance(dividend, Field):
            raise Untranslatable("the dividend is not a field")
        value = Ref(divisor.name) if isinstance(divisor, Field) else divisor.value
        return Atom(dividend.name, "divisible_by" if name == "==" else "not_divisible_by", value)
    if name in ("in", "not_in") and isinstance(right, ast.Name) and right.id == scope.kwargs_name:
        # `"x" in kwargs`: whether the config sets x.
        key = constant_value(left, scope)
        if not isinstance(key, str):
            raise Untranslatable("membership test on the input mapping with a non-string key")
        return Atom(_field(key).name, "present" if name == "in" else "absent")
    lhs, rhs = operand(left, scope), operand(right, scope)
    if isinstance(op, (ast.Is, ast.IsNot)):
        singleton = rhs if isinstance(rhs, Const) else lhs
        if not isinstance(singleton, Const) or not (singleton.value is None or isinstance(singleton.value, bool)):
            raise Untranslatable("identity test against something other than None/True/False")
    if name in ("in", "not_in"):
        if not isinstance(lhs, Field) or not isinstance(rhs, Const) or not isinstance(rhs.value, list):
            raise Untranslatable("membership needs a field on the left and a constant collection on the right")
        return Atom(lhs.name, name, rhs.value)
    if isinstance(lhs, Field) and isinstance(rhs, Const):
        return Atom(lhs.name, name, rhs.value)
    if isinstance(lhs, Const) and isinstance(rhs, Field):
        return Atom(rhs.name, _MIRROR[name], lhs.value)
    if isinstance(lhs, Field) and isinstance(rhs, Field):
        return Atom(lhs.name, name, Ref(rhs.name))
    raise Untranslatable("compares two constants")


def _call(expr: ast.Call, scope: Scope) -> Predicate:
    func = expr.func
    if isinstance(func, ast.Name) and func.id in ("any", "all") and len(expr.args) == 1 and not expr.keywords:
        return _quantified(expr, scope)
    if isinstance(func, ast.Name) and func.id == "isinstance" and len(expr.args) == 2:
        subject = operand(expr.args[0], scope)
        if not isinstance(subject, Field):
            raise Untranslatable("isinstance() of something other than a field")
        classes = expr.args[1].elts if isinstance(expr.args[1], ast.Tuple) else [expr.args[1]]
        names = [class_name(c, scope) for c in classes]
        return Atom(subject.name, "type_is", names if len(names) > 1 else names[0])
    if _resolve_name(func, scope) is math.isfinite and len(expr.args) == 1:
        subject = operand(expr.args[0], scope)
        if not isinstance(subject, Field):
            raise Untranslatable("math.isfinite() of something other than a field")
        return Atom(subject.name, "finite")
    if isinstance(func, ast.Attribute) and func.attr == "startswith" and len(expr.args) == 1 and not expr.keywords:
        subject = operand(func.value, scope)
        prefix = constant_value(expr.args[0], scope)
        prefixes = prefix if isinstance(prefix, list) else [prefix]
        if not isinstance(subject, Field) or not all(isinstance(p, str) and len(p) == 1 for p in prefixes):
            raise Untranslatable("startswith() other than of a field, by one-character prefixes")
        return Atom(subject.name, "in", prefixes, "first")
    if isinstance(func, ast.Name) and func.id == "hasattr" and len(expr.args) == 2 and _is_self(expr.args[0], scope):
        name = constant_value(expr.args[1], scope)
        if not isinstance(name, str):
            raise Untranslatable("hasattr() with a non-string name")
        return Atom(_field(name).name, "present")
    if _kwargs_key(expr, scope) is not None:
        return Atom(_field(_kwargs_key(expr, scope) or "").name, "not_in", list(FALSY))
    raise Untranslatable(f"call to {ast.unparse(func)}() is opaque")


def translate(expr: ast.expr, scope: Scope) -> Predicate:
    """The predicate that is true exactly when `expr` is truthy, or Untranslatable."""
    if isinstance(expr, ast.BoolOp):
        terms = tuple(translate(v, scope) for v in expr.values)
        return AllOf(terms) if isinstance(expr.op, ast.And) else AnyOf(terms)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        return negate(translate(expr.operand, scope))
    if isinstance(expr, ast.Compare):
        pairs = zip([expr.left, *expr.comparators[:-1]], expr.ops, expr.comparators, strict=True)
        atoms = tuple(_compare_pair(left, op, right, scope) for left, op, right in pairs)
        return atoms[0] if len(atoms) == 1 else AllOf(atoms)
    if isinstance(expr, ast.Call):
        return _call(expr, scope)
    if _length_of(expr, scope) is not None:  # `if len(self.f):`
        return Atom(_length_of(expr, scope) or "", "!=", 0, "length")
    subject = operand(expr, scope)
    if isinstance(subject, Field):
        return Atom(subject.name, "not_in", list(FALSY))
    raise Untranslatable(f"a constant condition: {ast.unparse(expr)}")


def reads_config(expr: ast.expr, scope: Scope, _seen: frozenset[str] = frozenset()) -> bool:
    """Whether the expression reads a field: `self`, a field alias, a constructor's kwargs, a local alias."""
    for node in ast.walk(expr):
        if not isinstance(node, ast.Name):
            continue
        if node.id in (scope.self_name, scope.kwargs_name) or isinstance(scope.aliases.get(node.id), Field):
            return True
        aliased = node.id in scope.locals and node.id not in scope.aliases and node.id not in _seen
        if aliased and reads_config(scope.locals[node.id], scope, _seen | {node.id}):
            return True
    return False


def argument_gate(expr: ast.expr, scope: Scope) -> bool:
    """Whether the expression depends only on the validator's own arguments (e.g. `strict`), not the config."""
    names = [n.id for n in ast.walk(expr) if isinstance(n, ast.Name)]
    if not any(name in scope.params for name in names):
        return False
    for name in names:
        known = name in scope.params or name in scope.module_globals or hasattr(builtins, name)
        if not known or name in scope.locals or name in scope.aliases:
            return False
    return True

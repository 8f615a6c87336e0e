"""Translating `if` conditions of validator methods into predicates.

Only what can be translated exactly is translated; anything else raises
`Untranslatable` with a reason, and the miner logs the condition as dropped.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from miners.schema.predicate import (
    NEGATION,
    AllOf,
    AnyOf,
    Atom,
    Predicate,
    Ref,
)

# Python's falsy plain values; `x in FALSY` is `not x` for plain data
# (membership compares with ==, and 0 == 0.0 == False, so zeros are covered).
FALSY: tuple[Any, ...] = (None, False, "", [], {})

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
_PLAIN = (type(None), bool, int, float, str)


class Untranslatable(Exception):
    """A condition (or message) the miner cannot translate exactly."""


@dataclass
class Scope:
    """What names mean at a point in a validator body."""

    module_globals: dict[str, Any]
    self_name: str = "self"
    bindings: dict[str, Any] = field(default_factory=dict)  # unrolled loop variables
    locals: dict[str, ast.expr] = field(default_factory=dict)  # `name = expr` seen so far

    def child(self, **bindings: Any) -> Scope:
        return Scope(self.module_globals, self.self_name, {**self.bindings, **bindings}, dict(self.locals))


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Const:
    value: Any


def _plain(value: Any) -> Any:
    """Plain YAML data for a runtime constant, or Untranslatable."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        # Runtime set order is arbitrary; sort for stable output.
        return sorted((_plain(v) for v in value), key=repr)
    raise Untranslatable(f"value of type {type(value).__name__} is not plain data")


def constant_value(expr: ast.expr, scope: Scope) -> Any:
    """The value of a constant expression: literals, unrolled loop variables, local or module constants."""
    if isinstance(expr, ast.Constant):
        return _plain(expr.value)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return [constant_value(e, scope) for e in expr.elts]
    if isinstance(expr, ast.Name):
        if expr.id in scope.bindings:
            return scope.bindings[expr.id]
        if expr.id in scope.locals:
            return constant_value(scope.locals[expr.id], scope)
        if expr.id in scope.module_globals:
            return _plain(scope.module_globals[expr.id])
        raise Untranslatable(f"name {expr.id!r} is not a known constant")
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        value = constant_value(expr.operand, scope)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = constant_value(expr.left, scope), constant_value(expr.right, scope)
        if type(left) is type(right) and isinstance(left, (list, str)):
            return left + right
    if isinstance(expr, ast.Call):
        raise Untranslatable(f"call to {ast.unparse(expr.func)}() is opaque")
    raise Untranslatable(f"not a constant: {ast.unparse(expr)}")


def operand(expr: ast.expr, scope: Scope) -> Field | Const:
    """A field of `self` or a constant."""
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == scope.self_name:
        return _field(expr.attr)
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "getattr"
        and len(expr.args) == 2
        and isinstance(expr.args[0], ast.Name)
        and expr.args[0].id == scope.self_name
    ):
        name = constant_value(expr.args[1], scope)
        if not isinstance(name, str):
            raise Untranslatable(f"attribute name is not a string: {ast.unparse(expr)}")
        return _field(name)
    if isinstance(expr, ast.Name) and expr.id not in scope.bindings and expr.id in scope.locals:
        alias = scope.locals[expr.id]
        if references_self(alias, scope):
            return operand(alias, scope)
    return Const(constant_value(expr, scope))


def _field(name: str) -> Field:
    if name.startswith("_"):
        raise Untranslatable(f"reads private state self.{name}")
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
    if not isinstance(obj, type):
        raise Untranslatable(f"not a class: {ast.unparse(expr)}")
    if obj.__module__ == "builtins":
        return obj.__name__
    return f"{obj.__module__}.{obj.__qualname__}"


def _compare_pair(left: ast.expr, op: ast.cmpop, right: ast.expr, scope: Scope) -> Predicate:
    name = _COMPARE_OPS.get(type(op))
    if name is None:
        raise Untranslatable(f"operator {type(op).__name__} is not in the vocabulary")
    # `a % b == 0` / `a % b != 0`
    if isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mod) and name in ("==", "!="):
        if constant_value(right, scope) != 0:
            raise Untranslatable("a remainder compared with a non-zero value")
        dividend, divisor = operand(left.left, scope), operand(left.right, scope)
        if not isinstance(dividend, Field):
            raise Untranslatable("the dividend is not a field")
        value = Ref(divisor.name) if isinstance(divisor, Field) else divisor.value
        return Atom(dividend.name, "divisible_by" if name == "==" else "not_divisible_by", value)
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
    if isinstance(func, ast.Name) and func.id == "isinstance" and len(expr.args) == 2:
        subject = operand(expr.args[0], scope)
        if not isinstance(subject, Field):
            raise Untranslatable("isinstance() of something other than a field")
        classes = expr.args[1].elts if isinstance(expr.args[1], ast.Tuple) else [expr.args[1]]
        names = [class_name(c, scope) for c in classes]
        return Atom(subject.name, "type_is", names if len(names) > 1 else names[0])
    if (
        isinstance(func, ast.Name)
        and func.id == "hasattr"
        and len(expr.args) == 2
        and isinstance(expr.args[0], ast.Name)
        and expr.args[0].id == scope.self_name
    ):
        name = constant_value(expr.args[1], scope)
        if not isinstance(name, str):
            raise Untranslatable("hasattr() with a non-string name")
        return Atom(_field(name).name, "present")
    raise Untranslatable(f"call to {ast.unparse(func)}() is opaque")


def translate(expr: ast.expr, scope: Scope) -> Predicate:
    """The predicate that is true exactly when `expr` is truthy, or Untranslatable."""
    if isinstance(expr, ast.BoolOp):
        terms = tuple(translate(v, scope) for v in expr.values)
        return AllOf(terms) if isinstance(expr.op, ast.And) else AnyOf(terms)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        return negate(translate(expr.operand, scope))
    if isinstance(expr, ast.Compare):
        pairs = zip([expr.left, *expr.comparators], expr.ops, expr.comparators, strict=False)
        atoms = tuple(_compare_pair(left, op, right, scope) for left, op, right in pairs)
        return atoms[0] if len(atoms) == 1 else AllOf(atoms)
    if isinstance(expr, ast.Call):
        return _call(expr, scope)
    subject = operand(expr, scope)
    if isinstance(subject, Field):
        return Atom(subject.name, "not_in", list(FALSY))
    raise Untranslatable(f"a constant condition: {ast.unparse(expr)}")


def negate(predicate: Predicate) -> Predicate:
    if isinstance(predicate, Atom):
        return Atom(predicate.field, NEGATION[predicate.op], predicate.value)
    if isinstance(predicate, AllOf):
        return AnyOf(tuple(negate(t) for t in predicate.terms))
    return AllOf(tuple(negate(t) for t in predicate.terms))


def references_self(expr: ast.expr, scope: Scope, _seen: frozenset[str] = frozenset()) -> bool:
    """Whether the expression reads `self`, directly or through a local alias (`value = self.x`)."""
    for node in ast.walk(expr):
        if not isinstance(node, ast.Name):
            continue
        if node.id == scope.self_name:
            return True
        aliased = node.id in scope.locals and node.id not in scope.bindings and node.id not in _seen
        if aliased and references_self(scope.locals[node.id], scope, _seen | {node.id}):
            return True
    return False


# --- simplification -----------------------------------------------------------


def _false_for_none(term: Predicate, field: str) -> bool:
    """Whether the term cannot hold when `field` is None (so `field != None` beside it is redundant)."""
    if isinstance(term, AllOf):
        return any(_false_for_none(t, field) for t in term.terms)
    if isinstance(term, AnyOf):
        return all(_false_for_none(t, field) for t in term.terms)
    if term.field != field:
        return False
    op, value = term.op, term.value
    if op in ("<", "<=", ">", ">=", "divisible_by", "not_divisible_by"):
        return True
    if op == "==":
        return not isinstance(value, Ref) and value is not None
    if op == "in":
        return isinstance(value, list) and None not in value
    if op == "not_in":
        return isinstance(value, list) and None in value
    if op == "type_is":
        names = value if isinstance(value, list) else [value]
        return "NoneType" not in names
    return False


def _dedupe(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _merge_values(atoms: list[Atom], group_op: str, list_op: str) -> list[Atom]:
    """Folds `f == a`, `f == b`, `f in [c]` on one field into `f in [a, b, c]` (and likewise != / not_in)."""
    grouped: dict[str, list[Any]] = {}
    order: list[Atom | str] = []
    for atom in atoms:
        foldable = (atom.op == group_op and not isinstance(atom.value, Ref)) or atom.op == list_op
        if not foldable:
            order.append(atom)
            continue
        if atom.field not in grouped:
            grouped[atom.field] = []
            order.append(atom.field)
        values = atom.value if atom.op == list_op else [atom.value]
        grouped[atom.field].extend(values)
    result = []
    for entry in order:
        if isinstance(entry, Atom):
            result.append(entry)
            continue
        values = _dedupe(grouped[entry])
        if len(values) == 1:
            result.append(Atom(entry, group_op, values[0]))
        else:
            result.append(Atom(entry, list_op, values))
    return result


def simplify(predicate: Predicate) -> Predicate:
    """Flattens nesting, folds equality chains into lists, drops implied `!= None` atoms."""
    if isinstance(predicate, Atom):
        return predicate
    kind = type(predicate)
    terms: list[Predicate] = []
    for term in (simplify(t) for t in predicate.terms):
        if type(term) is kind:
            terms.extend(term.terms)  # type: ignore[union-attr]
        else:
            terms.append(term)
    terms = _dedupe(terms)
    atoms = [t for t in terms if isinstance(t, Atom)]
    others = [t for t in terms if not isinstance(t, Atom)]
    if kind is AnyOf:
        atoms = _merge_values(atoms, "==", "in")
    else:
        atoms = _merge_values(atoms, "!=", "not_in")
        atoms = [
            a
            for a in atoms
            if not (
                a.op == "!=" and a.value is None and any(_false_for_none(t, a.field) for t in atoms + others if t != a)
            )
        ]
    ordered = atoms + others
    if len(ordered) == 1:
        return ordered[0]
    return kind(tuple(ordered))

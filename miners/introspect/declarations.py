"""What a config field is declared as: its plain types, its `Literal` choices, its default.

Read from annotations (objects or source text) and defaults, never by running
validation. `list[str] | None` -> types {"list"}; `str | torch.dtype | None` ->
{"str", "other"}; `Literal["a", "b"] | None` -> choices ["a", "b", None].
Example configs use these so a probe is a value the field takes: a dict field
gets a dict, not the integer 1, and a `Literal` field one of its choices.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from miners.introspect.annotations import literal_values
from miners.introspect.values import NotPlainData, plain_value

PLAIN = ("bool", "dict", "float", "int", "list", "str", "tuple")
_ALIASES = {"Dict": "dict", "List": "list", "Tuple": "tuple", "Sequence": "list", "Mapping": "dict"}


def _from_source(text: str) -> set[str]:
    try:
        expr = ast.parse(text, mode="eval").body
    except SyntaxError:
        return {"other"}
    return _from_expr(expr)


def _from_expr(expr: ast.expr) -> set[str]:
    if isinstance(expr, ast.Constant):
        return set() if expr.value is None else _from_source(expr.value) if isinstance(expr.value, str) else {"other"}
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return _from_expr(expr.left) | _from_expr(expr.right)
    if isinstance(expr, ast.Subscript):
        base = expr.value.attr if isinstance(expr.value, ast.Attribute) else getattr(expr.value, "id", "")
        items = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
        if base in ("Optional", "Union"):
            return set().union(*(_from_expr(i) for i in items))
        if base == "Annotated":
            return _from_expr(items[0])
        if base == "Literal":
            return {
                _plain_name(type(ast.literal_eval(i)))
                for i in items
                if not (isinstance(i, ast.Constant) and i.value is None)
            }
        return {_ALIASES.get(base, base)} & set(PLAIN) or {"other"}
    name = expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", "")
    if name == "None":
        return set()
    name = _ALIASES.get(name, name)
    return {name} if name in PLAIN else {"other"}


def _plain_name(cls: type) -> str:
    return cls.__name__ if cls.__name__ in PLAIN else "other"


def _from_object(annotation: Any) -> set[str]:
    if annotation is None or annotation is type(None):
        return set()
    if isinstance(annotation, str):
        return _from_source(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _from_object(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return {_plain_name(type(v)) for v in typing.get_args(annotation) if v is not None}
    if origin is typing.Union or (origin is not None and origin.__name__ == "UnionType"):
        return set().union(*(_from_object(a) for a in typing.get_args(annotation)))
    if origin is not None:
        return {_plain_name(origin)}
    if isinstance(annotation, type):
        return {_plain_name(annotation)}
    return {"other"}


_NO_DEFAULT = object()


@dataclass(frozen=True)
class Declared:
    """One field's declaration."""

    types: frozenset[str] = frozenset()
    choices: tuple[Any, ...] | None = None  # a Literal's values (None included when Optional)
    default: Any = _NO_DEFAULT
    # A non-empty value of the declared type, its items of the declared item type (a
    # `list[Literal["model", "worker"]]` gets ["model"]); no sample when there is none to make.
    sample: Any = _NO_DEFAULT

    @property
    def has_sample(self) -> bool:
        return self.sample is not _NO_DEFAULT

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


def _plain_default(value: Any) -> Any:
    try:
        return plain_value(value)
    except NotPlainData:
        return _NO_DEFAULT


_SAMPLES: dict[type, Any] = {bool: True, int: 1, float: 0.5, str: "value"}


def sample_of(annotation: Any, depth: int = 0) -> Any:
    """A truthy value of an annotation (an object, not source text), or _NO_DEFAULT: the first
    plain member of a union, a Literal's first value, a one-item list or mapping of a sample item."""
    if depth > 3 or annotation is None or isinstance(annotation, str):
        return _NO_DEFAULT
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return sample_of(args[0], depth + 1)
    if origin is typing.Literal:
        return next((v for v in args if v is not None and v is not False and v != ""), _NO_DEFAULT)
    if origin is typing.Union or (origin is not None and origin.__name__ == "UnionType"):
        return next((s for a in args if (s := sample_of(a, depth + 1)) is not _NO_DEFAULT), _NO_DEFAULT)
    if origin in (list, tuple, set, frozenset) or (origin is not None and origin.__name__ in ("Sequence", "List")):
        item = sample_of(args[0], depth + 1) if args else "value"
        return _NO_DEFAULT if item is _NO_DEFAULT else [item]
    if origin is dict or (origin is not None and origin.__name__ in ("Mapping", "Dict")):
        value = sample_of(args[1], depth + 1) if len(args) == 2 else "value"
        return _NO_DEFAULT if value is _NO_DEFAULT or (args and args[0] is not str) else {"key": value}
    return _SAMPLES.get(annotation, _NO_DEFAULT)


def _declared(annotation: Any, default: Any) -> Declared:
    literal = literal_values(annotation) if annotation is not None else None
    choices = None if literal is None else tuple(literal[0]) + ((None,) if literal[1] else ())
    return Declared(frozenset(_from_object(annotation)), choices, _plain_default(default), sample_of(annotation))


def _struct_fields(cls: type) -> list[tuple[str, Any, Any]] | None:
    """(name, annotation, default) of a msgspec.Struct's fields, or None for other classes."""
    names = getattr(cls, "__struct_fields__", None)
    if not isinstance(names, tuple):
        return None
    defaults = getattr(cls, "__struct_defaults__", ())
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable forward references: the names and defaults still hold
        hints = {}
    first_default = len(names) - len(defaults)
    found = []
    for index, name in enumerate(names):
        default = _NO_DEFAULT
        if index >= first_default:
            default = defaults[index - first_default]
            # msgspec marks default factories (list, dict) with a `factory` object.
            factory = getattr(default, "factory", None)
            if callable(factory) and type(default).__name__ == "Factory":
                try:
                    default = factory()
                except Exception:
                    default = _NO_DEFAULT
            elif type(default).__name__ == "_NoDefault":
                default = _NO_DEFAULT
        found.append((name, hints.get(name), default))
    return found


def declared_fields(cls: type) -> dict[str, Declared]:
    """Field -> its declaration, for pydantic models, dataclasses and msgspec structs, and constructor parameters."""
    found: dict[str, Declared] = {}
    pydantic_fields = getattr(cls, "__pydantic_fields__", None)
    struct_fields = _struct_fields(cls)
    if struct_fields is not None:
        for name, annotation, default in struct_fields:
            found[name] = _declared(annotation, default)
    elif isinstance(pydantic_fields, dict):
        for name, info in pydantic_fields.items():
            default = info.default if type(info.default).__name__ != "PydanticUndefinedType" else _NO_DEFAULT
            found[name] = _declared(info.annotation, default)
    elif dataclasses.is_dataclass(cls):
        for item in dataclasses.fields(cls):
            default = item.default if item.default is not dataclasses.MISSING else _NO_DEFAULT
            if default is _NO_DEFAULT and item.default_factory is not dataclasses.MISSING:
                try:
                    default = item.default_factory()
                except Exception:  # a factory that needs more than nothing: no default to show
                    default = _NO_DEFAULT
            found[item.name] = _declared(item.type, default)
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        parameters = {}
    for name, param in parameters.items():
        if name == "self" or name in found or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = param.annotation if param.annotation is not inspect.Parameter.empty else None
        default = param.default if param.default is not inspect.Parameter.empty else _NO_DEFAULT
        found[name] = _declared(annotation, default)
    return {name: found[name] for name in sorted(found) if not name.startswith("_")}


def annotated_classes(cls: type) -> dict[str, tuple[type, ...]]:
    """Field -> the classes its annotation names (`CompilationConfig | None` -> (CompilationConfig,)),
    for the fields of pydantic models, dataclasses and msgspec structs and annotated parameters."""
    annotations: dict[str, Any] = {}
    try:
        annotations.update(typing.get_type_hints(cls))
    except Exception:  # forward references that do not resolve: read what __annotations__ holds
        for klass in reversed(cls.__mro__):
            annotations.update(getattr(klass, "__annotations__", {}) or {})
    try:
        for name, param in inspect.signature(cls.__init__).parameters.items():
            if param.annotation is not inspect.Parameter.empty and name not in annotations:
                annotations[name] = param.annotation
    except (TypeError, ValueError):
        pass

    def classes(annotation: Any) -> set[type]:
        # Only the alternatives of a union: `list[X]` takes a list, not an X.
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            return classes(typing.get_args(annotation)[0])
        if origin is typing.Union or (origin is not None and origin.__name__ == "UnionType"):
            return set().union(*(classes(arg) for arg in typing.get_args(annotation)))
        return {annotation} if isinstance(annotation, type) and origin is None else set()

    found = {}
    for name, annotation in annotations.items():
        named = classes(annotation)
        if named and not name.startswith("_"):
            found[name] = tuple(sorted(named, key=lambda c: f"{c.__module__}.{c.__qualname__}"))
    return found


def nested_fields(cls: type, natives: Mapping[str, type], declared: Mapping[str, str]) -> dict[str, str]:
    """Field -> the native type whose config it takes: from annotations naming one of `natives`
    (native type name -> class), and the SSOT's own `declared` ones, which win."""
    found = {}
    for name, classes in annotated_classes(cls).items():
        for native_name, native_cls in sorted(natives.items()):
            if native_cls is not cls and native_cls in classes:
                found[name] = native_name
                break
    found.update(declared)
    return dict(sorted(found.items()))

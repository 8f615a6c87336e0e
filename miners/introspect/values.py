"""Plain data: the values a rule, a default or an example config may hold (YAML's scalars and lists)."""

from __future__ import annotations

import enum
import math
from typing import Any


class NotPlainData(ValueError):
    """A runtime value with no plain-data equivalent (an object, a class, a non-finite number)."""


def plain_value(value: Any) -> Any:
    """Plain data for a runtime constant (enums by value, str/int subclasses as such), or NotPlainData."""
    if isinstance(value, enum.Enum):
        return plain_value(value.value)
    if value is None or type(value) in (bool, int, str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotPlainData(f"value {value!r} is not a finite number")
        return float(value)
    for base in (bool, int, str):
        if isinstance(value, base):
            return base(value) if base is not str else str.__str__(value)
    if isinstance(value, (tuple, list)):
        return [plain_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        # Runtime set order is arbitrary; sort for stable output.
        return sorted((plain_value(v) for v in value), key=repr)
    raise NotPlainData(f"value of type {type(value).__name__} is not plain data")

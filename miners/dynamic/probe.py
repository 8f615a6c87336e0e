"""Probing: build configs from a cluster's values, replay each, and record what the library said.

Values are typed by the SSOT (`int`, `float`, `bool`, `str`) so every probe is
type-correct for its field — a bool is never offered to a float field. A small
cluster is probed on its full Cartesian grid; a large one on a sample drawn by
Hypothesis, used only as a deterministic value generator (derandomized, no
database, generation phase only): the same code and library give the same rows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from miners.replay import Outcome, replay, stable_text
from miners.ssot import Cluster, NativeType, ProbeField
from miners.witnesses import OMIT

GRID_VALUES: dict[str, tuple[Any, ...]] = {
    "int": (-1, 0, 1, 2, 3, 4, 8),
    "float": (-0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0),
    "bool": (False, True),
    "str": ("not_a_valid_value",),
}

# Values never on the grid: a rule inferred from the grid must also hold on them.
FRESH_VALUES: dict[str, tuple[Any, ...]] = {
    "int": (5, 7, 13, -3, 100),
    "float": (0.1, 0.75, 3.0, -2.5, 0.9),
    "bool": (),
    "str": ("zz_fresh_value", "yet_another_value"),
}

MAX_CARTESIAN = 4096
SAMPLES = 1500


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, float)
    return isinstance(value, str)


def field_values(field: ProbeField) -> list[Any]:
    """OMIT (the field left unset) first, then the declared domain values, then the generic grid."""
    values: list[Any] = [OMIT]
    for value in (*field.values, *GRID_VALUES[field.type]):
        if _type_ok(value, field.type) and not any(type(v) is type(value) and v == value for v in values[1:]):
            values.append(value)
    return values


def fresh_values(field: ProbeField) -> list[Any]:
    """Off-grid values of the field's type; for numbers also twice the largest domain value,
    so an allowlist of the declared values is tested against a plausible valid neighbour."""
    extra = [2 * max(field.values)] if field.type in ("int", "float") and field.values else []
    on_grid = field_values(field)[1:]
    return [v for v in (*FRESH_VALUES[field.type], *extra) if not any(type(v) is type(g) and v == g for g in on_grid)]


def _sampled(pools: Sequence[Sequence[Any]], count: int) -> list[tuple[Any, ...]]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    drawn: list[tuple[Any, ...]] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.tuples(*(st.sampled_from(list(pool)) for pool in pools)))
    def collect(values: tuple[Any, ...]) -> None:
        drawn.append(values)

    collect()
    seen: set[tuple[int, ...]] = set()
    unique = []
    for values in drawn:
        key = tuple(pool.index(v) for pool, v in zip(pools, values, strict=True))
        if key not in seen:
            seen.add(key)
            unique.append(values)
    return unique


def grid(cluster: Cluster) -> list[dict[str, Any]]:
    """The configs to probe for a cluster (fields left unset are absent from the dict)."""
    names = [f.name for f in cluster.fields]
    pools = [field_values(f) for f in cluster.fields]
    if math.prod(len(p) for p in pools) <= MAX_CARTESIAN:
        combos = list(itertools.product(*pools))
    else:
        combos = _sampled(pools, SAMPLES)
    return [{n: v for n, v in zip(names, values, strict=True) if v is not OMIT} for values in combos]


@dataclass(frozen=True)
class Row:
    """One probe: the config, and what the library did with it."""

    kwargs: Mapping[str, Any]
    exception_type: str | None  # qualified class name of the exception raised, if any
    raised: str | None  # its message
    warned: tuple[str, ...]  # warnings.warn messages
    logged: tuple[str, ...]  # log lines at WARNING or above

    @property
    def accepted(self) -> bool:
        return self.raised is None


def probe(cls: type, native: NativeType, kwargs: Mapping[str, Any], library: str) -> Row:
    outcome: Outcome = replay(cls, native, {**native.constructor_kwargs, **kwargs}, library=library)
    exception = outcome.exception
    name = f"{type(exception).__module__}.{type(exception).__qualname__}" if exception is not None else None
    return Row(
        dict(kwargs),
        name,
        outcome.exception_message if exception is not None else None,
        tuple(stable_text(text) for text in outcome.warnings),
        tuple(stable_text(text) for text in outcome.logs),
    )

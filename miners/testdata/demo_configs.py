"""Config classes shaped like the libraries' own, with known rules, for testing the miners.

Each class documents the rules a correct miner finds in it.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Annotated, Literal, Optional

import msgspec
import pydantic
from pydantic.dataclasses import dataclass as pydantic_dataclass


class ProbedConfig:
    """Rules: n >= 1 (error); mode in {fast, slow} (error); n divisible by k (error); ratio > 1 warns."""

    def __init__(self, n: int = 4, k: int = 2, mode: str = "fast", ratio: float = 0.5) -> None:
        self.n, self.k, self.mode, self.ratio = n, k, mode, ratio
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        if mode not in ("fast", "slow"):
            raise ValueError(f"unknown mode {mode!r}")
        if n % k != 0:
            raise ValueError(f"n ({n}) must be divisible by k ({k})")
        if ratio > 1.0:
            warnings.warn(f"ratio {ratio} is above 1 and will be clamped", UserWarning, stacklevel=2)


@pydantic_dataclass
class PydanticConfig:
    """Rules: workers > 0; 0 <= dropout <= 1; block multiple of 16; dtype in {auto, half}; mode Optional[Literal]."""

    workers: int = pydantic.Field(default=1, gt=0)
    dropout: float = pydantic.Field(default=0.1, ge=0.0, le=1.0)
    block: int = pydantic.Field(default=16, multiple_of=16)
    dtype: Literal["auto", "half"] = "auto"
    mode: Optional[Literal["eager", "lazy"]] = None  # noqa: UP045 - the Optional spelling is what is tested


class MsgspecConfig(msgspec.Struct):
    """Rules (when converted): n >= 1; 0 < temperature <= 2; kind in {a, b}."""

    n: Annotated[int, msgspec.Meta(ge=1)] = 1
    temperature: Annotated[float, msgspec.Meta(gt=0.0, le=2.0)] = 1.0
    kind: Literal["a", "b"] = "a"


class PlainStruct(msgspec.Struct):
    """No constraints at all: lifts to nothing."""

    n: int = 1
    name: str = "x"


@dataclasses.dataclass
class LiteralDataclass:
    """Rule: policy in {fifo, lru}, enforced by __post_init__; `style` is Literal but never enforced."""

    policy: Literal["fifo", "lru"] = "fifo"
    style: Literal["short", "long"] | None = None

    def __post_init__(self) -> None:
        if self.policy not in ("fifo", "lru"):
            raise ValueError(f"policy must be fifo or lru, got {self.policy}")

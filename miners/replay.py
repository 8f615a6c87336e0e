"""Replaying a config against the live library, capturing everything it says.

Construct the native type with the given kwargs, make the SSOT's replay calls
on it (e.g. `validate(strict=True)`), and record the exception (if any), the
warnings and the log records at WARNING or above. The gate and the dynamic
prober both see the library through this one function.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from miners.ssot import NativeType, ReplayCall

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def stable_text(text: str) -> str:
    """Message text without memory addresses, so reports are byte-stable."""
    return _ADDRESS.sub("0x…", text)


@dataclass
class Outcome:
    exception: BaseException | None = None
    warnings: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    instance: Any = None

    @property
    def exception_message(self) -> str:
        return "" if self.exception is None else stable_text(str(self.exception))

    def exception_is(self, type_name: str | None) -> bool:
        if self.exception is None:
            return False
        if type_name is None:
            return True
        names = set()
        for cls in type(self.exception).__mro__:
            names.add(cls.__name__)
            names.add(f"{cls.__module__}.{cls.__qualname__}")
        return type_name in names


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


@contextmanager
def _capturing(outcome: Outcome, logger_names: tuple[str, ...]) -> Iterator[None]:
    handler = _ListHandler(outcome.logs)
    # The root logger sees every propagating record; a library root logger that
    # does not propagate (transformers') needs the handler itself. Their own
    # handlers are set aside meanwhile: replays are observed, not printed.
    loggers = [logging.getLogger()]
    loggers += [logging.getLogger(name) for name in logger_names if not logging.getLogger(name).propagate]
    saved = {logger: logger.handlers[:] for logger in loggers}
    for logger in loggers:
        logger.handlers = [handler]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        outcome.warnings.extend(str(w.message) for w in caught)
    finally:
        for logger, handlers in saved.items():
            logger.handlers = handlers


def _forget_logged_once() -> None:
    """Libraries that log a message once (transformers' `warning_once`) cache it; every replay must see it."""
    for name in ("warning_once", "info_once"):
        cache_clear = getattr(getattr(logging.Logger, name, None), "cache_clear", None)
        if cache_clear is not None:
            cache_clear()


def construct(cls: type, native: NativeType, kwargs: Mapping[str, Any]) -> Any:
    """Builds a config the way the SSOT says the library's users do."""
    if native.construct == "msgspec.convert":
        import msgspec

        return msgspec.convert(dict(kwargs), type=cls)
    return cls(**kwargs)


def replay(
    cls: type,
    native: NativeType,
    kwargs: Mapping[str, Any],
    *,
    library: str,
    calls: Sequence[ReplayCall] | None = None,
) -> Outcome:
    """Constructs, then makes `calls` (default: the SSOT's replay calls; `native.on_save` for a save)."""
    _forget_logged_once()
    outcome = Outcome()
    with _capturing(outcome, (library,)):
        try:
            instance = construct(cls, native, kwargs)
            for call in native.replay if calls is None else calls:
                getattr(instance, call.method)(**call.kwargs)
            outcome.instance = instance
        except Exception as err:
            outcome.exception = err
    return outcome

"""What the fuzz tests of the CLIs share: strict output streams, the checks every run must pass, and a tally.

A CLI's `main(argv)` runs with stdout as a strict UTF-8 stream (a UTF-8 locale's terminal: a
character it cannot encode is a traceback) and stderr as Python's own (backslash escapes).
Whatever the input, the run must end in an exit status the tool documents; in 2 (bad input)
with exactly one non-empty line on stderr, no traceback, and nothing on stdout.

TRIED counts, per fuzz test, the inputs it ran, and PASSED names the tests that ran them all
without a crash (a crash fails the test); each test module reports both at its end
(`report_tally`), so a run's log says how many inputs were tried.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings

TRIED: Counter[str] = Counter()
PASSED: set[str] = set()


def fuzz_settings(max_examples: int) -> settings:
    """Fixed inputs (derandomized: the seed comes from the test), no example database, no deadline."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


@dataclass(frozen=True)
class Run:
    status: int
    stdout: str
    stderr: str


def run_main(main: Callable[..., int], argv: list[str], **kwargs: object) -> Run:
    """`main(argv, **kwargs)` with its output captured as a terminal would take it."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", newline="\n", write_through=True)
    with redirect_stdout(out), redirect_stderr(err):
        status = main(argv, **kwargs)
    return Run(status, out.buffer.getvalue().decode("utf-8"), err.buffer.getvalue().decode("utf-8"))


def assert_one_line_error(stderr: str) -> str:
    """The error line of a run that failed on its input: one non-empty line, `error: ...`, no traceback."""
    assert "Traceback" not in stderr, stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, repr(stderr)
    line = stderr[:-1]
    assert "\r" not in line and len(line.splitlines()) == 1, repr(stderr)
    assert line.startswith("error: ") and line[len("error: ") :].strip(), repr(stderr)
    return line


def assert_clean_end(run: Run, statuses: tuple[int, ...] = (0, 1, 2)) -> None:
    """An exit status among `statuses`; on 2, one error line and no report."""
    assert run.status in statuses, run
    assert "Traceback" not in run.stderr + run.stdout, run
    if run.status == 2:
        assert_one_line_error(run.stderr)
        assert run.stdout == "", run


def files_under(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def report_tally(request: object, names: list[str]) -> None:
    """One line per fuzz test of the module: how many inputs it tried; all passed, or the test failed."""
    plugins = request.config.pluginmanager  # type: ignore[attr-defined]
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    lines = [
        f"fuzz: {name}: {TRIED[name]} inputs tried, {'0 crashed' if name in PASSED else 'FAILED'}"
        for name in names
        if name in TRIED
    ]
    if reporter is None or capture is None:
        print(*lines, sep="\n")
        return
    with capture.global_and_fixture_disabled():  # past pytest's capture, into the test log
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


def places(node: object, inside: list[tuple[object, object]] | None = None) -> list[tuple[object, object]]:
    """Every (container, key or index) under `node`."""
    inside = [] if inside is None else inside
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        inside.append((node, key))
        places(child, inside)
    return inside

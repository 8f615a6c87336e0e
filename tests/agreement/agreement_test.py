"""How often the checker agrees with the live library on whether a config raises.

For every case of `<library>_cases.yaml` (configs from the libraries' own tests and
docs and from real models, never written here), the library's verdict is computed
now: the class is built the way the SSOT says (miners/<library>/versions.yaml:
constructor_kwargs under the case's kwargs, then the replay calls), except that a
`strict: true` argument is dropped, because a job constructs its config in the
non-strict mode and strictness is what save_pretrained adds. The library "raises"
when that throws; the checker "raises" when it reports at least one `error`.

AGREEMENT_LIBRARY names the library (one target per library's pip hub). The
report (`-s`) gives the figures and every disagreement with its source, the
library's exception and the checker's findings.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from miners import replay, ssot
from tests.agreement.agreement import (
    Case,
    CheckerVerdict,
    LibraryVerdict,
    Outcome,
    Summary,
    exception_text,
    findings_text,
    load_cases,
    report,
)

LIBRARY = os.environ["AGREEMENT_LIBRARY"]
CASES = Path(f"tests/agreement/{LIBRARY}_cases.yaml")
SSOT = f"miners/{LIBRARY}/versions.yaml"
# Each library is held to 98% agreement (the report lists every miss and why); a false
# `error` fails the test whatever the agreement.
TARGET = 0.98
MIN_CASES = 150


def _non_strict(native: ssot.NativeType) -> ssot.NativeType:
    """The native type with its replay calls' `strict: true` dropped (what a job's constructor runs)."""
    calls = tuple(
        ssot.ReplayCall(call.method, {k: v for k, v in call.kwargs.items() if not (k == "strict" and v is True)})
        for call in native.replay
    )
    return dataclasses.replace(native, replay=calls)


@pytest.fixture(scope="module")
def spec() -> ssot.LibrarySpec:
    # Loading the SSOT hides the modules it lists as absent, before anything imports the library.
    return ssot.load(SSOT)


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(CASES)


def _native_for(spec: ssot.LibrarySpec, section: str) -> ssot.NativeType:
    for native in spec.native_types:
        if section in (native.name, native.class_name):
            return native
    raise LookupError(section)


def test_every_case_has_a_source_a_unique_id_and_a_native_type(spec, cases):
    assert len(cases) >= MIN_CASES
    assert len({case.id for case in cases}) == len(cases)
    assert all(case.source for case in cases)
    unknown = sorted({case.section for case in cases} - {n.class_name for n in spec.native_types})
    assert not unknown, f"classes that {SSOT} does not list (by short name): {unknown}"


def _library_verdict(cls: type, native: ssot.NativeType, case: Case, library: str) -> LibraryVerdict:
    outcome = replay.replay(cls, native, {**native.constructor_kwargs, **case.kwargs}, library=library)
    if outcome.exception is None:
        return LibraryVerdict(raises=False)
    return LibraryVerdict(raises=True, exception=replay.stable_text(exception_text(outcome.exception)))


def _checker_verdict(check, corpus, case: Case) -> CheckerVerdict:
    try:
        return CheckerVerdict(findings=findings_text(check.check_config(corpus, {case.section: case.kwargs}, case.id)))
    except Exception as err:
        return CheckerVerdict(failure=exception_text(err))


def test_checker_agrees_with_the_library(spec, cases):
    from tools import check

    version = spec.check_installed_version("gate")
    corpus = check.load_library_corpus(LIBRARY, version)
    assert corpus.library_version == version, f"the corpus is of {LIBRARY} {corpus.library_version}, {version} runs"

    outcomes, unmeasured = [], []
    classes = {}
    for case in cases:
        native = _non_strict(_native_for(spec, case.section))
        if native.name not in classes:
            cls = spec.import_class(native, version)
            # A class that cannot be built from its own defaults here (a package the hub does
            # not install) rejects every case for that reason alone: its cases measure nothing.
            bare = _library_verdict(cls, native, Case("defaults", "", case.section, {}), spec.library)
            classes[native.name] = (cls, bare.exception)
        cls, unbuildable = classes[native.name]
        if unbuildable:
            unmeasured.append((case, unbuildable))
            continue
        outcomes.append(
            Outcome(case, _library_verdict(cls, native, case, spec.library), _checker_verdict(check, corpus, case))
        )

    summary = Summary(LIBRARY, tuple(outcomes), tuple(unmeasured))
    print("\n" + report(summary))
    assert len(outcomes) >= MIN_CASES, f"only {len(outcomes)} cases could be measured"
    assert not summary.false_errors, f"{len(summary.false_errors)} config(s) the library accepts get an error"
    assert summary.agreement >= TARGET, f"agreement {summary.agreement:.1%} < {TARGET:.0%}"

"""The suite's own arithmetic: reading case files, comparing verdicts, the report."""

from __future__ import annotations

import pytest

from tests.agreement.agreement import (
    Case,
    CaseFileError,
    CheckerVerdict,
    LibraryVerdict,
    Outcome,
    Summary,
    one_line,
    parse_cases,
    report,
)


def entry(case_id="a-case", source="owner/repo tests/test_x.py test_y", config=None):
    return {"id": case_id, "source": source, "config": config or {"GenerationConfig": {"top_k": 5}}}


def test_cases_keep_file_order_and_their_kwargs():
    cases = parse_cases([entry("b"), entry("a", config={"SamplingParams": {}})], "cases.yaml")
    assert [c.id for c in cases] == ["b", "a"]
    assert cases[0] == Case("b", "owner/repo tests/test_x.py test_y", "GenerationConfig", {"top_k": 5})
    assert cases[1].kwargs == {}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "non-empty list"),
        ({"id": "a"}, "non-empty list"),
        ([entry(), entry()], "id 'a-case' is used twice"),
        ([entry(source="  ")], "source must say where the config comes from"),
        ([entry(case_id="A Case")], "must be a lower-case slug"),
        ([{**entry(), "expected": "raises"}], "exactly the keys id, source and config"),
        ([entry(config={"GenerationConfig": {}, "SamplingParams": {}})], "exactly one class name"),
        ([entry(config={"GenerationConfig": [1]})], "{ClassName: {argument: value, ...}}"),
    ],
)
def test_malformed_case_files_name_the_entry_and_the_problem(data, problem):
    with pytest.raises(CaseFileError, match=r"cases\.yaml") as err:
        parse_cases(data, "cases.yaml")
    assert problem in str(err.value)


def test_one_line_collapses_whitespace_and_cuts():
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line("x" * 10, width=5) == "xxxx…"


def outcome(case_id, library_raises, findings=(), failure=""):
    case = Case(case_id, f"src of {case_id}", "SamplingParams", {"n": 0})
    library = LibraryVerdict(True, "ValueError: n must be at least 1") if library_raises else LibraryVerdict(False)
    return Outcome(case, library, CheckerVerdict(tuple(findings), failure))


def test_only_an_error_finding_says_the_library_raises():
    assert CheckerVerdict(("error x.y.z", "warn x.y.w")).raises
    assert not CheckerVerdict(("warn x.y.w", "dormant x.y.v")).raises
    assert not CheckerVerdict().raises


def test_verdicts_agree_or_disagree_by_cause():
    assert outcome("hit", True, ["error r"]).agrees
    assert outcome("quiet", False, ["dormant r"]).agrees
    assert outcome("missed", True, ["warn r"]).cause == "missed raise (the library raises)"
    assert outcome("false", False, ["error r"]).cause == "false error (the library accepts it)"
    refused = outcome("refused", True, failure="ConfigError: unknown config class")
    assert not refused.agrees and refused.cause == "checker gave no answer"


def test_summary_figures_and_report():
    outcomes = (
        outcome("hit", True, ["error r"]),
        outcome("quiet", False),
        outcome("missed", True),
        outcome("false", False, ["error r"]),
    )
    unmeasured = ((Case("no-torch", "s", "BitsAndBytesConfig", {}), "NameError: name 'torch' is not defined"),)
    summary = Summary("vllm", outcomes, unmeasured)
    assert summary.agreement == 0.5
    assert [o.case.id for o in summary.false_errors] == ["false"]
    text = report(summary)
    assert text.splitlines()[0] == (
        "AGREEMENT vllm: 4 cases measured (2 the library raises on, 2 it accepts), "
        "agreement 50.0% (2/4), 1 false error(s)"
    )
    assert "unmeasured no-torch: BitsAndBytesConfig cannot be built here (NameError" in text
    # Grouped by cause, in a stable order, each with its source and both verdicts.
    assert text.index("false error") < text.index("missed raise")
    assert "      library: raises ValueError: n must be at least 1" in text
    assert "      checker: error r" in text
    assert "      checker: no finding" in text
    assert "src of missed" in text and "hit" not in text.split("\n", 1)[1]

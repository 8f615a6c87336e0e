"""The validation gate: replay every rule against the live library before it ships.

Four checks per rule; a rule that fails any of them is quarantined with the
reasons, never shipped:

1. positive_triggers: `kwargs_positive` makes the library do what the rule
   says — raise (of the declared exception type), emit the warning or log
   line, report the minor issue, or normalise the field to `normalises_to`;
2. message_matches_template: what it says matches the rule's template (for a
   normalisation: the field ends up with the stated value);
3. negative_does_not_trigger: `kwargs_negative` constructs without raising
   and without the rule's effect;
4. predicate_consistent: the predicate is true on `kwargs_positive` and false
   on `kwargs_negative`. Replaying kwargs cannot catch a predicate that fires
   on the valid side (an inverted lift); this check can.

python -m corpus.gate --ssot miners/<lib>/versions.yaml --corpus merged.yaml \
    --validated invariants.validated.yaml --quarantine quarantine.yaml
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from miners import cli, ssot
from miners.errors import SchemaError
from miners.replay import Outcome, replay, stable_text
from miners.schema.predicate import evaluate
from miners.schema.rule import CorpusFile, Quarantined, Rule, load_corpus
from miners.schema.template import matches

Replayer = Callable[[Rule, dict], Outcome]


class _Unset:
    def __repr__(self) -> str:
        return "<not set>"


_UNSET = _Unset()


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    failures: tuple[str, ...]  # "<check>: <detail>", in CHECKS order

    @property
    def confirmed(self) -> bool:
        return not self.failures


class _Replays:
    """The rule's two example configs, each replayed once, on first use."""

    def __init__(self, rule: Rule, run: Replayer) -> None:
        self.rule, self._run = rule, run
        self._outcomes: dict[str, Outcome] = {}

    def __getitem__(self, side: str) -> Outcome:
        if side not in self._outcomes:
            kwargs = self.rule.kwargs_positive if side == "positive" else self.rule.kwargs_negative
            self._outcomes[side] = self._run(self.rule, dict(kwargs))
        return self._outcomes[side]


def _said(outcome: Outcome, rule: Rule) -> list[str]:
    """What the library said through the rule's channel."""
    raised = [outcome.exception_message] if outcome.exception is not None else []
    if rule.emission == "raise":
        return raised
    if rule.emission == "warnings.warn":
        return outcome.warnings
    if rule.emission == "logger":
        return outcome.logs
    return raised + outcome.warnings + outcome.logs  # minor issues: logged, or raised when strict


def _normalised(outcome: Outcome, rule: Rule) -> tuple[Any, Any]:
    """(value the field ended with, value the rule says it is set to)."""
    ((field, value),) = (rule.normalises_to or {"": None}).items()
    return getattr(outcome.instance, field, _UNSET), value


def _same(a: Any, b: Any) -> bool:
    """Equal and of one type: True and 1 are different settings."""
    return type(a) is type(b) and a == b


def _changed(outcome: Outcome, rule: Rule, kwargs: Mapping[str, Any]) -> bool:
    ((field, _),) = (rule.normalises_to or {"": None}).items()
    actual, _value = _normalised(outcome, rule)
    return outcome.instance is not None and actual is not _UNSET and not _same(kwargs.get(field, _UNSET), actual)


def _triggers(outcome: Outcome, rule: Rule, kwargs: Mapping[str, Any]) -> bool:
    """Whether an outcome shows this rule's effect, message included."""
    if rule.emission == "normalise":
        actual, value = _normalised(outcome, rule)
        return _changed(outcome, rule, kwargs) and _same(actual, value)
    if rule.emission == "raise" and not outcome.exception_is(rule.exception_type):
        return False
    return any(matches(rule.message_template, text) for text in _said(outcome, rule))


def positive_triggers(rule: Rule, replays: _Replays) -> str | None:
    """kwargs_positive makes the library act: raise (of the declared type), warn, log, or change the field."""
    outcome = replays["positive"]
    if rule.emission == "raise":
        if outcome.exception is None:
            return "kwargs_positive was accepted (expected a raise)"
        if not outcome.exception_is(rule.exception_type):
            return (
                f"raised {type(outcome.exception).__name__} ({outcome.exception_message[:200]!r}), "
                f"expected {rule.exception_type}"
            )
        return None
    if rule.emission == "normalise":
        if outcome.exception is not None:
            return f"kwargs_positive raised {type(outcome.exception).__name__}: {outcome.exception_message[:200]!r}"
        return None if _changed(outcome, rule, rule.kwargs_positive) else "the field was left as given"
    return None if _said(outcome, rule) else f"kwargs_positive emitted nothing ({rule.emission})"


def message_matches_template(rule: Rule, replays: _Replays) -> str | None:
    """What the library says matches the template (for a normalisation: the value it sets)."""
    outcome = replays["positive"]
    if rule.emission == "normalise":
        actual, value = _normalised(outcome, rule)
        return (
            None if actual == value and type(actual) is type(value) else f"the field ended as {actual!r}, not {value!r}"
        )
    said = _said(outcome, rule)
    if any(matches(rule.message_template, text) for text in said):
        return None
    return f"the library said {(said[0][:300] if said else 'nothing')!r}"


def negative_does_not_trigger(rule: Rule, replays: _Replays) -> str | None:
    """kwargs_negative constructs without raising and without the rule's effect."""
    outcome = replays["negative"]
    if outcome.exception is not None:
        return f"kwargs_negative raised {type(outcome.exception).__name__}: {outcome.exception_message[:300]!r}"
    if _triggers(outcome, rule, rule.kwargs_negative):
        return "kwargs_negative still triggers the rule"
    return None


def predicate_consistent(rule: Rule, replays: _Replays) -> str | None:
    """The predicate is true on kwargs_positive and false on kwargs_negative."""
    if not evaluate(rule.predicate, rule.kwargs_positive):
        return "the predicate is false on kwargs_positive"
    if evaluate(rule.predicate, rule.kwargs_negative):
        return "the predicate is true on kwargs_negative"
    return None


Check = Callable[[Rule, _Replays], "str | None"]
CHECKS: dict[str, Check] = {
    "positive_triggers": positive_triggers,
    "message_matches_template": message_matches_template,
    "negative_does_not_trigger": negative_does_not_trigger,
    "predicate_consistent": predicate_consistent,
}


def check_rule(rule: Rule, run: Replayer, checks: Mapping[str, Check] = CHECKS) -> Verdict:
    replays = _Replays(rule, run)
    failures = []
    for name, check in checks.items():
        problem = check(rule, replays)
        if problem is not None:
            # Reasons are part of the quarantine file: no memory addresses in them.
            failures.append(stable_text(f"{name}: {problem}"))
    return Verdict(rule, tuple(failures))


def run_gate(spec: ssot.LibrarySpec, corpus: CorpusFile, corpus_path: str) -> tuple[CorpusFile, CorpusFile]:
    installed = spec.check_installed_version("gate")
    if corpus.library != spec.library:
        raise SchemaError(corpus_path, f"corpus is for {corpus.library!r}, the SSOT for {spec.library!r}")
    if corpus.library_version != installed:
        raise SchemaError(
            corpus_path,
            f"corpus was mined from {spec.library} {corpus.library_version} but {installed} is installed: "
            "rebuild the corpus against the installed version",
        )
    classes: dict[str, type] = {}
    for native in spec.native_types:
        classes[native.name] = spec.import_class(native, installed)

    def run(rule: Rule, kwargs: dict) -> Outcome:
        native = spec.native_type(rule.native_type)
        return replay(classes[native.name], native, kwargs, library=spec.library)

    for rule in corpus.rules:
        if rule.native_type not in classes:
            raise SchemaError(
                corpus_path, f"native_type {rule.native_type!r} is not in {spec.path}; add it there", rule_id=rule.id
            )
    verdicts = [check_rule(rule, run) for rule in corpus.rules]
    validated = CorpusFile(
        library=corpus.library,
        library_version=corpus.library_version,
        rules=tuple(v.rule for v in verdicts if v.confirmed),
        defaults=corpus.defaults,
    )
    quarantine = CorpusFile(
        library=corpus.library,
        library_version=corpus.library_version,
        quarantined=tuple(Quarantined(v.rule, v.failures) for v in verdicts if not v.confirmed),
    )
    return validated, quarantine


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="corpus.gate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ssot", required=True)
    parser.add_argument("--corpus", required=True, help="the merged corpus to validate")
    parser.add_argument("--validated", required=True, help="where confirmed rules go")
    parser.add_argument("--quarantine", required=True, help="where failed rules go, with reasons")
    args = parser.parse_args(argv)
    spec = ssot.load(args.ssot)
    validated, quarantine = run_gate(spec, load_corpus(args.corpus), args.corpus)
    validated.write(args.validated)
    quarantine.write(args.quarantine)
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)

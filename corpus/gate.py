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
from miners.replay import Outcome, replay
from miners.schema.predicate import evaluate
from miners.schema.rule import CorpusFile, Quarantined, Rule, load_corpus
from miners.schema.template import matches

CHECKS = (
    "positive_triggers",
    "message_matches_template",
    "negative_does_not_trigger",
    "predicate_consistent",
)

Replayer = Callable[[Rule, dict], Outcome]


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    failures: tuple[str, ...]  # "<check>: <detail>", in CHECKS order

    @property
    def confirmed(self) -> bool:
        return not self.failures


_UNSET = object()


def _observe(outcome: Outcome, rule: Rule, kwargs: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Whether the library did what the rule says it does, and what it said (or did) instead."""
    if rule.emission == "raise":
        said = [outcome.exception_message] if outcome.exception is not None else []
        return outcome.exception_is(rule.exception_type), said
    if rule.emission == "normalise":
        ((field, value),) = (rule.normalises_to or {"": None}).items()
        if outcome.instance is None:
            return False, [outcome.exception_message]
        actual = getattr(outcome.instance, field, _UNSET)
        changed = kwargs.get(field, _UNSET) != value
        return changed and actual == value and type(actual) is type(value), [f"{field} = {actual!r}"]
    said = ([outcome.exception_message] if outcome.exception is not None else []) + outcome.warnings + outcome.logs
    return any(matches(rule.message_template, text) for text in said), said


def check_rule(rule: Rule, run: Replayer) -> Verdict:
    failures: list[str] = []
    positive = run(rule, dict(rule.kwargs_positive))
    triggered, said = _observe(positive, rule, rule.kwargs_positive)
    if rule.emission == "raise":
        if positive.exception is None:
            failures.append("positive_triggers: kwargs_positive was accepted (expected a raise)")
        elif not triggered:
            failures.append(
                f"positive_triggers: raised {type(positive.exception).__name__} "
                f"({positive.exception_message[:200]!r}), expected {rule.exception_type}"
            )
        if not any(matches(rule.message_template, text) for text in said):
            failures.append(f"message_matches_template: the library said {(said[0][:300] if said else 'nothing')!r}")
    elif rule.emission == "normalise":
        if positive.exception is not None:
            failures.append(f"positive_triggers: kwargs_positive raised {type(positive.exception).__name__}")
        elif not triggered:
            failures.append(f"positive_triggers: not normalised to {dict(rule.normalises_to or {})}: {said[0]}")
    elif not triggered:
        failures.append(f"positive_triggers: kwargs_positive did not emit the message ({rule.emission})")
        failures.append(f"message_matches_template: the library said {(said[0][:300] if said else 'nothing')!r}")
    negative = run(rule, dict(rule.kwargs_negative))
    if negative.exception is not None:
        failures.append(
            f"negative_does_not_trigger: kwargs_negative raised {type(negative.exception).__name__}: "
            f"{negative.exception_message[:300]!r}"
        )
    elif _observe(negative, rule, rule.kwargs_negative)[0]:
        failures.append("negative_does_not_trigger: kwargs_negative still triggers the rule")
    if not evaluate(rule.predicate, rule.kwargs_positive):
        failures.append("predicate_consistent: the predicate is false on kwargs_positive")
    if evaluate(rule.predicate, rule.kwargs_negative):
        failures.append("predicate_consistent: the predicate is true on kwargs_negative")
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

"""The validation gate: replay every rule against the live library before it ships.

Four checks per rule; a rule that fails any of them is quarantined with the
reasons, never shipped:

1. positive_triggers: `kwargs_positive` makes the library object (raise, for
   `error` rules — of the declared exception type when there is one);
2. message_matches_template: what it says matches the rule's template;
3. negative_does_not_trigger: `kwargs_negative` is accepted;
4. predicate_consistent: the predicate is true on `kwargs_positive` and false
   on `kwargs_negative`. Replaying kwargs cannot catch a predicate that fires
   on the valid side (an inverted lift); this check can.

python -m corpus.gate --ssot miners/<lib>/versions.yaml --corpus merged.yaml \
    --validated invariants.validated.yaml --quarantine quarantine.yaml
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

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


def _said(outcome: Outcome, rule: Rule) -> list[str]:
    """What the library said that this kind of rule is about."""
    if rule.emission == "raise":
        return [outcome.exception_message] if outcome.exception is not None else []
    return outcome.warnings + outcome.logs


def _triggered(outcome: Outcome, rule: Rule) -> bool:
    if rule.emission == "raise":
        return outcome.exception_is(rule.exception_type)
    return any(matches(rule.message_template, text) for text in _said(outcome, rule))


def check_rule(rule: Rule, run: Replayer) -> Verdict:
    failures: list[str] = []
    positive = run(rule, dict(rule.kwargs_positive))
    said = _said(positive, rule)
    if not _triggered(positive, rule):
        if rule.emission == "raise" and positive.exception is not None:
            failures.append(
                f"positive_triggers: raised {type(positive.exception).__name__}, expected {rule.exception_type}"
            )
        else:
            failures.append(f"positive_triggers: kwargs_positive was accepted (expected {rule.emission})")
    if not any(matches(rule.message_template, text) for text in said):
        shown = said[0][:300] if said else "nothing"
        failures.append(f"message_matches_template: the library said {shown!r}")
    negative = run(rule, dict(rule.kwargs_negative))
    if rule.emission == "raise" and negative.exception is not None:
        failures.append(
            f"negative_does_not_trigger: kwargs_negative raised {type(negative.exception).__name__}: "
            f"{negative.exception_message[:300]!r}"
        )
    elif rule.emission != "raise" and _triggered(negative, rule):
        failures.append("negative_does_not_trigger: kwargs_negative still emits the message")
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

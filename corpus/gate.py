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
   on `kwargs_negative`, each over the class defaults as a checker sees them.
   Replaying kwargs cannot catch a predicate that fires on the valid side (an
   inverted lift); this check can;
5. boundary_holds: for each threshold the predicate compares a field with,
   the values just across it (and the threshold itself), set on
   `kwargs_positive`, make the library act exactly where the predicate is
   true. Examples far from the boundary cannot show a threshold that is off
   (`temperature <= -0.5` where the library refuses `temperature < 0`).

Rules that pass are then reduced: a rule whose predicate implies another's,
with the same class, channel and message, is merged into the broader one.
The gate also records, per rule, which field each `{}` of the message shows
(`placeholders`), and per class whether an undeclared keyword is refused or
stored and ignored (`unknown_fields`), from one replay each.

python -m corpus.gate --ssot miners/<lib>/versions.yaml --corpus merged.yaml \
    --validated invariants.validated.yaml --quarantine quarantine.yaml
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from miners import cli, ssot
from miners.errors import SchemaError
from miners.introspect.values import NotPlainData, plain_value
from miners.replay import Outcome, replay, stable_text
from miners.schema.predicate import COMPARISONS, Atom, Each, Predicate, evaluate, fields_of
from miners.schema.rule import ClassFacts, CorpusFile, Quarantined, Rule, load_corpus
from miners.schema.template import matches, placeholder_texts

Replayer = Callable[[Rule, dict], Outcome]


class _Unset:
    def __repr__(self) -> str:
        return "<not set>"


_UNSET = _Unset()


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    failures: tuple[str, ...]  # "<check>: <detail>", in CHECKS order
    said: str = ""  # what the library said on kwargs_positive, through the rule's channel

    @property
    def confirmed(self) -> bool:
        return not self.failures


class _Replays:
    """The rule's two example configs, each replayed once, on first use; other configs on demand.

    `defaults` are the class defaults a checker evaluates the predicate over."""

    def __init__(self, rule: Rule, run: Replayer, defaults: Mapping[str, Any] | None = None) -> None:
        self.rule, self._run = rule, run
        self.defaults: Mapping[str, Any] = defaults or {}
        self._outcomes: dict[str, Outcome] = {}
        self.others: list[tuple[dict[str, Any], Outcome]] = []  # replays beside the two examples

    def __getitem__(self, side: str) -> Outcome:
        if side not in self._outcomes:
            kwargs = self.rule.kwargs_positive if side == "positive" else self.rule.kwargs_negative
            self._outcomes[side] = self._run(self.rule, dict(kwargs))
        return self._outcomes[side]

    def of(self, kwargs: Mapping[str, Any]) -> Outcome:
        outcome = self._run(self.rule, dict(kwargs))
        self.others.append((dict(kwargs), outcome))
        return outcome


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
    """The predicate is true on kwargs_positive and false on kwargs_negative (over the class defaults)."""
    if not evaluate(rule.predicate, rule.kwargs_positive, replays.defaults):
        return "the predicate is false on kwargs_positive"
    if evaluate(rule.predicate, rule.kwargs_negative, replays.defaults):
        return "the predicate is true on kwargs_negative" + (
            " (with the class defaults)" if evaluate(rule.predicate, rule.kwargs_negative, {}) is False else ""
        )
    return None


def _atoms(predicate: Predicate) -> list[Atom]:
    """The atoms on the config's own fields (not a quantifier's tests of its elements)."""
    if isinstance(predicate, Atom):
        return [predicate]
    if isinstance(predicate, Each):
        return []
    return [atom for term in predicate.terms for atom in _atoms(term)]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def boundary_points(atom: Atom, example: Any) -> list[int | float]:
    """The threshold of a numeric comparison and the nearest values on either side of it, in the
    example's kind: integers step by 1; floats by a thousandth of the threshold's size (at least
    0.001), close enough that no check between them goes unseen in practice."""
    threshold = atom.value
    if isinstance(example, int) and not isinstance(example, bool) and isinstance(threshold, int):
        return [threshold - 1, threshold, threshold + 1]
    step = max(abs(float(threshold)), 1.0) / 1000
    return [float(threshold) - step, float(threshold), float(threshold) + step]


def _shows_effect(outcome: Outcome, rule: Rule, kwargs: Mapping[str, Any]) -> bool | None:
    """Whether the library acted as the rule says (True), cleanly did not (False), or was
    stopped by some other check, which says nothing about this one (None)."""
    if _triggers(outcome, rule, kwargs):
        return True
    if outcome.exception is not None:
        return None
    return False


def boundary_holds(rule: Rule, replays: _Replays) -> str | None:
    """Just across each threshold the predicate compares a field with, the library agrees with it."""
    positive = rule.kwargs_positive
    for atom in _atoms(rule.predicate):
        if atom.op not in COMPARISONS or atom.of is not None or not _is_number(atom.value):
            continue
        example = positive.get(atom.field, replays.defaults.get(atom.field))
        if not _is_number(example):
            continue  # the example does not set the field to a number: nothing to move
        for point in boundary_points(atom, example):
            kwargs = {**positive, atom.field: point}
            expected = evaluate(rule.predicate, kwargs, replays.defaults)
            effect = _shows_effect(replays.of(kwargs), rule, kwargs)
            if effect is None or effect == expected:
                continue
            if expected:
                return f"{atom.field}={point!r} makes the predicate true, but the library accepts it"
            return f"{atom.field}={point!r} makes the predicate false, but the library still acts: the threshold is off"
    return None


Check = Callable[[Rule, _Replays], "str | None"]
CHECKS: dict[str, Check] = {
    "positive_triggers": positive_triggers,
    "message_matches_template": message_matches_template,
    "negative_does_not_trigger": negative_does_not_trigger,
    "predicate_consistent": predicate_consistent,
    "boundary_holds": boundary_holds,
}


def placeholders(rule: Rule, replays: Sequence[tuple[Mapping[str, Any], Outcome]]) -> tuple[str | None, ...]:
    """Per `{}` of the template, the one field whose value (str or repr) the library printed there in
    every replay that shows the rule's message, else None; () when the template has no `{}`.

    Several replays tell a field's value from a constant that happens to be equal to it (`must be
    greater than 0, but is 0`): the boundary replays move the value, the constant stays."""
    seen = []
    for kwargs, outcome in replays:
        said = [text for text in _said(outcome, rule) if matches(rule.message_template, text)]
        texts = placeholder_texts(rule.message_template, said[0]) if said else None
        if texts:
            seen.append((kwargs, texts))
    if not seen:
        return ()
    shown: list[str | None] = []
    for index in range(len(seen[0][1])):
        names = [
            name
            for name in sorted(seen[0][0])
            if all(texts[index] in (str(kwargs.get(name)), repr(kwargs.get(name))) for kwargs, texts in seen)
        ]
        if len(names) > 1:
            names = [name for name in names if name in fields_of(rule.predicate)]
        shown.append(names[0] if len(names) == 1 else None)
    return tuple(shown) if any(shown) else ()


def check_rule(
    rule: Rule, run: Replayer, checks: Mapping[str, Check] = CHECKS, defaults: Mapping[str, Any] | None = None
) -> Verdict:
    replays = _Replays(rule, run, defaults)
    failures = []
    for name, check in checks.items():
        problem = check(rule, replays)
        if problem is not None:
            # Reasons are part of the quarantine file: no memory addresses in them.
            failures.append(stable_text(f"{name}: {problem}"))
    said = ""
    if not failures and rule.emission != "normalise":
        showing = [(rule.kwargs_positive, replays["positive"])] + [
            (kwargs, outcome) for kwargs, outcome in replays.others if _triggers(outcome, rule, kwargs)
        ]
        rule = rule.with_changes(placeholders=placeholders(rule, showing))
        said = next((t for t in _said(replays["positive"], rule) if matches(rule.message_template, t)), "")
    return Verdict(rule, tuple(failures), stable_text(said))


def on_save_severity(rule: Rule, save: Replayer) -> str | None:
    """`error` where saving the config raises the rule's message on kwargs_positive and saving
    kwargs_negative does not; None where saving adds nothing (or the rule is already an error)."""
    if rule.severity == "error" or rule.emission == "normalise":
        return None
    raising = rule.with_changes(emission="raise", exception_type=None)
    fires = _triggers(save(rule, dict(rule.kwargs_positive)), raising, rule.kwargs_positive)
    passes = not _triggers(save(rule, dict(rule.kwargs_negative)), raising, rule.kwargs_negative)
    return "error" if fires and passes else None


def _implies(narrow: Predicate, broad: Predicate, points: list[dict[str, Any]], defaults: Mapping[str, Any]) -> bool:
    return all(evaluate(broad, p, defaults) for p in points if evaluate(narrow, p, defaults))


def _probe_points(rule: Rule, other: Rule) -> list[dict[str, Any]] | None:
    """Configs that decide whether one single-field threshold rule implies another: every threshold
    of both and the values just beside it, in the examples' kind; None when the two are not
    single-field numeric comparisons on one field."""
    atoms = _atoms(rule.predicate) + _atoms(other.predicate)
    fields = {a.field for a in atoms}
    if len(fields) != 1 or any(a.op not in COMPARISONS or a.of is not None or not _is_number(a.value) for a in atoms):
        return None
    (field,) = fields
    example = rule.kwargs_positive.get(field)
    if not _is_number(example):
        return None
    values = sorted({point for atom in atoms for point in boundary_points(atom, example)})
    return [{field: value} for value in values]


def _same_message(rule: Rule, other: Rule, said: Mapping[str, str]) -> bool:
    """One message: one template, or each rule's template matches what the library said for the
    other's example (two producers template one message differently)."""
    if rule.message_template == other.message_template:
        return True
    return matches(rule.message_template, said.get(other.id, "")) and matches(
        other.message_template, said.get(rule.id, "")
    )


def reduce_subsumed(
    rules: list[Rule], facts: Mapping[str, ClassFacts], said: Mapping[str, str] | None = None
) -> tuple[list[Rule], list[Quarantined]]:
    """Merges each rule into a broader one of the same class, channel and message, if there is one:
    the broader keeps its predicate and examples and gains the narrower's producers. `said` is
    what the library said for each rule's positive example."""
    said = said or {}
    kept = {rule.id: rule for rule in rules}
    merged: list[Quarantined] = []
    for rule in sorted(rules, key=lambda r: r.id):
        for other in sorted(rules, key=lambda r: r.id):
            if other.id == rule.id or other.id not in kept or rule.id not in kept:
                continue
            same = (rule.native_type, rule.emission, rule.exception_type, rule.normalises_to) == (
                other.native_type,
                other.emission,
                other.exception_type,
                other.normalises_to,
            ) and _same_message(rule, other, said)
            points = _probe_points(rule, other) if same else None
            if points is None:
                continue
            defaults = facts.get(rule.native_type, ClassFacts()).defaults
            narrower = _implies(rule.predicate, other.predicate, points, defaults)
            broader = _implies(other.predicate, rule.predicate, points, defaults)
            # Of two equivalent rules the one mined first in the producers' order stays.
            if narrower and (not broader or _rank(other) < _rank(rule)):
                into = kept[other.id]
                producers = {*into.cross_validated_by, rule.added_by, *rule.cross_validated_by} - {into.added_by}
                kept[other.id] = into.with_changes(cross_validated_by=tuple(sorted(producers)))
                del kept[rule.id]
                merged.append(
                    Quarantined(rule, (f"merged: {other.id} says the same, for every config this one covers",))
                )
    return [kept[i] for i in sorted(kept)], merged


def _rank(rule: Rule) -> tuple[int, str]:
    order = ("static", "lift:pydantic", "lift:msgspec", "lift:dataclass", "dynamic")
    return (order.index(rule.added_by), rule.id)


def effective_defaults(declared: Mapping[str, Any], bare: Outcome) -> dict[str, Any]:
    """The declared defaults as the library fills them in, where it fills a None in with an empty
    list or mapping (SpQRConfig turns `shapes=None` into `{}`): read back off an instance built
    with no arguments. Any other value a bare instance holds may come from other fields
    (LoRAConfig's `max_cpu_loras` is `max_loras` when unset), so it is not a default."""
    if bare.instance is None:
        return dict(declared)
    filled = dict(declared)
    for name, value in declared.items():
        try:
            actual = _plain(getattr(bare.instance, name))
        except (AttributeError, NotPlainData):
            continue
        if value is None and actual in ([], {}):
            filled[name] = actual
    return filled


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise NotPlainData("a mapping with keys that are not strings")
        return {key: _plain(item) for key, item in value.items()}
    return plain_value(value)


UNDECLARED = "kiln_undeclared_keyword"


def unknown_field_handling(run: Callable[[dict], Outcome]) -> str | None:
    """`error` when the class refuses an undeclared keyword (an exception naming it: a TypeError,
    pydantic's "Unexpected keyword argument"), `dormant` when it builds and keeps quiet about it,
    None when neither shows (the class cannot be built here)."""
    outcome = run({UNDECLARED: 1})
    if outcome.exception is None:
        return "dormant"
    if UNDECLARED in outcome.exception_message:
        return "error"
    return None


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

    def replay_native(name: str, kwargs: dict) -> Outcome:
        native = spec.native_type(name)
        return replay(classes[native.name], native, kwargs, library=spec.library)

    def run(rule: Rule, kwargs: dict) -> Outcome:
        return replay_native(rule.native_type, kwargs)

    def save(rule: Rule, kwargs: dict) -> Outcome:
        native = spec.native_type(rule.native_type)
        return replay(classes[native.name], native, kwargs, library=spec.library, calls=native.on_save)

    for rule in corpus.rules:
        if rule.native_type not in classes:
            raise SchemaError(
                corpus_path, f"native_type {rule.native_type!r} is not in {spec.path}; add it there", rule_id=rule.id
            )
    facts = {}
    for name in sorted(classes):

        def build(kwargs: dict, name: str = name) -> Outcome:
            return replay_native(name, {**spec.native_type(name).constructor_kwargs, **kwargs})

        declared = corpus.facts(name)
        facts[name] = replace(
            declared,
            defaults=effective_defaults(declared.defaults, build({})),
            unknown_fields=unknown_field_handling(build),
        )
    verdicts = [check_rule(rule, run, defaults=facts[rule.native_type].defaults) for rule in corpus.rules]
    verdicts = [
        replace(v, rule=v.rule.with_changes(on_save=on_save_severity(v.rule, save)))
        if v.confirmed and spec.native_type(v.rule.native_type).on_save
        else v
        for v in verdicts
    ]
    confirmed, merged = reduce_subsumed(
        [v.rule for v in verdicts if v.confirmed], facts, {v.rule.id: v.said for v in verdicts if v.confirmed}
    )
    validated = CorpusFile(
        library=corpus.library,
        library_version=corpus.library_version,
        rules=tuple(confirmed),
        classes=facts,
    )
    quarantine = CorpusFile(
        library=corpus.library,
        library_version=corpus.library_version,
        quarantined=(*(Quarantined(v.rule, v.failures) for v in verdicts if not v.confirmed), *merged),
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

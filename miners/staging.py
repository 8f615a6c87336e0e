"""Staging: a miner's candidate becomes a rule, or a `dropped` entry saying why not.

Every miner ends the same way: example configs for the candidate's predicate
(derived by miners.witnesses, or given by the miner, which saw the library's
answer), an id unique within the library (miners.naming), and the rule itself.
A candidate without a positive example the predicate holds for and a negative
one it does not hold for is dropped, never staged: the gate could not replay it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from miners import witnesses
from miners.introspect.declarations import Declared
from miners.naming import rule_id
from miners.schema.predicate import Predicate, evaluate
from miners.schema.rule import Dropped, Rule, Source


@dataclass(frozen=True)
class Candidate:
    """What a miner found: a rule still waiting for its example configs and its id."""

    native_type: str
    predicate: Predicate
    message_template: str
    primary: str  # the field the rule is about: it names the id, and the negative example changes it first
    source: Source
    condition: str  # how a dropped entry names what was found
    found_by: str  # how a dropped entry names who found it: a detector, a lift, `dynamic`
    added_by: str
    severity: str = "error"
    emission: str = "raise"
    exception_type: str | None = None
    normalises_to: Mapping[str, Any] | None = None
    observed_messages: tuple[str, ...] = ()
    id_suffix: str = ""  # tells rules with one predicate but different effects apart (`_warning`)


@dataclass(frozen=True)
class Derived:
    """Example configs to derive from the predicate (miners.witnesses.derive)."""

    base: Mapping[str, Any]  # arguments every construction needs
    avoid: Sequence[Predicate] = ()  # the class's other candidates, which the examples should not trip
    declared: Mapping[str, Declared] = field(default_factory=dict)


Examples = witnesses.Witnesses | Derived


class Stager:
    """Stages one library's candidates, in the order the miner found them: ids are unique across them."""

    def __init__(self, library: str) -> None:
        self.library = library
        self._taken: set[str] = set()

    @property
    def taken(self) -> frozenset[str]:
        return frozenset(self._taken)

    def stage(self, candidate: Candidate, examples: Examples, *, no_examples: str) -> Rule | Dropped:
        """The rule, or a dropped entry whose reason is `no_examples` when no example pair holds."""
        pair = (
            witnesses.derive(
                candidate.predicate,
                candidate.primary,
                base=examples.base,
                avoid=examples.avoid,
                declared=examples.declared,
            )
            if isinstance(examples, Derived)
            else examples
        )
        if pair is None or not _tells_apart(candidate.predicate, pair):
            return Dropped(candidate.source, candidate.condition, f"{candidate.found_by}: {no_examples}")
        if candidate.emission != "normalise" and not candidate.message_template.replace("{}", "").strip():
            # The schema refuses such a template: it would match any message the library says.
            return Dropped(
                candidate.source,
                candidate.condition,
                f"{candidate.found_by}: the message has no fixed text ({candidate.message_template!r})",
            )
        identifier = rule_id(
            self.library,
            candidate.native_type,
            candidate.predicate,
            candidate.message_template,
            self._taken,
            primary=candidate.primary,
            suffix=candidate.id_suffix,
        )
        self._taken.add(identifier)
        return Rule(
            id=identifier,
            native_type=candidate.native_type,
            severity=candidate.severity,
            predicate=candidate.predicate,
            kwargs_positive=pair.positive,
            kwargs_negative=pair.negative,
            message_template=candidate.message_template,
            emission=candidate.emission,
            source=candidate.source,
            added_by=candidate.added_by,
            exception_type=candidate.exception_type,
            observed_messages=candidate.observed_messages,
            normalises_to=candidate.normalises_to,
        )


def _tells_apart(predicate: Predicate, pair: witnesses.Witnesses) -> bool:
    """Whether the predicate holds for the positive example and not for the negative one."""
    return evaluate(predicate, pair.positive) and not evaluate(predicate, pair.negative)

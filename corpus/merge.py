"""Merge staging files into one corpus: dedup by fingerprint, per-field source precedence.

Two rules with one fingerprint (library, severity, native type, normalised
predicate) are one constraint found by two paths. The merged rule takes:

| field                         | from                                  |
|-------------------------------|---------------------------------------|
| id, predicate, kwargs, source | the first producer in PRODUCER_ORDER  |
| message_template, observed    | dynamic, when it found the rule       |
| references                    | the union                             |
| cross_validated_by            | every other producer that found it    |

Different rules that their producers happened to give one id keep it in
PRODUCER_ORDER, the later ones suffixed with their producer. Class defaults
(defaults, declared fields, nested configs) from all staging files are
merged; defaults and nested configs must agree.

python -m corpus.merge --out merged.yaml staging/a.yaml staging/b.yaml ...
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from miners import cli
from miners.errors import SchemaError
from miners.schema.rule import ClassFacts, CorpusFile, Rule, load_corpus

# Static analysis reads the predicate itself; lifts read declared metadata;
# dynamic probing infers from observations. Earlier wins for structure.
PRODUCER_ORDER = ("static", "lift:pydantic", "lift:msgspec", "lift:dataclass", "dynamic")


def _merge_group(group: Sequence[Rule]) -> Rule:
    ordered = sorted(group, key=lambda r: (PRODUCER_ORDER.index(r.added_by), r.id, r.source.path, r.source.line))
    base = ordered[0]
    dynamic = next((r for r in ordered if r.added_by == "dynamic"), None)
    others = {r.added_by for r in ordered[1:]} | {p for r in ordered for p in r.cross_validated_by}
    others.discard(base.added_by)
    return base.with_changes(
        message_template=dynamic.message_template if dynamic else base.message_template,
        observed_messages=tuple(sorted(set(dynamic.observed_messages))) if dynamic else base.observed_messages,
        references=tuple(sorted({ref for r in ordered for ref in r.references})),
        cross_validated_by=tuple(p for p in PRODUCER_ORDER if p in others),
    )


def merge(files: Sequence[tuple[str, CorpusFile]]) -> CorpusFile:
    if not files:
        raise SchemaError("(no staging files)", "merge needs at least one staging file")
    first_path, first = files[0]
    for path, staged in files[1:]:
        if (staged.library, staged.library_version) != (first.library, first.library_version):
            raise SchemaError(
                path,
                f"is for {staged.library} {staged.library_version} but {first_path} is for "
                f"{first.library} {first.library_version}; rebuild both against one version",
            )
    groups: dict[str, list[Rule]] = {}
    for _, staged in files:
        for rule in staged.rules:
            groups.setdefault(rule.fingerprint(first.library), []).append(rule)
    merged = [_merge_group(groups[key]) for key in sorted(groups)]
    return CorpusFile(
        library=first.library,
        library_version=first.library_version,
        rules=tuple(_unique_ids(merged, first_path)),
        classes=_merged_classes(files),
    )


def _unique_ids(rules: Sequence[Rule], path: str) -> list[Rule]:
    """Producers name rules independently, so two different rules may share an id: the one from
    the producer earlier in PRODUCER_ORDER keeps it, the other is suffixed with its producer."""
    by_id: dict[str, list[Rule]] = {}
    for rule in rules:
        by_id.setdefault(rule.id, []).append(rule)
    unique: list[Rule] = []
    for identifier in sorted(by_id):
        group = sorted(by_id[identifier], key=lambda r: (PRODUCER_ORDER.index(r.added_by), r.fingerprint("")))
        unique.append(group[0])
        for rule in group[1:]:
            renamed = f"{identifier}__{rule.added_by.replace(':', '_')}"
            if renamed in by_id or any(r.id == renamed for r in unique):
                raise SchemaError(
                    path, f"cannot give a distinct id to a second rule named {identifier}", rule_id=identifier
                )
            unique.append(rule.with_changes(id=renamed))
    return unique


def _merged_classes(files: Sequence[tuple[str, CorpusFile]]) -> dict[str, ClassFacts]:
    """Every producer's class facts, one per native type: defaults and nested configs must agree,
    fields are the union, and the first producer that knows how unknown keys are handled says so."""
    merged: dict[str, ClassFacts] = {}
    for path, staged in files:
        for native, facts in staged.classes.items():
            into = merged.get(native, ClassFacts())
            for what, mine, theirs in (
                ("default", facts.defaults, into.defaults),
                ("nested", facts.nested, into.nested),
            ):
                for name, value in mine.items():
                    if name in theirs and theirs[name] != value:
                        raise SchemaError(
                            path, f"{what} of {native}.{name} is {value!r} here but {theirs[name]!r} elsewhere"
                        )
            merged[native] = ClassFacts(
                defaults=dict(sorted({**into.defaults, **facts.defaults}.items())),
                fields=tuple(sorted(set(into.fields) | set(facts.fields))),
                nested=dict(sorted({**into.nested, **facts.nested}.items())),
                unknown_fields=into.unknown_fields or facts.unknown_fields,
            )
    return dict(sorted(merged.items()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="corpus.merge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("staging", nargs="+")
    args = parser.parse_args(argv)
    merged = merge([(path, load_corpus(path)) for path in args.staging])
    merged.write(args.out)
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)

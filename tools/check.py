"""Check config files against a library's validated corpus, before a long job trips over them.

    ./bazelw run //tools:check -- --library transformers my_config.yaml [other.json ...]
    kiln-check --library transformers==5.23.0 my_config.yaml   # from the kiln-check wheel

A config file (YAML or JSON) maps config classes to the keyword arguments a job
passes them:

    GenerationConfig:                 # or transformers.GenerationConfig
      do_sample: false
      temperature: 0.7

Every rule that fires is reported — `error` (the library will raise), `warn`
(it will warn) and `dormant` (it will silently ignore or change a setting) —
with the library's own message and a fix taken from the rule's passing
example. Exit status: 1 when an `error` rule fires (with `--strict`, any rule),
2 for bad input, else 0.

As a library: `check_config(corpus, {"GenerationConfig": {...}})` returns the
findings; `load_library_corpus("transformers")` loads the checked-in corpus.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from miners.errors import SchemaError
from miners.schema.predicate import evaluate, fields_of
from miners.schema.rule import CorpusFile, Rule, load_corpus
from tools.check_input import ConfigError, read_document
from tools.check_output import FORMATS, report

SEVERITY_ORDER = ("error", "warn", "dormant")
EXIT_CLEAN, EXIT_ERRORS, EXIT_BAD_INPUT = 0, 1, 2


@dataclass(frozen=True)
class Finding:
    """One problem with one config section: a corpus rule that fires, or a key the class does not declare.

    `path` leads from the section key to the offending key: ("GenerationConfig",
    "watermarking_config", "greenlist_ratio"). `rule` is None for findings that no
    single rule carries (an undeclared key)."""

    id: str
    severity: str
    path: tuple[str, ...]
    message: str
    fix: str = ""
    notes: tuple[str, ...] = ()
    rule: Rule | None = None

    @property
    def native_type(self) -> str:
        return self.rule.native_type if self.rule is not None else ""

    @property
    def fields(self) -> list[str]:
        return fields_of(self.rule.predicate) if self.rule is not None else [self.path[-1]]

    @property
    def key(self) -> str:
        """The offending key's dotted path inside its section: `watermarking_config.greenlist_ratio`."""
        return ".".join(self.path[1:])

    def to_data(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "severity": self.severity,
            "path": list(self.path),
            "fields": self.fields,
            "message": self.message,
        }
        if self.fix:
            data["fix"] = self.fix
        if self.notes:
            data["notes"] = list(self.notes)
        return data


def rule_message(rule: Rule, native_type: str, values: Mapping[str, Any] | None = None) -> str:
    """The library's message, with the config's own values where the rule knows which field a
    `{}` shows (its `placeholders`), and `…` for the other varying parts."""
    if rule.emission == "normalise":
        ((field, value),) = (rule.normalises_to or {}).items()
        return f"{native_type} silently sets {field} to {value!r}"
    pieces = [piece.replace("{{", "{").replace("}}", "}") for piece in rule.message_template.split("{}")]
    shown = []
    for index in range(len(pieces) - 1):
        field = rule.placeholders[index] if index < len(rule.placeholders) else None
        value = (values or {}).get(field, _UNSET) if field is not None else _UNSET
        shown.append("…" if value is _UNSET else str(value))
    return "".join(piece + filled for piece, filled in zip(pieces, [*shown, ""], strict=True))


def rule_fix(rule: Rule) -> str:
    """What the rule's passing example does differently."""
    positive, negative = rule.kwargs_positive, rule.kwargs_negative
    changes = [
        f"{name}={negative[name]!r}" if name in negative else f"leave {name} unset"
        for name in sorted(positive.keys() | negative.keys())
        if positive.get(name, _UNSET) != negative.get(name, _UNSET)
    ]
    return "e.g. " + ", ".join(changes) if changes else ""


def rule_finding(
    rule: Rule,
    section: tuple[str, ...],
    kwargs: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Finding:
    """A fired rule's finding at `section`: the path to its first field, its message filled with the
    config's values, and a note for each field the predicate took from the class defaults."""
    kwargs, defaults = kwargs or {}, defaults or {}
    fields = fields_of(rule.predicate)
    notes = tuple(
        f"{name} defaults to {defaults[name]!r}" for name in fields if name not in kwargs and name in defaults
    )
    set_fields = [name for name in fields if name in kwargs]
    return Finding(
        id=rule.id,
        severity=rule.severity,
        path=(*section, (set_fields or fields)[0]),
        message=rule_message(rule, rule.native_type, {**defaults, **kwargs}),
        fix=rule_fix(rule),
        notes=notes,
        rule=rule,
    )


def unknown_field_finding(
    library: str, native: str, key: str, at: tuple[str, ...], *, handling: str, declared: Sequence[str]
) -> Finding:
    """A keyword the class does not declare: refused (`error`) or stored and ignored (`dormant`)."""
    name = native.rsplit(".", 1)[-1]
    effect = "refuses it (TypeError)" if handling == "error" else "stores it and ignores it"
    close = difflib.get_close_matches(key, declared, n=1, cutoff=0.75)
    return Finding(
        id=f"{library}.{name}.unknown_field",
        severity=handling,
        path=(*at, key),
        message=f"`{key}` is not a parameter of {name}: {library} {effect}",
        fix=f"did you mean `{close[0]}`?"
        if close
        else f"remove `{key}`; {name} takes: " + ", ".join(declared[:12]) + (", ..." if len(declared) > 12 else ""),
    )


_UNSET = object()


# The checked-in corpora, corpus/<library>/ beside this file's package: in the workspace, in the
# runfiles of //tools:check (kiln's own or an external kiln's), and in the kiln-check wheel's install.
CORPORA = Path(__file__).parent.parent / "corpus"
_LIBRARY_SPEC = re.compile(r"^([A-Za-z0-9_.-]+)(?:==([A-Za-z0-9_.+!-]+))?$")


def known_libraries() -> list[str]:
    return sorted(p.parent.name for p in CORPORA.glob("*/invariants.validated.yaml"))


def corpus_path(library: str) -> Path:
    path = CORPORA / library / "invariants.validated.yaml"
    if not path.exists():
        raise ConfigError(f"no corpus for library {library!r}; known libraries: {', '.join(known_libraries())}")
    return path


def load_library_corpus(library: str, version: str | None = None) -> CorpusFile:
    """The checked-in corpus of `library`; with `version`, only if it is that version's."""
    corpus = load_corpus(corpus_path(library), display=f"corpus/{library}/invariants.validated.yaml")
    if version is not None and version != corpus.library_version:
        raise ConfigError(f"no corpus for {library}=={version}; {library} versions there are: {corpus.library_version}")
    return corpus


def parse_library_spec(spec: str) -> tuple[str, str | None]:
    """`transformers` or `transformers==5.23.0`: the library and the version asked for, if any."""
    match = _LIBRARY_SPEC.match(spec)
    if not match:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected LIBRARY or LIBRARY==VERSION, e.g. transformers==5.23.0")
    return match.group(1), match.group(2)


def _section_type(corpus: CorpusFile, key: str, path: str) -> str:
    natives = sorted({r.native_type for r in corpus.rules} | set(corpus.classes))
    for native in natives:
        if key in (native, native.rsplit(".", 1)[-1]):
            return native
    raise ConfigError(
        f"{path}: unknown config class {key!r} for {corpus.library}; known classes: "
        + ", ".join(n.rsplit(".", 1)[-1] for n in natives)
    )


def check_section(corpus: CorpusFile, native: str, kwargs: Any, at: tuple[str, ...], path: str) -> list[Finding]:
    """The findings on one config of `native`, and on the configs nested in it, at key path `at`."""
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        raise ConfigError(f"{path}: {'.'.join(at)}: expected a mapping of argument names to values, got {kwargs!r}")
    facts = corpus.facts(native)
    findings = [
        rule_finding(rule, at, kwargs, facts.defaults)
        for rule in corpus.rules
        if rule.native_type == native and evaluate(rule.predicate, kwargs, facts.defaults)
    ]
    if facts.unknown_fields is not None and facts.fields:
        declared = sorted(facts.fields)
        for key in sorted(kwargs):
            # Leading underscores are the library's own bookkeeping (`_from_model_config`).
            if key not in facts.fields and not key.startswith("_"):
                findings.append(
                    unknown_field_finding(
                        corpus.library, native, key, at, handling=facts.unknown_fields, declared=declared
                    )
                )
    for field, nested in sorted(facts.nested.items()):
        # A mapping here is the nested config's arguments; the library builds that config from it.
        if isinstance(kwargs.get(field), Mapping):
            findings += check_section(corpus, nested, kwargs[field], (*at, field), path)
    return findings


def check_config(corpus: CorpusFile, config: Mapping[str, Any], path: str = "<config>") -> list[Finding]:
    """The findings on `config` (class name -> kwargs), most severe first."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"{path}: a config file must map class names to their keyword arguments")
    findings: list[Finding] = []
    for key, kwargs in config.items():
        findings += check_section(corpus, _section_type(corpus, str(key), path), kwargs, (str(key),), path)
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.index(f.severity), f.path, f.id))


def read_config(path: str) -> Any:
    """The plain data of a config file; tools.check_input.read_document has where each key is, too."""
    return read_document(path).data


def main(argv: list[str]) -> int:
    # No fixed prog: the usage line names what was run (check.py, kiln-check).
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--library",
        required=True,
        type=parse_library_spec,
        help="the library the configs are for, optionally pinned to its corpus's version: "
        "transformers, transformers==5.23.0",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default), json, github (workflow commands: annotations in GitHub Actions) or sarif (SARIF 2.1.0)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when any rule fires, not only an `error` one")
    parser.add_argument("configs", nargs="+", help="config files (.yaml, .yml or .json)")
    args = parser.parse_args(argv)
    base = os.environ.get("BUILD_WORKING_DIRECTORY", ".")
    try:
        corpus = load_library_corpus(*args.library)
        results = {}
        for path in args.configs:
            # Read from where `bazel run` was started, named as given: reports point into the user's tree.
            document = read_document(Path(base, path), display=path)
            found = check_config(corpus, document.data, path)
            results[path] = [(finding, document.locate(finding.path)) for finding in found]
    except (ConfigError, SchemaError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    output = report(args.format, results)
    if output:  # a github report of no findings is empty: no blank line
        print(output)
    failing = SEVERITY_ORDER if args.strict else ("error",)
    fails = any(f.severity in failing for located in results.values() for f, _ in located)
    return EXIT_ERRORS if fails else EXIT_CLEAN


def run() -> None:
    """The `kiln-check` console script of the wheel: `main` on the command line, its status as the exit status."""
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    run()

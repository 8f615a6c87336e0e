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
2 for bad input, else 0. With `--strict` a finding has the rule's strictest severity: the
more severe of what constructing the config does and what saving it does (`on_save`).

The corpora are checked in per library version, corpus/<library>/<version>/. The version
checked against: the one `--library transformers==4.57.3` names; else the one installed
where the checker runs (it must have a corpus); else, the library not installed, the newest.

As a library: `check_config(corpus, {"GenerationConfig": {...}})` returns the findings;
`load_library_corpus("transformers", "5.23.0")` loads a checked-in corpus (no version: the
newest; the installed version is the CLI's choice only), `available_versions("transformers")`
lists the versions there are, newest first.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from miners.errors import SchemaError
from miners.schema.predicate import evaluate, fields_of
from miners.schema.rule import CorpusFile, Rule, load_corpus
from tools.check_input import ConfigError, read_document
from tools.check_output import FORMATS, RunContext, report

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


# What the library does on saving a config, by on_save severity; and how it saves one.
_ON_SAVE_EFFECTS = {"error": "raises", "warn": "warns", "dormant": "silently ignores or changes the setting"}
_SAVE_METHODS = {"transformers": "save_pretrained"}


def on_save_note(rule: Rule, *, strict: bool) -> str:
    """What saving does, where it is more severe than constructing: the reason for a `--strict`
    finding's severity, or (without `--strict`) a hint of what `--strict` would report. Else ""."""
    if rule.on_save is None or rule.strictest == rule.severity:
        return ""
    library = rule.id.split(".", 1)[0]
    note = f"{_ON_SAVE_EFFECTS[rule.on_save]} on {_SAVE_METHODS.get(library, 'saving')} (on_save: {rule.on_save})"
    return note if strict else f"{note}; --strict reports it as {rule.on_save}"


def rule_finding(
    rule: Rule,
    section: tuple[str, ...],
    kwargs: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
    *,
    strict: bool = False,
) -> Finding:
    """A fired rule's finding at `section`: the path to its first field, its message filled with the
    config's values, and a note for each field the predicate took from the class defaults.

    Its severity is the rule's `severity`; with `strict`, its `strictest` (saving included),
    with a note saying so where that comes from `on_save`."""
    kwargs, defaults = kwargs or {}, defaults or {}
    fields = fields_of(rule.predicate)
    notes = tuple(
        f"{name} defaults to {defaults[name]!r}" for name in fields if name not in kwargs and name in defaults
    )
    saving = on_save_note(rule, strict=strict)
    if saving:
        notes = (saving, *notes)
    set_fields = [name for name in fields if name in kwargs]
    return Finding(
        id=rule.id,
        severity=rule.strictest if strict else rule.severity,
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


# The checked-in corpora, corpus/<library>/<version>/ beside this file's package: in the workspace,
# in the runfiles of //tools:check (kiln's own or an external kiln's), and in the kiln-check wheel's
# install. Every function that reads them takes `corpora`, another root of the same layout (tests).
CORPORA = Path(__file__).parent.parent / "corpus"
CORPUS_FILE = "invariants.validated.yaml"
_LIBRARY_SPEC = re.compile(r"^([A-Za-z0-9_.-]+)(?:==([A-Za-z0-9_.+!-]+))?$")
# PEP 440 versions, as far as libraries' releases use them: 5.23.0, 0.32.0rc1, 4.57.0.post1,
# 5.0.0.dev0, 0.32.0+cu128.
_VERSION = re.compile(
    r"^v?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre>a|b|rc)[-_.]?(?P<pre_n>\d*))?"
    r"(?:[-_.]?post[-_.]?(?P<post>\d*))?"
    r"(?:[-_.]?dev[-_.]?(?P<dev>\d*))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$",
    re.IGNORECASE,
)
# The distribution whose installed version is a library's, where it is not the library's name.
DISTRIBUTIONS: dict[str, str] = {}


def version_key(version: str) -> tuple[Any, ...]:
    """A sort key of PEP 440's order (5.9 < 5.10, 1.0.dev0 < 1.0rc1 < 1.0 < 1.0.post1), without
    `packaging` (the kiln-check wheel needs only pyyaml). The local label (+cu128) is ignored;
    what is not a version sorts before every version, by its text."""
    match = _VERSION.match(version)
    if not match:
        return (0, version)
    release = [int(part) for part in match["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    if match["pre"]:
        pre = (0, ("a", "b", "rc").index(match["pre"].lower()), int(match["pre_n"] or 0))
    elif match["dev"] is not None and match["post"] is None:
        pre = (-1, 0, 0)  # 1.0.dev0 comes before 1.0a1
    else:
        pre = (1, 0, 0)
    post = -1 if match["post"] is None else int(match["post"])
    dev = (1, 0) if match["dev"] is None else (0, int(match["dev"] or 0))
    return (1, tuple(release), pre, post, dev)


def known_libraries(corpora: Path = CORPORA) -> list[str]:
    """The libraries with a corpus: corpus/<library>/<version>/invariants.validated.yaml."""
    return sorted({path.parent.parent.name for path in corpora.glob(f"*/*/{CORPUS_FILE}")})


def available_versions(library: str, corpora: Path = CORPORA) -> list[str]:
    """The versions of `library` there is a corpus of, newest first; an unknown library is a ConfigError."""
    known = known_libraries(corpora)
    if library not in known:
        listed = ", ".join(known) or f"none (no <library>/<version>/{CORPUS_FILE} under {corpora})"
        raise ConfigError(f"no corpus for library {library!r}; known libraries: {listed}")
    versions = [path.parent.name for path in (corpora / library).glob(f"*/{CORPUS_FILE}")]
    return sorted(versions, key=lambda version: (version_key(version), version), reverse=True)


def matching_version(version: str, available: Sequence[str]) -> str | None:
    """The corpus version that is `version`: the same text, else the same version by PEP 440
    (5.23 is 5.23.0) ignoring a local label (0.32.0+cu128 is 0.32.0)."""
    if version in available:
        return version
    key = version_key(version)
    if key[0] == 0:
        return None
    return next((candidate for candidate in available if version_key(candidate) == key), None)


def installed_version(library: str, lookup: Callable[[str], str] = importlib.metadata.version) -> str | None:
    """The version of `library` installed where the checker runs, or None; `lookup` is
    importlib.metadata.version, or a stand-in (tests)."""
    try:
        return lookup(DISTRIBUTIONS.get(library, library)) or None
    except importlib.metadata.PackageNotFoundError:
        return None


def choose_version(
    library: str, requested: str | None, installed: str | None, available: Sequence[str]
) -> tuple[str, str]:
    """Which corpus to check against, and why (one of VERSION_SOURCES): the version asked for
    (`requested`), else the installed one (`installed`), else the newest of `available`
    (newest first). A version asked for or installed without a corpus is a ConfigError: the
    rules of another version may say the opposite."""
    listed = ", ".join(available)
    if requested is not None:
        version = matching_version(requested, available)
        if version is None:
            raise ConfigError(f"no corpus for {library}=={requested}; {library} versions there are: {listed}")
        return version, "requested"
    if installed is not None:
        version = matching_version(installed, available)
        if version is None:
            raise ConfigError(
                f"{library} {installed} is installed here and there is no corpus for it; {library} versions "
                f"there are: {listed}; to check against one anyway, name it: --library {library}=={available[0]}"
            )
        return version, "installed"
    return available[0], "newest"


def version_notice(library: str, version: str, source: str) -> str:
    """The stderr line that says which corpus a run chose itself; "" for a version asked for."""
    pick = f"(pick another with --library {library}==VERSION)"
    if source == "installed":
        return f"kiln-check: checking against the corpus of {library} {version}, the version installed here {pick}"
    if source == "newest":
        return (
            f"kiln-check: {library} is not installed here; checking against the newest corpus, {version} "
            f"(pick one with --library {library}==VERSION)"
        )
    return ""


def corpus_path(library: str, version: str, corpora: Path = CORPORA) -> Path:
    """corpus/<library>/<version>/invariants.validated.yaml, of a library and version there is a corpus of."""
    available = available_versions(library, corpora)
    if version not in available:
        raise ConfigError(f"no corpus for {library}=={version}; {library} versions there are: {', '.join(available)}")
    return corpora / library / version / CORPUS_FILE


def load_library_corpus(library: str, version: str | None = None, *, corpora: Path = CORPORA) -> CorpusFile:
    """The checked-in corpus of `library` at `version` (PEP 440's equal: 5.23 is 5.23.0); no
    version: the newest. Unlike the CLI, no installed version is looked up: code that wants
    the installed one passes it, `load_library_corpus(lib, installed_version(lib))`."""
    available = available_versions(library, corpora)
    chosen, _ = choose_version(library, version, None, available)
    corpus = load_corpus(corpus_path(library, chosen, corpora), display=f"corpus/{library}/{chosen}/{CORPUS_FILE}")
    if (corpus.library, corpus.library_version) != (library, chosen):
        raise ConfigError(
            f"corpus/{library}/{chosen}/{CORPUS_FILE} is the corpus of {corpus.library} "
            f"{corpus.library_version}, not of {library} {chosen}: its folder or its header is wrong"
        )
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


def check_section(
    corpus: CorpusFile, native: str, kwargs: Any, at: tuple[str, ...], path: str, *, strict: bool = False
) -> list[Finding]:
    """The findings on one config of `native`, and on the configs nested in it, at key path `at`."""
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        got = repr(kwargs)
        got = got if len(got) <= 200 else got[:200] + "…"  # a whole file's worth of list is no help on one line
        raise ConfigError(f"{path}: {'.'.join(at)}: expected a mapping of argument names to values, got {got}")
    facts = corpus.facts(native)
    findings = [
        rule_finding(rule, at, kwargs, facts.defaults, strict=strict)
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
            findings += check_section(corpus, nested, kwargs[field], (*at, field), path, strict=strict)
    return findings


def check_config(
    corpus: CorpusFile, config: Mapping[str, Any], path: str = "<config>", *, strict: bool = False
) -> list[Finding]:
    """The findings on `config` (class name -> kwargs), most severe first; with `strict`, each
    rule's finding has its strictest severity (`Rule.strictest`: saving the config included)."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"{path}: a config file must map class names to their keyword arguments")
    findings: list[Finding] = []
    for key, kwargs in config.items():
        native = _section_type(corpus, str(key), path)
        findings += check_section(corpus, native, kwargs, (str(key),), path, strict=strict)
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.index(f.severity), f.path, f.id))


def read_config(path: str) -> Any:
    """The plain data of a config file; tools.check_input.read_document has where each key is, too."""
    return read_document(path).data


def main(
    argv: list[str],
    *,
    corpora: Path = CORPORA,
    lookup: Callable[[str], str] = importlib.metadata.version,
) -> int:
    """The CLI; `corpora` (a corpus root) and `lookup` (importlib.metadata.version) are for tests."""
    # No fixed prog: the usage line names what was run (check.py, kiln-check).
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--library",
        required=True,
        type=parse_library_spec,
        help="the library the configs are for, optionally with the version whose corpus to check against: "
        "transformers, transformers==5.23.0. No version: the one installed here, else the newest corpus",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default), json, github (workflow commands: annotations in GitHub Actions) or sarif (SARIF 2.1.0)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="report each rule at its strictest severity (saving the config included) "
        "and exit 1 when any rule fires, not only an `error` one",
    )
    parser.add_argument("configs", nargs="+", help="config files (.yaml, .yml or .json)")
    args = parser.parse_args(argv)
    base = os.environ.get("BUILD_WORKING_DIRECTORY", ".")
    library, requested = args.library
    try:
        available = available_versions(library, corpora)
        installed = installed_version(library, lookup) if requested is None else None
        version, source = choose_version(library, requested, installed, available)
        notice = version_notice(library, version, source)
        if notice:
            _print(notice, sys.stderr)
        corpus = load_library_corpus(library, version, corpora=corpora)
        results = {}
        for path in args.configs:
            # Read from where `bazel run` was started, named as given: reports point into the user's tree.
            # An error names it on one line, whatever characters the name has.
            shown = path if path.isprintable() else path.encode("unicode_escape").decode("ascii")
            document = read_document(Path(base, path), display=shown)
            found = check_config(corpus, document.data, shown, strict=args.strict)
            results[path] = [(finding, document.locate(finding.path)) for finding in found]
    except (ConfigError, SchemaError) as err:
        _print(f"error: {err}", sys.stderr)
        return EXIT_BAD_INPUT
    context = RunContext(library=library, library_version=version, version_source=source)
    output = report(args.format, results, context)
    if output:  # a github report of no findings is empty: no blank line
        _print(output, sys.stdout)
    failing = SEVERITY_ORDER if args.strict else ("error",)
    fails = any(f.severity in failing for located in results.values() for f, _ in located)
    return EXIT_ERRORS if fails else EXIT_CLEAN


def _print(text: str, stream: TextIO) -> None:
    """`text` on `stream`; what its encoding cannot hold (a file name that is not UTF-8, as Python
    hands it on in argv) goes out as backslash escapes, as Python's own stderr writes it."""
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)


def run() -> None:
    """The `kiln-check` console script of the wheel: `main` on the command line, its status as the exit status."""
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    run()

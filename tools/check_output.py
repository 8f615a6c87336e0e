"""The checker's reports: `text` for people, `json`, GitHub workflow commands and SARIF for machines.

Every formatter takes the findings of each file with where each one is,
`{file: [(finding, (line, column)), ...]}`, files named as the user gave them, and the
run's context (the library and the version of its corpus, and why that version), and
returns the whole report as one string:

    text    a first line naming library==version, then the findings per file, each with `file:line:column`
    json    {"library", "library_version", "version_source", "files": {file: [finding data + file, line, column]}}
    github  one workflow command per finding (`::error file=…,line=…,col=…,title=<id>::<message>`),
            which GitHub Actions shows as an annotation on that line
    sarif   a SARIF 2.1.0 log with one run, for code scanning and SARIF viewers; the run's
            `properties` name the library and version

Columns count Unicode code points (SARIF's `unicodeCodePoints`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from tools.check import Finding

Location = tuple[int, int]
Located = Sequence[tuple["Finding", Location]]
Results = Mapping[str, Located]

SARIF_VERSION = "2.1.0"
TOOL_NAME = "kiln-check"
GITHUB_COMMANDS = {"error": "error", "warn": "warning", "dormant": "notice"}
SARIF_LEVELS = {"error": "error", "warn": "warning", "dormant": "note"}
# Why a run checks against its corpus's version: the user named it (--library lib==X), it is
# the one installed where the checker runs, or the library is not installed and it is the newest.
VERSION_SOURCES = ("requested", "installed", "newest")
_SOURCE_TEXT = {"requested": "requested", "installed": "the version installed here", "newest": "the newest corpus"}


@dataclass(frozen=True)
class RunContext:
    """What one run checked against: a library, the version of its corpus, and why that version."""

    library: str
    library_version: str
    version_source: str

    def __post_init__(self) -> None:
        if self.version_source not in VERSION_SOURCES:
            raise ValueError(f"version_source must be one of {', '.join(VERSION_SOURCES)}, got {self.version_source!r}")

    @property
    def spec(self) -> str:
        return f"{self.library}=={self.library_version}"


def report_text(results: Results, context: RunContext) -> str:
    header = f"corpus: {context.spec} ({_SOURCE_TEXT[context.version_source]})"
    return "\n".join([header, *(_text_of_file(path, located) for path, located in results.items())])


def _text_of_file(path: str, located: Located) -> str:
    if not located:
        return f"{path}: no rule fires"
    lines = [f"{path}: {len(located)} rule(s) fire"]
    for finding, (line, column) in located:
        lines.append(f"  {finding.severity:7} {finding.id}")
        lines.append(f"          at: {path}:{line}:{column} {'.'.join(finding.path)}")
        lines.append(f"          library: {finding.message}")
        lines.extend(f"          note: {note}" for note in finding.notes)
        if finding.fix:
            lines.append(f"          fix: {finding.fix}")
    return "\n".join(lines)


def report_json(results: Results, context: RunContext) -> str:
    return json.dumps(
        {
            "library": context.library,
            "library_version": context.library_version,
            "version_source": context.version_source,
            "files": {
                path: [
                    finding.to_data() | {"file": path, "line": line, "column": column}
                    for finding, (line, column) in located
                ]
                for path, located in results.items()
            },
        },
        indent=2,
    )


def _details(finding: Finding) -> str:
    """The message, then the fix and notes, one per line: what an annotation or a SARIF result says."""
    return "\n".join([finding.message, *finding.notes, *([f"fix: {finding.fix}"] if finding.fix else [])])


def escape_github_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF percent-encoded, as the Actions runner decodes them."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_github_property(text: str) -> str:
    """A workflow command's property value: as data, and `:` and `,`, which delimit properties."""
    return escape_github_data(text).replace(":", "%3A").replace(",", "%2C")


def report_github(results: Results, context: RunContext) -> str:
    """One `::error`/`::warning`/`::notice` command per finding; nothing when none fires."""
    commands = []
    for path, located in results.items():
        for finding, (line, column) in located:
            properties = ",".join(
                [
                    f"file={escape_github_property(_forward_slashes(path))}",
                    f"line={line}",
                    f"col={column}",
                    f"title={escape_github_property(finding.id)}",
                ]
            )
            command = GITHUB_COMMANDS[finding.severity]
            commands.append(f"::{command} {properties}::{escape_github_data(_details(finding))}")
    return "\n".join(commands)


def _forward_slashes(path: str) -> str:
    return path.replace(os.sep, "/") if os.sep != "/" else path


def artifact_uri(path: str) -> str:
    """A SARIF artifact URI for `path` as given: relative, with forward slashes, percent-encoded."""
    if PurePath(path).is_absolute():
        return PurePath(path).as_uri()
    # A name that is not UTF-8 (argv's surrogate escapes): its own bytes, percent-encoded, as as_uri does.
    return quote(_forward_slashes(path).encode("utf-8", "surrogateescape"), safe="/")


def report_sarif(results: Results, context: RunContext) -> str:
    """A SARIF 2.1.0 log: one run of kiln-check, its rules and results sorted, the same bytes for the same findings.

    The run's `properties` (a SARIF property bag) name the corpus: `library`, `libraryVersion`, `versionSource`."""
    entries = sorted(
        (
            (artifact_uri(path), line, column, finding)
            for path, located in results.items()
            for finding, (line, column) in located
        ),
        key=lambda entry: (entry[0], entry[1], entry[2], entry[3].id, entry[3].message),
    )
    descriptors: dict[str, dict[str, Any]] = {}
    for _, _, _, finding in sorted(entries, key=lambda entry: entry[3].id):
        descriptors.setdefault(
            finding.id,
            {
                "id": finding.id,
                "shortDescription": {"text": finding.message},
                "defaultConfiguration": {"level": SARIF_LEVELS[finding.severity]},
            },
        )
    rule_ids = sorted(descriptors)
    rule_index = {rule_id: index for index, rule_id in enumerate(rule_ids)}
    sarif_results = [
        {
            "ruleId": finding.id,
            "ruleIndex": rule_index[finding.id],
            "level": SARIF_LEVELS[finding.severity],
            "message": {"text": _details(finding)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": line, "startColumn": column},
                    }
                }
            ],
        }
        for uri, line, column, finding in entries
    ]
    run = {
        "tool": {"driver": {"name": TOOL_NAME, "rules": [descriptors[rule_id] for rule_id in rule_ids]}},
        "columnKind": "unicodeCodePoints",
        "results": sarif_results,
        "properties": {
            "library": context.library,
            "libraryVersion": context.library_version,
            "versionSource": context.version_source,
        },
    }
    return json.dumps({"version": SARIF_VERSION, "runs": [run]}, indent=2)


FORMATTERS: dict[str, Callable[[Results, RunContext], str]] = {
    "text": report_text,
    "json": report_json,
    "github": report_github,
    "sarif": report_sarif,
}
FORMATS = tuple(FORMATTERS)


def report(output_format: str, results: Results, context: RunContext) -> str:
    return FORMATTERS[output_format](results, context)

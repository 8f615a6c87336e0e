#!/usr/bin/env python3
"""The queue-forever guard: before a remote build, check that some worker takes each kind of job it sends.

    tools/remote/preflight.py check --bazel BAZEL -- [STARTUP OPTIONS] COMMAND [ARGS]   (run by ./bazelw)
    tools/remote/preflight.py probe --executor URL --properties KEY=VALUE,... [--properties ...]
        [--instance-name NAME] [--tls-certificate PEM] [--tls-client-certificate PEM --tls-client-key PEM]
        [--remote-header NAME=VALUE]... [--timeout SECONDS]

A REAPI scheduler keeps a job whose platform properties no worker offers in its queue for
ever, and the build waits with it. `check` runs before every build, test, run and coverage
command of ./bazelw (KILN_NO_PREFLIGHT=1 skips it). When the command's effective options
(command line, rc files, --config expansions: Bazel's own reading of them) name a remote
executor, it asks Bazel which execution platforms the requested targets' actions run on
(`aquery`), reads those platforms' exec_properties (`cquery`), and sends one trivial,
uncached action per property set (BuildGrid's client, `bgd execute`), with the instance
name, TLS settings and credentials the build uses. It stops the build, naming the
properties, when no worker starts one within the timeout, and says so when bgd cannot
send what the service needs (a header other than `authorization: Bearer`, Google
credentials, a proxy) instead of probing without it.

Reading the options costs Bazel calls, and ./bazelw runs this on every building command,
so it goes in two steps. First a textual look at the command line and the rc files Bazel
could read (system, workspace, home, --bazelrc, and what they import), which can only
answer "certainly not remote": no --config chain reachable from the command line or from
an unconditional rc line (`build ...`, `common ...`) ever mentions remote_executor (or a
--flagfile, which could). That costs a Python start and reading a few small files. Only
otherwise does Bazel decide: `bazel canonicalize-flags` (when the command line is
ambiguous) separates options from target patterns, and `bazel <command> --nobuild` with
those options and no targets writes the expanded option list to a Build Event Protocol
file (optionsParsed.cmdLine). That is some 0.3 s per call on a running server; a remote
build then pays for the aquery, whose analysis the build itself reuses.

What Bazel 7 offers for this, as found: `canonicalize-flags --for_command=build` neither
expands --config (it prints `--config=remote-exec` as given) nor reads rc options, and it
refuses target patterns, naming them ("Unrecognized arguments: //a //b"), which is what
it is used for here. `--announce_rc` prints every rc option and --config expansion, but
joins each option list with spaces, which loses values that contain one (`--remote_header=
Authorization=Bearer TOKEN` in a quoted rc line). The BEP's optionsParsed.cmdLine has the
whole expanded list, one option per element, in Bazel's order; the BEP file must not be
uploaded (--experimental_build_event_upload_strategy=local), or with an unreachable
remote cache the call waits for the upload for good.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

BUILDING_COMMANDS = frozenset({"build", "test", "run", "coverage"})
# Startup options that may take their value as the next argument (`--output_base DIR`).
UNARY_STARTUP_OPTIONS = frozenset(
    {
        "bazelrc",
        "command_port",
        "connect_timeout_secs",
        "digest_function",
        "experimental_cgroup_parent",
        "failure_detail_out",
        "host_jvm_args",
        "host_jvm_profile",
        "install_base",
        "install_md5",
        "invocation_policy",
        "io_nice_level",
        "local_startup_timeout_secs",
        "macos_qos_class",
        "max_idle_secs",
        "output_base",
        "output_user_root",
        "server_javabase",
        "server_jvm_out",
        "unix_digest_hash_attribute_name",
    }
)
# The rc files Bazel may read besides the workspace's and the user's: its default system
# rc, and Debian's.
SYSTEM_RC_FILES = (Path("/etc/bazel.bazelrc"), Path("/etc/bazel/bazelrc"))
# Configs Bazel applies by itself under --enable_platform_specific_config (Bazel 8's
# default), so the textual check treats them as always applied.
PLATFORM_CONFIGS = ("linux", "macos", "windows", "freebsd", "openbsd")
# What in a reachable rc line or argument means only Bazel can say whether the build is remote.
REMOTE_TRIGGERS = ("remote_executor", "flagfile")
PROBE_TIMEOUT = 20.0
# The service a credential helper is asked about: grpc-java asks for https://<authority>/<service>.
EXECUTION_SERVICE = "build.bazel.remote.execution.v2.Execution"


def say(message: str) -> None:
    print(f"preflight: {message}", file=sys.stderr, flush=True)


class PreflightError(Exception):
    """The check cannot be made, or refuses the build; the message says why."""


# ---------------------------------------------------------------- the command line (pure)


@dataclass(frozen=True)
class Invocation:
    startup: list[str]
    command: str | None
    args: list[str]


def split_command(argv: Sequence[str]) -> Invocation:
    """Startup options, command and command arguments of a bazel command line."""
    index = 0
    while index < len(argv):
        arg = argv[index]
        if not arg.startswith("-"):
            return Invocation(list(argv[:index]), arg, list(argv[index + 1 :]))
        if "=" not in arg and arg.removeprefix("--") in UNARY_STARTUP_OPTIONS:
            index += 1
        index += 1
    return Invocation(list(argv), None, [])


def startup_values(startup: Sequence[str], name: str) -> list[str]:
    """Values of a startup option given as `--name=VALUE` or `--name VALUE`."""
    values = []
    for index, arg in enumerate(startup):
        if arg.startswith(f"--{name}="):
            values.append(arg.split("=", 1)[1])
        elif arg == f"--{name}" and index + 1 < len(startup):
            values.append(startup[index + 1])
    return values


# ---------------------------------------------------------------- the textual pre-check (pure)


def logical_lines(text: str) -> list[str]:
    """An rc file's lines with backslash continuations joined, without blank and comment lines."""
    lines = []
    for line in text.replace("\\\r\n", " ").replace("\\\n", " ").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append(stripped)
    return lines


def import_target(line: str) -> tuple[bool, str] | None:
    """(required, path) of an `import` / `try-import` line, as written; None for any other line."""
    words = line.split(None, 1)
    if len(words) == 2 and words[0] in ("import", "try-import"):
        return words[0] == "import", words[1].strip().strip("\"'")
    return None


_CONFIG = re.compile(r"--config(?:=|\s+)(?P<quote>['\"]?)(?P<name>[^\s'\"]+)(?P=quote)")


def may_execute_remotely(rc_lines: Iterable[str], args: Sequence[str]) -> bool:
    """False only if these rc lines and command arguments certainly set no remote executor.

    Over-approximates Bazel: every unconditional line (`build ...`, `common ...`, any
    command's) counts, and so does every config any such line or the command line names,
    transitively, and the platform configs (`build:linux`). If none of that text mentions
    remote_executor or a flagfile, and every --config in it could be read, no option of
    the command can set a remote executor.
    """
    lines = [line for line in rc_lines if import_target(line) is None]
    if not any(trigger in text for text in (*lines, *args) for trigger in REMOTE_TRIGGERS):
        return False
    pending = [" ".join(args)]
    by_config: dict[str, list[str]] = {}
    for line in lines:
        section, rest = [*line.split(None, 1), ""][:2]
        _, colon, config = section.partition(":")
        if colon:
            by_config.setdefault(config, []).append(rest)
        else:
            pending.append(rest)
    seen: set[str] = set()
    for config in PLATFORM_CONFIGS:
        seen.add(config)
        pending += by_config.get(config, [])
    while pending:
        text = pending.pop()
        if any(trigger in text for trigger in REMOTE_TRIGGERS):
            return True
        names = [match["name"] for match in _CONFIG.finditer(text)]
        if len(names) != text.count("--config"):
            return True  # a --config this reading cannot follow
        for name in names:
            if name not in seen:
                seen.add(name)
                pending += by_config.get(name, [])
    return False


# ---------------------------------------------------------------- Bazel's reading of the options (pure)


def split_targets(args: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """(options, residue) of command arguments, or None where only Bazel can tell them apart.

    The residue is what Bazel does not take as options: target patterns (and, for `run`,
    the program's arguments), including everything after `--`. An option without `=`
    followed by a word is ambiguous: `--config remote-exec` takes the word as its value,
    `--keep_going //x` does not.
    """
    options: list[str] = []
    residue: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return options, residue + list(args[index + 1 :])
        if arg.startswith("-") and arg != "-":
            if "=" not in arg and index + 1 < len(args) and not args[index + 1].startswith("-"):
                return None
            options.append(arg)
        else:
            residue.append(arg)
    return options, residue


def canonicalize_residue(stderr: str) -> list[str] | None:
    """The arguments `bazel canonicalize-flags` refused as not options; [] if it accepted all."""
    match = re.search(r"^ERROR: Unrecognized arguments: (.*)$", stderr, re.MULTILINE)
    if match:
        return match.group(1).split()
    if re.search(r"^ERROR:", stderr, re.MULTILINE):
        return None
    return []


def remove_residue(args: Sequence[str], residue: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """(options, residue) of `args` (all before any `--`), given the residue Bazel named, in order."""
    options, found = [], []
    for arg in args:
        if len(found) < len(residue) and arg == residue[len(found)]:
            found.append(arg)
        else:
            options.append(arg)
    return (options, found) if len(found) == len(residue) else None


def targets_of(command: str, residue: Sequence[str]) -> list[str]:
    """The target patterns in a command's residue: `run`'s first word, every word otherwise."""
    return list(residue[:1]) if command == "run" else list(residue)


def options_from_bep(lines: Iterable[str]) -> list[str] | None:
    """The expanded option list (rc files, --config, command line) of a BEP JSON file's optionsParsed."""
    for line in lines:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "optionsParsed" in event.get("id", {}):
            return list(event.get("optionsParsed", {}).get("cmdLine", []))
    return None


def option_values(options: Sequence[str], name: str) -> list[str]:
    """Every value of `--name` in an expanded option list (Bazel writes `--name=VALUE` there)."""
    values = []
    for index, option in enumerate(options):
        if option.startswith(f"--{name}="):
            values.append(option.split("=", 1)[1])
        elif option == f"--{name}" and index + 1 < len(options) and not options[index + 1].startswith("-"):
            values.append(options[index + 1])
    return values


def last_value(options: Sequence[str], name: str) -> str | None:
    values = option_values(options, name)
    return values[-1] if values else None


def boolean_option(options: Sequence[str], name: str) -> bool:
    value = False
    for option in options:
        if option == f"--{name}":
            value = True
        elif option == f"--no{name}":
            value = False
        elif option.startswith(f"--{name}="):
            value = option.split("=", 1)[1].lower() in ("1", "true", "yes")
    return value


def key_value_pairs(values: Iterable[str]) -> list[tuple[str, str]]:
    """NAME=VALUE strings as pairs (the form of --remote_header and --remote_default_exec_properties)."""
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if sep and name:
            pairs.append((name, rest))
    return pairs


@dataclass(frozen=True)
class Remote:
    """What the build's options say about its remote execution service."""

    executor: str
    cache: str | None = None
    instance_name: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    exec_headers: tuple[tuple[str, str], ...] = ()
    cache_headers: tuple[tuple[str, str], ...] = ()
    tls_certificate: str | None = None
    tls_client_certificate: str | None = None
    tls_client_key: str | None = None
    tls_authority_override: str | None = None
    credential_helpers: tuple[str, ...] = ()
    credential_helper_timeout: float = 10.0
    google_credentials: str | None = None
    google_default_credentials: bool = False
    remote_proxy: str | None = None
    default_exec_properties: dict[str, str] = field(default_factory=dict)


def remote_from_options(options: Sequence[str]) -> Remote | None:
    """The remote execution settings of an expanded option list; None when it sets no executor."""
    executor = last_value(options, "remote_executor")
    if not executor:
        return None
    timeout = last_value(options, "credential_helper_timeout") or "10s"
    seconds = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", timeout)
    scale = {"ms": 0.001, "m": 60.0}.get(seconds.group(2) or "s", 1.0) if seconds else 1.0
    return Remote(
        executor=executor,
        cache=last_value(options, "remote_cache") or None,
        instance_name=last_value(options, "remote_instance_name") or "",
        headers=tuple(key_value_pairs(option_values(options, "remote_header"))),
        exec_headers=tuple(key_value_pairs(option_values(options, "remote_exec_header"))),
        cache_headers=tuple(key_value_pairs(option_values(options, "remote_cache_header"))),
        tls_certificate=last_value(options, "tls_certificate") or None,
        tls_client_certificate=last_value(options, "tls_client_certificate") or None,
        tls_client_key=last_value(options, "tls_client_key") or None,
        tls_authority_override=last_value(options, "tls_authority_override") or None,
        credential_helpers=tuple(option_values(options, "credential_helper")),
        credential_helper_timeout=float(seconds.group(1)) * scale if seconds else 10.0,
        google_credentials=last_value(options, "google_credentials") or None,
        google_default_credentials=boolean_option(options, "google_default_credentials"),
        remote_proxy=last_value(options, "remote_proxy") or None,
        default_exec_properties=dict(key_value_pairs(option_values(options, "remote_default_exec_properties"))),
    )


# ---------------------------------------------------------------- what the probe sends (pure)


def uses_tls(url: str) -> bool:
    """As Bazel decides: anything but grpc:// and unix: is TLS (a bare HOST:PORT too)."""
    return not (url.startswith("grpc://") or url.startswith("unix:"))


def bgd_url(url: str) -> str:
    """A Bazel remote endpoint as bgd takes it: it needs a scheme, where Bazel reads none as grpcs://."""
    if "://" in url or url.startswith("unix:"):
        return url
    return f"grpcs://{url}"


def host_of(url: str) -> str | None:
    if url.startswith("unix:"):
        return None
    rest = bgd_url(url).split("://", 1)[1].split("/", 1)[0]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if ":" in rest else rest


def service_uri(url: str, service: str = EXECUTION_SERVICE) -> str:
    """The URI Bazel asks a credential helper about for calls to `service` at `url` (as grpc-java forms it)."""
    authority = bgd_url(url).split("://", 1)[1].split("/", 1)[0].removesuffix(":443")
    return f"https://{authority}/{service}"


_DOMAIN = re.compile(r"(\*|[-a-zA-Z0-9]+)(\.[-a-zA-Z0-9]+)+")


def credential_helper_for(host: str | None, helpers: Sequence[str]) -> str | None:
    """The --credential_helper Bazel uses for `host`: its exact scope, else the nearest `*.` scope, else the default."""
    if not host:
        return None
    default, exact, suffix = None, {}, {}
    for value in helpers:
        scope, sep, path = value.partition("=")
        if sep and _DOMAIN.fullmatch(scope):
            if scope.startswith("*."):
                suffix[scope[2:]] = path
            else:
                exact[scope] = path
        else:
            default = value
    if host in exact:
        return exact[host]
    domain = host
    while True:
        if domain in suffix:
            return suffix[domain]
        if "." not in domain:
            return default
        domain = domain.split(".", 1)[1]


def netrc_has_entry(text: str, host: str) -> bool:
    """Whether a .netrc names `host` or has a `default` entry (Bazel then sends Basic credentials)."""
    words = text.split()
    for index, word in enumerate(words):
        if word == "default" or (word == "machine" and index + 1 < len(words) and words[index + 1] == host):
            return True
    return False


@dataclass(frozen=True)
class ProbeTarget:
    """How `bgd execute` reaches the service: endpoints, instance, TLS files, bearer token."""

    remote: str
    cas: str | None = None
    instance_name: str = ""
    server_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    token: str | None = field(default=None, repr=False)


def _bearer_token(headers: Sequence[tuple[str, str, str]], problems: list[str]) -> str | None:
    """The one bearer token among (name, value, where from) headers; what bgd cannot send goes to `problems`."""
    tokens = set()
    for name, value, source in headers:
        if name.lower() != "authorization":
            problems.append(
                f"the header {name!r} ({source}): bgd, the probe's client, sends no header but authorization"
            )
            continue
        match = re.fullmatch(r"(?i)bearer\s+(\S.*)", value.strip())
        if not match:
            problems.append(
                f"an authorization header that is not a bearer token ({source}): bgd sends only "
                "`authorization: Bearer <token>`"
            )
            continue
        tokens.add(match.group(1).strip())
    if len(tokens) > 1:
        problems.append("more than one bearer token: bgd sends one")
    return next(iter(tokens)) if len(tokens) == 1 else None


def plan_probe(
    remote: Remote,
    helper_headers: dict[str, dict[str, list[str]] | None],
    netrc_hosts: frozenset[str] = frozenset(),
) -> tuple[ProbeTarget | None, list[str]]:
    """How bgd can reach the service as the build does, or why it cannot (the problems, one per line).

    `helper_headers` has, per endpoint URL, the headers its credential helper gave (None:
    no helper applies); `netrc_hosts` the hosts a .netrc has credentials for.
    """
    problems = []
    if remote.remote_proxy:
        problems.append(f"--remote_proxy={remote.remote_proxy}: bgd cannot connect through a proxy")
    if remote.tls_authority_override:
        problems.append("--tls_authority_override: bgd cannot override the TLS authority")
    endpoints = {"exec": remote.executor}
    if remote.cache and remote.cache != remote.executor:
        endpoints["cas"] = remote.cache
    tokens = {}
    for role, url in endpoints.items():
        headers = [(name, value, "--remote_header") for name, value in remote.headers]
        if role == "exec":
            headers += [(name, value, "--remote_exec_header") for name, value in remote.exec_headers]
        else:
            headers += [(name, value, "--remote_cache_header") for name, value in remote.cache_headers]
        from_helper = helper_headers.get(url)
        if from_helper is not None:
            headers += [
                (name, value, "from --credential_helper") for name, values in from_helper.items() for value in values
            ]
        elif remote.google_credentials or remote.google_default_credentials:
            problems.append(
                "Google credentials (--google_credentials, --google_default_credentials): bgd cannot send them"
            )
        elif host_of(url) in netrc_hosts:
            problems.append(
                f"the .netrc credentials Bazel sends to {host_of(url)} (Basic authentication): bgd cannot send them"
            )
        tokens[role] = _bearer_token(headers, problems)
    if "cas" in tokens and tokens["cas"] != tokens["exec"]:
        problems.append("different credentials for the cache and the executor: bgd sends the same to both")
    if problems:
        return None, sorted(set(problems), key=problems.index)
    client = bool(remote.tls_client_certificate and remote.tls_client_key)  # Bazel uses the pair or neither
    return (
        ProbeTarget(
            remote=bgd_url(remote.executor),
            cas=bgd_url(remote.cache) if "cas" in endpoints else None,
            instance_name=remote.instance_name,
            server_cert=remote.tls_certificate,
            client_cert=remote.tls_client_certificate if client else None,
            client_key=remote.tls_client_key if client else None,
            token=tokens["exec"],
        ),
        [],
    )


def probe_command(
    bgd: str,
    target: ProbeTarget,
    properties: dict[str, str],
    *,
    input_root: str,
    output_directory: str,
    token_file: str | None = None,
) -> list[str]:
    """The `bgd execute command` that runs `true` on a worker offering `properties`.

    The TLS files go with each endpoint that uses TLS, as Bazel's go with each channel.
    """

    def tls(url: str, prefix: str) -> list[str]:
        if not uses_tls(url):
            return []
        files = [f"--{prefix}server-cert", target.server_cert] if target.server_cert else []
        if target.client_cert and target.client_key:
            files += [f"--{prefix}client-cert", target.client_cert, f"--{prefix}client-key", target.client_key]
        return files

    command = [bgd, "execute", "--remote", target.remote]
    if target.instance_name:
        command += ["--instance-name", target.instance_name]
    command += tls(target.remote, "")
    if token_file:
        command += ["--auth-token", token_file]
    if target.cas:
        command += ["--remote-cas", target.cas, *tls(target.cas, "cas-")]
    command += ["command", "--output-directory", output_directory]
    for key, value in sorted(properties.items()):
        command += ["-p", key, value]
    return [*command, input_root, "true"]


# ---------------------------------------------------------------- which pools the build needs (pure)


def _query_word(pattern: str) -> str:
    if '"' not in pattern:
        return f'"{pattern}"'
    if "'" not in pattern:
        return f"'{pattern}'"
    raise PreflightError(f"target pattern {pattern!r}: cannot quote it for bazel aquery")


def _is_wildcard(pattern: str) -> bool:
    return pattern.endswith("...") or (":" in pattern and pattern.rsplit(":", 1)[1] in ("all", "*", "all-targets"))


def aquery_expression(patterns: Sequence[str], *, tests_only: bool = False) -> str | None:
    """The aquery expression of every action a build of `patterns` runs; None when it builds nothing.

    Patterns apply left to right, `-P` subtracting; as in a build, wildcards leave out
    targets tagged manual.
    """
    expression = None
    for pattern in patterns:
        negative = pattern.startswith("-")
        word = _query_word(pattern.removeprefix("-"))
        if negative:
            if expression is not None:
                expression = f"({expression}) except {word}"
            continue
        term = f"({word} except attr(tags, '\\bmanual\\b', {word}))" if _is_wildcard(pattern) else word
        expression = term if expression is None else f"{expression} + {term}"
    if expression is None:
        return None
    if tests_only:
        expression = f"tests({expression})"
    return f"deps({expression})"


# Execution requirements that keep an action off remote workers.
_LOCAL_ONLY = re.compile(r"[{\s,](?:no-remote|no-remote-exec|local):")


def execution_platforms(aquery_text: Iterable[str]) -> list[str]:
    """The execution platforms of the actions of an `aquery --output=text` listing that may run remotely.

    In order of first appearance; actions whose execution requirements keep them local
    (no-remote, no-remote-exec, local) do not count.
    """
    found: dict[str, None] = {}
    platform, local = None, False
    for line in itertools.chain(aquery_text, ["action '"]):
        if line.startswith("action '"):
            if platform and not local:
                found.setdefault(platform)
            platform, local = None, False
        elif match := re.match(r"^  Execution platform: (\S+)\s*$", line):
            platform = match.group(1)
        elif line.startswith("  ExecutionInfo: ") and _LOCAL_ONLY.search(line):
            local = True
    return list(found)


def _attribute(rule: dict, name: str) -> dict:
    return next((attribute for attribute in rule.get("attribute", []) if attribute.get("name") == name), {})


def platforms_from_cquery(document: dict) -> dict[str, tuple[dict[str, str], list[str]]]:
    """{label: (own exec_properties, parents)} of the platform rules in a `cquery --output=jsonproto` result."""
    platforms = {}
    for result in document.get("results", []):
        rule = result.get("target", {}).get("rule", {})
        if rule.get("ruleClass") != "platform":
            continue
        properties = {
            entry["key"]: entry.get("value", "")
            for entry in _attribute(rule, "exec_properties").get("stringDictValue", [])
        }
        parents = _attribute(rule, "parents")
        platforms[rule["name"]] = (properties, parents.get("stringListValue", []) or parents.get("labelListValue", []))
    return platforms


def _label_key(label: str) -> str:
    """The main repository's labels in one form: @@//x and @//x are //x."""
    return label[label.index("//") :] if label.startswith(("@@//", "@//")) else label


def platform_properties(
    label: str, platforms: dict[str, tuple[dict[str, str], list[str]]], depth: int = 0
) -> dict[str, str]:
    """A platform's exec_properties, its parents' merged under its own (an empty value removes a key)."""
    entry = platforms.get(label) or next(
        (value for key, value in platforms.items() if _label_key(key) == _label_key(label)), None
    )
    if entry is None:
        if depth:
            return {}  # a parent outside the query (@platforms//host): it has none
        raise PreflightError(f"bazel cquery did not describe the execution platform {label}")
    own, parents = entry
    merged = platform_properties(parents[0], platforms, depth + 1) if parents and depth < 10 else {}
    for key, value in own.items():
        if value:
            merged[key] = value
        else:
            merged.pop(key, None)
    return merged


def property_sets(
    labels: Sequence[str],
    platforms: dict[str, tuple[dict[str, str], list[str]]],
    defaults: dict[str, str] | None = None,
) -> list[dict[str, str]]:
    """The distinct property sets jobs on these execution platforms carry (--remote_default_exec_properties
    stands in for a platform that has none)."""
    sets: list[dict[str, str]] = []
    for label in labels:
        properties = platform_properties(label, platforms) or dict(defaults or {})
        if properties not in sets:
            sets.append(properties)
    return sets


def unrecognized_option(stderr: str) -> str | None:
    """The option a Bazel command refused as not its own ("Unrecognized option: --x")."""
    match = re.search(r"Unrecognized option: (\S+)", stderr)
    return match.group(1) if match else None


def drop_option(options: Sequence[str], option: str) -> list[str]:
    """`options` without `option` (and the value after it, when given as a separate word)."""
    kept: list[str] = []
    skip = False
    for index, arg in enumerate(options):
        if skip:
            skip = False
            continue
        if arg == option:
            skip = "=" not in arg and index + 1 < len(options) and not options[index + 1].startswith("-")
            continue
        kept.append(arg)
    return kept


def describe(properties: dict[str, str]) -> str:
    return "{" + ", ".join(f"{key}={value}" for key, value in sorted(properties.items())) + "}"


def parse_properties(text: str) -> dict[str, str]:
    properties = {}
    for pair in filter(None, text.split(",")):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise PreflightError(f"{text!r}: expected KEY=VALUE,KEY=VALUE")
        properties[key] = value
    return properties


# ---------------------------------------------------------------- reading rc files


def rc_candidates(workspace: Path, startup: Sequence[str], home: Path) -> list[Path]:
    """Every rc file Bazel may read for this command (more is harmless: the check only over-reads)."""
    paths = [*SYSTEM_RC_FILES, workspace / ".bazelrc", home / ".bazelrc"]
    paths += [Path(value) for value in startup_values(startup, "bazelrc")]
    return paths


def read_rc_lines(paths: Iterable[Path], workspace: Path) -> list[str] | None:
    """The logical lines of these rc files and all they import; None if an import cannot be resolved."""
    lines: list[str] = []
    seen: set[Path] = set()
    pending = list(paths)
    while pending:
        path = pending.pop(0)
        try:
            resolved = path.resolve()
            if resolved in seen or not resolved.is_file():
                continue
            seen.add(resolved)
            text = resolved.read_text(errors="replace")
        except OSError:
            continue
        for line in logical_lines(text):
            imported = import_target(line)
            if imported is None:
                lines.append(line)
                continue
            target = imported[1].replace("%workspace%", str(workspace))
            if "%" in target:
                return None
            pending.append(Path(target))
    return lines


# ---------------------------------------------------------------- Bazel calls


def _bazel(command: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=timeout
    )


def separate_targets(bazel: str, invocation: Invocation) -> tuple[list[str], list[str]] | None:
    """(options, target patterns) of the command arguments, asking Bazel when the command line is ambiguous."""
    assert invocation.command is not None
    args = invocation.args
    split = args.index("--") if "--" in args else len(args)
    before, after = args[:split], args[split + 1 :]
    simple = split_targets(before)
    if simple is None:
        canonical = _bazel(
            [bazel, *invocation.startup, "canonicalize-flags", f"--for_command={invocation.command}", "--", *before]
        )
        residue = canonicalize_residue(canonical.stderr)
        simple = remove_residue(before, residue) if residue is not None else None
        if simple is None:
            return None
    options, residue = simple
    return options, targets_of(invocation.command, [*residue, *after])


def read_effective_options(bazel: str, invocation: Invocation, options: Sequence[str]) -> list[str] | None:
    """The command's expanded options, as Bazel applies them (from the BEP of a `--nobuild` run without targets)."""
    with tempfile.TemporaryDirectory(prefix="kiln-preflight-") as scratch:
        bep = Path(scratch) / "options.json"
        _bazel(
            [
                bazel,
                *invocation.startup,
                str(invocation.command),
                *options,
                "--nobuild",
                f"--build_event_json_file={bep}",
                "--build_event_text_file=",
                "--build_event_binary_file=",
                "--experimental_build_event_upload_strategy=local",
                "--bes_backend=",
                "--noshow_progress",
                "--color=no",
                "--curses=no",
            ]
        )
        if not bep.exists():
            return None
        with open(bep, encoding="utf-8") as lines:
            return options_from_bep(lines)


def _run_dropping_unknown(
    command_for: Callable[[list[str]], list[str]], options: list[str]
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run a query command, leaving out the options it refuses (test- or run-only ones), as often as it refuses one.

    Returns the process and the options it ran with.
    """
    for _ in range(16):
        process = _bazel(command_for(options))
        option = unrecognized_option(process.stderr) if process.returncode else None
        if option is None or option not in options:
            break
        options = drop_option(options, option)
    return process, options


def target_patterns(targets: list[str], effective: Sequence[str]) -> list[str]:
    """The command's target patterns: its residue, else those of --target_pattern_file."""
    pattern_file = last_value(effective, "target_pattern_file")
    if targets or not pattern_file:
        return targets
    try:
        text = Path(pattern_file).read_text()
    except OSError as error:
        raise PreflightError(f"--target_pattern_file={pattern_file}: {error}") from error
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def needed_property_sets(
    bazel: str, invocation: Invocation, options: list[str], expression: str, remote: Remote
) -> tuple[list[dict[str, str]], list[str]]:
    """The property sets of every action `expression` covers, and the execution platforms they come from.

    aquery and cquery run with the command's own options (so their analysis is the
    build's, which reuses it), less any they refuse (a test's --test_summary, say): they
    read the `build` and `common` rc sections but not the command's own (`test ...`).
    """
    extra = ["--collect_code_coverage"] if invocation.command == "coverage" else []
    with tempfile.TemporaryDirectory(prefix="kiln-preflight-") as scratch:
        listing = Path(scratch) / "actions.txt"
        process, kept = _run_dropping_unknown(
            lambda opts: [
                bazel,
                *invocation.startup,
                "aquery",
                *opts,
                *extra,
                "--include_commandline=false",
                "--include_artifacts=false",
                "--include_param_files=false",
                "--output=text",
                f"--output_file={listing}",
                "--noshow_progress",
                "--color=no",
                "--curses=no",
                expression,
            ],
            options,
        )
        if process.returncode != 0:
            raise PreflightError(
                "bazel aquery could not list the build's actions, so which workers it needs is unknown:\n"
                + _tail(process.stderr)
            )
        with open(listing, encoding="utf-8", errors="replace") as lines:
            labels = execution_platforms(lines)
    if not labels:
        return [], []
    words = " ".join(_query_word(label) for label in labels)
    platforms_query = _bazel(
        [
            bazel,
            *invocation.startup,
            "cquery",
            *kept,
            *extra,
            "--output=jsonproto",
            "--noshow_progress",
            "--color=no",
            "--curses=no",
            f'kind("^platform rule$", deps(set({words})))',
        ]
    )
    if platforms_query.returncode != 0:
        raise PreflightError("bazel cquery could not read the execution platforms:\n" + _tail(platforms_query.stderr))
    try:
        platforms = platforms_from_cquery(json.loads(platforms_query.stdout or "{}"))
    except json.JSONDecodeError as error:
        raise PreflightError(f"bazel cquery printed no JSON for the execution platforms: {error}") from error
    return property_sets(labels, platforms, remote.default_exec_properties), labels


def _tail(text: str, lines: int = 12) -> str:
    kept = [
        line for line in text.splitlines() if line.strip() and not line.startswith(("INFO:", "Loading", "Analyzing"))
    ]
    return "\n".join(f"    {line}" for line in kept[-lines:])


# ---------------------------------------------------------------- credentials and probes


def run_credential_helper(helper: str, uri: str, workspace: Path, timeout: float) -> dict[str, list[str]]:
    """The headers a credential helper gives for `uri` (the credential helper protocol's `get`)."""
    path = helper.replace("%workspace%", str(workspace))
    if "/" not in path:
        path = shutil.which(path) or path
    elif not os.path.isabs(path):
        path = str(workspace / path)
    try:
        process = subprocess.run(
            [path, "get"],
            input=json.dumps({"uri": uri}),
            capture_output=True,
            text=True,
            cwd=workspace,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PreflightError(f"the credential helper {helper} failed for {uri}: {error}") from error
    if process.returncode != 0:
        raise PreflightError(
            f"the credential helper {helper} exited with {process.returncode} for {uri}: {process.stderr.strip()}"
        )
    try:
        headers = json.loads(process.stdout or "{}").get("headers", {})
        return {str(name): [str(value) for value in values] for name, values in headers.items()}
    except (json.JSONDecodeError, AttributeError, TypeError) as error:
        raise PreflightError(f"the credential helper {helper} printed no response object for {uri}") from error


def gather_credentials(
    remote: Remote, workspace: Path
) -> tuple[dict[str, dict[str, list[str]] | None], frozenset[str]]:
    """What plan_probe needs from outside the options: credential helpers' headers, the .netrc's hosts."""
    helper_headers: dict[str, dict[str, list[str]] | None] = {}
    netrc_hosts = set()
    netrc = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    netrc_text = netrc.read_text(errors="replace") if netrc.is_file() else ""
    for url in {remote.executor, remote.cache or remote.executor}:
        helper = credential_helper_for(host_of(url), remote.credential_helpers)
        helper_headers[url] = (
            run_credential_helper(helper, service_uri(url), workspace, remote.credential_helper_timeout)
            if helper
            else None
        )
        host = host_of(url)
        if host and netrc_has_entry(netrc_text, host):
            netrc_hosts.add(host)
    return helper_headers, frozenset(netrc_hosts)


def _bgd() -> str:
    """BuildGrid's CLI, installed on first use by reapi.py (KILN_PREFLIGHT_BGD names another, for tests)."""
    if os.environ.get("KILN_PREFLIGHT_BGD"):
        return os.environ["KILN_PREFLIGHT_BGD"]
    sys.path.insert(0, str(HERE))
    import reapi  # the deployment module, which installs BuildGrid; only a probe needs it

    return reapi._bgd()


def probe(properties: dict[str, str], *, target: ProbeTarget, timeout: float, bgd: str | None = None) -> str | None:
    """None if a worker with `properties` runs a trivial action within `timeout`, else why not.

    `bgd` is the client to use (default: BuildGrid's, installed on first use).
    """
    with tempfile.TemporaryDirectory(prefix="kiln-probe-") as scratch:
        root = Path(scratch) / "root"
        root.mkdir()
        # A unique input makes the action new, so no server dedupes it onto an earlier one.
        (root / "probe").write_text(f"{time.time_ns()} {os.getpid()} {sorted(properties.items())}\n")
        token_file = None
        if target.token:
            token_file = Path(scratch) / "token"
            token_file.touch(mode=0o600)
            token_file.write_text(target.token + "\n")
        command = probe_command(
            bgd or _bgd(),
            target,
            properties,
            input_root=str(root),
            output_directory=str(Path(scratch) / "out"),
            token_file=str(token_file) if token_file else None,
        )
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # bgd cancels its operation on SIGINT, so the job does not linger in the queue.
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
            return f"no worker started a job needing {describe(properties)} within {timeout:.0f}s"
    if process.returncode != 0:
        last = [line for line in output.splitlines() if line.strip()][-3:]
        return f"a job needing {describe(properties)} did not run: {' | '.join(last)}"
    return None


def probe_all(sets: Sequence[dict[str, str]], target: ProbeTarget, timeout: float) -> list[str]:
    """Probe every property set at once; what went wrong, one line per set that failed."""
    import concurrent.futures  # only a remote build gets here

    bgd = _bgd()  # once, before the threads: the first call may install BuildGrid
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(len(sets), 1)) as pool:
        found = pool.map(lambda properties: probe(properties, target=target, timeout=timeout, bgd=bgd), sets)
    return [problem for problem in found if problem]


# ---------------------------------------------------------------- the check


def check(bazel: str, argv: Sequence[str], workspace: Path, *, timeout: float = PROBE_TIMEOUT) -> int:
    """Run before a bazel command line by ./bazelw: 0 to go on, 2 to stop (the reason printed)."""
    invocation = split_command(argv)
    if invocation.command not in BUILDING_COMMANDS:
        return 0
    rc_lines = read_rc_lines(rc_candidates(workspace, invocation.startup, Path.home()), workspace)
    if rc_lines is not None and not may_execute_remotely(rc_lines, invocation.args):
        return 0
    separated = separate_targets(bazel, invocation)
    if separated is None:
        say("could not tell this command's options from its targets; not checked (Bazel reports any error)")
        return 0
    options, targets = separated
    effective = read_effective_options(bazel, invocation, options)
    if effective is None:
        say("Bazel did not report this command's options; not checked (Bazel reports any error)")
        return 0
    remote = remote_from_options(effective)
    if remote is None:
        return 0
    expression = aquery_expression(
        target_patterns(targets, effective),
        tests_only=invocation.command in ("test", "coverage") and boolean_option(effective, "build_tests_only"),
    )
    if expression is None:
        return 0  # it builds nothing
    helper_headers, netrc_hosts = gather_credentials(remote, workspace)
    target, problems = plan_probe(remote, helper_headers, netrc_hosts)
    if target is None:
        print(
            f"error: the remote-execution guard cannot check {remote.executor} as this build reaches it:",
            file=sys.stderr,
        )
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(
            "Probing without them would be refused or would ask another service. Build without the check with "
            "KILN_NO_PREFLIGHT=1 (a job no worker can take then waits in the queue for ever), or use a bearer "
            "token (--remote_header=Authorization=Bearer ... or a credential helper giving one) and TLS files.",
            file=sys.stderr,
        )
        return 2
    say(f"{remote.executor}: which kinds of job does this build send, and does a worker take each?")
    sets, labels = needed_property_sets(bazel, invocation, options, expression, remote)
    if not sets:
        return 0
    problems = probe_all(sets, target, timeout)
    if problems:
        print(
            f"error: {remote.executor} cannot run this build: no worker takes some of the jobs it would send.",
            file=sys.stderr,
        )
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(
            "Such jobs would wait in the queue for ever. Start workers that offer these properties "
            "(tools/remote/up --worker NAME:KEY=VALUE,...), drop the --//platforms:executors they come from, "
            "or build without remote execution. (KILN_NO_PREFLIGHT=1 skips this check.)",
            file=sys.stderr,
        )
        return 2
    say(
        f"{remote.executor}: workers take every kind of job this build sends ({len(sets)}: "
        f"{'; '.join(describe(properties) for properties in sets)}; from {', '.join(labels)})"
    )
    return 0


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("check", help="check a bazel command line before it runs (./bazelw)")
    run.add_argument("--bazel", default="bazel", help="the Bazel binary ./bazelw runs")
    run.add_argument("--workspace", type=Path, default=None, help="the workspace (default: the current directory)")
    run.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("KILN_PREFLIGHT_TIMEOUT") or PROBE_TIMEOUT),
        help=f"seconds a worker has to start a probe (default: $KILN_PREFLIGHT_TIMEOUT, else {PROBE_TIMEOUT:.0f})",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, help="-- [STARTUP OPTIONS] COMMAND [ARGS]")
    alone = commands.add_parser("probe", help="probe an executor for property sets")
    alone.add_argument("--executor", required=True, help="grpc://HOST:PORT, grpcs://HOST:PORT, unix:PATH")
    alone.add_argument("--properties", action="append", required=True, help="KEY=VALUE,... (repeatable)")
    alone.add_argument("--instance-name", default="")
    alone.add_argument("--tls-certificate", help="the server's CA certificate (PEM), as Bazel's --tls_certificate")
    alone.add_argument("--tls-client-certificate")
    alone.add_argument("--tls-client-key")
    alone.add_argument("--remote-header", action="append", default=[], help="NAME=VALUE (repeatable)")
    alone.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            bazel_argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
            return check(args.bazel, bazel_argv, args.workspace or Path.cwd(), timeout=args.timeout)
        remote = Remote(
            executor=args.executor,
            instance_name=args.instance_name,
            headers=tuple(key_value_pairs(args.remote_header)),
            tls_certificate=args.tls_certificate,
            tls_client_certificate=args.tls_client_certificate,
            tls_client_key=args.tls_client_key,
        )
        target, problems = plan_probe(remote, {args.executor: None})
        if target is None:
            raise PreflightError("; ".join(problems))
        sets = [parse_properties(text) for text in args.properties]
        problems = probe_all(sets, target, args.timeout)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        if problems:
            print(f"error: {args.executor} did not run a job of each of these property sets", file=sys.stderr)
            return 2
        say(f"{args.executor}: a worker takes each of {len(sets)} property set(s)")
        return 0
    except PreflightError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a fault of the guard's own must not stop every build
        if args.command != "check":
            raise
        print(
            f"preflight: warning: could not check this command ({type(error).__name__}: {error}); building "
            "without the check. Please report it; KILN_NO_PREFLIGHT=1 skips the check.",
            file=sys.stderr,
        )
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

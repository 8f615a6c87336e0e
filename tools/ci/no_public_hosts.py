"""No public host name or address in the project's tests and tools.

    python3 tools/ci/no_public_hosts.py DIR...

Tests and scripts send traffic to loopback only, so a public host named in them is
either traffic that must not happen or a default that points somewhere it should not.
Lists every URL host, host-like name and IPv4 literal that is not loopback or
reserved for documentation (RFC 2606 names, RFC 5737 addresses); exit status 1 if
there is one. Identifiers that are not addresses are let through by ALLOWED below,
each with its reason. Run by .ci/run over tests/ and tools/.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Names that look like hosts and are not traffic, with why.
ALLOWED = {
    # YAML's tag URIs (tag:yaml.org,2002:merge) name types; nothing resolves them.
    "yaml.org",
    # The SARIF 2.1.0 schema, vendored as test data: its $schema and id are identifiers.
    "json-schema.org",
    "docs.oasis-open.org",
}

_URL_HOST = re.compile(r"\b[a-z][a-z0-9+.-]*://([^/\s:'\"`)<>\]]+)", re.I)
_NAME = re.compile(r"\b((?:[a-z0-9-]+\.)+(?:org|com|net|io|dev|ai|co|cloud|app|us|uk|de))\b", re.I)
_IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?![\w.])")
_VERSION_OPERATORS = ("==", ">=", "<=", "~=", "!=")
_RESERVED_SUFFIXES = (".invalid", ".test", ".example", ".localhost", "example.com", "example.org", "example.net")


def public_name(host: str) -> bool:
    host = host.lower().rstrip(".").split("@")[-1]
    if host in ALLOWED or host == "localhost" or host.endswith(_RESERVED_SUFFIXES):
        return False
    try:
        return public_address(host)
    except ValueError:
        return "." in host and not host.startswith("$") and not host.startswith("{")


def public_address(text: str) -> bool:
    address = ipaddress.ip_address(text)
    documentation = any(
        address in ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
    )
    return not (address.is_loopback or address.is_unspecified or address.is_private or documentation)


def findings(line: str) -> list[str]:
    """The public hosts a line names, in order."""
    found = [host for host in _URL_HOST.findall(line) if public_name(host)]
    found += [name for name in _NAME.findall(line) if public_name(name) and name not in found]
    for match in _IPV4.finditer(line):
        if line[max(0, match.start() - 2) : match.start()] in _VERSION_OPERATORS:
            continue  # package==13.5.37.1: a version, not an address
        try:
            if public_address(match.group(1)):
                found.append(match.group(1))
        except ValueError:
            continue  # 999.1.2.3: not an address either
    return found


def tracked_files(directories: list[str]) -> list[Path]:
    git = shutil.which("git") or "git"
    listed = subprocess.run([git, "ls-files", "-z", "--", *directories], capture_output=True, check=True)
    return [Path(name) for name in sorted(listed.stdout.decode().split("\0")) if name]


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: no_public_hosts.py DIR...", file=sys.stderr)
        return 2
    problems = 0
    for path in tracked_files(argv):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # binary data, or deleted in the work tree
        for number, line in enumerate(text.splitlines(), 1):
            for host in findings(line):
                print(f"{path}:{number}: names public host {host}: {line.strip()[:120]}")
                problems += 1
    if problems:
        print(f"{problems} public host(s) named; tests and tools may reach loopback only", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

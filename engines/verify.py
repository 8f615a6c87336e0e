"""Check engines pulled onto a device against their sidecars and manifest, outside Bazel.

    python3 engines/verify.py <directory or manifest.json> ...
    python3 engines/verify.py --expect-manifest-sha256 HEX engines/<platform>
    bazel run //engines:verify -- $PWD/bazel-bin/engines/fleet

A directory is searched for manifest.json files. Per engine listed:

    hit        the file, its .sha256 sidecar and the manifest agree
    tampered   the file's digest differs from the manifest or the sidecar, or the
               sidecar is missing, malformed or names another file
    missing    the manifest lists it, the directory does not have it
    untrusted-manifest
               --expect-manifest-sha256 was given and manifest.json's bytes do
               not hash to it: no engine of that directory is trusted

Engine files present but not listed are reported as `unlisted`. Exit status 0
when everything is a hit, 1 otherwise, 2 when nothing could be read or the
arguments are wrong. Standard library only.

The engines, sidecars and manifest travel together, so they catch corruption and
partial edits, not a forger who rewrites all three consistently (new engine bytes,
its sidecar, the manifest's sha256): that passes. --expect-manifest-sha256 closes
it with a digest that travels out of band: a bundle's OCI manifest carries it as
the annotation dev.kiln.engines.manifest.sha256, so a device that knows the
image's digest trusts image -> annotation -> manifest.json -> engines.

    --expect-manifest-sha256 HEX        the one manifest.json found must hash to HEX
                                        (more than one found is a usage error)
    --expect-manifest-sha256 PATH=HEX   the manifest PATH (a manifest.json or its
                                        directory) must hash to HEX; repeat it once
                                        per manifest: every manifest found needs one

HEX is 64 hexadecimal digits, the sha256 of the manifest.json file's bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script on a device
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines import artifacts


def check_engine(directory: Path, record: dict) -> tuple[str, str]:
    """(status, reason) for one manifest record."""
    name = record["engine"]["file"]
    path = directory / name
    if not path.is_file():
        return "missing", "not in the directory"
    digest = artifacts.sha256_file(path)
    if digest != record["engine"]["sha256"]:
        return "tampered", f"sha256 {digest[:12]}... but the manifest says {record['engine']['sha256'][:12]}..."
    sidecar = path.with_name(name + ".sha256")
    if not sidecar.is_file():
        return "tampered", "its .sha256 sidecar is missing"
    parsed = artifacts.parse_sidecar(read_sidecar(sidecar))
    if parsed is None:
        return "tampered", "its .sha256 sidecar is not '<sha256>  <file name>'"
    if parsed[1] != name:
        return "tampered", f"its sidecar names {parsed[1]}"
    if parsed[0] != digest:
        return "tampered", f"its sidecar says sha256 {parsed[0][:12]}..., the file has {digest[:12]}..."
    return "hit", ""


# A sidecar is one line, "<64 hex digits>  <file name>\n"; a manifest, a record per engine.
# Past these sizes neither is one, and reading it whole could exhaust a device's memory.
MAX_SIDECAR_BYTES = 4096
MAX_MANIFEST_BYTES = 64 << 20


class ManifestError(ValueError):
    """A manifest.json that is not one //engines:manifest writes; the message says what is wrong with it."""


def read_sidecar(sidecar: Path) -> str:
    """The sidecar's text (undecodable bytes replaced); "" when it is too long to be a sidecar."""
    with open(sidecar, "rb") as stream:
        data = stream.read(MAX_SIDECAR_BYTES + 1)
    return "" if len(data) > MAX_SIDECAR_BYTES else data.decode("utf-8", errors="replace")


def read_manifest_bytes(manifest: Path) -> bytes:
    try:
        with open(manifest, "rb") as stream:
            raw = stream.read(MAX_MANIFEST_BYTES + 1)
    except OSError as error:
        raise ManifestError(f"cannot read it ({error.strerror or error}); pull it again") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"larger than {MAX_MANIFEST_BYTES >> 20} MiB, far past any manifest; pull it again, "
            "or rebuild it with //engines:manifest"
        )
    return raw


def manifest_data(raw: bytes) -> dict:
    """The manifest's data, checked as far as verifying reads it: a ManifestError says what is wrong."""
    try:
        data = _manifest_json(raw)
        _check_manifest(data)
    except ManifestError as error:
        raise ManifestError(f"{error}; pull it again, or rebuild it with //engines:manifest") from None
    return data


def _manifest_json(raw: bytes) -> object:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ManifestError(f"not UTF-8: byte 0x{raw[error.start]:02x} at byte offset {error.start}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise ManifestError("nested too deeply to be a manifest") from None
    except ValueError as error:  # an integer longer than Python converts
        raise ManifestError(f"not JSON: {str(error).split(';')[0]}") from None


def _check_manifest(data: object) -> None:
    if not isinstance(data, dict):
        raise ManifestError(f"a JSON {_json_type(data)}, not an object")
    if not isinstance(data.get("platform"), str):
        raise ManifestError(f"'platform' must be a string, got {_shown(data.get('platform', _ABSENT))}")
    engines = data.get("engines", _ABSENT)
    if not isinstance(engines, list):
        raise ManifestError(f"'engines' must be a list of engine records, got {_shown(engines)}")
    for index, record in enumerate(engines):
        engine = record.get("engine", _ABSENT) if isinstance(record, dict) else record
        if not isinstance(engine, dict):
            where = f"engines[{index}].engine" if isinstance(record, dict) else f"engines[{index}]"
            raise ManifestError(f"{where} must be an object, got {_shown(engine)}")
        name, digest = engine.get("file", _ABSENT), engine.get("sha256", _ABSENT)
        if not _plain_file_name(name):
            raise ManifestError(
                f"engines[{index}].engine.file must be the name of a file beside manifest.json, got {_shown(name)}"
            )
        if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
            raise ManifestError(f"engines[{index}].engine.sha256 must be 64 hexadecimal digits, got {_shown(digest)}")


def _plain_file_name(name: object) -> bool:
    """A file name of the manifest's own directory: no path, nothing a terminal or a file system cannot take."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and not any(char in name for char in "/\\\0")
        and name.isprintable()  # no control characters, no lone surrogates (a JSON escape such as \ud800)
    )


_ABSENT = object()


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _shown(value: object) -> str:
    """A value for an error line: short, one line, never deep (no repr of nested data)."""
    if value is _ABSENT:
        return "nothing (the key is missing)"
    if isinstance(value, dict | list):
        return f"a JSON {_json_type(value)}"
    if isinstance(value, str):
        return printable(repr(value if len(value) <= 60 else value[:60] + "..."))
    return json.dumps(value)[:60]


def printable(text: str) -> str:
    """`text` on one line, in characters any terminal writes: the others (and a name's undecodable bytes) escaped."""
    return text if text.isprintable() else text.encode("unicode_escape", "backslashreplace").decode("ascii")


EXPECT_FLAG = "--expect-manifest-sha256"
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


class UsageError(Exception):
    pass


def parse_expectations(values: list[str]) -> list[tuple[str, str]]:
    """(PATH or "", lowercase HEX) per --expect-manifest-sha256 value; UsageError for a malformed one."""
    parsed = []
    for value in values:
        path, sep, digest = value.rpartition("=")
        if not _SHA256_HEX.fullmatch(digest) or (sep and not path):
            raise UsageError(f"{EXPECT_FLAG} {value!r}: expected HEX or PATH=HEX, HEX being 64 hexadecimal digits")
        parsed.append((path, digest.lower()))
    return parsed


def expected_digests(expectations: list[tuple[str, str]], manifests: list[Path]) -> dict[Path, str]:
    """Each manifest's expected sha256, from parse_expectations; UsageError if they do not pin each one once."""
    if not expectations:
        return {}
    bare, pinned = [], {}
    for path, digest in expectations:
        if not path:
            bare.append(digest)
            continue
        target = Path(path) / "manifest.json" if Path(path).is_dir() else Path(path)
        match = [manifest for manifest in manifests if manifest.resolve() == target.resolve()]
        if not match:
            raise UsageError(f"{EXPECT_FLAG} {path}=...: {target} is not one of the manifests found")
        if match[0] in pinned:
            raise UsageError(f"{EXPECT_FLAG}: {match[0]} is given twice")
        pinned[match[0]] = digest
    if bare:
        if len(bare) > 1 or pinned or len(manifests) != 1:
            raise UsageError(
                f"{EXPECT_FLAG} HEX needs exactly one manifest.json, found {len(manifests)}: give PATH=HEX for each"
            )
        return {manifests[0]: bare[0]}
    for manifest in manifests:
        if manifest not in pinned:
            raise UsageError(f"{EXPECT_FLAG}: {manifest} has none; give PATH=HEX for every manifest found")
    return pinned


def untrusted_manifest(directory: Path, raw: bytes, reason: str) -> list[dict[str, str]]:
    """Every engine the manifest names (as far as it reads) or the directory holds, as untrusted."""
    names, platform = set(), ""
    try:
        data = _manifest_json(raw)
        platform = str(data.get("platform", ""))
        names |= {str(record["engine"]["file"]) for record in data["engines"]}
    except (ManifestError, KeyError, TypeError, AttributeError):
        pass  # as far as it reads: the files beside it are listed all the same
    names |= {path.name for path in directory.iterdir() if artifacts.parse_engine_file_name(path.name)}
    # Even a manifest that lists nothing, beside no engines, must not pass.
    return [
        {"engine": name, "platform": platform, "reason": reason, "status": "untrusted-manifest"}
        for name in sorted(names) or ["manifest.json"]
    ]


def verify_manifest(manifest: Path, expected_sha256: str | None = None) -> list[dict[str, str]]:
    directory = manifest.parent
    raw = read_manifest_bytes(manifest)  # hashed and parsed from the same bytes
    if expected_sha256 is not None:
        actual = artifacts.sha256_bytes(raw)
        if actual != expected_sha256.lower():
            return untrusted_manifest(
                directory,
                raw,
                f"manifest.json has sha256 {actual[:12]}..., {EXPECT_FLAG} says {expected_sha256.lower()[:12]}...",
            )
    data = manifest_data(raw)
    results = []
    listed = set()
    for record in data["engines"]:
        status, reason = check_engine(directory, record)
        listed.add(record["engine"]["file"])
        results.append(
            {"engine": record["engine"]["file"], "platform": data["platform"], "reason": reason, "status": status}
        )
    for path in sorted(directory.iterdir()):
        if path.name not in listed and artifacts.parse_engine_file_name(path.name):
            results.append(
                {
                    "engine": path.name,
                    "platform": data["platform"],
                    "reason": "not in manifest.json",
                    "status": "unlisted",
                }
            )
    return results


def manifests_under(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.rglob("manifest.json"))
        elif path.is_file():
            found.append(path)
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        EXPECT_FLAG,
        action="append",
        default=[],
        metavar="HEX|PATH=HEX",
        help="trust a manifest.json only if its bytes have this sha256 (see above)",
    )
    args = parser.parse_args(argv)
    try:
        expectations = parse_expectations(args.expect_manifest_sha256)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    manifests = manifests_under(args.paths)
    if not manifests:
        print(f"error: no manifest.json under {', '.join(map(str, args.paths))}", file=sys.stderr)
        return 2
    try:
        expected = expected_digests(expectations, manifests)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    results = []
    for manifest in manifests:
        try:
            results += verify_manifest(manifest, expected.get(manifest))
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"error: {manifest}: not a readable engine manifest ({error})", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(results, indent=2, sort_keys=True))
    else:
        for result in results:
            line = f"{result['status']:<9} {printable(result['engine'])}"
            print(line + (f"  ({printable(result['reason'])})" if result["reason"] else ""))
        counts = {
            status: sum(r["status"] == status for r in results) for status in ("hit", "tampered", "missing", "unlisted")
        }
        untrusted = sum(r["status"] == "untrusted-manifest" for r in results)
        print(
            ", ".join(f"{count} {status}" for status, count in counts.items())
            + (f", {untrusted} untrusted-manifest" if untrusted else "")
        )
    return 0 if all(result["status"] == "hit" for result in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

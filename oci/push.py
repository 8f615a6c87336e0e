"""Pushes an OCI image layout to a registry with crane: the program behind oci_push.

bazel run //pkg:<image>.push [-- --repository HOST[:PORT]/PATH] [--tag TAG]...

The repository and tags default to the oci_push target's; `--repository` and
`--tag` on the command line replace them. Needs `crane` (go-containerregistry;
Debian: `apt-get install -t sid crane`) on PATH. Prints each pushed reference with
the image digest, which is the digest the build recorded.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = re.compile(r"^(?P<host>[A-Za-z0-9.-]+(:(?P<port>[0-9]+))?)/(?P<path>[a-z0-9]+([._/-][a-z0-9]+)*)$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class PushError(Exception):
    pass


def from_runfiles(path: str) -> Path:
    """A file of the push target, relative to its runfiles (the working directory of `bazel run`)."""
    if not Path(path).exists():
        raise PushError(f"{path} is not here: run this with `bazel run`, which builds the image first")
    return Path(path)


def check_reachable(repository: str) -> None:
    match = REPOSITORY.match(repository)
    if not match:
        raise PushError(
            f"repository {repository!r} is not HOST[:PORT]/PATH (lowercase path), e.g. 127.0.0.1:5000/kiln/engines"
        )
    host, port = match.group("host").split(":")[0], int(match.group("port") or 443)
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as error:
        raise PushError(
            f"no registry answers at {host}:{port} ({error.strerror or error}). Start one there, or push "
            "elsewhere with `bazel run <target> -- --repository HOST[:PORT]/PATH`."
        ) from None


def push(layout: Path, expected: str, repository: str, tags: list[str]) -> list[str]:
    crane = shutil.which("crane")
    if not crane:
        raise PushError(
            "crane is not on PATH; install go-containerregistry's crane (Debian: apt-get install -t sid crane)"
        )
    for tag in tags:
        if not TAG.match(tag):
            raise PushError(f"tag {tag!r} is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128 characters)")
    check_reachable(repository)
    pushed = []
    for tag in tags or ["latest"]:
        reference = f"{repository}:{tag}"
        with tempfile.TemporaryDirectory() as scratch:
            refs = Path(scratch) / "refs"
            result = subprocess.run(
                [crane, "push", str(layout), reference, "--image-refs", str(refs)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise PushError(f"crane push to {reference} failed:\n{result.stderr.strip()}")
            digest = refs.read_text().strip().rpartition("@")[2]
        if digest != expected:
            raise PushError(f"{reference}: the registry has {digest}, the build made {expected}")
        pushed.append(f"{reference}@{digest}")
    return pushed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="oci_push", description=__doc__.split("\n\n")[0])
    parser.add_argument("--layout", required=True, help="the OCI layout (runfiles path)")
    parser.add_argument("--digest", required=True, help="the image's digest file (runfiles path)")
    parser.add_argument("--default-repository", required=True)
    parser.add_argument("--default-tag", action="append", default=[])
    parser.add_argument("--repository", help="push here instead (HOST[:PORT]/PATH)")
    parser.add_argument("--tag", action="append", default=[], help="push with these tags instead (repeatable)")
    args = parser.parse_args(argv)
    try:
        layout = from_runfiles(args.layout)
        expected = from_runfiles(args.digest).read_text().strip()
        pushed = push(layout, expected, args.repository or args.default_repository, args.tag or args.default_tag)
    except PushError as error:
        print(f"error: oci_push: {error}", file=sys.stderr)
        return 1
    for reference in pushed:
        print(reference)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

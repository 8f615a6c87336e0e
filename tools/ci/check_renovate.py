"""Checks renovate.json against Renovate's JSON schema and against this repository.

python tools/ci/check_renovate.py --schema <renovate-schema.json> [renovate.json]

Renovate's own validator (renovate-config-validator, run beside this by .ci/run)
knows its options; this knows the project's contract: every pip hub's
requirements*.in is bumped in a pull request of its own, which regenerates that
lock and, for a mined library with a checked-in corpus, that corpus, through
`./bazelw run` targets that exist; and a CPU build a hub pins (`torch==X+cpu`)
is looked up where such builds are served.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HUB_INPUT = re.compile(r"(^|/)requirements(_[0-9.]+)?\.in$")
COMMAND = re.compile(r"^\./bazelw run (//[\w/.-]+:[\w.-]+)$")
# A pin of a local CPU build (`torch==2.13.0+cpu`): a release PyPI does not serve.
CPU_BUILD_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*[^\s#;]+\+cpu\b", re.MULTILINE)


def tracked_files() -> list[str]:
    git = shutil.which("git") or sys.exit("error: git is not on PATH; this check reads the tracked files")
    out = subprocess.run([git, "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return sorted(out.splitlines())


def schema_errors(config: dict, schema_path: Path) -> list[str]:
    import jsonschema

    schema = json.loads(schema_path.read_text())
    validator = jsonschema.Draft7Validator(schema)
    return sorted(
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(config)
    )


def lock_of(hub_input: str) -> str:
    """miners/vllm/requirements.in -> miners/vllm/requirements_lock.txt (the pip_lock naming)."""
    return hub_input[: -len(".in")] + "_lock.txt"


def as_label(path: str) -> str:
    package, name = path.rsplit("/", 1)
    return f"//{package}:{name}"


def data_of(labels: list[str]) -> dict[str, set[str]]:
    """{label: the labels in its data} for each label that exists (one bazel query each)."""
    found = {}
    for label in labels:
        result = subprocess.run(
            [str(ROOT / "bazelw"), "query", f"labels(data, {label})"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,  # a missing target is reported, not raised
        )
        if result.returncode == 0:
            found[label] = set(result.stdout.split())
    return found


def contract_errors(config: dict, files: list[str]) -> list[str]:
    """What breaks the one-lock-per-pull-request contract."""
    errors = []
    rules = config.get("packageRules", [])
    checked_in = {f.split("/")[1] for f in files if f.startswith("corpus/") and f.count("/") >= 2}
    hub_inputs = [f for f in files if HUB_INPUT.search(f)]
    commands = {c for r in rules for c in r.get("postUpgradeTasks", {}).get("commands", [])}
    labels = sorted({m.group(1) for c in commands if (m := COMMAND.match(c))})
    errors += [
        f"command {c!r} is not `./bazelw run //package:target`" for c in sorted(commands) if not COMMAND.match(c)
    ]
    data = data_of(labels)
    errors += [f"{label}: no such target (a postUpgradeTasks command runs it)" for label in labels if label not in data]
    for hub_input in hub_inputs:
        owners = [r for r in rules if hub_input in r.get("matchFileNames", []) and "postUpgradeTasks" in r]
        if len(owners) != 1:
            errors.append(
                f"{hub_input}: {len(owners)} packageRules with postUpgradeTasks match it exactly; "
                "give it one, with its own groupName, that regenerates its lock"
            )
            continue
        rule, tasks = owners[0], owners[0]["postUpgradeTasks"]
        where = f"{hub_input} (rule {rule.get('groupName', '?')!r})"
        if not rule.get("groupName"):
            errors.append(f"{where}: no groupName, so its pins would land in separate pull requests")
        if tasks.get("executionMode") != "branch":
            errors.append(f"{where}: executionMode must be 'branch' (regenerate once, after all of its pins moved)")
        runs = {m.group(1) for c in tasks.get("commands", []) if (m := COMMAND.match(c))}
        filters = tasks.get("fileFilters", [])
        if not any(as_label(hub_input) in data.get(label, ()) for label in runs):
            errors.append(f"{where}: no command runs the pip_lock `.update` target of {hub_input}")
        wanted_filters = [lock_of(hub_input)]
        library = Path(hub_input).parent.name
        if hub_input.startswith("miners/") and library in checked_in:
            if f"//corpus:{library}.update" not in runs:
                errors.append(f"{where}: does not run `./bazelw run //corpus:{library}.update`")
            wanted_filters.append(f"corpus/{library}/**")
        errors += [
            f"{where}: fileFilters lack {p!r}, so it is not committed" for p in wanted_filters if p not in filters
        ]
    return errors


def cpu_build_errors(config: dict, hub_texts: dict[str, str]) -> list[str]:
    """Each CPU build a hub input pins must be looked up in a registry that serves it.

    hub_texts maps each requirements*.in to its text. Renovate looks a package up on PyPI
    unless a packageRule gives it registryUrls; PyPI has no `+cpu` releases, so there it
    would move the pin to a build the hub cannot lock.
    """
    errors = []
    rules = config.get("packageRules", [])
    for hub_input, text in sorted(hub_texts.items()):
        for package in sorted(set(CPU_BUILD_PIN.findall(text))):
            served = any(
                hub_input in rule.get("matchFileNames", [])
                and package in rule.get("matchPackageNames", [])
                and rule.get("registryUrls")
                for rule in rules
            )
            if not served:
                errors.append(
                    f"{hub_input}: pins a CPU build of {package}, but no packageRule with registryUrls matches "
                    f"{package} there; add {hub_input} to the matchFileNames of the rule that looks {package} "
                    "up where its CPU builds are served"
                )
    return errors


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="check_renovate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--schema", required=True, type=Path, help="renovate-schema.json of the Renovate release used")
    parser.add_argument("config", nargs="?", type=Path, default=ROOT / "renovate.json")
    args = parser.parse_args(argv)
    try:
        config = json.loads(args.config.read_text())
    except (OSError, json.JSONDecodeError) as error:
        print(f"error: cannot read {args.config}: {error}", file=sys.stderr)
        return 1
    errors = [f"schema: {e}" for e in schema_errors(config, args.schema)]
    files = tracked_files()
    errors += contract_errors(config, files)
    hub_inputs = [f for f in files if HUB_INPUT.search(f)]
    errors += cpu_build_errors(config, {f: (ROOT / f).read_text(encoding="utf-8") for f in hub_inputs})
    for error in errors:
        print(f"{args.config.name}: {error}", file=sys.stderr)
    locks = sum(1 for f in files if HUB_INPUT.search(f))
    print(f"{args.config.name}: {locks} locks, each bumped in a pull request of its own; {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Fuzzing the checker: whatever a config file or a corpus holds, a report, or exit 2 and one line.

Hypothesis writes config files — bytes that are not UTF-8, YAML and JSON with a wrong type at
every level, huge and non-finite numbers, deep nesting, tags (`!!python/object`, custom ones),
anchors, aliases and alias bombs, lone surrogate escapes — and corrupted corpora, and runs the
checker's CLI (`tools.check.main`) on each, in-process and, for some, as a subprocess. Every run
must end in 0 or 1 with a report, or in 2 with one line on stderr that names the file; never a
traceback. The inputs are derandomized: every run tries the same ones, and says how many.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import tools.check
from miners.schema import canonical_yaml
from tools.check import CORPUS_FILE, load_library_corpus, main
from tools.check_output import FORMATS
from tools.fuzz_support import (
    PASSED,
    TRIED,
    assert_clean_end,
    files_under,
    fuzz_settings,
    places,
    report_tally,
    run_main,
)

CORPORA = {"transformers": load_library_corpus("transformers"), "vllm": load_library_corpus("vllm")}
SPECS = {library: f"{library}=={corpus.library_version}" for library, corpus in CORPORA.items()}
# Per library, the section names a config may use (short and dotted), with each class's declared fields.
FIELDS = {
    library: {
        short: sorted(facts.fields) or ["x"]
        for native, facts in corpus.classes.items()
        for short in (native, native.rsplit(".", 1)[-1])
    }
    for library, corpus in CORPORA.items()
}
ALL_FIELDS = sorted({field for sections in FIELDS.values() for fields in sections.values() for field in fields})
FUZZ_TESTS = ["config files", "config files (subprocess)", "corpus files"]


@pytest.fixture(scope="module", autouse=True)
def tally(request):
    yield
    report_tally(request, FUZZ_TESTS)


@pytest.fixture
def cached_corpora(monkeypatch):
    """The real corpora, parsed once: each example runs main() whole, but not 1 MB of YAML again."""
    monkeypatch.setattr(tools.check, "load_corpus", functools.cache(tools.check.load_corpus))


# --- config files ---------------------------------------------------------------------------

# YAML scalars a hand-written config could hold, of every type the safe loader makes.
PLAIN_SCALARS = [
    "null",
    "~",
    "true",
    "False",
    "yes",
    "off",
    "0",
    "-1",
    "+12",
    "1_000",
    "0x7f",
    "0o17",
    "017",
    "0b101",
    "190:20:30",
    "1e3",
    "-.5",
    ".nan",
    ".NaN",
    ".inf",
    "-.Inf",
    "1e999",
    "-1e999",
    "2001-12-14t21:59:43.10-05:00",
    "2002-12-14",
    "'single'",
    '"double\\n"',
    '""',
    '"\\U0001F600"',
    '"\\x00"',
    '"\\u2028"',
    "caf\u00e9",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [{a: 1}, {b: 2}]",
    "!!pairs [{a: 1}]",
    "!!str 1",
    "!!float 1",
    "_x",
]
# And the ones a hostile or broken file holds: tags the safe loader refuses or that the text does
# not fit, lone surrogates, undefined aliases, stray indicators.
HOSTILE_SCALARS = [
    "2021-02-30",
    '"\\ud800"',
    '"\\udfff x"',
    "!!binary '!!!'",
    "!!python/object:os.system {}",
    "!!python/object/apply:os.system [echo]",
    "!!python/name:os.system ''",
    "!!python/tuple [1, 2]",
    "!custom 1",
    "!<tag:example.com,2000:x> 1",
    "!!float abc",
    "!!int abc",
    "!!timestamp nope",
    "!!null x",
    "!!bool maybe",
    '!!int ""',
    "!!map []",
    "!!seq {}",
    "=",
    "<<",
    "*undefined",
    "*a",
    "*b",
    "? x",
    "- x",
    "%",
    "@",
    "`",
    "{",
    "]",
    "'unterminated",
    "&",
    "*",
]
YAML_SCALARS = PLAIN_SCALARS + HOSTILE_SCALARS
ANCHORS = ["a", "b", "c"]


def quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar: what YAML may not hold raw, escaped (\\uXXXX, \\UXXXXXXXX)."""

    def escape(char: str) -> str:
        code = ord(char)
        if char in '"\\':
            return "\\" + char
        if 0x20 <= code <= 0x7E or code == 0x85 or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code > 0xFFFF:
            return char
        return f"\\u{code:04x}"

    return '"' + "".join(escape(char) for char in text) + '"'


plain_scalar = st.one_of(
    st.sampled_from(PLAIN_SCALARS),
    st.sampled_from(PLAIN_SCALARS),
    st.integers().map(str),
    # Up to 4000 digits: numbers no setting takes, that Python still reads.
    st.tuples(st.sampled_from(["", "-", "+"]), st.integers(1, 9), st.integers(0, 3999)).map(
        lambda parts: f"{parts[0]}{parts[1]}{'0' * parts[2]}"
    ),
    st.integers(min_value=0).map(hex),
    st.floats().map(repr),
    st.text(max_size=20).map(quoted),
    st.text(st.characters(categories=["Cc", "Zl", "Zp", "Co", "Cf"]), max_size=5).map(quoted),
)
hostile_scalar = st.one_of(
    st.sampled_from(HOSTILE_SCALARS),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2).map(quoted),
    # Past what Python reads as decimal, and past it in hex and base 60, which it reads anyway.
    st.sampled_from(["1" + "0" * 5000, "0x" + "f" * 5000, "1" + ":30" * 3000]),
)


def flow_mapping(entries: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in entries) + "}"


def anchored(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Now and then an anchor, of a name the aliases use (unique_anchors numbers its repeats)."""
    anchor = st.one_of(*[st.just(None)] * 5, st.sampled_from(ANCHORS))
    return st.tuples(anchor, children).map(lambda pair: f"&{pair[0]} {pair[1]}" if pair[0] else pair[1])


def yaml_values(hostile: bool) -> tuple[st.SearchStrategy[str], st.SearchStrategy[str]]:
    """(values, keys): plain YAML of any type at any level, or with the hostile scalars too."""
    scalar = st.one_of(plain_scalar, hostile_scalar) if hostile else plain_scalar
    odd_keys = ["<<", "? [a]", "[1, 2]", "{a: 1}", "!!set {a}", "!!binary aGk=", "_private"]
    plain_keys = ["_private", "1", "-2.5", "null", "true", "2002-12-14", ".nan", "caf\u00e9", '"a b"']
    # Short: YAML's implicit keys end at 1024 characters.
    short = st.text(max_size=10).map(quoted) | st.integers(-(10**6), 10**6).map(str)
    key = st.one_of(st.sampled_from(ALL_FIELDS), short, st.sampled_from(odd_keys if hostile else plain_keys))
    if hostile:
        key |= hostile_scalar.filter(lambda text: len(text) < 1000)
    value = st.recursive(
        scalar,
        lambda children: anchored(
            st.lists(children, max_size=5).map(lambda items: "[" + ", ".join(items) + "]")
            | st.lists(st.tuples(key, children), max_size=5).map(flow_mapping)
        ),
        max_leaves=20,
    )
    return value, key


YAML_VALUES = {hostile: yaml_values(hostile) for hostile in (False, True)}


def unique_anchors(text: str) -> str:
    """Each anchor named once (PyYAML refuses a name given twice): `&a`, then `&a2`, `&a3`, ..."""
    seen: dict[str, int] = {}

    def rename(match: re.Match[str]) -> str:
        name = match.group(1)
        seen[name] = seen.get(name, 0) + 1
        return f"&{name}" if seen[name] == 1 else f"&{name}{seen[name]}"

    return re.sub(r"&([a-z]+)\b", rename, text)


def yaml_document(library: str, hostile: bool) -> st.SearchStrategy[str]:
    """Mostly sections of the library's classes with their own fields, any value each; else anything at all."""
    sections = FIELDS[library]
    yaml_value, yaml_key = YAML_VALUES[hostile]
    section = st.sampled_from(sorted(sections)).flatmap(
        lambda name: st.tuples(
            st.just(name),
            st.lists(
                st.tuples(st.sampled_from(sections[name]), yaml_value), max_size=6, unique_by=lambda pair: pair[0]
            ).map(flow_mapping),
        )
    )
    odd_section = st.tuples(st.sampled_from(sorted(sections)) | yaml_key, yaml_value)
    sections_once = st.lists(section, min_size=1, max_size=3, unique_by=lambda pair: pair[0])
    return st.one_of(
        sections_once.map(flow_mapping),
        sections_once.map(flow_mapping),
        st.lists(section | odd_section, max_size=4).map(flow_mapping),
        yaml_value,
    ).map(unique_anchors)


@st.composite
def alias_bomb(draw):
    """A "billion laughs": each anchor a list of the previous one, `width` times, `depth` deep."""
    width, depth = draw(st.integers(1, 12)), draw(st.integers(1, 10))
    sections = FIELDS[draw(st.sampled_from(sorted(FIELDS)))]
    section = draw(st.sampled_from(sorted(sections)))
    field = draw(st.sampled_from(sections[section]))
    lines = [f"{section}:", f"  l0: &l0 [{', '.join([draw(st.sampled_from(['x', '1', '{a: 1}']))] * width)}]"]
    lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
    lines.append(f"  {field}: *l{depth - 1}")
    if draw(st.booleans()):
        lines += [f"  m{i}: {{<<: *l0}}" for i in range(width)]  # a merge of a list: refused
    return "\n".join(lines) + "\n"


@st.composite
def deep_nesting(draw):
    depth = draw(st.sampled_from([50, 99, 100, 101, 150, 999, 1000, 5000, 50_000]))
    kind = draw(st.sampled_from(["flow_list", "flow_map", "block", "json_object", "unbalanced"]))
    if kind == "flow_list":
        return "[" * depth + "]" * depth
    if kind == "flow_map":
        return "{a: " * depth + "1" + "}" * depth
    if kind == "block":
        depth = min(depth, 2000)
        return "".join("  " * level + f"k{level}:\n" for level in range(depth)) + "  " * depth + "v\n"
    if kind == "json_object":
        return '{"GenerationConfig": ' * depth + "1" + "}" * depth
    return "[" * depth


# JSON: data with a wrong type anywhere, written by json.dumps (NaN and Infinity included).
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**4299), max_value=10**4299),
    st.floats(),
    st.text(max_size=20),
    st.text(st.characters(categories=["Cs", "Cc"]), max_size=4),
)
json_value = st.recursive(
    json_scalar,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)


def json_document(library: str) -> st.SearchStrategy[str]:
    sections = FIELDS[library]
    section = st.sampled_from(sorted(sections)).flatmap(
        lambda name: st.tuples(st.just(name), st.dictionaries(st.sampled_from(sections[name]), json_value, max_size=6))
    )
    return st.one_of(
        st.lists(section, min_size=1, max_size=3).map(dict),
        st.lists(section, min_size=1, max_size=3).map(dict),
        st.dictionaries(st.sampled_from(sorted(sections)) | st.text(max_size=10), json_value, max_size=4),
        json_value,
    ).map(json.dumps)


JSON_SNIPPETS = ["NaN", "-Infinity", "1e999", "-0", "1" + "0" * 5000, '"\\ud800"', "[1,]", "{,}", "// c", "'x'"]


@st.composite
def corrupted(draw, text: str) -> bytes:
    """`text` as bytes, perhaps mangled: cut short, other bytes in, another encoding, a BOM."""
    kind = draw(st.sampled_from(["none"] * 6 + ["insert", "truncate", "encoding", "bom", "snippet", "crlf"]))
    if kind == "none":
        return text.encode("utf-8", "surrogatepass")
    if kind == "encoding":
        return text.encode(draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252"])), "replace")
    if kind == "bom":
        return draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb"])) + text.encode()
    if kind == "crlf":
        return text.replace("\n", "\r\n").encode() + draw(st.sampled_from([b"", b"\r", b"\x0c", b"\t"]))
    raw = text.encode("utf-8", "surrogatepass")
    at = draw(st.integers(0, len(raw)))
    if kind == "truncate":
        return raw[:at]
    if kind == "snippet":
        piece = draw(st.sampled_from(JSON_SNIPPETS + YAML_SCALARS)).encode("utf-8", "surrogatepass")
        return raw[:at] + piece + raw[at:]
    return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]


@st.composite
def config_file(draw, library: str = "transformers"):
    """(file name, its bytes) of a config for `library`, or of what poses as one."""
    kind = draw(st.sampled_from(["yaml"] * 3 + ["hostile yaml"] * 2 + ["json"] * 2 + ["bomb", "deep", "bytes"]))
    if kind == "json":
        text = draw(json_document(library))
    elif kind == "bomb":
        text = draw(alias_bomb())
    elif kind == "deep":
        text = draw(deep_nesting())
    elif kind == "bytes":
        return draw(st.sampled_from(["job.yaml", "job.json"])), draw(st.binary(max_size=200))
    else:
        text = draw(yaml_document(library, hostile=kind == "hostile yaml"))
        text = draw(st.sampled_from(["", "", "", "%YAML 1.1\n---\n", "--- !!map\n", "---\n"])) + text
        text += draw(st.sampled_from(["\n", "\n", "", "\n...\n", "\n---\nb: 2\n", "\n# comment"]))
    names = ["job.json", "job.JSON"] if kind == "json" else ["job.yaml"] * 8 + ["job.yml", "job.json"]
    name = draw(st.sampled_from(names))
    return name, draw(corrupted(text))


def check_one(tmp_path: Path, name: str, content: bytes, *, library: str, output: str, strict: bool) -> None:
    directory = tmp_path / f"case{TRIED['config files']}"
    directory.mkdir()
    (directory / name).write_bytes(content)
    before = files_under(directory)
    argv = ["--library", SPECS[library], "--format", output, *(["--strict"] if strict else []), name]
    os.environ["BUILD_WORKING_DIRECTORY"] = str(directory)
    try:
        run = run_main(main, argv)
    finally:
        del os.environ["BUILD_WORKING_DIRECTORY"]
    assert_clean_end(run)
    assert files_under(directory) == before  # the checker writes nothing
    if run.status == 2:
        assert name in run.stderr, run.stderr  # names the file (or it is a corpus's problem: not here)
    else:
        assert run.stderr == ""  # the version is pinned: no notice
        if output in ("json", "sarif"):
            json.loads(run.stdout)
        elif output == "text":
            assert run.stdout.startswith(f"corpus: {SPECS[library]} ")


def test_config_files(tmp_path_factory, cached_corpora):
    tmp_path = tmp_path_factory.mktemp("configs")

    @fuzz_settings(max_examples=400)
    @given(st.data(), st.sampled_from(sorted(CORPORA)), st.sampled_from(FORMATS), st.booleans())
    def fuzz(data, library, output, strict):
        TRIED["config files"] += 1
        check_one(tmp_path, *data.draw(config_file(library)), library=library, output=output, strict=strict)

    fuzz()
    assert TRIED["config files"] >= 400
    PASSED.add("config files")


# The real script, as a user runs it: what reaches the terminal when the input is bad.
NASTY = {
    "latin1.yaml": "GenerationConfig:\n  stop_strings: [caf\xe9]\n".encode("latin-1"),
    "utf16.json": '{"GenerationConfig": {}}'.encode("utf-16"),
    "surrogate.yaml": b'GenerationConfig:\n  temperature: "\\ud800"\n  do_sample: false\n',
    "surrogate.json": b'{"GenerationConfig": {"temperature": 0.5, "do_sample": false, "\\udc80": 1}}',
    "tag.yaml": b"GenerationConfig: !!python/object/apply:os.system [echo pwned]\n",
    "custom_tag.yaml": b"GenerationConfig: {top_k: !vault secret}\n",
    "laughs.yaml": (
        "\n".join(
            ["GenerationConfig:", "  l0: &l0 [x, x, x, x, x, x, x, x, x]"]
            + [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
            + ["  stop_strings: *l9"]
        )
        + "\n"
    ).encode(),
    "deep.json": b"[" * 100_000,
    "deep.yaml": b"{a: " * 100_000,
    "huge_hex.yaml": b"GenerationConfig: {top_k: 0x" + b"f" * 6000 + b"}\n",
    "huge.json": b'{"GenerationConfig": {"top_k": 1' + b"0" * 6000 + b"}}",
    "nan.json": b'{"GenerationConfig": {"temperature": NaN, "top_p": Infinity, "top_k": -Infinity}}',
    "types.yaml": b"GenerationConfig: [1, 2]\n",
    "nul.yaml": b"GenerationConfig: {a: \x00}\n",
    "dup.json": b'{"GenerationConfig": {"top_k": 1, "top_k": 2}}',
    "two_docs.yaml": b"a: 1\n---\nb: 2\n",
    "not\xffutf8.yaml": b"GenerationConfig:\n  do_sample: false\n  temperature: 0.5\n",
    "new\nline.yaml": b"GenerationConfig: {top_k: [\n",
}


def run_script(directory: Path, name: bytes | str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry),
        # A UTF-8 locale's strict stdout, where a character it cannot encode is a traceback.
        "PYTHONIOENCODING": "utf-8",
    }
    env.pop("BUILD_WORKING_DIRECTORY", None)
    return subprocess.run(
        [sys.executable, str(Path(tools.check.__file__)), "--library", SPECS["transformers"], *args, name],
        cwd=directory,
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )


def assert_script_ends_cleanly(run: subprocess.CompletedProcess[bytes], name: str | bytes) -> None:
    stderr = run.stderr.decode("utf-8", "backslashreplace")
    assert b"Traceback" not in run.stderr + run.stdout, stderr
    assert run.returncode in (0, 1, 2), stderr
    if run.returncode == 2:
        assert run.stdout == b"", run.stdout
        assert run.stderr.endswith(b"\n") and run.stderr.count(b"\n") == 1, stderr
        assert stderr.startswith("error: "), stderr
    else:
        assert run.stderr == b"", stderr


@pytest.mark.parametrize("name", sorted(NASTY, key=repr), ids=repr)
def test_the_script_refuses_bad_files_on_one_line(tmp_path, name):
    raw_name = name.encode("latin-1") if "\xff" in name else name.encode()
    with open(os.path.join(os.fsencode(tmp_path), raw_name), "wb") as stream:
        stream.write(NASTY[name])
    for output in ("text", "sarif"):
        run = run_script(tmp_path, raw_name, "--format", output)
        assert_script_ends_cleanly(run, raw_name)
    # NaN and Infinity are what Python's json (and so the libraries) reads; the rest is refused.
    expected = {"not\xffutf8.yaml": 0, "nan.json": 0}.get(name, 2)
    assert run.returncode == expected, run.stderr


def test_config_files_subprocess(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("scripts")

    @fuzz_settings(max_examples=12)
    @given(config_file())
    def fuzz(file):
        TRIED["config files (subprocess)"] += 1
        name, content = file
        directory = tmp_path / f"case{TRIED['config files (subprocess)']}"
        directory.mkdir()
        (directory / name).write_bytes(content)
        assert_script_ends_cleanly(run_script(directory, name), name)

    fuzz()
    assert TRIED["config files (subprocess)"] >= 12
    PASSED.add("config files (subprocess)")


# --- corpus files ---------------------------------------------------------------------------

# A small corpus of the real one's GenerationConfig and WatermarkingConfig: quick to load, every rule
# kind it has.
_REAL = CORPORA["transformers"]
_KEPT = {"transformers.GenerationConfig", "transformers.WatermarkingConfig"}
BASE_CORPUS = _REAL.to_data() | {
    "rules": [rule.to_data() for rule in _REAL.rules if rule.native_type in _KEPT][:24],
    "classes": {name: facts.to_data() for name, facts in _REAL.classes.items() if name in _KEPT},
}
BASE_CORPUS.pop("dropped", None)
BASE_CORPUS.pop("quarantined", None)
CORPUS_DISPLAY = f"corpus/transformers/{_REAL.library_version}/{CORPUS_FILE}"
CHECKED_CONFIG = {
    "GenerationConfig": {
        "do_sample": False,
        "temperature": 0.5,
        "max_new_tokens": 0,
        "num_beams": 1,
        "num_return_sequences": 2,
        "watermarking_config": {"greenlist_ratio": 1.5, "seeding_scheme": "x"},
    }
}

wrong_value = st.one_of(
    json_scalar,
    st.sampled_from([[], {}, [None], {"": None}, {1: 2}, {None: "x"}, {True: 1, "a": 2}, float("nan")]),
    json_value,
)


@st.composite
def mutated_corpus(draw):
    """The base corpus with a few parts changed: a value replaced, a key removed, added or made a number, an item
    repeated; mostly inside the rules, where the most is checked."""
    data = copy.deepcopy(BASE_CORPUS)
    if draw(st.integers(0, 19)) == 0:
        return draw(wrong_value)  # not a mapping at all
    for _ in range(draw(st.integers(1, 3))):
        area = draw(st.sampled_from(["free"] * 6 + ["rules"] * 6 + ["classes"] * 2 + ["top"]))
        if area == "free":
            # Where the schema takes any value: a rule's arguments, a class's defaults, an atom's operand.
            free = [
                (container, key)
                for container, key in places(data)
                if isinstance(container, dict)
                and ((key == "value" and "op" in container) or "do_sample" in container or "bias" in container)
            ]
            for rule in data.get("rules") if isinstance(data.get("rules"), list) else []:
                for part in ("kwargs_positive", "kwargs_negative"):
                    arguments = rule.get(part) if isinstance(rule, dict) else None
                    free += [(arguments, name) for name in arguments] if isinstance(arguments, dict) else []
            if not free:
                continue
            parent, key = draw(st.sampled_from(free))
            parent[key] = draw(wrong_value)
            continue
        if area == "top":
            parent, key = data, draw(st.sampled_from(sorted(data, key=repr)))
        else:
            found = places(data.get(area)) if isinstance(data.get(area), dict | list) else []
            if not found:
                continue
            parent, key = draw(st.sampled_from(found))
        action = draw(st.sampled_from(["replace"] * 3 + ["delete", "add", "number_key", "repeat"]))
        if action == "replace":
            parent[key] = draw(wrong_value)
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            name = draw(st.sampled_from(["extra", "of", "where", "value", "all", "any", "op", "field", 7, None]))
            parent[name] = draw(wrong_value)
        elif action == "number_key" and isinstance(parent, dict):
            parent[draw(st.sampled_from([0, 1.5, True, None]))] = parent.pop(key)
        elif action == "repeat" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = draw(wrong_value)
    return data


@st.composite
def corpus_text(draw):
    kind = draw(st.sampled_from(["data"] * 6 + ["text", "alias", "deep", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "data":
        try:
            text = yaml.safe_dump(draw(mutated_corpus()), sort_keys=False, allow_unicode=True)
        except yaml.representer.RepresenterError:
            text = "{}"
        return text.encode("utf-8", "surrogatepass")
    text = canonical_yaml.dumps(BASE_CORPUS)
    if kind == "alias":
        # Anchor the classes' facts and repeat them where a rule's arguments are: a billion laughs, or a few.
        depth = draw(st.integers(1, 9))
        bomb = ["bomb:", "  l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1]"]
        bomb += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 8)}]" for i in range(1, depth)]
        text = "\n".join(bomb) + "\n" + text.replace("kwargs_negative: {}", f"kwargs_negative: {{a: *l{depth - 1}}}")
        return text.encode()
    if kind == "deep":
        depth = draw(st.sampled_from([100, 1000, 100_000]))
        return text.replace("kwargs_negative: {}", "kwargs_negative: {a: " + "[" * depth + "]" * depth + "}").encode()
    return draw(corrupted(text))


def test_corpus_files(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("corpora")
    config = tmp_path / "job.json"
    config.write_text(json.dumps(CHECKED_CONFIG), encoding="utf-8")

    @fuzz_settings(max_examples=200)
    @given(corpus_text(), st.sampled_from(["file"] * 10 + ["directory", "dangling link"]))
    def fuzz(content, kind):
        TRIED["corpus files"] += 1
        root = tmp_path / f"case{TRIED['corpus files']}"
        path = root / "transformers" / _REAL.library_version / CORPUS_FILE
        path.parent.mkdir(parents=True)
        if kind == "file":
            path.write_bytes(content)
        elif kind == "directory":
            path.mkdir()
        else:
            path.symlink_to(root / "nowhere")
        run = run_main(main, ["--library", SPECS["transformers"], str(config)], corpora=root)
        assert_clean_end(run)
        if run.status == 2:
            assert CORPUS_DISPLAY in run.stderr or str(config) in run.stderr or "no corpus" in run.stderr, run.stderr

    fuzz()
    assert TRIED["corpus files"] >= 200
    PASSED.add("corpus files")


def _with_rule_change(change):
    data = copy.deepcopy(BASE_CORPUS)
    change(data["rules"][0])
    return yaml.safe_dump(data, sort_keys=False).encode()


# Corpora each of which once ended in a traceback, and the one line each ends in now.
BAD_CORPORA = {
    "keys of two types": (
        _with_rule_change(lambda rule: rule.update({1: "x", "extra": "y"})),
        "a rule has unknown keys 1, extra",
    ),
    "atom keys of two types": (
        _with_rule_change(lambda rule: rule.update(predicate={"field": "x", 2: "y"})),
        "bad predicate: an atom needs 'field' and 'op', got keys [2, 'field']",
    ),
    "alias bomb": (
        (
            "\n".join(
                ["l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
                + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
            )
            + "\n"
        ).encode(),
        "its aliases expand to more than 10000 repeated values",
    ),
    "deep": (b"[" * 150 + b"]" * 150, "nested more than 100 levels deep"),
    "deeper": (b"[" * 100_000, "nested too deeply to read"),
    "a tag its text does not fit": (b"schema_version: !!bool maybe\n", "a value is not one of its tag's"),
    "a date out of range": (b"schema_version: 2021-02-30\n", "not valid YAML: day is out of range for month"),
}


@pytest.mark.parametrize("case", sorted(BAD_CORPORA))
def test_bad_corpora_are_one_line_errors(tmp_path, case):
    content, problem = BAD_CORPORA[case]
    path = tmp_path / "transformers" / _REAL.library_version / CORPUS_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    config = tmp_path / "job.json"
    config.write_text(json.dumps(CHECKED_CONFIG), encoding="utf-8")
    run = run_main(main, ["--library", SPECS["transformers"], str(config)], corpora=tmp_path)
    assert_clean_end(run, statuses=(2,))
    assert run.stderr.startswith(f"error: {CORPUS_DISPLAY}: ") and problem in run.stderr, run.stderr


def test_a_corpus_that_is_a_directory_is_a_one_line_error(tmp_path):
    (tmp_path / "transformers" / _REAL.library_version / CORPUS_FILE).mkdir(parents=True)
    config = tmp_path / "job.json"
    config.write_text("{}", encoding="utf-8")
    run = run_main(main, ["--library", SPECS["transformers"], str(config)], corpora=tmp_path)
    assert_clean_end(run, statuses=(2,))
    assert run.stderr == f"error: {CORPUS_DISPLAY}: cannot read it (Is a directory)\n"

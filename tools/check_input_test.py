"""Config files as the checker reads them: the data, where each key is, and one-line refusals."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest
import yaml

from tools.check import available_versions
from tools.check_input import (
    MAX_ALIAS_REPEATS,
    MAX_DEPTH,
    ConfigError,
    json_key_locations,
    read_document,
)


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def position_of(text, needle, occurrence=0):
    """The 1-based (line, column) of the `occurrence`-th `needle` in `text`, counted independently of the reader."""
    offset = -1
    for _ in range(occurrence + 1):
        offset = text.index(needle, offset + 1)
    before = text[:offset]
    line_start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return (len(re.findall(r"\r\n|\r|\n", before)) + 1, offset - line_start + 1)


YAML_CONFIG = """\
# a job's generation settings
GenerationConfig:
  do_sample: true
  watermarking_config:
    greenlist_ratio: 0.25
    "seeding scheme": selfhash
  stop_strings:
    - "</s>"
    - {end: "\\n\\n", café: 1}
transformers.BitsAndBytesConfig: {load_in_4bit: true, bnb_4bit_quant_type: nf4}
"""


def test_yaml_data_is_safe_loads(tmp_path):
    document = read_document(write(tmp_path, "job.yaml", YAML_CONFIG))
    assert document.data == yaml.safe_load(YAML_CONFIG)


@pytest.mark.parametrize(
    ("key_path", "needle", "occurrence"),
    [
        (("GenerationConfig",), "GenerationConfig", 0),
        (("GenerationConfig", "do_sample"), "do_sample", 0),
        (("GenerationConfig", "watermarking_config", "greenlist_ratio"), "greenlist_ratio", 0),
        (("GenerationConfig", "watermarking_config", "seeding scheme"), '"seeding scheme"', 0),
        (("GenerationConfig", "stop_strings", 0), '"</s>"', 0),
        (("GenerationConfig", "stop_strings", 1), "{end", 0),
        (("GenerationConfig", "stop_strings", 1, "café"), "café", 0),
        (("transformers.BitsAndBytesConfig", "bnb_4bit_quant_type"), "bnb_4bit_quant_type", 0),
    ],
)
def test_yaml_keys_are_located(tmp_path, key_path, needle, occurrence):
    document = read_document(write(tmp_path, "job.yaml", YAML_CONFIG))
    assert document.locate(key_path) == position_of(YAML_CONFIG, needle, occurrence)


JSON_CONFIG = (
    '{"GenerationConfig": {"say \\"hi\\"\\u0021": 1, "caf\\u00e9": {"t\\u00e9": 2, "\\ud83d\\ude00 x": 3},\r\n'
    '  "😀": [10, {"deep\\\\": [[], {"k": null}]}], "max_new_tokens": 0},\n'
    '\t"vllm.SamplingParams" : {"n": 2, "top_k": -1}}'
)


def test_json_data_is_json_loads(tmp_path):
    document = read_document(write(tmp_path, "job.json", JSON_CONFIG))
    assert document.data == json.loads(JSON_CONFIG)


@pytest.mark.parametrize(
    ("key_path", "needle"),
    [
        (("GenerationConfig",), '"GenerationConfig"'),
        (("GenerationConfig", 'say "hi"!'), '"say'),
        (("GenerationConfig", "café"), '"caf\\u00e9"'),
        (("GenerationConfig", "café", "té"), '"t\\u00e9"'),
        (("GenerationConfig", "café", "😀 x"), '"\\ud83d'),
        (("GenerationConfig", "😀"), '"😀"'),
        (("GenerationConfig", "😀", 0), "10"),
        (("GenerationConfig", "😀", 1), '{"deep'),
        (("GenerationConfig", "😀", 1, "deep\\"), '"deep'),
        (("GenerationConfig", "😀", 1, "deep\\", 1, "k"), '"k"'),
        (("GenerationConfig", "max_new_tokens"), '"max_new_tokens"'),
        (("vllm.SamplingParams",), '"vllm.SamplingParams"'),
        (("vllm.SamplingParams", "top_k"), '"top_k"'),
    ],
)
def test_json_keys_are_located_after_escapes_unicode_and_crlf(tmp_path, key_path, needle):
    document = read_document(write(tmp_path, "job.json", JSON_CONFIG))
    assert document.locate(key_path) == position_of(JSON_CONFIG, needle)


def test_every_json_key_is_located():
    """No key the parser sees goes unlocated: the scanner walks the same structure as json.loads."""

    def key_paths(value, path=()):
        if isinstance(value, dict):
            for key, child in value.items():
                yield (*path, key)
                yield from key_paths(child, (*path, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                yield (*path, index)
                yield from key_paths(child, (*path, index))

    assert set(json_key_locations(JSON_CONFIG)) == set(key_paths(json.loads(JSON_CONFIG)))


def test_locate_falls_back_to_the_deepest_ancestor_then_the_start(tmp_path):
    document = read_document(write(tmp_path, "job.yaml", YAML_CONFIG))
    watermarking = position_of(YAML_CONFIG, "watermarking_config")
    assert document.locate(("GenerationConfig", "watermarking_config", "context_width")) == watermarking
    assert document.locate(("GenerationConfig", "top_k", "deeper")) == position_of(YAML_CONFIG, "GenerationConfig")
    assert document.locate(("SamplingParams", "n")) == (1, 1)
    assert document.locate(()) == (1, 1)


def test_keys_that_are_not_strings_are_located_by_their_text(tmp_path):
    text = "GenerationConfig:\n  sequence_bias:\n    7: 1.0\n"
    document = read_document(write(tmp_path, "job.yaml", text))
    assert document.locate(("GenerationConfig", "sequence_bias", "7")) == position_of(text, "7:")


def test_a_byte_order_mark_is_not_a_column(tmp_path):
    text = '{"GenerationConfig": {"top_k": 1}}'
    document = read_document(write(tmp_path, "job.json", b"\xef\xbb\xbf" + text.encode()))
    assert document.data == json.loads(text)
    assert document.locate(("GenerationConfig", "top_k")) == position_of(text, '"top_k"')


def test_yaml_merge_keys_locate_where_the_value_is_written(tmp_path):
    text = """\
defaults: &defaults
  temperature: 0.5
  top_k: 10
GenerationConfig:
  <<: *defaults
  top_k: 5
"""
    document = read_document(write(tmp_path, "job.yaml", text))
    assert document.data["GenerationConfig"] == {"temperature": 0.5, "top_k": 5}
    # The merged value is written under the anchor; the explicit key overrides the merged one.
    assert document.locate(("GenerationConfig", "temperature")) == position_of(text, "temperature")
    assert document.locate(("GenerationConfig", "top_k")) == position_of(text, "top_k", 1)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("job.yaml", "GenerationConfig:\n  top_k: 1\n  temperature: 0.5\n  top_k: 2\n"),
        ("job.json", '{"GenerationConfig": {"top_k": 1,\n "temperature": 0.5,\n "top_k": 2}}'),
        ("job.json", '{"GenerationConfig": {"top_k": 1,\n "temperature": 0.5,\n "top\\u005fk": 2}}'),
    ],
)
def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path, name, content):
    with pytest.raises(ConfigError) as raised:
        read_document(write(tmp_path, name, content))
    language = "JSON" if name.endswith(".json") else "YAML"
    key = '"top' if language == "JSON" else "top"
    first, second = position_of(content, key, 0), position_of(content, key, 1)
    assert str(raised.value) == (
        f"{tmp_path / name}: key 'top_k' is given twice in GenerationConfig, at line {first[0]}, column {first[1]} "
        f"and line {second[0]}, column {second[1]}; {language} parsers silently keep the last one: keep one of them"
    )


def test_the_same_key_at_different_places_is_no_duplicate(tmp_path):
    text = "A:\n  top_k: 1\nB:\n  top_k: 2\n"
    assert read_document(write(tmp_path, "job.yaml", text)).data == {"A": {"top_k": 1}, "B": {"top_k": 2}}


def test_not_utf8_names_the_byte_offset(tmp_path):
    raw = b"GenerationConfig:\n  stop_strings: ['caf\xe9']\n"
    offset = raw.index(b"\xe9")
    with pytest.raises(ConfigError) as raised:
        read_document(write(tmp_path, "job.yaml", raw), display="jobs/job.yaml")
    assert (
        str(raised.value) == f"jobs/job.yaml: not UTF-8: byte 0xe9 at byte offset {offset} (line 2); save it as UTF-8"
    )


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("job.yaml", "GenerationConfig: {top_k: [\n", r"job\.yaml: not valid YAML: .* at line \d+, column \d+$"),
        ("job.json", '{"GenerationConfig": }', r"job\.json: not valid JSON: Expecting value at line 1, column 22$"),
        ("job.json", '{"a": 1}\n{"b": 2}', r"not valid JSON: Extra data at line 2, column 1$"),
        (
            "job.yaml",
            "a: 1\n---\nb: 2\n",
            r"not valid YAML: expected a single document in the stream, but found another document at line 2, column 1$",
        ),
        ("job.yaml", "a: !!python/object/apply:os.system [true]\n", r"the tag .*remove the tag$"),
        ("job.yaml", "a: !custom 1\n", r"could not determine a constructor for the tag '!custom'"),
        ("job.yaml", "a: 2021-02-30\n", r"not valid YAML: day is out of range for month"),
        ("job.yaml", "a: \x00\n", r"not valid YAML: special characters are not allowed: character #x0000"),
        ("job.json", '{"a": 1' + "1" * 5000 + "}", r"not valid JSON: Exceeds the limit"),
        # Explicit tags the text does not fit: PyYAML's constructors fail with AttributeError, KeyError, IndexError.
        ("job.yaml", "a: !!timestamp nope\n", r"'nope' is not a value of its tag !!timestamp at line 1, column 4"),
        ("job.yaml", "a: {b: !!bool maybe}\n", r"'maybe' is not a value of its tag !!bool at line 1, column 8"),
        ("job.yaml", 'a: !!int ""\n', r"'' is not a value of its tag !!int at line 1, column 4"),
        # Ints YAML reads past what Python writes out: hex and base 60 have no digit limit.
        ("job.yaml", "a: 0x" + "f" * 5000 + "\n", r"line 1, column 4: an integer of more than 4000 digits"),
        ("job.yaml", "a: 1" + ":30" * 3000 + "\n", r"line 1, column 4: an integer of more than 4000 digits"),
        ("job.yaml", "a: 1" + "0" * 5000 + "\n", r"Exceeds the limit .* no setting takes a number that large"),
        # Escapes of lone surrogates: no report (UTF-8) could write the text out.
        ("job.yaml", 'a: "\\ud800"\n', r"line 1, column 4: a value holds the escape \\ud800, .* \\UXXXXXXXX escape$"),
        ("job.yaml", '"\\udc80": 1\n', r"line 1, column 1: a key holds the escape \\udc80"),
        ("job.json", '{"a": ["\\udbff"]}', r"line 1, column 8: a value holds the escape \\udbff, .* surrogate pair$"),
        (
            "job.toml",
            "a = 1\n",
            r"job\.toml: not a config file name; the checker reads \.yaml, \.yml and \.json files$",
        ),
    ],
)
def test_malformed_files_are_one_line_errors(tmp_path, name, content, problem):
    with pytest.raises(ConfigError) as raised:
        read_document(write(tmp_path, name, content))
    assert re.search(problem, str(raised.value)), str(raised.value)
    assert "\n" not in str(raised.value)


def test_unreadable_files_are_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read it \(No such file or directory\)$"):
        read_document(tmp_path / "missing.yaml")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(ConfigError, match=r"dir\.json: cannot read it \(Is a directory\)$"):
        read_document(tmp_path / "dir.json")


def test_an_alias_that_contains_itself_is_refused(tmp_path):
    for text in ("a: &loop [1, *loop]\n", "a: &loop {x: 1, <<: *loop}\n"):
        with pytest.raises(ConfigError, match=r"line 1: .* contains it; a config cannot contain itself$"):
            read_document(write(tmp_path, "job.yaml", text))


def test_aliases_that_expand_without_bound_are_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    started = time.monotonic()
    with pytest.raises(ConfigError, match=f"aliases expand to more than {MAX_ALIAS_REPEATS} repeated values"):
        read_document(write(tmp_path, "laughs.yaml", "\n".join(lines) + "\n"))
    assert time.monotonic() - started < 30


def test_aliases_of_a_wide_value_are_refused_quickly(tmp_path):
    """Each value inside an aliased block counts: 2000 aliases of 20000 items would be 40 million."""
    text = f"a: &a [{', '.join(['1'] * 20_000)}]\nb: [{', '.join(['*a'] * 2000)}]\n"
    started = time.monotonic()
    with pytest.raises(ConfigError, match=f"aliases expand to more than {MAX_ALIAS_REPEATS} repeated values"):
        read_document(write(tmp_path, "wide.yaml", text))
    assert time.monotonic() - started < 30


def test_text_that_is_characters_is_read(tmp_path):
    document = read_document(write(tmp_path, "job.json", '{"a": "\\ud83d\\ude00", "b": "\\u00e9"}'))
    assert document.data == {"a": "\U0001f600", "b": "\u00e9"}
    assert read_document(write(tmp_path, "job.yaml", 'a: "\\U0001F600"\n')).data == {"a": "\U0001f600"}


def test_a_few_aliases_are_fine(tmp_path):
    text = "base: &base {top_k: 1}\nA: *base\nB: *base\n"
    document = read_document(write(tmp_path, "job.yaml", text))
    assert document.data["A"] == document.data["B"] == {"top_k": 1}
    assert document.locate(("B", "top_k")) == position_of(text, "top_k")


def nested(depth, kind):
    if kind == "json":
        return '{"a": ' * depth + "1" + "}" * depth
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("kind", ["json", "yaml"])
def test_nesting_is_bounded(tmp_path, kind):
    fine = read_document(write(tmp_path, f"ok.{kind}", nested(MAX_DEPTH - 1, kind)))
    assert fine.data is not None
    for depth in (MAX_DEPTH + 1, 100_000):
        with pytest.raises(ConfigError, match=r"nested (more than \d+ levels deep|too deeply)"):
            read_document(write(tmp_path, f"deep.{kind}", nested(depth, kind)))


@pytest.mark.parametrize("kind", ["json", "yaml"])
def test_a_huge_document_is_read(tmp_path, kind):
    sections = {f"Config{i}": {f"key_{j}": j for j in range(50)} for i in range(500)}
    text = json.dumps(sections, indent=1) if kind == "json" else yaml.safe_dump(sections, sort_keys=False)
    document = read_document(write(tmp_path, f"huge.{kind}", text))
    assert document.data == sections
    key = '"key_49"' if kind == "json" else "key_49"
    assert document.locate(("Config499", "key_49")) == position_of(text, key, 499)


def test_read_document_is_the_checkers_reader(tmp_path):
    """The CLI reads through read_document: its errors, named as the user gave the file."""
    bad = write(tmp_path, "latin1.yaml", "GenerationConfig:\n  stop_strings: [caf\xe9]\n".encode("latin-1"))
    run = subprocess.run(
        # Pinned: nothing on stderr about which version the checker chose.
        [
            sys.executable,
            "tools/check.py",
            "--library",
            f"transformers=={available_versions('transformers')[0]}",
            str(bad),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    offset = bad.read_bytes().index(b"\xe9")
    assert run.stderr == f"error: {bad}: not UTF-8: byte 0xe9 at byte offset {offset} (line 2); save it as UTF-8\n"

"""Config files as the checker reads them: bytes, UTF-8 text, plain data, and where each key is.

    document = read_document("jobs/generate.yaml")
    document.data                                              # what yaml.safe_load / json.loads give
    document.locate(("GenerationConfig", "temperature"))       # (line, column) of that key, 1-based

A report can then point at the offending line. YAML is composed with PyYAML's safe
loader and located from its node marks; JSON is parsed by `json` (YAML would read
JSON's escapes differently) and its keys located by a scanner of JSON's own tokens.
Anything the libraries would accept silently but a user cannot have meant is refused
with a one-line ConfigError: a key given twice, an alias that contains itself, aliases
that expand without bound, nesting past MAX_DEPTH, ints past MAX_INT_DIGITS, a value its
explicit tag does not fit (`!!bool maybe`), and text that is not characters (an escaped
lone UTF-16 surrogate, `"\\ud800"`, which no report could write out).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from miners.errors import MinerError

Location = tuple[int, int]
KeyPath = tuple[Any, ...]

SUFFIXES = {".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}
# Deeper than any config class nests its arguments; the bound keeps a hostile file from
# exhausting the stack of whatever walks the data after us.
MAX_DEPTH = 100
# Values reached again through aliases (every key, item and scalar inside an aliased block
# counts, each time it is reached): a few are a reused block, millions are a "billion laughs"
# document that would expand past memory in whatever walks the data.
MAX_ALIAS_REPEATS = 10_000
# A lone UTF-16 surrogate: what `"\ud800"` in YAML or JSON decodes to. It is not a character:
# no UTF-8 report can hold it.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Past this many digits an int is not a setting: Python refuses to write it out (4300 digits by
# default), and YAML's hex, octal and sexagesimal ints are read without that bound.
MAX_INT_DIGITS = 4000
_INT_BOUND = 10**MAX_INT_DIGITS

_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"
_INT_TAG = "tag:yaml.org,2002:int"


class ConfigError(MinerError):
    """A config file that cannot be checked: unreadable, not UTF-8, malformed, not a mapping, an unknown class."""


@dataclass(frozen=True)
class ConfigDocument:
    """A config file's data, and the (line, column) of each key, by its path of keys from the root.

    List items are located too, by their index: ("Section", "stop_strings", 0)."""

    path: str
    data: Any
    locations: Mapping[KeyPath, Location]
    _by_text: dict[tuple[str, ...], Location] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Findings name keys as text (str(key)); YAML keys may be ints or booleans.
        by_text: dict[tuple[str, ...], Location] = {}
        for key_path, location in self.locations.items():
            by_text.setdefault(tuple(str(key) for key in key_path), location)
        object.__setattr__(self, "_by_text", by_text)

    def locate(self, key_path: Sequence[Any]) -> Location:
        """Where `key_path` is: its key, else its deepest ancestor in the file, else (1, 1)."""
        for end in range(len(key_path), 0, -1):
            prefix = tuple(key_path[:end])
            try:
                if prefix in self.locations:
                    return self.locations[prefix]
            except TypeError:  # an unhashable part: only its text can match
                pass
            text = tuple(str(key) for key in prefix)
            if text in self._by_text:
                return self._by_text[text]
        return (1, 1)


def read_document(path: str | PathLike[str], display: str | None = None) -> ConfigDocument:
    """Read the config file at `path`; errors and the document name it `display` (default: `path`)."""
    name = display if display is not None else str(path)
    kind = SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise ConfigError(f"{name}: not a config file name; the checker reads .yaml, .yml and .json files")
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"{name}: cannot read it ({err.strerror})") from None
    text = decode_utf8(raw, name)
    try:
        data, locations = parse_json(text, name) if kind == "JSON" else parse_yaml(text, name)
    except RecursionError:
        raise ConfigError(f"{name}: nested too deeply to read; a config nests at most {MAX_DEPTH} levels") from None
    return ConfigDocument(name, data, locations)


def decode_utf8(raw: bytes, name: str) -> str:
    """`raw` as text, without a byte-order mark (editors do not count it as a column)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ConfigError(
            f"{name}: not UTF-8: byte 0x{raw[err.start]:02x} at byte offset {err.start} (line {line}); save it as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


# --- YAML -----------------------------------------------------------------------------------


def parse_yaml(text: str, name: str) -> tuple[Any, dict[KeyPath, Location]]:
    """safe_load's data, and the position of each key from the composed nodes' marks."""
    try:
        loader = yaml.SafeLoader(text)  # refuses non-printable characters already
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {}
            # Before construction: constructing a mapping flattens its merge keys (`<<`) in place,
            # after which explicit and merged keys can no longer be told apart.
            locations = _YamlKeys(loader, name).locate(node)
            return loader.construct_document(node), locations
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        raise ConfigError(f"{name}: not valid YAML: {_yaml_problem(err)}") from None
    except ValueError as err:  # a scalar the safe constructors refuse: a date out of range, an int too long
        raise ConfigError(f"{name}: not valid YAML: {_value_problem(err)}") from None
    except (AttributeError, IndexError, KeyError, TypeError):
        # How PyYAML's safe constructors fail on an explicit tag the text does not fit (`!!bool maybe`);
        # scalars are constructed, and so located, by _YamlKeys first: this is what it could not reach.
        raise ConfigError(
            f"{name}: not valid YAML: a value is not one of its tag's (!!bool, !!int, !!timestamp, ...); "
            "write a value of that type, or remove the tag"
        ) from None


def _mark(node: yaml.Node) -> Location:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _YamlKeys:
    """Walks a composed YAML node graph, recording each key's mark and refusing duplicates and cycles."""

    def __init__(self, loader: yaml.SafeLoader, name: str) -> None:
        self.loader = loader
        self.name = name
        self.locations: dict[KeyPath, Location] = {}
        self.seen_nodes: set[int] = set()
        self.open_nodes: set[int] = set()
        self.repeats = 0

    def locate(self, root: yaml.Node) -> dict[KeyPath, Location]:
        self.walk(root, (), 0, merged=False)
        return self.locations

    def walk(self, node: yaml.Node, path: KeyPath, depth: int, *, merged: bool, again: bool = False) -> None:
        # `again`: inside a value reached before, through an alias; each of its values counts.
        again = again or id(node) in self.seen_nodes
        if again:
            self.repeats += 1
            if self.repeats > MAX_ALIAS_REPEATS:
                raise ConfigError(
                    f"{self.name}: its aliases expand to more than {MAX_ALIAS_REPEATS} repeated values; "
                    "write the values out, or alias fewer of them"
                )
        self.seen_nodes.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            self._refuse_surrogates(node, "value")
            self._construct(node)
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return
        line = node.start_mark.line + 1
        if depth >= MAX_DEPTH:
            raise ConfigError(f"{self.name}: line {line}: nested more than {MAX_DEPTH} levels deep; flatten it")
        if id(node) in self.open_nodes:
            raise ConfigError(
                f"{self.name}: line {line}: an alias refers to a mapping or list that contains it; "
                "a config cannot contain itself"
            )
        self.open_nodes.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    self._record((*path, index), item, merged)
                    self.walk(item, (*path, index), depth + 1, merged=merged, again=again)
            else:
                self._walk_mapping(node, path, depth, merged=merged, again=again)
        finally:
            self.open_nodes.discard(id(node))

    def _refuse_surrogates(self, node: yaml.ScalarNode, what: str) -> None:
        found = _SURROGATE.search(node.value)
        if found:
            raise surrogate_error(self.name, "YAML", what, _mark(node), found.group())

    def _construct(self, node: yaml.ScalarNode) -> Any:
        """The scalar's value (construct_document reuses it), or a ConfigError saying where it is bad."""
        line, column = _mark(node)
        try:
            value = self.loader.construct_object(node)
        except (ValueError, OverflowError) as err:  # `!!float abc`, a date out of range, an int too long
            raise ConfigError(
                f"{self.name}: not valid YAML: {_value_problem(err)} at line {line}, column {column}"
            ) from None
        except (AttributeError, IndexError, KeyError, TypeError):  # `!!bool maybe`, `!!timestamp x`, `!!int ""`
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ConfigError(
                f"{self.name}: not valid YAML: {node.value!r} is not a value of its tag {tag} at line {line}, "
                f"column {column}; write a value of that type, or remove the tag"
            ) from None
        if node.tag == _INT_TAG and isinstance(value, int) and abs(value) >= _INT_BOUND:
            raise ConfigError(
                f"{self.name}: line {line}, column {column}: an integer of more than {MAX_INT_DIGITS} digits; "
                "no setting takes a number that large: write the value meant"
            )
        return value

    def _walk_mapping(
        self, node: yaml.MappingNode, path: KeyPath, depth: int, *, merged: bool, again: bool = False
    ) -> None:
        first_seen: dict[Any, Location] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if again:
                self.repeats += 1  # the key; its value counts in walk()
            key = self._key(key_node)
            if key is _UNHASHABLE:
                continue  # construction refuses it, with the library's own message
            if key in first_seen:
                raise duplicate_key_error(
                    self.name, language="YAML", path=path, key=key, first=first_seen[key], second=_mark(key_node)
                )
            first_seen[key] = _mark(key_node)
            child = (*path, key)
            if merged and child in self.locations:
                continue  # the mapping's own key, or an earlier merge's, wins
            self._record(child, key_node, merged)
            self.walk(value_node, child, depth + 1, merged=merged, again=again)
        # YAML's merge: explicit keys override merged ones, earlier merges override later ones.
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    self.walk_merged(source, path, depth, again=again)

    def walk_merged(self, source: yaml.MappingNode, path: KeyPath, depth: int, *, again: bool = False) -> None:
        if id(source) in self.open_nodes:
            raise ConfigError(
                f"{self.name}: line {source.start_mark.line + 1}: a mapping merges (<<) a mapping that contains it; "
                "a config cannot contain itself"
            )
        self.open_nodes.add(id(source))
        try:
            # A merged mapping's keys are copied into this one: reached again, if merged before.
            self._walk_mapping(source, path, depth, merged=True, again=again or id(source) in self.seen_nodes)
            self.seen_nodes.add(id(source))
        finally:
            self.open_nodes.discard(id(source))

    def _record(self, key_path: KeyPath, node: yaml.Node, merged: bool) -> None:
        if not (merged and key_path in self.locations):
            self.locations[key_path] = _mark(node)

    def _key(self, key_node: yaml.Node) -> Any:
        if not isinstance(key_node, yaml.ScalarNode):
            return _UNHASHABLE
        self._refuse_surrogates(key_node, "key")
        if key_node.tag == _VALUE_TAG:  # `=`, which the constructor reads as the string "="
            return key_node.value
        key = self._construct(key_node)
        try:
            hash(key)
        except TypeError:
            return _UNHASHABLE
        return key


_UNHASHABLE = object()


def _yaml_problem(err: yaml.YAMLError) -> str:
    """PyYAML's several-line message as one line: the problem and where it is."""
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        problem = ", ".join(part for part in (err.context, err.problem) if part) or "malformed"
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        hint = ""
        if isinstance(err, yaml.constructor.ConstructorError) and "could not determine a constructor" in problem:
            hint = "; the checker reads plain YAML values (safe_load): remove the tag"
        return _one_line(f"{problem}{where}{hint}")
    if isinstance(err, yaml.reader.ReaderError):
        character = err.character if isinstance(err.character, int) else ord(err.character)
        return f"{err.reason}: character #x{character:04x} at character {err.position + 1}"
    return _one_line(str(err))


def duplicate_key_error(
    name: str, *, language: str, path: KeyPath, key: Any, first: Location, second: Location
) -> ConfigError:
    """A key given twice in one mapping, which parsers accept, silently keeping the second value."""
    where = "at the top level" if not path else "in " + ".".join(str(part) for part in path)
    return ConfigError(
        f"{name}: key {key!r} is given twice {where}, at line {first[0]}, column {first[1]} and line {second[0]}, "
        f"column {second[1]}; {language} parsers silently keep the last one: keep one of them"
    )


def surrogate_error(name: str, language: str, what: str, where: Location, surrogate: str) -> ConfigError:
    """A string holding a lone UTF-16 surrogate (an escape such as `\\ud800`): text that is no character."""
    # YAML's \u escapes are characters each, never paired; JSON pairs a high and a low one.
    spelling = "one \\UXXXXXXXX escape" if language == "YAML" else "both halves of its surrogate pair"
    return ConfigError(
        f"{name}: line {where[0]}, column {where[1]}: a {what} holds the escape \\u{ord(surrogate):04x}, "
        f"half of a UTF-16 surrogate pair, which is not a character and cannot be written as UTF-8; "
        f"write the character itself, or {spelling}"
    )


def _value_problem(err: ValueError) -> str:
    """A constructor's ValueError as one line; Python's advice on its int limit is no use to a config's author."""
    text = _one_line(str(err))
    if "integer string conversion" in text:
        text = text.split("; use sys.set_int_max_str_digits()")[0]
        text += "; no setting takes a number that large: write the value meant"
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- JSON -----------------------------------------------------------------------------------

# JSON's tokens in a text json.loads has accepted: strings (escapes included), punctuation,
# and the rest (numbers, true/false/null, NaN/Infinity) up to the next delimiter.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],:]|[^\s{}\[\],:"]+', re.DOTALL)
# Outside strings (where raw line breaks cannot be), JSON's line breaks.
_JSON_NEWLINE = re.compile(r"\r\n|\r|\n")


def parse_json(text: str, name: str) -> tuple[Any, dict[KeyPath, Location]]:
    """json.loads' data, and the position of each key from a scan of the same text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{name}: not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except ValueError as err:  # e.g. an integer longer than Python converts
        raise ConfigError(f"{name}: not valid JSON: {_value_problem(err)}") from None
    return data, json_key_locations(text, name)


@dataclass
class _JsonContainer:
    path: KeyPath
    is_object: bool
    expecting_key: bool = True
    key: str = ""
    index: int = 0
    first_seen: dict[str, Location] = field(default_factory=dict)


def json_key_locations(text: str, name: str = "<json>") -> dict[KeyPath, Location]:
    """The (line, column) of every key and list item of the valid JSON `text`, refusing duplicate keys."""
    line_starts = [0] + [match.end() for match in _JSON_NEWLINE.finditer(text)]

    def where(offset: int) -> Location:
        line = bisect.bisect_right(line_starts, offset)
        return (line, offset - line_starts[line - 1] + 1)

    locations: dict[KeyPath, Location] = {}
    stack: list[_JsonContainer] = []
    for match in _JSON_TOKEN.finditer(text):
        lexeme, offset = match.group(), match.start()
        top = stack[-1] if stack else None
        if lexeme == ":":
            continue
        if lexeme == ",":
            if top is not None:
                top.expecting_key = top.is_object
                top.index += 1
            continue
        if lexeme in "}]":
            stack.pop()
            continue
        if lexeme.startswith('"') and "\\u" in lexeme:
            # An escape can decode to a lone surrogate; a raw one cannot be in UTF-8 text.
            found = _SURROGATE.search(json.loads(lexeme))
            if found:
                what = "key" if top is not None and top.is_object and top.expecting_key else "value"
                raise surrogate_error(name, "JSON", what, where(offset), found.group())
        if top is not None and top.is_object and top.expecting_key:
            key = json.loads(lexeme)
            if key in top.first_seen:
                raise duplicate_key_error(
                    name, language="JSON", path=top.path, key=key, first=top.first_seen[key], second=where(offset)
                )
            top.first_seen[key] = where(offset)
            top.key, top.expecting_key = key, False
            locations[(*top.path, key)] = where(offset)
            continue
        # A value: an object's (its key is recorded), a list's (record the item), or the root.
        if top is None:
            path: KeyPath = ()
        elif top.is_object:
            path = (*top.path, top.key)
        else:
            path = (*top.path, top.index)
            locations[path] = where(offset)
        if lexeme in "{[":
            if len(stack) >= MAX_DEPTH:
                raise ConfigError(
                    f"{name}: line {where(offset)[0]}: nested more than {MAX_DEPTH} levels deep; flatten it"
                )
            stack.append(_JsonContainer(path=path, is_object=lexeme == "{"))
    return locations

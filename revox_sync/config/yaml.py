"""The one guarded YAML reader: every YAML file revox-sync reads goes through it.

The YAML is parsed by ruamel.yaml's C parser into a node tree; a small walker turns the nodes into plain
Python values and, on the way, records where each value (and each mapping key) came from, so that every later
check can point into the file (`path:line:col`).

Rules applied while walking (CONTRACT §1 Files):

- YAML 1.2 core schema: `yes`/`on`/`no` are strings, `0o17`/`0x1F`/`1_000` are ints; timestamps keep their
  text (`2024-01-01` stays the string the user wrote). A `%YAML 1.1` directive does not change this.
- Mapping keys must be strings; a key repeated in one mapping is an error at the second one.
- Merge keys (`<<: *anchor` or `<<: [*a, *b]`) are supported: keys written in the mapping win over merged
  ones, and among merged mappings the first one listed wins. Duplicates are only reported between keys
  written in the same mapping.
- `!file path` stands for the UTF-8 text of that file, exactly as it is (final newline included; `${...}`
  inside it is NOT interpolated). The path is relative to the YAML file, is not interpolated itself, and
  must resolve, symlinks followed, inside the config directory. Any other custom tag is an error.
- `${VAR}` / `${VAR:-default}` are replaced in every string scalar (not in keys) from the variables mapping
  (default: `os.environ`); as in a shell, the default also applies when the variable is set but empty.
  `$${` is a literal `${`. A *plain* (unquoted) scalar that held a reference is re-read as a YAML 1.2 plain
  scalar after substitution (`${SPEED:-1.1}` is a float, an empty result is null); quoted scalars stay
  strings. A value that came from a variable whose name contains KEY, TOKEN, SECRET or PASSWORD has its
  path recorded in `Document.sensitive`; the variables every value was made from, in `Document.variables`
  (output names them in place of a secret).
- Hostile input stays bounded: files over 5 MiB, more than 100 000 nodes visited while expanding aliases,
  more than 50 million characters of expanded text, or nesting deeper than 64 levels (flow or block, checked
  before the C parser sees the text) are errors.

Small flat files (the project file, variable files, `phone_numbers.yaml`, `voices.yaml`) are read straight
from their nodes through `YamlDoc`.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from revox_sync.config.discovery import display_path, is_within
from revox_sync.errors import ConfigErrors, LocatedError, Location, UnsetSecret
from revox_sync.sensitive import MIN_SECRET_LENGTH, Source, is_sensitive_path, is_sensitive_variable

Loc = tuple[str | int, ...]

MAX_FILE_BYTES = 5 * 1024 * 1024  # an assistant file or a `!file` include

MAX_NODES = 100_000  # nodes visited per file, aliases expanded

MAX_EXPANDED_CHARS = 50_000_000  # characters of string values per file, aliases expanded

MAX_DEPTH = 64  # nesting of mappings and lists

# libyaml's composer recurses in C: a document nested about 26 000 levels deep (`[[[[...`, `- - - ...`, 50 KB)
# overflows the C stack and kills the process. `_may_nest_deeply` rules that out cheaply for ordinary files;
# for the others the real depth is measured first, with the (iterative) event parser.
_FLOW_PRECHECK = 1000  # `[` and `{` characters

_BLOCK_PRECHECK = 200  # columns of indentation and `-`/`?`/`:` indicators at the start of a line

_DEEP_LINE = re.compile(rf"\n[ \t?:-]{{{_BLOCK_PRECHECK}}}")

OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")  # libyaml's line breaks besides "\n"

_TAG = "tag:yaml.org,2002:"

_STR, _INT, _FLOAT, _BOOL, _NULL = _TAG + "str", _TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"

_TIMESTAMP, _MAP, _SEQ, _MERGE = _TAG + "timestamp", _TAG + "map", _TAG + "seq", _TAG + "merge"

_FILE_TAG = "!file"

# YAML 1.2 core schema, plain scalars (plus `_` separators in numbers, as ruamel accepts them).
_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})

_TRUE_WORDS = frozenset({"true", "True", "TRUE"})

_FALSE_WORDS = frozenset({"false", "False", "FALSE"})

_INT_RE = re.compile(r"[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+")

_FLOAT_RE = re.compile(
    r"[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)

# `$${` | `${NAME}` | `${NAME:-default}` | any other `${` (malformed)
VARIABLE_RE = re.compile(
    r"\$\$\{|\$\{(?:([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)(?::-([^}]*))?\})?"
)
EACH = "each."  # `${each.KEY}`: a column of the row a `for_each` file is expanded with, filled later

# Characters YAML forbids; compiled only when the parser reports one (it costs ~6 ms at import).
_NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@dataclass(frozen=True)
class PositionMap:
    """Where each value and each mapping key of one file is: 1-based (line, col) by path in the data.

    A lookup that does not match exactly falls back to the nearest ancestor that exists; path elements
    absent from the map are skipped, so pydantic's union tags (`('llm_model', 'custom', 'api_key')`)
    still land on `llm_model.api_key`.
    """

    path: str
    values: Mapping[Loc, tuple[int, int]]
    keys: Mapping[Loc, tuple[int, int]]
    files: Mapping[Loc, str] = field(default_factory=dict)  # values from another file (a template): its path

    def _resolve(self, loc: Sequence[str | int]) -> Loc:
        current: Loc = ()
        for part in loc:
            candidate = (*current, part)
            if candidate in self.values:
                current = candidate
        return current

    def value(self, loc: Sequence[str | int]) -> Location:
        found = self._resolve(loc)
        line, col = self.values.get(found, (1, 1))
        return Location(self.files.get(found, self.path), line, col)

    def shallow(self, depth: int = 2) -> PositionMap:
        """Only the paths `depth` deep or less: a lookup below them finds their nearest ancestor. What a plan
        keeps of each file after checking it (a hundred positions a file took more memory than its text)."""

        def cut(found: Mapping[Loc, Any]) -> dict[Loc, Any]:
            return {loc: at for loc, at in found.items() if len(loc) <= depth}

        return PositionMap(self.path, cut(self.values), cut(self.keys), cut(self.files))

    def key(self, loc: Sequence[str | int]) -> Location:
        """The mapping key of `loc` (for unknown or read-only keys); the value when there is no key."""
        found = self._resolve(loc)
        if found and loc and found[-1] == loc[-1] and found in self.keys:
            line, col = self.keys[found]
            return Location(self.files.get(found, self.path), line, col)
        return self.value(found)


@dataclass
class Document:
    data: dict[str, Any] | None
    positions: PositionMap
    sensitive: set[Loc]
    errors: list[LocatedError]
    included: dict[Loc, str] = field(default_factory=dict)  # values read with `!file`: the file, as shown
    each: set[Loc] = field(
        default_factory=set
    )  # plain scalars holding `${each.KEY}`: typed once it is filled
    # strings holding `${each.KEY}`, written, not read with `!file`: their `${` stays escaped (`$${`) until filled
    deferred: set[Loc] = field(default_factory=set)
    variables: dict[Loc, Source] = field(default_factory=dict)  # the variables each value was made from


@lru_cache(maxsize=1)
def _yaml() -> Any:
    """ruamel's own loader: only used when its C extension is missing (slower, same results)."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True)


@lru_cache(maxsize=1)
def _c_parser() -> Any:
    """libyaml's parser and composer with our own YAML 1.2 resolver, or None without the C extension.

    ruamel's resolver costs about half of the parse time (it looks the YAML version up for every scalar);
    this one resolves a plain scalar with one dictionary look-up for the usual case (a word) and hands out
    shared tag objects, which the walker recognises by identity.
    """
    try:
        from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - PyPy or a build without ruamel.yaml.clib
        return None
    from ruamel.yaml.nodes import ScalarNode, SequenceNode
    from ruamel.yaml.tag import Tag

    shared = {name: Tag(suffix=name) for name in (_STR, _INT, _FLOAT, _BOOL, _NULL, _MAP, _SEQ, _MERGE)}
    _SHARED_TAGS.update({id(tag): name for name, tag in shared.items()})
    str_tag, seq_tag, map_tag = shared[_STR], shared[_SEQ], shared[_MAP]

    class Parser(CParser):  # type: ignore[misc]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                return shared[plain_tag(value)] if implicit[0] else str_tag
            return seq_tag if kind is SequenceNode else map_tag

        def descend_resolver(self, parent: Any, index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None

    return Parser


_SHARED_TAGS: dict[int, str] = {}


def _tag(node: Any) -> str:
    ctag = node.ctag
    return _SHARED_TAGS.get(id(ctag)) or str(ctag)


def _compose(text: str) -> Any:
    parser_class = _c_parser()
    if parser_class is None:
        return _yaml().compose(text)
    parser = parser_class(text)
    try:
        return parser.get_single_node()
    finally:
        parser.dispose()


def _events(text: str) -> Iterator[Any]:
    parser_class = _c_parser()
    if parser_class is None:
        yield from _yaml().parse(text)
        return
    parser = parser_class(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    finally:
        parser.dispose()


def scalar_marks(text: str) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """Where each scalar (key or value) starts and ends, as 0-based (line, column): what is not a comment.
    Raises ruamel's YAMLError when the text is not YAML."""
    from ruamel.yaml.events import ScalarEvent

    for event in _events(text):
        if isinstance(event, ScalarEvent):
            start, end = event.start_mark, event.end_mark
            yield (start.line, start.column), (end.line, end.column)


def read_yaml_file(path: Path) -> Any:
    """Read, decode and compose one YAML file: its root node (ruamel.yaml nodes, tags resolved per YAML 1.2,
    `.start_mark` 0-based), or None when the file is empty.

    Raises LocatedError (path shown as `display_path`) when the file is not a regular file, is larger than
    5 MiB, is not UTF-8, is malformed YAML (the parser's message, one line) or nests too deeply. Shared with
    other small YAML files of the project (e.g. revox-sync.yaml) so they get the same guarantees.
    """
    return compose_text(read_text(path), display_path(path))


def read_text(path: Path) -> str:
    """The text of a YAML file, read with the guards of `read_yaml_file` (regular file, size, UTF-8)."""
    shown = display_path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or a device would block or never end
            raise LocatedError(Location(shown, 0, 0), "not a regular file")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LocatedError(Location(shown, 0, 0), f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise LocatedError(
            Location(shown, 0, 0), f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
        )
    text, bad = _decode(raw)
    if text is None:
        raise LocatedError(Location(shown, *(bad or (1, 1))), "not valid UTF-8")
    return text


def compose_text(text: str, shown: str) -> Any:
    """The root node of YAML `text` (None when empty), or a LocatedError at `shown`: malformed, too deep."""
    from ruamel.yaml.error import YAMLError

    def fail(message: str, line: int = 0, col: int = 0) -> LocatedError:
        return LocatedError(Location(shown, line, col), message)

    try:
        if _may_nest_deeply(text):
            too_deep = _too_deep(text)
            if too_deep is not None:
                raise fail(f"nesting deeper than {MAX_DEPTH} levels", *too_deep)
        return _compose(text)
    except YAMLError as exc:
        raise fail(*_yaml_error(exc, text)) from None
    except RecursionError:
        raise fail(f"nesting deeper than {MAX_DEPTH} levels", 1, 1) from None


def read_document(
    file: Path, root: Path, env: Mapping[str, str], includes: dict[str, str | tuple[str, int, int]]
) -> Document:
    shown = display_path(file)
    empty = PositionMap(shown, {}, {})

    try:
        root_node = read_yaml_file(file)
    except LocatedError as exc:
        return Document(None, empty, set(), [exc])

    def fail(message: str, line: int = 0, col: int = 0) -> Document:
        return Document(None, empty, set(), [LocatedError(Location(shown, line, col), message)])

    if root_node is None:
        return fail("file is empty: expected a mapping of assistant fields (at least 'name')", 1, 1)
    if root_node.id != "mapping" or _tag(root_node) != _MAP:
        kind = {"sequence": "a list", "scalar": "a single value"}.get(root_node.id, _tag(root_node))
        return fail(f"the top level must be a mapping of assistant fields, not {kind}", 1, 1)

    walker = _Walker(file, root, shown, env, includes)
    data: Any = None
    try:
        data = walker.walk(root_node, (), 0)
    except _Abort as abort:
        walker.report(abort.node, abort.message)
        data = None
    return Document(
        data,
        PositionMap(shown, walker.values, walker.keys),
        walker.sensitive,
        walker.errors,
        walker.included,
        walker.each,
        walker.deferred,
        walker.variables,
    )


def _decode(raw: bytes) -> tuple[str | None, tuple[int, int] | None]:
    """The text, or None and the 1-based (line, col) of the first byte that is not UTF-8."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line_start = before.rfind(b"\n") + 1
        col = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        return None, (before.count(b"\n") + 1, col)


def line_col(text: str, index: int) -> tuple[int, int]:
    """The 1-based (line, col) of `text[index]`."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _yaml_error(exc: Exception, text: str) -> tuple[str, int, int]:
    """The parser's message on one line, with its 1-based position."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem is None:
        # ReaderError (a forbidden character) and friends: find the character ourselves.
        bad = re.search(_NON_PRINTABLE, text)
        line, col = line_col(text, bad.start()) if bad else (1, 1)
        if bad:
            return (
                f"invalid character U+{ord(bad.group()):04X} (control characters are not allowed)",
                line,
                col,
            )
        return " ".join(str(exc).split()), line, col
    message = str(problem)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        message += f" ({context}"
        if context_mark is not None:
            message += f" started at line {context_mark.line + 1}, column {context_mark.column + 1}"
        message += ")"
    if mark is None:
        return message, 1, 1
    return message, mark.line + 1, mark.column + 1


def _may_nest_deeply(text: str) -> bool:
    """False when `text` cannot nest more than about 1 200 levels, far below what crashes the composer.

    Flow nesting is bounded by the number of brackets. A block collection starts right of the one it is
    nested in (one column at least; a list that is a mapping's value may start at its key's column, but its
    items start two further), and only indentation and the `- `, `? `, `: ` indicators that open a line move
    that column; so without a line that starts with `_BLOCK_PRECHECK` such characters, block nesting stays
    below about that many levels. A false alarm (say, a deeply indented block scalar) costs one extra parse.
    """
    if text.count("[") + text.count("{") > _FLOW_PRECHECK:
        return True
    for other in OTHER_BREAKS:
        if other in text:
            text = text.replace(other, "\n")
    return _DEEP_LINE.match("\n" + text[:_BLOCK_PRECHECK]) is not None or _DEEP_LINE.search(text) is not None


def _too_deep(text: str) -> tuple[int, int] | None:
    """Position of the first collection nested deeper than MAX_DEPTH, found without recursion."""
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    depth = 0
    for event in _events(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark.line + 1, event.start_mark.column + 1
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return None


_LOCS: dict[Loc, Loc] = {}


def _loc(loc: Loc) -> Loc:
    """One shared tuple for each path, across files: position maps hold about a hundred paths per file,
    mostly the same ones (`('faq_items', 3, 'answer')`), and each tuple costs more than the position."""
    if len(_LOCS) > 1_000_000:  # a bound, whatever is read
        _LOCS.clear()
    return _LOCS.setdefault(loc, loc)


class _Abort(Exception):
    """Stops walking one file (a budget is exhausted)."""

    def __init__(self, node: Any, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


class _Walker:
    """Turns one composed node tree into plain Python, recording positions, sensitive paths and errors."""

    def __init__(
        self,
        file: Path,
        root: Path,
        shown: str,
        env: Mapping[str, str],
        includes: dict[str, str | tuple[str, int, int]],
    ) -> None:
        self.file = file
        self.root = root
        self.shown = shown
        self.env = env
        self.includes = includes
        self.values: dict[Loc, tuple[int, int]] = {}
        self.keys: dict[Loc, tuple[int, int]] = {}
        self.sensitive: set[Loc] = set()
        self.included: dict[Loc, str] = {}
        self.each: set[Loc] = set()
        self.deferred: set[Loc] = set()
        self.variables: dict[Loc, Source] = {}
        self.errors: list[LocatedError] = []
        self._reported: set[tuple[int, int, str, str | None]] = set()
        self._included: dict[int, str] = {}  # id(node) of a `!file` -> the file, as shown
        self._each_plain: set[int] = set()  # id(node) of plain scalars holding `${each.KEY}`
        self._deferred: set[int] = set()  # id(node) of strings holding `${each.KEY}`
        self._sources: dict[int, Source] = {}  # id(node) of interpolated scalars -> their variables
        self._unset: dict[int, tuple[str, ...]] = {}  # id(node) -> its variables unset and without default
        self._scalars: dict[int, tuple[Any, bool]] = {}  # id(node) -> (value, sensitive); aliases share nodes
        self._nodes = 0
        self._chars = 0

    # -- errors and budgets --
    def report(self, node: Any, message: str, secret: str | None = None) -> None:
        """An error at `node`; `secret`: the unset variable of an UnsetSecret."""
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        if (line, col, message, secret) not in self._reported:
            self._reported.add((line, col, message, secret))
            where = Location(self.shown, line, col)
            error = LocatedError(where, message) if secret is None else UnsetSecret(where, message, secret)
            self.errors.append(error)

    def _visit(self, node: Any, depth: int) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES or depth > MAX_DEPTH:
            self._refuse(node, depth)

    def _refuse(self, node: Any, depth: int) -> None:
        """A budget is exhausted at `node` (already counted)."""
        if self._nodes > MAX_NODES:
            raise _Abort(node, f"too many nodes (alias expansion?): more than {MAX_NODES}")
        raise _Abort(node, f"nesting deeper than {MAX_DEPTH} levels (recursive alias?)")

    # -- nodes --
    def walk(self, node: Any, path: Loc, depth: int) -> Any:
        # the hot loop of every load: `_visit` and `_tag` are inlined, and a mapping without merge keys is
        # walked in one pass
        self._nodes += 1
        if self._nodes > MAX_NODES or depth > MAX_DEPTH:
            self._refuse(node, depth)
        mark = node.start_mark
        self.values[path] = (mark.line + 1, mark.column + 1)
        kind = node.id
        tag = _SHARED_TAGS.get(id(node.ctag)) or str(node.ctag)
        if kind == "scalar":
            text = node.value
            if tag != _STR or "${" in text:
                return self._scalar(node, path)
            self._chars += len(text)  # a plain text, most of every file: `_scalar`'s usual case, inlined
            if self._chars > MAX_EXPANDED_CHARS:
                return self._scalar(node, path)  # which reports it
            return text
        if kind == "sequence":
            if tag != _SEQ:
                self._bad_tag(node)
                return None
            depth += 1
            return [self.walk(item, _loc((*path, index)), depth) for index, item in enumerate(node.value)]
        if tag != _MAP:
            self._bad_tag(node)
            return None
        result: dict[str, Any] = {}
        keys = self.keys
        for key, key_node, value_node in self._plain_pairs(node, depth) or self._pairs(node, depth):
            child = _loc((*path, key))
            mark = key_node.start_mark
            keys[child] = (mark.line + 1, mark.column + 1)
            result[key] = self.walk(value_node, child, depth + 1)
        return result

    def _plain_pairs(self, node: Any, depth: int) -> list[tuple[str, Any, Any]] | None:
        """The usual mapping's pairs, when every key is a distinct string, none is `<<` and no budget runs out
        (else None, and `_pairs` does the work and the reporting): its keys counted as `_pairs` counts them."""
        out = []
        seen = set()
        for key_node, value_node in node.value:
            if key_node.id != "scalar" or _SHARED_TAGS.get(id(key_node.ctag)) != _STR:
                return None
            key = str(key_node.value)
            if key in seen:
                return None
            seen.add(key)
            out.append((key, key_node, value_node))
        if not out or self._nodes + len(out) > MAX_NODES or depth + 1 > MAX_DEPTH:
            return None
        self._nodes += len(out)
        return out

    def _pairs(self, node: Any, depth: int) -> list[tuple[str, Any, Any]]:
        """(key, key node, value node) of a mapping after merge keys; reports duplicates and bad keys."""
        selected: dict[str, tuple[Any, Any]] = {}
        written: dict[str, Any] = {}
        merges = []
        for key_node, value_node in node.value:
            key_tag = _SHARED_TAGS.get(id(key_node.ctag)) or str(key_node.ctag)
            if key_tag == _MERGE:
                self._visit(key_node, depth + 1)
                merges.append(value_node)
                continue
            if key_tag == _STR and key_node.id == "scalar":  # `_key`'s usual case, inlined
                self._nodes += 1
                if self._nodes > MAX_NODES or depth + 1 > MAX_DEPTH:
                    self._refuse(key_node, depth + 1)
                key = str(key_node.value)
            else:
                other = self._key(key_node, key_tag, depth)
                if other is None:
                    continue
                key = other
            if key in written:
                first = written[key].start_mark.line + 1
                self.report(key_node, f"duplicate key {key!r} (first at line {first})")
                continue
            written[key] = key_node
            selected[key] = (key_node, value_node)
        if not merges:
            return [(key, k, v) for key, (k, v) in selected.items()]
        merged: dict[str, tuple[Any, Any]] = {}
        for value_node in merges:
            self._visit(value_node, depth + 1)
            sources = value_node.value if value_node.id == "sequence" else [value_node]
            for source in sources:
                if source is not value_node:
                    self._visit(source, depth + 1)
                if source.id != "mapping" or _tag(source) != _MAP:
                    self.report(source, "merge key '<<' needs a mapping or a list of mappings")
                    continue
                for key, k, v in self._pairs(source, depth + 1):
                    merged.setdefault(key, (k, v))
        merged.update(selected)
        return [(key, k, v) for key, (k, v) in merged.items()]

    def _key(self, node: Any, tag: str, depth: int) -> str | None:
        self._visit(node, depth + 1)
        if tag == _STR and node.id == "scalar":
            return str(node.value)
        shown = node.value if node.id == "scalar" else f"a {node.id}"
        self.report(node, f"mapping keys must be strings, not {shown!r}")
        return None

    def _bad_tag(self, node: Any) -> None:
        tag = _tag(node)
        if tag == _FILE_TAG:
            self.report(node, "!file needs a file path, not a mapping or list")
        elif tag.startswith(_TAG):
            self.report(node, f"unsupported tag '!!{tag[len(_TAG) :]}'")
        else:
            self.report(node, f"unknown tag {tag!r} (only !file is supported)")

    def _scalar(self, node: Any, path: Loc) -> Any:
        cached = self._scalars.get(id(node))
        if cached is None:
            cached = self._convert(node)
            self._scalars[id(node)] = cached
        value, sensitive = cached
        if sensitive:
            self.sensitive.add(path)
        if self._included and id(node) in self._included:
            self.included[path] = self._included[id(node)]
        if self._each_plain and id(node) in self._each_plain:
            self.each.add(path)
        if self._deferred and id(node) in self._deferred:
            self.deferred.add(path)
        if self._sources and id(node) in self._sources:
            self.variables[path] = self._sources[id(node)]
        for name in self._unset.get(id(node), ()):  # at this path: a secret goes there, or not
            secret = is_sensitive_path(path) or is_sensitive_variable(name)
            message = f"environment variable {name} is not set (and ${{{name}}} has no default)"
            self.report(node, message, name if secret else None)
        if isinstance(value, str):
            self._chars += len(value)
            if self._chars > MAX_EXPANDED_CHARS:
                raise _Abort(
                    node, f"document expands to more than {MAX_EXPANDED_CHARS} characters (alias expansion?)"
                )
        return value

    def _convert(self, node: Any) -> tuple[Any, bool]:
        tag, text = _tag(node), node.value
        if tag == _STR:
            if "${" not in text:
                return text, False
            return self._interpolated(node, text)
        if tag == _FILE_TAG:
            return self._include(node, text), False
        try:
            if tag == _INT:
                return _to_int(text), False
            if tag == _FLOAT:
                return _to_float(text), False
            if tag == _BOOL:
                return _to_bool(text), False
        except ValueError:
            self.report(node, f"invalid !!{tag[len(_TAG) :]} value {text!r}")
            return None, False
        if tag == _NULL:
            return None, False
        if tag in (_TIMESTAMP, _MERGE):  # a timestamp keeps its text; `<<` as a value is just text
            return text, False
        self._bad_tag(node)
        return None, False

    def _interpolated(self, node: Any, text: str) -> tuple[Any, bool]:
        parts: list[str] = []
        sensitive = False
        names: list[str] = []
        unset: list[str] = []
        defaulted: list[str] = []
        findable = True  # every secret in it can be found again in the text (and blanked there)
        pieces = list(references(text))
        # a literal `${` (and one inside a variable's value) must survive until the row is filled in
        deferred = any(not isinstance(m, str) and _is_each(m) for m in pieces)
        if deferred:
            self._deferred.add(id(node))
        for match in pieces:
            if isinstance(match, str):
                parts.append("$${" if deferred and match == "${" else match)
                continue
            name = match.group(1)
            if name is None:
                self.report(
                    node,
                    "malformed variable reference: write ${NAME} or ${NAME:-default} (and $${ for a literal ${)",
                )
                parts.append(match.group(0))
                continue
            if _is_each(match):
                parts.append(match.group(0))  # the row's value comes later (config/templates.py)
                if not node.style:
                    self._each_plain.add(id(node))
                continue
            if "." in name:
                self.report(
                    node,
                    f"unknown reference ${{{name}}}: write ${{NAME}}, or ${{each.KEY}} in a for_each file",
                )
                parts.append(match.group(0))
                continue
            names.append(name)
            secret = is_sensitive_variable(name)
            sensitive = sensitive or secret
            value = self.env.get(name)
            findable = findable and not (secret and not _findable(value or ""))
            if not value:
                default = match.group(2)
                if default is not None:
                    value = default
                    defaulted.append(name)
                elif value is None:
                    unset.append(name)  # reported by `_scalar`, which knows whether a secret goes there
                    value = match.group(0)  # the reference as written stands in: the file keeps its shape
            parts.append(value.replace("${", "$${") if deferred else value)
        result: Any = "".join(parts)
        if names and not node.style:  # plain: None (pure parser) or "" (C parser)
            result = resolve_plain(result)
        if unset:
            self._unset[id(node)] = tuple(dict.fromkeys(unset))
        if names:
            inline = findable and isinstance(result, str)
            self._sources[id(node)] = Source(
                tuple(dict.fromkeys(names)), inline, tuple(dict.fromkeys(defaulted))
            )
        return result, sensitive

    def _include(self, node: Any, relative: str) -> str | None:
        if not relative.strip():
            self.report(node, "!file needs a file path")
            return None
        root_abs = os.path.abspath(self.root)
        target = os.path.normpath(os.path.join(os.path.abspath(self.file.parent), relative))
        if not is_within(target, root_abs):
            self.report(node, f"!file {relative}: path escapes the config directory {display_path(root_abs)}")
            return None
        real = os.path.realpath(target)
        if not is_within(real, os.path.realpath(root_abs)):
            self.report(
                node,
                f"!file {relative}: resolves through a symlink to {real}, outside the config directory "
                f"{display_path(root_abs)}",
            )
            return None
        cached = self.includes.get(real)
        if cached is None:
            cached = _read_include(real)
            self.includes[real] = cached
        if isinstance(cached, str):
            self._included[id(node)] = display_path(target)
            return cached
        problem, line, col = cached
        where = f" (line {line}, column {col})" if line else ""
        self.report(node, f"!file {relative}: {problem}{where}")
        return None


def _findable(secret: str) -> bool:
    """Whether a secret can be found again in a text holding it, as the server keeps the text (no line
    ending changed, no surrounding whitespace stripped), and is long enough to be looked for."""
    return len(secret) >= MIN_SECRET_LENGTH and secret == secret.strip() and "\r" not in secret


def references(text: str) -> Iterator[str | re.Match[str]]:
    """`text` as the pieces `${...}` splits it into: literal text (with `$${` read as `${`) and each
    reference (a match whose group 1 is the name, None when malformed, and group 2 the default)."""
    position = 0
    for match in VARIABLE_RE.finditer(text):
        yield text[position : match.start()]
        position = match.end()
        yield "${" if match.group(0) == "$${" else match
    yield text[position:]


def _is_each(match: re.Match[str]) -> bool:
    """`${each.KEY}`: a reference a `for_each` row fills in later."""
    name = match.group(1)
    return name is not None and name.startswith(EACH) and match.group(2) is None


def _read_include(real: str) -> str | tuple[str, int, int]:
    """The file's text, or (problem, line, col) with line 0 when the problem is not at one place."""
    if not os.path.exists(real):
        return "no such file", 0, 0
    if os.path.isdir(real):
        return "is a directory, not a file", 0, 0
    if not os.path.isfile(real):  # a FIFO or a device would block or never end
        return "is not a regular file", 0, 0
    try:
        with open(real, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}", 0, 0
    if len(raw) > MAX_FILE_BYTES:
        return f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", 0, 0
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        _, bad = _decode(raw)
        line, col = bad or (0, 0)
        return "not valid UTF-8", line, col


def _to_int(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)


def _to_float(text: str) -> float:
    lowered = text.replace("_", "").lower()
    if lowered in (".inf", "+.inf"):
        return float("inf")
    if lowered == "-.inf":
        return float("-inf")
    if lowered == ".nan":
        return float("nan")
    return float(lowered)


def _to_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "on", "y"):  # the latter only arrive with an explicit `%YAML 1.1`
        return True
    if lowered in ("false", "no", "off", "n"):
        return False
    raise ValueError(text)


_FIRST_CHARS_OF_NON_STR = frozenset("0123456789+-.~<nNtTfF")


def plain_tag(text: str) -> str:
    """The tag of a plain scalar under the YAML 1.2 core schema (timestamps stay strings)."""
    if text and text[0] not in _FIRST_CHARS_OF_NON_STR:
        return _STR
    if text in _NULL_WORDS:
        return _NULL
    if text in _TRUE_WORDS or text in _FALSE_WORDS:
        return _BOOL
    if _INT_RE.fullmatch(text):
        return _INT
    if _FLOAT_RE.fullmatch(text):
        return _FLOAT
    if text == "<<":
        return _MERGE
    return _STR


def resolve_plain(text: str) -> Any:
    """A plain scalar's value under the YAML 1.2 core schema (after `${}` substitution)."""
    tag = plain_tag(text.strip())
    if tag in (_STR, _MERGE):
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text.strip() in _TRUE_WORDS
    if tag == _INT:
        return _to_int(text.strip())
    return _to_float(text.strip())


# --- small flat files read from their nodes ---------------------------------------------------------------
_SCALAR_TAGS = frozenset({_STR, _TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "timestamp"})


def is_mapping(node: Any) -> bool:
    return node is not None and node.id == "mapping" and node.tag == _MAP


def is_plain_value(node: Any) -> bool:
    """A string, number, boolean or timestamp scalar: what a variable file may hold."""
    return node is not None and node.id == "scalar" and node.tag in _SCALAR_TAGS


def is_null(node: Any) -> bool:
    return node is not None and node.id == "scalar" and node.tag == _NULL


class YamlDoc:
    """One composed YAML file: its node tree and helpers that turn nodes into `path:line:col` errors.

    Used for the project file, variable files and `phone_numbers.yaml`: small, flat files whose values are
    read straight from the nodes (so a scalar keeps the text it was written with: `+15551234567` stays a
    string even though YAML would read it as an integer).
    """

    def __init__(self, path: Path, shown: str, root: Any) -> None:
        self.path = path
        self.shown = shown
        self.root = root

    def location(self, node: Any) -> Location:
        return Location(self.shown, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, node: Any, message: str) -> LocatedError:
        return LocatedError(self.location(node), message)

    def pairs(self, node: Any, errors: list[LocatedError]) -> list[tuple[str, Any, Any]]:
        """(key text, key node, value node) of a mapping; duplicate, non-scalar and merge keys are errors."""
        seen: dict[str, Any] = {}
        out: list[tuple[str, Any, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                errors.append(self.error(key_node, "merge keys ('<<') are not supported in this file"))
                continue
            if key_node.id != "scalar" or key_node.tag == _NULL:
                errors.append(self.error(key_node, "mapping keys must be plain text"))
                continue
            key = str(key_node.value)
            if key in seen:
                first = seen[key].start_mark.line + 1
                errors.append(self.error(key_node, f"duplicate key {key!r} (first at line {first})"))
                continue
            seen[key] = key_node
            out.append((key, key_node, value_node))
        return out

    def string(
        self, node: Any, errors: list[LocatedError], what: str, *, nullable: bool = False
    ) -> str | None:
        """A string value; numbers and booleans are refused (a quoted value is the fix)."""
        if nullable and is_null(node):
            return None
        if node.id != "scalar" or node.tag != _STR:
            kind = {"sequence": "a list", "mapping": "a mapping"}.get(node.id) or (
                "null" if node.tag == _NULL else f"{node.value!r} ({node.tag.rsplit(':', 1)[-1]})"
            )
            errors.append(self.error(node, f"{what} must be a string, not {kind}"))
            return None
        return str(node.value)


def read_yaml(path: Path) -> YamlDoc:
    """Compose one small YAML file with the loader's guards; unreadable, non-UTF-8 or malformed files raise
    ConfigErrors."""
    try:
        root = read_yaml_file(path)
    except LocatedError as exc:
        raise ConfigErrors([exc]) from None
    return YamlDoc(path, display_path(path), root)


def read_table(
    path: Path, key: str, entries: str
) -> tuple[YamlDoc, list[tuple[str, Any, Any]], list[LocatedError]]:
    """A kind's own file (`voices.yaml`, `phone_numbers.yaml`): a mapping whose one key `key` holds a mapping
    of entries (`entries` says what they are, for the error). Returns the entries and the errors so far."""
    doc = read_yaml(path)
    errors: list[LocatedError] = []
    root = doc.root
    if root is None:
        return doc, [], errors
    if root.id != "mapping":
        raise ConfigErrors([doc.error(root, f"the top level must be a mapping with the key '{key}'")])
    table = None
    for name, key_node, value in doc.pairs(root, errors):
        if name == key:
            table = value
        else:
            errors.append(doc.error(key_node, unknown_key_message(name, (key,), path.name)))
    if table is None or is_null(table):
        return doc, [], errors
    if table.id != "mapping":
        errors.append(doc.error(table, f"{key} must be a mapping of {entries}"))
        return doc, [], errors
    return doc, doc.pairs(table, errors), errors


def unknown_key_message(key: str, known: Sequence[str], where: str) -> str:
    message = f"unknown key {key!r} in {where}"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return message + f"; did you mean '{close[0]}'?"
    return message + f" (expected: {', '.join(known)})"

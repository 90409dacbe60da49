"""Templates and fleets: files under `templates/` of the config directory, which other files `extends:`, and
`for_each:`, which makes one assistant per row of a CSV file (`!file rows.csv`, with a header row) or of an
inline list of mappings, `${each.KEY}` standing for the row's KEY in any string.

Merge rule (the extending file over its base): mappings merge key by key, recursively; a scalar or a list in
the extending file replaces the base's; `null` in the extending file sets null (it does not fall back to the
base). A template may extend another; a cycle is an error naming the chain. Every merged value keeps the file
and line it was written at, so an error in an assistant made from a template points into the template; an
error in one made from a row also names the row (`clinics.csv:14`). A value filled from a row is a string,
unless the whole plain scalar was the reference (`speed: ${each.speed}` is a number), as with `${VAR}`.

A fleet is bounded like an alias bomb, before any row is filled: what each assistant costs (nodes, and
characters: its strings plus, for each reference, the cell it stands for) is known from the file and the row,
so each row is checked as it is read. Each assistant obeys the limits of one file, and the assistants of one
fleet file together `MAX_FLEET_NODES` and `MAX_FLEET_CHARS`. A CSV file is read as Excel writes it (a BOM,
CRLF); a cell may hold tabs and line breaks (read as `\n`), no other control character.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revox_sync.config.discovery import display_path, is_within
from revox_sync.config.yaml import (
    EACH,
    MAX_EXPANDED_CHARS,
    MAX_NODES,
    Document,
    Loc,
    PositionMap,
    line_col,
    read_document,
    references,
    resolve_plain,
)
from revox_sync.errors import LocatedError, Location, blocking
from revox_sync.sensitive import Source

TEMPLATES_DIR = "templates"
EXTENDS = "extends"
FOR_EACH = "for_each"
_EACH = re.compile(r"\$\{" + re.escape(EACH) + r"([A-Za-z_][A-Za-z0-9_]*)\}")

# The assistants of one fleet file together (and its rows' cells): ten times the nodes of a file and twice its
# text, so ten times bench/bench_fleet.py's 1 000 clinics of a 10 KB prompt (10 million characters, 40 000
# nodes); at most about 400 MB for the 166 000 rows of a one-line template (validate: 35 s).
MAX_FLEET_NODES = 10 * MAX_NODES

MAX_FLEET_CHARS = 2 * MAX_EXPANDED_CHARS

# Unicode's control characters (Cc) but tab and the line breaks a multi-line cell holds
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

Includes = dict[str, str | tuple[str, int, int]]


class Templates:
    """Reads and extends documents of one config directory; each template is read once per run."""

    def __init__(self, root: Path, env: Mapping[str, str], includes: Includes) -> None:
        self.root = root
        self.env = env
        self.includes = includes
        self._read: dict[str, Document] = {}

    def resolve(self, document: Document, file: Path, chain: tuple[str, ...] = ()) -> Document:
        """`document` (of `file`) with its `extends:` chain merged in; errors are added to the document."""
        data = document.data
        if data is None or EXTENDS not in data:
            return document
        here = document.positions.value((EXTENDS,))
        relative = data.pop(EXTENDS)
        if not isinstance(relative, str) or not relative.strip():
            return _failed(
                document,
                LocatedError(here, "extends: expected the path of a template, like templates/base.yaml"),
            )
        target = Path(os.path.normpath(self.root / relative))
        real = os.path.realpath(target)
        shown = display_path(target)
        trail = (*chain, os.path.realpath(file))
        if not is_within(real, os.path.realpath(self.root)):
            return _failed(
                document, LocatedError(here, f"extends: {relative} is outside the config directory")
            )
        if real in trail:
            names = " -> ".join(display_path(p) for p in (*trail, real))
            return _failed(document, LocatedError(here, f"extends: a cycle: {names}"))
        if not os.path.isfile(real):
            return _failed(document, LocatedError(here, f"extends: no template {shown}"))
        base = self._template(target, real)
        base = self.resolve(base, target, trail)
        if base.data is None or blocking(base.errors):
            return _failed(document, *base.errors) if base.errors else document
        merged = merge(base, document)
        if chain or merged.data is None or FOR_EACH in merged.data:
            return merged  # a template, or a fleet: `expand` checks each of its assistants
        size = _size(merged)
        problem = _exceeded(size.nodes, size.chars, _FILE_LIMITS, "one file")
        if problem is None:
            return merged
        return _failed(
            merged, LocatedError(here, f"extends: the assistant merged with its templates has {problem}")
        )

    def _template(self, path: Path, real: str) -> Document:
        found = self._read.get(real)
        if found is None:
            found = self._read[real] = read_document(path, self.root, self.env, self.includes)
        # a copy: the caller pops `extends` and merges into it
        return Document(
            _copy(found.data),
            found.positions,
            set(found.sensitive),
            list(found.errors),
            found.included,
            found.each,
            set(found.deferred),
            found.variables,
        )


def merge(base: Document, over: Document) -> Document:
    """`over` merged onto `base` (the rule above), positions and sensitive paths following each value."""
    assert base.data is not None and over.data is not None
    data = _merged(base.data, over.data)
    values: dict[Loc, tuple[int, int]] = {}
    keys: dict[Loc, tuple[int, int]] = {}
    files: dict[Loc, str] = {}
    sensitive: set[Loc] = set()
    included: dict[Loc, str] = {}
    each: set[Loc] = set()
    deferred: set[Loc] = set()
    variables: dict[Loc, Source] = {}

    def walk(value: Any, loc: Loc) -> None:
        source = over if loc in over.positions.values or not loc else base
        if loc:
            values[loc] = source.positions.values.get(loc, (1, 1))
            if loc in source.positions.keys:
                keys[loc] = source.positions.keys[loc]
            if source is base:
                files[loc] = base.positions.files.get(loc, base.positions.path)
            elif loc in over.positions.files:
                files[loc] = over.positions.files[loc]
            if loc in source.sensitive:
                sensitive.add(loc)
            if loc in source.included:
                included[loc] = source.included[loc]
            if loc in source.each:
                each.add(loc)
            if loc in source.deferred:
                deferred.add(loc)
            if loc in source.variables:
                variables[loc] = source.variables[loc]
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*loc, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*loc, i))

    walk(data, ())
    positions = PositionMap(over.positions.path, values, keys, files)
    return Document(
        data, positions, sensitive, [*base.errors, *over.errors], included, each, deferred, variables
    )


@dataclass(frozen=True)
class Row:
    """One row a `for_each` file is expanded with: where it is written, and its values by column."""

    location: Location
    values: dict[str, str]
    secret: frozenset[str] = frozenset()  # the columns whose value came from a sensitive variable


def expand(document: Document) -> list[tuple[Document, Row | None]]:
    """One document per row of its `for_each` (the document itself, row None, when it has none)."""
    data = document.data
    if data is None:
        return [(document, None)]
    if FOR_EACH not in data:
        if not document.deferred:  # no `${each.KEY}` anywhere (the usual file): nothing to look for
            return [(document, None)]
        loc = next(iter(_each_strings(data, (), document.deferred)), None)
        if loc is None:
            return [(document, None)]
        message = "${each.KEY} is only filled in a file with for_each"
        return [(_failed(document, LocatedError(document.positions.value(loc), message)), None)]
    value = data.pop(FOR_EACH)
    budget = _Budget(_size(document), document.positions.value((FOR_EACH,)))  # each assistant, without it
    rows = _rows(document, value, budget)
    if isinstance(rows, LocatedError):
        return [(_failed(document, rows), None)]
    out: list[tuple[Document, Row | None]] = []
    for row in rows:
        errors: list[LocatedError] = []
        sensitive = set(document.sensitive)
        filled = _fill(data, (), document, row, errors, sensitive)
        out.append(
            (
                Document(
                    filled,
                    document.positions,
                    sensitive,
                    [*document.errors, *errors],
                    document.included,
                    variables=document.variables,
                ),
                row,
            )
        )
    return out


def _rows(document: Document, value: Any, budget: _Budget) -> list[Row] | LocatedError:
    here = budget.here
    if isinstance(value, str):
        return _csv_rows(value, document.included.get((FOR_EACH,)), budget)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return LocatedError(
            here, "for_each: expected a list of mappings, or !file rows.csv (with a header row)"
        )
    rows = []
    for i, item in enumerate(value):
        where = document.positions.value((FOR_EACH, i))
        if not item:
            return LocatedError(where, f"for_each: row {i + 1} is empty")
        bad = [k for k, v in item.items() if isinstance(v, (dict, list))]
        if bad:
            return LocatedError(
                where, f"for_each: row {i + 1}: {bad[0]} must be text or a number, not a list or a mapping"
            )
        secret = frozenset(str(k) for k in item if (FOR_EACH, i, k) in document.sensitive)
        row = Row(where, {str(k): _text(v) for k, v in item.items()}, secret)
        over = budget.take(row)
        if over is not None:
            return over
        rows.append(row)
    return rows or LocatedError(here, "for_each: no rows")


def _csv_rows(text: str, path: str | None, budget: _Budget) -> list[Row] | LocatedError:
    import csv
    import io

    here = budget.here
    shown = path or here.path
    text = text.removeprefix("\ufeff")  # read as `utf-8-sig`: Excel's "CSV UTF-8" starts with a BOM
    bad = _CONTROL.search(text)
    if bad is not None:
        message = (
            f"for_each: invalid character U+{ord(bad.group()):04X} in a cell "
            "(control characters other than tab and line breaks are not allowed)"
        )
        return LocatedError(Location(shown, *line_col(text, bad.start())), message)
    reader = csv.reader(io.StringIO(text))
    first = 1  # the line the row being read starts at: a quoted multi-line row is shown there
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            return LocatedError(
                Location(shown, 1, 1), "for_each: the CSV file needs a header row of column names"
            )
        columns = [h.strip() for h in header]
        if len(set(columns)) != len(columns) or "" in columns:
            return LocatedError(
                Location(shown, 1, 1), "for_each: the header row needs unique, non-empty names"
            )
        rows = []
        first = reader.line_num + 1
        for record in reader:
            where = Location(shown, first)
            first = reader.line_num + 1
            if not record:
                continue  # a blank line
            if len(record) != len(columns):
                return LocatedError(
                    where, f"for_each: {len(record)} values for {len(columns)} columns ({', '.join(columns)})"
                )
            if not any(v.strip() for v in record):
                return LocatedError(where, "for_each: an empty row")
            row = Row(where, dict(zip(columns, (_one_line_break(v) for v in record), strict=True)))
            over = budget.take(row)
            if over is not None:
                return over
            rows.append(row)
    except csv.Error as exc:
        return LocatedError(Location(shown, first, 1), f"for_each: not a CSV file: {exc}")
    return rows or LocatedError(here, f"for_each: {shown} has no rows")


def _one_line_break(cell: str) -> str:
    """A multi-line cell's line breaks as `\\n`, whatever the file's (a CRLF file keeps them in quoted cells)."""
    return cell.replace("\r\n", "\n").replace("\r", "\n") if "\r" in cell else cell


@dataclass
class _Size:
    """What each assistant of a document costs, before any row fills it: its nodes (values and mapping keys, as
    the reader counts them), the characters of its strings but their `${each.KEY}`, and the references to
    each column (each one adds its cell)."""

    nodes: int = 0
    chars: int = 0
    uses: dict[str, int] = field(default_factory=dict)

    def chars_with(self, values: Mapping[str, str]) -> int:
        return self.chars + sum(n * len(values.get(key, "")) for key, n in self.uses.items())


def _size(document: Document) -> _Size:
    size = _Size()
    deferred = document.deferred

    def walk(value: Any, loc: Loc) -> None:
        size.nodes += 1
        if isinstance(value, dict):
            size.nodes += len(value)
            for k, v in value.items():
                walk(v, (*loc, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*loc, i))
        elif isinstance(value, str) and loc in deferred:
            for piece in references(value):
                key = None if isinstance(piece, str) else _each_key(piece)
                if key is None:
                    size.chars += len(piece if isinstance(piece, str) else piece.group(0))
                else:
                    size.uses[key] = size.uses.get(key, 0) + 1
        elif isinstance(value, str):
            size.chars += len(value)

    walk(document.data, ())
    return size


_FILE_LIMITS = (MAX_NODES, MAX_EXPANDED_CHARS)

_FLEET_LIMITS = (MAX_FLEET_NODES, MAX_FLEET_CHARS)


def _exceeded(nodes: int, chars: int, limits: tuple[int, int], of: str) -> str | None:
    """Which of `limits` (nodes, characters) the counts exceed, said as the end of a message; None if none."""
    for count, limit, unit in zip((nodes, chars), limits, ("nodes", "characters"), strict=True):
        if count > limit:
            return f"more than {limit} {unit}, the limit of {of} ({count})"
    return None


@dataclass
class _Budget:
    """A fleet's running total, taken for each row as it is read: an error instead of the memory."""

    size: _Size
    here: Location  # the `for_each:` of the fleet file
    nodes: int = 0
    chars: int = 0

    def take(self, row: Row) -> LocatedError | None:
        chars = self.size.chars_with(row.values)
        problem = _exceeded(self.size.nodes, chars, _FILE_LIMITS, "one file")
        if problem is not None:
            return LocatedError(self.here, f"for_each: the assistant of row {row.location} has {problem}")
        self.nodes += self.size.nodes + len(row.values)  # the assistant, and the row's cells it is made from
        self.chars += chars
        problem = _exceeded(self.nodes, self.chars, _FLEET_LIMITS, "a fleet file")
        if problem is not None:
            return LocatedError(
                self.here, f"for_each: the assistants up to row {row.location} have {problem}"
            )
        return None


def _each_key(piece: re.Match[str]) -> str | None:
    """The column a reference names (`${each.KEY}`), or None for any other (already reported by the reader)."""
    name = piece.group(1)
    if name is None or not name.startswith(EACH) or piece.group(2) is not None:
        return None
    return name[len(EACH) :]


def _fill(
    value: Any, loc: Loc, document: Document, row: Row, errors: list[LocatedError], sensitive: set[Loc]
) -> Any:
    """`value` with the row's values for its `${each.KEY}`; where one is a secret, its place goes in
    `sensitive`."""
    if isinstance(value, dict):
        return {k: _fill(v, (*loc, k), document, row, errors, sensitive) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, (*loc, i), document, row, errors, sensitive) for i, v in enumerate(value)]
    if not isinstance(value, str) or loc not in document.deferred:
        return value
    parts = []
    for piece in references(value):  # the reader left `$${` escaped in these strings: it is read here
        if isinstance(piece, str):
            parts.append(piece)
            continue
        key = _each_key(piece)
        if key is None:
            parts.append(piece.group(0))  # a malformed reference, already reported by the reader
            continue
        if key not in row.values:
            known = ", ".join(row.values)
            message = f"${{each.{key}}}: no column {key!r} in the row at {row.location} (columns: {known})"
            errors.append(LocatedError(document.positions.value(loc), message))
        if key in row.secret:
            sensitive.add(loc)
        parts.append(row.values.get(key, ""))
    filled = "".join(parts)
    if loc in document.each and _EACH.fullmatch(value):
        return resolve_plain(filled)
    return filled


def _each_strings(value: Any, loc: Loc, deferred: set[Loc]) -> Iterator[Loc]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _each_strings(v, (*loc, k), deferred)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _each_strings(v, (*loc, i), deferred)
    elif loc in deferred:
        yield loc


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _merged(base: Any, over: Any) -> Any:
    """The extending file's keys first, in its order (its `name` stays on top), then the base's others."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = {key: _merged(base[key], value) if key in base else value for key, value in over.items()}
        out.update((key, value) for key, value in base.items() if key not in over)
        return out
    return over


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _failed(document: Document, *errors: LocatedError) -> Document:
    return Document(None, document.positions, document.sensitive, [*document.errors, *errors])

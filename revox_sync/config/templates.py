"""Templates and fleets: files under `templates/` of the config directory, which other files `extends:`, and
`for_each:`, which makes one assistant per row of a CSV file (`!file rows.csv`, with a header row) or of an
inline list of mappings, `${each.KEY}` standing for the row's KEY in any string.

Merge rule (the extending file over its base): mappings merge key by key, recursively; a scalar or a list in
the extending file replaces the base's; `null` in the extending file sets null (it does not fall back to the
base). A template may extend another; a cycle is an error naming the chain. Every merged value keeps the file
and line it was written at, so an error in an assistant made from a template points into the template; an
error in one made from a row also names the row (`clinics.csv:14`). A value filled from a row is a string,
unless the whole plain scalar was the reference (`speed: ${each.speed}` is a number), as with `${VAR}`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from revox_sync.config.discovery import display_path, is_within
from revox_sync.config.yaml import EACH, Document, Loc, PositionMap, read_document, references, resolve_plain
from revox_sync.errors import LocatedError, Location

TEMPLATES_DIR = "templates"
EXTENDS = "extends"
FOR_EACH = "for_each"
_EACH = re.compile(r"\$\{" + re.escape(EACH) + r"([A-Za-z_][A-Za-z0-9_]*)\}")

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
        if base.data is None or base.errors:
            return _failed(document, *base.errors) if base.errors else document
        return merge(base, document)

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
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*loc, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*loc, i))

    walk(data, ())
    positions = PositionMap(over.positions.path, values, keys, files)
    return Document(data, positions, sensitive, [*base.errors, *over.errors], included, each, deferred)


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
    rows = _rows(document, data.pop(FOR_EACH))
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
                ),
                row,
            )
        )
    return out


def _rows(document: Document, value: Any) -> list[Row] | LocatedError:
    here = document.positions.value((FOR_EACH,))
    if isinstance(value, str):
        return _csv_rows(value, document.included.get((FOR_EACH,)), here)
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
        rows.append(Row(where, {str(k): _text(v) for k, v in item.items()}, secret))
    return rows or LocatedError(here, "for_each: no rows")


def _csv_rows(text: str, path: str | None, here: Location) -> list[Row] | LocatedError:
    import csv
    import io

    shown = path or here.path
    reader = csv.reader(io.StringIO(text))
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
        for record in reader:
            where = Location(shown, reader.line_num)
            if not record:
                continue  # a blank line
            if len(record) != len(columns):
                return LocatedError(
                    where, f"for_each: {len(record)} values for {len(columns)} columns ({', '.join(columns)})"
                )
            if not any(v.strip() for v in record):
                return LocatedError(where, "for_each: an empty row")
            rows.append(Row(where, dict(zip(columns, record, strict=True))))
    except csv.Error as exc:
        return LocatedError(Location(shown, reader.line_num, 1), f"for_each: not a CSV file: {exc}")
    return rows or LocatedError(here, f"for_each: {shown} has no rows")


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
        name = piece.group(1)
        if name is None or not name.startswith(EACH) or piece.group(2) is not None:
            parts.append(piece.group(0))  # a malformed reference, already reported by the reader
            continue
        key = name[len(EACH) :]
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

"""The canonical layout of revox-sync's YAML files, as `revox-sync fmt` writes it and `import` writes new files.

- Assistant files and templates list their top-level keys in the documented order (`<<`, `extends`,
  `for_each`, `name`, `id`, `prompt`, `voice`, the first-sentence fields, then the API's field order; keys it
  does not know keep their place after them). A key moves with the comment lines right above it; the other
  files (`voices.yaml`, `phone_numbers.yaml`, `revox-sync.yaml`) keep their order.
- Quotes only where a reader needs them, and then double quotes: a quoted string that reads the same plain
  (to revox-sync, and to YAML 1.1 tools) loses its quotes; a plain value that a YAML 1.1 tool would misread
  (`on`, `12:30`, `2024-01-01`) gains them; a number written the way YAML 1.1 reads differently (`0777`,
  `0o17`) is written in decimal. A string holding `${` keeps being quoted or plain, because that decides the
  type of what it interpolates to.
- Multi-line text as a literal block (`|`); folded blocks stay folded.
- Two-space indent, list dashes indented by two; one blank line around each top-level block collection,
  runs of blank lines squeezed to one; one final newline; LF line breaks.

Every comment, `!file` tag, `${VAR}` reference, anchor and alias is kept, and `format_text` checks that the
result means exactly what the input meant (same tags, values, mappings and lists) and holds every comment
of the input before returning it: a layout it cannot produce without changing the meaning or losing a
comment is refused, never written.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from revox_sync.config.templates import EXTENDS, FOR_EACH
from revox_sync.config.yaml import MAX_NODES, compose_text, resolve_plain
from revox_sync.errors import LocatedError, Location
from revox_sync.importer.clean import FIELD_ORDER
from revox_sync.importer.style import dump, misread_by_yaml11, reads_plain, styled_str, yaml_writer

# The documented order of an assistant file's (or a template's) top-level keys.
KEY_ORDER: tuple[str, ...] = ("<<", EXTENDS, FOR_EACH, *FIELD_ORDER)
_RANK = {key: rank for rank, key in enumerate(KEY_ORDER)}


def format_text(text: str, *, ordered: bool, shown: str = "<text>") -> str:
    """`text` in the canonical layout; `ordered` sorts the top-level keys (assistant files and templates).

    Raises LocatedError at `shown` when `text` is not one well-formed YAML document, or when no layout
    could keep its meaning."""
    before = compose_text(text, shown)
    text = text.replace("\r\n", "\n")  # YAML reads CRLF as LF; the writer would leave it in comments only
    if before is None:
        return _one_final_newline(text)  # empty, or only comments: nothing to lay out, nothing to lose
    try:
        doc = _reader().load(text)
    except Exception as exc:  # ruamel's round-trip reader is stricter in places (duplicate keys)
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LocatedError(Location(shown, line, col), f"cannot format: {problem}") from None
    doc = _canonical(doc)
    written = dump(yaml_writer(), doc)
    if _means(written, shown) is not None:  # the writer drops what it cannot carry (a `%TAG` directive)
        for candidate in (lay_out(written, ordered=ordered), lay_out(written, ordered=False)):
            if _means(candidate, shown) == meaning(before):
                _keep_comments(text, candidate, shown)
                return candidate
    raise LocatedError(
        Location(shown, 1, 1), "cannot format this file without changing what it means; it was left as it is"
    )


def _keep_comments(text: str, out: str, shown: str) -> None:
    """Raise LocatedError at the first comment of `text` that `out` lost (ruamel's writer drops a few: one
    between two flow mappings of a list, one on a block scalar's indicator line in a list)."""
    kept = Counter(comment for comment, _ in _comments(out))
    for comment, (line, col) in _comments(text):
        if kept[comment] <= 0:
            raise LocatedError(
                Location(shown, line, col),
                "cannot format this file without losing this comment; it was left as it is",
            )
        kept[comment] -= 1


def _comments(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Each comment of well-formed YAML `text` (`#` at a line's start or after a space, outside every
    scalar), stripped, with its 1-based line and column."""
    from bisect import bisect_right

    from ruamel.yaml.events import ScalarEvent

    from revox_sync.config.yaml import _events

    spans = [
        # a block scalar's text starts on the line after its indicator, which may end with a comment
        (
            text.find("\n", e.start_mark.index) if e.style in ("|", ">") else e.start_mark.index,
            e.end_mark.index,
        )
        for e in _events(text)
        if isinstance(e, ScalarEvent)
    ]
    starts = [start for start, _ in spans]  # in order, never overlapping
    found = []
    line, line_start = 1, 0
    for match in _COMMENT_RE.finditer(text):
        at = bisect_right(starts, match.start()) - 1
        if at >= 0 and match.start() < spans[at][1]:
            continue  # a `#` inside a value
        line += text.count("\n", line_start, match.start())
        line_start = text.rfind("\n", 0, match.start()) + 1
        found.append((match.group().rstrip(), (line, match.start() - line_start + 1)))
    return found


_COMMENT_RE = re.compile(r"(?:^|(?<=[ \t]))#[^\n]*", re.MULTILINE)


def _means(text: str, shown: str) -> str | None:
    """What `text` means, or None when it does not read back at all (the writer made a mistake)."""
    try:
        return meaning(compose_text(text, shown))
    except LocatedError:
        return None


# --- values ---------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _reader() -> Any:
    """A round-trip reader that keeps a timestamp as the text it is, as revox-sync reads it."""
    from ruamel.yaml.constructor import RoundTripConstructor

    class Constructor(RoundTripConstructor):
        pass

    Constructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)
    yaml = yaml_writer()
    yaml.Constructor = Constructor
    return yaml


def _canonical(node: Any, flow: bool = False) -> Any:
    """The round-trip tree with every scalar in its canonical style (in place where it is a collection;
    `flow` inside a flow collection). Values are set past ruamel's own `__setitem__`, which would keep a
    string's old quoting."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.compat import ordereddict

    anchor = getattr(node, "anchor", None)
    if anchor is not None and getattr(anchor, "value", None) is not None:
        anchor.always_dump = True  # written even where no alias uses it
    if isinstance(node, (CommentedMap, CommentedSeq)):
        flow = flow or bool(node.fa.flow_style())
    if isinstance(node, CommentedMap):
        for key in list(node.keys()):  # merged keys are not the mapping's own: they stay with their anchor
            if key in node._ok:
                ordereddict.__setitem__(node, key, _canonical(node[key], flow))
    elif isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            list.__setitem__(node, index, _canonical(item, flow))
    return _scalar(node, flow)


def _scalar(value: Any, flow: bool) -> Any:
    from ruamel.yaml.scalarfloat import ScalarFloat
    from ruamel.yaml.scalarint import ScalarInt
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

    anchor = getattr(value, "anchor", None)
    if anchor is not None and getattr(anchor, "value", None) is not None:
        return value  # an anchored value is shared with its aliases: left as written
    if type(value) is str:
        return value if "${" in value or not misread_by_yaml11(value) else DoubleQuotedScalarString(value)
    if isinstance(value, (SingleQuotedScalarString, DoubleQuotedScalarString)):
        text = str(value)
        if "\n" in text:
            return styled_str(text)
        return text if "${" not in text and reads_plain(text, flow) else DoubleQuotedScalarString(text)
    if isinstance(value, (ScalarInt, ScalarFloat)):
        text = _written(
            value
        )  # as ruamel writes it back: YAML 1.1 may read it otherwise, or ruamel lose digits
        if misread_by_yaml11(text) or resolve_plain(text) != value:
            return int(value) if isinstance(value, ScalarInt) else float(value)
    return value


def _written(value: Any) -> str:
    """How the writer writes `value` as a mapping's value."""
    return dump(yaml_writer(), {"v": value})[3:-1]


# --- the top-level layout -----------------------------------------------------------------------------------
@dataclass
class _Entry:
    """One top-level key: the comment lines right above it, its own lines, the lines after it."""

    key: str
    lead: list[str]
    body: list[str]
    tail: list[str]
    after: str | None  # the key it followed, when a blank line separated them
    block: bool  # a non-empty block collection: a blank line before and after it


Span = tuple[str, int, int, bool, int]  # a top-level key's lines: see `_top_level`


def lay_out(text: str, *, ordered: bool = True, spans: list[Span] | None = None) -> str:
    """`text` (a YAML document as ruamel writes it) with its top-level keys in the documented order when
    `ordered`, a blank line around each top-level block collection and at most one blank line elsewhere
    between top-level entries, and one final newline. Lines inside values are never touched. `spans`: what
    `_top_level` would find in `text`, from a caller that knows it without parsing."""
    lines = text.splitlines(keepends=True)
    spans = _top_level(text) if spans is None else spans
    if not spans:
        return _one_final_newline(text)
    header = _squeezed(lines[: spans[0][1]])
    while header and not header[0].strip():
        del header[0]  # the file starts with its first comment or key
    after = "" if header and not header[-1].strip() else None
    _strip_blank_end(header)
    entries: list[_Entry] = []
    lead: list[str] = []
    for index, (key, start, end, block, kept) in enumerate(spans):
        last = index + 1 == len(spans)
        gap = lines[end : len(lines) if last else spans[index + 1][1]]
        cut = len(gap)
        while not last and cut and gap[cut - 1].startswith("#"):
            cut -= 1  # comments at the margin right above the next key go with it
        body = lines[start:end]
        _strip_blank_end(body, kept)  # a block scalar's scanner takes the blank lines after it
        tail = _squeezed(gap[:cut])
        blank = (bool(tail) and not tail[-1].strip()) or len(body) < end - start
        _strip_blank_end(tail)
        entries.append(_Entry(key, lead, body, tail, after, block))
        lead, after = gap[cut:], key if blank else None
    if ordered:
        entries.sort(key=lambda e: _RANK.get(e.key, len(_RANK)))
    out = header
    previous: _Entry | None = None
    for entry in entries:
        # a blank line kept where the key still follows the one it followed; always around a block
        separated = entry.after is not None and entry.after == (previous.key if previous else "")
        if out and (separated or (previous is not None and (entry.block or previous.block))):
            out.append("\n")
        out += entry.lead + entry.body + entry.tail
        previous = entry
    return _one_final_newline("".join(out))


def _strip_blank_end(lines: list[str], keep: int = 0) -> None:
    """Drop the blank lines at the end of `lines` but the last `keep` (content of a `|+` block scalar)."""
    blank = 0
    while blank < len(lines) and lines[-1 - blank] == "\n":  # spaces there are a block scalar's text
        blank += 1
    del lines[len(lines) - blank + min(keep, blank) :]


def _top_level(text: str) -> list[Span]:
    """(key, its first line, the line after its value's last line, whether the value is a block collection,
    how many blank lines at its end are content) of each top-level key of a block mapping, lines 0-based;
    nothing for any other document."""
    from ruamel.yaml.events import MappingEndEvent, MappingStartEvent, ScalarEvent

    from revox_sync.config.yaml import _events

    events = iter(_events(text))
    for event in events:
        if isinstance(event, MappingStartEvent) and not event.flow_style:
            break
        if hasattr(event, "anchor") or isinstance(event, MappingStartEvent):
            return []  # a list, a single value, a flow mapping: nothing to order
    else:
        return []
    found: list[Span] = []
    for event in events:
        if isinstance(event, MappingEndEvent):
            return found
        if not isinstance(event, ScalarEvent):
            return []  # a complex key: left as it is
        start = event.start_mark.line
        found.append((str(event.value), start, *_value_end(events, start + 1)))
    return found


def _value_end(events: Iterator[Any], end: int) -> tuple[int, bool, int]:
    """The line after the last line of the node whose events come next, whether it is a block collection
    (it ends with its last value: its end event sits at the next key), and how many blank lines at its end
    are content (a `|+` block scalar's: the scanner takes the blank lines after any block scalar)."""
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, ScalarEvent

    flows: list[bool] = []
    block = False
    kept = 0
    for event in events:
        if isinstance(event, ScalarEvent):
            value = str(event.value)
            kept = len(value) - len(value.rstrip("\n")) - 1 if event.style in ("|", ">") else 0
        if isinstance(event, CollectionStartEvent):
            block = block or (not flows and not event.flow_style)
            flows.append(bool(event.flow_style))
            continue
        if isinstance(event, CollectionEndEvent):
            if flows.pop():
                end = max(end, _line_after(event.end_mark))
        else:  # a scalar or an alias
            end = max(end, _line_after(event.end_mark))
        if not flows:
            break
    return end, block, max(kept, 0)


def _line_after(mark: Any) -> int:
    return int(mark.line) + (1 if mark.column else 0)


def _squeezed(lines: list[str]) -> list[str]:
    """`lines` with each run of blank lines made one."""
    out: list[str] = []
    for line in lines:
        if line.strip() or not out or out[-1].strip():
            out.append("\n" if not line.strip() else line)
    return out


def _one_final_newline(text: str) -> str:
    return text.rstrip("\n") + "\n" if text.strip() else ""


# --- what a document means ----------------------------------------------------------------------------------
def meaning(root: Any) -> str:
    """A digest of what a composed document means to revox-sync: each scalar's tag and value (a number, a
    boolean or a null by its value, a string with `${` also by whether it is plain), mappings as unordered
    pairs, lists in order. Layout, quoting style, comments and anchor names do not count; shared (aliased)
    nodes are hashed once."""
    memo: dict[int, str] = {}
    budget = [MAX_NODES]

    def digest(node: Any, on_path: frozenset[int]) -> str:
        ident = id(node)
        if ident in memo:
            return memo[ident]
        if ident in on_path:
            return "cycle"
        budget[0] -= 1
        if budget[0] < 0:
            raise LocatedError(
                Location("<text>", 1, 1), f"too many nodes (alias expansion?): more than {MAX_NODES}"
            )
        from revox_sync.config.yaml import _tag

        tag = _tag(node)
        if node.id == "scalar":
            value = node.value
            if tag in _BY_VALUE:  # `~`, an empty value and `null` are one null; `0o17` and `15` one number
                value = repr(resolve_plain(value))
            plain = node.style is None and "${" in value
            parts = ["s", tag, value, str(plain)]
        else:
            inner = on_path | {ident}
            if node.id == "sequence":
                parts = ["l", tag, *(digest(item, inner) for item in node.value)]
            else:
                pairs = sorted(digest(k, inner) + ":" + digest(v, inner) for k, v in node.value)
                parts = ["m", tag, *pairs]
        result = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
        memo[ident] = result
        return result

    return "" if root is None else digest(root, frozenset())


_BY_VALUE = frozenset(f"tag:yaml.org,2002:{name}" for name in ("int", "float", "null", "bool"))

# Files whose top-level keys are not an assistant's: their order is the author's.
UNORDERED_FILES = frozenset(
    {
        "voices.yaml",
        "voices.yml",
        "phone_numbers.yaml",
        "phone_numbers.yml",
        "revox-sync.yaml",
        "revox-sync.yml",
    }
)


def literal_secrets(text: str) -> list[str]:
    """The values a file writes at sensitive fields (`llm_model.api_key`, header values): a diff of the
    file must not show them."""
    from revox_sync.sensitive import secret_values

    try:
        doc = _reader().load(text)
    except Exception:
        return []
    return list(secret_values(doc)) if isinstance(doc, dict) else []

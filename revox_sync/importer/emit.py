"""A plain emitter for new files: the text ruamel's round-trip writer (`style.yaml_writer()`) makes of a new
file's nodes, written directly, for the common shapes only.

ruamel's emitter analyses every scalar character by character in Python; writing `import --all` files with it
took most of the import's time. This one covers block mappings, block and flow lists, and single-line ASCII
scalars, choosing each scalar's style by ruamel's own rules (`Emitter.choose_scalar_style`); for anything else
(comments, literal blocks, non-ASCII text, lines long enough to fold, ...) it answers None and the caller
uses ruamel. tests/test_emit.py holds it to ruamel's output on generated documents.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

# at module level: these run once per node, where an import statement costs more than their work
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

if TYPE_CHECKING:
    from revox_sync.fmt import Span

_NOT_STR_WORDS = frozenset(
    {"null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"}
)  # keys
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASCII_LINE_RE = re.compile(r"[\x20-\x7e]+")
_FLOAT_RE = re.compile(r"-?[0-9]+\.[0-9]+")
_PATH_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
_LONGEST_LINE = 1000  # far below the writer's width (4096): no line is ever folded
FILE_TAG = "!file"


class _Unsupported(Exception):
    """A node this emitter leaves to ruamel."""


def plain_dump(doc: Any) -> str | None:
    """`doc` (a CommentedMap of a new file) as `style.dump(style.yaml_writer(), doc)` writes it, or None."""
    lines: list[str] = []
    try:
        _mapping(doc, 0, lines, "")
    except _Unsupported:
        return None
    return "".join(lines)


def top_level(text: str) -> list[Span]:
    """The top-level keys of `text`, comment lines and then a document `plain_dump` wrote, as
    `fmt._top_level` finds them (key, first line, line after its value, block collection, 0), found without
    parsing: each key starts a line at the margin, all its value holds is on lines indented below it."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if not line.startswith((" ", "#"))]
    ends = [*starts[1:], len(lines)]
    found: list[Span] = []
    for start, end in zip(starts, ends, strict=True):
        key, _, value = lines[start].partition(":")
        found.append((key, start, end, not value, 0))
    return found


def _mapping(node: Any, indent: int, lines: list[str], first: str) -> None:
    """Keys at column `indent`; the first line starts with `first` (a list item's dash) when given."""
    if type(node) is not CommentedMap or _commented(node):
        raise _Unsupported
    for n, (key, value) in enumerate(node.items()):
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key) or key in _NOT_STR_WORDS:
            raise _Unsupported
        lead = first if n == 0 and first else " " * indent
        _entry(f"{lead}{key}:", value, indent, lines)


def _entry(head: str, value: Any, indent: int, lines: list[str]) -> None:
    if isinstance(value, CommentedMap) and value:
        lines.append(head + "\n")
        _mapping(value, indent + 2, lines, "")
    elif isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
        if _commented(value):
            raise _Unsupported
        lines.append(head + "\n")
        for item in value:
            dash = " " * (indent + 2) + "- "
            if isinstance(item, CommentedMap) and item:
                _mapping(item, indent + 4, lines, dash)
            elif isinstance(item, (CommentedMap, CommentedSeq)):
                raise _Unsupported
            else:
                _line(dash + _scalar(item, flow=False), lines)
    else:
        _line(f"{head} {_flow_or_scalar(value)}", lines)


def _flow_or_scalar(value: Any) -> str:
    if isinstance(value, CommentedMap):
        if value or _commented(value):
            raise _Unsupported
        return "{}"
    if isinstance(value, CommentedSeq):
        if _commented(value) or any(isinstance(v, (CommentedMap, CommentedSeq, dict, list)) for v in value):
            raise _Unsupported
        return "[" + ", ".join(_scalar(v, flow=True) for v in value) + "]"
    return _scalar(value, flow=False)


def _line(text: str, lines: list[str]) -> None:
    if len(text) > _LONGEST_LINE:
        raise _Unsupported
    lines.append(text + "\n")


def _commented(node: Any) -> bool:
    ca = getattr(node, "ca", None)
    return ca is not None and bool(ca.comment or ca.items or ca.end)


def _scalar(value: Any, *, flow: bool) -> str:
    """One scalar as ruamel writes it (its style chosen as ruamel chooses it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        shown = repr(value)
        if _FLOAT_RE.fullmatch(shown):
            return shown
        raise _Unsupported
    if isinstance(value, TaggedScalar):
        tag = str(getattr(value.tag, "value", value.tag))
        if tag == FILE_TAG and isinstance(value.value, str) and _PATH_RE.fullmatch(value.value):
            return f"{FILE_TAG} {value.value}"
        raise _Unsupported
    if not isinstance(value, str) or not _ASCII_LINE_RE.fullmatch(value):
        raise _Unsupported  # empty, multi-line or non-ASCII text: ruamel's rules have more cases there
    if type(value) is DoubleQuotedScalarString:
        return _double(value)
    if type(value) is SingleQuotedScalarString:
        if "'" in value:
            raise _Unsupported
        return f"'{value}'"
    if type(value) is not str:
        raise _Unsupported
    if written_plain(value, flow=flow):
        return value
    if "'" in value:
        return _double(value)
    return f"'{value}'"


def _double(value: str) -> str:
    if '"' in value or "\\" in value:
        raise _Unsupported
    return f'"{value}"'


@lru_cache(maxsize=4096)
def written_plain(value: str, *, flow: bool) -> bool:
    """Whether ruamel's writer writes the non-empty string `value` plain as a value (in a flow collection
    when `flow`): it must read back as a string and hold no indicator (`Emitter.analyze_scalar`). Decided
    here for single-line ASCII text that starts with a letter, a digit, `+`, `.`, `-` or an indicator; for
    the rest (`?` or `:` first has more cases than are worth writing down) by ruamel's own analysis."""
    if _resolved(value) != STR_TAG:
        return False
    first = value[0]
    if _ASCII_LINE_RE.fullmatch(value) and (first.isalnum() or first in "+.-#,[]{}&*!|>'\"%@`"):
        if first in "#,[]{}&*!|>'\"%@`" or value.startswith(("---", "...", "- ")) or value == "-":
            return False  # an indicator first
        if value.endswith((" ", ":")) or ": " in value or " #" in value:
            return False
        return not (flow and any(c in value for c in ",[]{}"))
    analysis = _analyser().analyze_scalar(value)
    return bool(analysis.allow_flow_plain if flow else analysis.allow_block_plain)


STR_TAG = "tag:yaml.org,2002:str"


@lru_cache(maxsize=1)
def _resolver() -> tuple[Any, frozenset[Any]]:
    """ruamel's writer's resolver, and the first characters it has implicit tags for (YAML 1.2)."""

    from revox_sync.importer.style import yaml_writer

    resolver = yaml_writer().resolver
    resolver.resolve(ScalarNode, "x", (True, False))  # settles the version it resolves for
    return resolver, frozenset(resolver.versioned_resolver)


@lru_cache(maxsize=1)
def _analyser() -> Any:
    """The emitter of a writer that never writes: its analysis of a scalar decides whether ruamel writes it
    plain."""
    from revox_sync.importer.style import yaml_writer

    return yaml_writer().emitter


def _resolved(value: str) -> str:
    """The tag ruamel's writer resolves a plain scalar to (a plain `+1415...` would be an int); a first
    character no implicit tag starts with is a string without asking."""
    resolver, starts = _resolver()
    if value[0] not in starts and None not in starts:
        return STR_TAG
    return str(resolver.resolve(ScalarNode, value, (True, False)))

"""YAML as a person writes it: the layout of the file it edits, quoting only where a reader needs it (and
wherever a YAML 1.1 tool would misread a value), long text as a literal block, lists of short strings in flow
style. The top-level layout (key order, blank lines) is `revox_sync.fmt`'s."""

from __future__ import annotations

import functools
import io
import itertools
import re
from typing import Any

# at module level: most of these run once per scalar, where an import statement costs more than their work
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from revox_sync.config.yaml import OTHER_BREAKS, plain_tag
from revox_sync.importer.emit import STR_TAG, written_plain
from revox_sync.importer.outcome import Secret

FILE_TAG = "!file"


def yaml_writer(indent: int = 2, offset: int = 2, explicit_start: bool = False) -> Any:
    """A round-trip writer with the given layout: long lines never folded, null written `null`."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=indent, sequence=offset + 2, offset=offset)
    yaml.explicit_start = explicit_start

    def null(representer: Any, _data: Any) -> Any:
        return representer.represent_scalar("tag:yaml.org,2002:null", "null")

    yaml.representer.add_representer(type(None), null)
    return yaml


_OPENING_KEY_RE = re.compile(r"^( *)[^\s#-][^:#]*:\s*(#.*)?$")


def guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, dash offset of block lists) as a file is written, so a rewrite keeps its layout."""
    mapping: int | None = None
    offset: int | None = None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for line, following in itertools.pairwise(lines):
        m = _OPENING_KEY_RE.match(line)
        if not m:
            continue
        depth = len(following) - len(following.lstrip(" ")) - len(m.group(1))
        if following.lstrip(" ").startswith("- "):
            offset = depth if offset is None and depth >= 0 else offset
        elif mapping is None and depth > 0:
            mapping = depth
        if mapping is not None and offset is not None:
            break
    return mapping or 2, 2 if offset is None else offset


def dump(yaml: Any, doc: Any) -> str:
    """`doc` as text, as `yaml` writes it."""
    stream = io.StringIO()
    yaml.dump(doc, stream)
    return stream.getvalue()


def _reads_back(node: Any, text: str) -> bool:
    """Whether a styled string node dumps to YAML that reads back exactly as `text`."""
    try:
        dumped = dump(yaml_writer(), {"v": node})
        ends = "\n...\n" in dumped  # a block of blank lines only: ruamel ends the document after it
        return not ends and bool(_read(dumped) == {"v": text})
    except Exception:
        return False


def styled_str(text: str, like: Any = None, flow: bool = False) -> Any:
    """A string node: the style of `like` when it can carry `text`; multi-line text as a literal block;
    plain where it reads back (inside a flow collection when `flow`), else double-quoted."""
    candidates: list[Any] = []
    if isinstance(like, (SingleQuotedScalarString, DoubleQuotedScalarString)):
        candidates.append(type(like))
    if isinstance(like, FoldedScalarString) and "\n" not in text:
        candidates.append(FoldedScalarString)
    if "\n" in text and not any(brk in text for brk in OTHER_BREAKS):
        candidates.append(LiteralScalarString)  # YAML 1.1 readers would break a block's line at `\u2028`
    for kind in candidates:
        node = kind(text)
        if _reads_back(node, text):
            return node
    if "\n" in text or not reads_plain(text, flow):
        return DoubleQuotedScalarString(text)  # `12:00` or `on` plain is a number or a bool to YAML 1.1 tools
    return text


@functools.lru_cache(maxsize=4096)
def misread_by_yaml11(text: str) -> bool:
    """Whether plain `text` means something else to a YAML 1.1 tool (an old linter, an editor) than to
    revox-sync's YAML 1.2: `on` and `y` (booleans), `12:30` (a number), `2024-01-01` (a date), `0777`
    (octal), `0o17` (a string there)."""
    resolver, starts = _yaml11()
    old = str(resolver.resolve(ScalarNode, text, (True, False))) if text[:1] in starts else STR_TAG
    old = STR_TAG if old == "tag:yaml.org,2002:value" else old
    if old != plain_tag(text) or _CLOCK_RE.fullmatch(text):
        return True
    return old == "tag:yaml.org,2002:int" and bool(_OCTAL11_RE.fullmatch(text))


_OCTAL11_RE = re.compile(r"[-+]?0[0-7_]+")  # octal to YAML 1.1, decimal to YAML 1.2
_CLOCK_RE = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")  # `09:30` too, as `12:30` is a number


@functools.cache
def _yaml11() -> tuple[Any, frozenset[str]]:
    """A YAML 1.1 resolver, made once (making one registers all its patterns again), and the first
    characters it has implicit tags for: text starting with any other is a string."""
    resolver = VersionedResolver(version=(1, 1))
    return resolver, frozenset(resolver.versioned_resolver)


@functools.lru_cache(maxsize=4096)
def reads_plain(text: str, flow: bool = False) -> bool:
    """Whether `text` can be written without quotes (inside a flow collection when `flow`) and read back as
    this string by revox-sync and by YAML 1.1 tools alike."""
    if not text or text != text.strip() or misread_by_yaml11(text) or plain_tag(text) != plain_tag("a"):
        return False
    if _SAFE_PLAIN_RE.fullmatch(text) or (
        not flow and len(text) < _UNFOLDED and _SAFE_BLOCK_PLAIN_RE.fullmatch(text)
    ):
        return True
    in_list, in_map = CommentedSeq([text]), CommentedMap(v=text)
    in_list.fa.set_flow_style()
    in_map.fa.set_flow_style()
    contexts = (
        [(in_list, f"[{text}]\n"), (in_map, f"{{v: {text}}}\n")] if flow else [({"v": text}, f"v: {text}\n")]
    )
    # whether the writer writes it plain: its own verdict, or (text long enough to fold) by writing it
    if len(text) < _UNFOLDED:
        if not written_plain(text, flow=flow):
            return False
    elif any(dump(yaml_writer(), node) != plain for node, plain in contexts):
        return False
    for node, plain in contexts:
        try:
            if _read(plain) != node:
                return False
        except Exception:  # ruamel writes some plain scalars its own reader refuses (`{v: 09:00}`)
            return False
    return True


_UNFOLDED = 4000  # shorter text never reaches the writer's width (4096), where it folds plain scalars


@functools.cache
def _reader() -> Any:
    """A safe reader made once: making one costs more than reading a line with it."""
    return YAML(typ="safe")


def _read(text: str) -> Any:
    """`text` as the safe reader reads it; one that failed halfway is not used again (it keeps state)."""
    try:
        return _reader().load(text)
    except Exception:
        _reader.cache_clear()
        raise


# words: plain in any context, no need to try; sentences too, outside flow collections
_SAFE_PLAIN_RE = re.compile(r"[^\W\d][\w .'/@+()-]*")
_SAFE_BLOCK_PLAIN_RE = re.compile(r"[^\W\d][\w .'/@+()\-,?!;&%$\"]*")


def to_yaml(value: Any, like: Any = None, flow: bool = False) -> Any:
    """Plain data to ruamel nodes: lists of scalars in flow style, secrets as double-quoted placeholders."""
    if isinstance(value, Secret):
        return DoubleQuotedScalarString("${" + value.variable + "}")
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = to_yaml(v)
        return out
    if isinstance(value, list):
        flow = bool(value) and all(isinstance(v, str) and "\n" not in v and len(v) < 60 for v in value)
        seq = CommentedSeq([to_yaml(v, flow=flow) for v in value])
        if flow:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str):
        return styled_str(value, like, flow)
    if isinstance(value, float) and value.is_integer() and type(like) is int:
        return int(value)  # the file wrote a whole number: keep writing it that way
    return value


def tagged(path_text: str) -> Any:
    """A `!file path` node: the loader reads that file's text in its place."""
    return TaggedScalar(value=path_text, tag=FILE_TAG)


def file_tag_path(node: Any) -> str | None:
    """The path of a `!file` node; None for any other node."""
    if isinstance(node, TaggedScalar) and str(getattr(node.tag, "value", node.tag)) == FILE_TAG:
        return str(node.value)
    return None

"""YAML as a person writes it: the layout of the file it edits, quoting only where a reader needs it, long
text as a literal block, lists of short strings in flow style, a blank line around each block."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Mapping
from typing import Any

from revox_sync.importer.outcome import Secret

FILE_TAG = "!file"


def yaml_writer(indent: int = 2, offset: int = 2, explicit_start: bool = False) -> Any:
    """A round-trip writer with the given layout: long lines never folded, null written `null`."""
    from ruamel.yaml import YAML

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
    from ruamel.yaml import YAML

    try:
        dumped = dump(yaml_writer(), {"v": node})
        return bool(YAML(typ="safe").load(dumped) == {"v": text})
    except Exception:
        return False


def styled_str(text: str, like: Any = None) -> Any:
    """A string node: the style of `like` when it can carry `text`; multi-line text as a literal block."""
    from ruamel.yaml.scalarstring import (
        DoubleQuotedScalarString,
        FoldedScalarString,
        LiteralScalarString,
        SingleQuotedScalarString,
    )

    candidates: list[Any] = []
    if isinstance(like, (SingleQuotedScalarString, DoubleQuotedScalarString)):
        candidates.append(type(like))
    if isinstance(like, FoldedScalarString) and "\n" not in text:
        candidates.append(FoldedScalarString)
    if "\n" in text:
        candidates.append(LiteralScalarString)
    for kind in candidates:
        node = kind(text)
        if _reads_back(node, text):
            return node
    if "\n" in text:
        return DoubleQuotedScalarString(text)
    if YAML11_AMBIGUOUS.match(text):
        return DoubleQuotedScalarString(text)  # `12:00` or `on` plain is a number or a bool to YAML 1.1 tools
    return text


# Plain scalars that YAML 1.2 reads as strings but YAML 1.1 tools (old linters, editors) do not.
YAML11_AMBIGUOUS = re.compile(
    r"^([-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$"
)


def to_yaml(value: Any, like: Any = None) -> Any:
    """Plain data to ruamel nodes: lists of scalars in flow style, secrets as double-quoted placeholders."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, Secret):
        return DoubleQuotedScalarString("${" + value.variable + "}")
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = to_yaml(v)
        return out
    if isinstance(value, list):
        seq = CommentedSeq([to_yaml(v) for v in value])
        if value and all(isinstance(v, str) and "\n" not in v and len(v) < 60 for v in value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str):
        return styled_str(value, like)
    if isinstance(value, float) and value.is_integer() and type(like) is int:
        return int(value)  # the file wrote a whole number: keep writing it that way
    return value


def tagged(path_text: str) -> Any:
    """A `!file path` node: the loader reads that file's text in its place."""
    from ruamel.yaml.comments import TaggedScalar

    return TaggedScalar(value=path_text, tag=FILE_TAG)


def file_tag_path(node: Any) -> str | None:
    """The path of a `!file` node; None for any other node."""
    from ruamel.yaml.comments import TaggedScalar

    if isinstance(node, TaggedScalar) and str(getattr(node.tag, "value", node.tag)) == FILE_TAG:
        return str(node.value)
    return None


def blank_lines_between_groups(text: str, doc: Mapping[str, Any]) -> str:
    """A blank line before and after each top-level block collection, as a person lays out a file."""
    block = {
        k
        for k, v in doc.items()
        if isinstance(v, (dict, list)) and v and not (hasattr(v, "fa") and v.fa.flow_style())
    }
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    previous_block = False
    key_re = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):")
    for line in lines:
        m = key_re.match(line)
        if m:
            is_block = m.group(1) in block
            if out and (is_block or previous_block) and out[-1].strip():
                out.append("\n")
            previous_block = is_block
        out.append(line)
    return "".join(out)

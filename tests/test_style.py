"""Plain or quoted: `reads_plain` and `misread_by_yaml11` decide as writing the text and reading it back would,
though they skip the writing (and most of the reading) for most text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from revox_sync.config.yaml import plain_tag
from revox_sync.importer.emit import written_plain
from revox_sync.importer.style import (
    _CLOCK_RE,
    _OCTAL11_RE,
    dump,
    misread_by_yaml11,
    reads_plain,
    yaml_writer,
)

PIECES = st.sampled_from(
    [
        *"aZé_09 .,?!;:#-'\"&*%$@`|>[]{}()/+=~<\\\t",
        "\u2028",
        "\x85",
        "\ufeff",
        "\xa0",
        "\U0001f600",
        ": ",
        " #",
        "- ",
        "? ",
        "---",
        "...",
        "yes",
        "No",
        "on",
        "null",
        "True",
        "~",
        "12:30",
        "09:00",
        "2024-01-01",
        "0777",
        "0o17",
        "0x1F",
        "1e3",
        ".inf",
        "<<",
        "=",
        "+1415",
    ]
)
TEXT = st.lists(PIECES, min_size=1, max_size=8).map("".join)


def misread_with_a_resolver_each_time(text: str) -> bool:
    """`misread_by_yaml11` asking a YAML 1.1 resolver of its own about every text."""
    old = str(VersionedResolver(version=(1, 1)).resolve(ScalarNode, text, (True, False)))
    old = "tag:yaml.org,2002:str" if old == "tag:yaml.org,2002:value" else old
    if old != plain_tag(text) or _CLOCK_RE.fullmatch(text):
        return True
    return old == "tag:yaml.org,2002:int" and bool(_OCTAL11_RE.fullmatch(text))


def plain_by_writing(text: str, flow: bool) -> bool:
    """Plain where the writer writes it plain and it reads back as this string, to YAML 1.1 tools too."""
    if not text or text != text.strip() or misread_by_yaml11(text) or plain_tag(text) != plain_tag("a"):
        return False
    in_list, in_map = CommentedSeq([text]), CommentedMap(v=text)
    in_list.fa.set_flow_style()
    in_map.fa.set_flow_style()
    contexts = (
        [(in_list, f"[{text}]\n"), (in_map, f"{{v: {text}}}\n")] if flow else [({"v": text}, f"v: {text}\n")]
    )
    for node, plain in contexts:
        written = dump(yaml_writer(), node)
        try:
            if written != plain or YAML(typ="safe").load(written) != node:
                return False
        except Exception:
            return False
    return True


@settings(max_examples=600)
@given(TEXT, st.booleans())
def test_reads_plain_decides_as_writing_and_reading_back(text: str, flow: bool) -> None:
    assert reads_plain(text, flow) == plain_by_writing(text, flow)


@settings(max_examples=300)
@given(TEXT)
def test_misread_by_yaml11_is_what_a_yaml_1_1_resolver_says(text: str) -> None:
    assert misread_by_yaml11(text) == misread_with_a_resolver_each_time(text)


@settings(max_examples=600)
@given(TEXT, st.booleans())
def test_written_plain_is_the_writers_choice(text: str, flow: bool) -> None:
    inside = CommentedSeq([text]) if flow else {"v": text}
    if flow:
        inside.fa.set_flow_style()
    written = dump(yaml_writer(), inside)
    assert written_plain(text, flow=flow) == (written == (f"[{text}]\n" if flow else f"v: {text}\n"))


def test_long_text_is_decided_by_writing_it() -> None:
    for text in (
        "word, " * 900 + "end",
        "x" * 4100 + ", y",
        "y, " + "x" * 4100,
        "x" * 4100 + "?",
    ):  # past the width
        assert reads_plain(text) == plain_by_writing(text, False)

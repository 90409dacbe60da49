"""The plain emitter writes exactly what ruamel's round-trip writer writes, wherever it writes anything."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from revox_sync.fmt import lay_out
from revox_sync.importer.create import HEADER
from revox_sync.importer.emit import plain_dump, top_level
from revox_sync.importer.style import dump, tagged, to_yaml, yaml_writer

TRICKY = st.sampled_from(
    [
        "a: b",
        "a #b",
        "a#b",
        "ends:",
        "x, y",
        "[x]",
        "{x}",
        "it's",
        'say "hi"',
        "back\\slash",
        "null",
        "True",
        "FALSE",
        "yes",
        "on",
        "12:00",
        "0x1F",
        "1e3",
        "-x",
        "- x",
        "?x",
        "? x",
        ":x",
        "#x",
        "&x",
        "*x",
        "!x",
        "|x",
        ">x",
        "'x",
        "%x",
        "@x",
        "`x",
        "---",
        "...",
        "a  b",
        "trailing ",
        " leading",
        "tab\there",
        "é",
        "",
        "+14155550142",
        "2024-01-01",
        ".inf",
        "~",
        "a:b",
        "a?b",
        "multi\nline",
        "x" * 1100,
    ]
)
TEXT = st.one_of(TRICKY, st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12))
KEYS = st.sampled_from(["name", "prompt", "voice", "id", "label", "phone_number", "x_1", "null", "on"])
SCALARS = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False, width=32))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=400)
@given(st.dictionaries(KEYS, VALUES, min_size=1, max_size=6), st.booleans())
def test_the_plain_emitter_writes_what_ruamel_writes(data: dict[str, Any], with_file: bool) -> None:
    doc = to_yaml(data)
    if with_file:
        doc["prompt"] = tagged("prompts/agent-01.md")
    mine = plain_dump(doc)
    if mine is not None:
        assert mine == dump(yaml_writer(), doc)
        assert lay_out(HEADER + mine, spans=top_level(HEADER + mine)) == lay_out(HEADER + mine)


def test_a_typical_new_file_is_written_by_the_plain_emitter() -> None:
    doc = to_yaml(
        {
            "name": "Assistant 0001",
            "id": "asst_1",
            "voice": {"provider": "cartesia", "id": "voice-1", "speed": 1.05},
            "call_retry_config": {"calling_windows": [{"calling_window_start_time": "09:00"}]},
            "structured_output_config": [{"name": "budget", "enum_options": ["low", "high"]}],
            "transfer_destinations": [{"label": "Front desk", "phone_number": "+14155550142"}],
            "faq_items": [{"question": "Price #1?", "answer": "It's ten."}],
        }
    )
    doc.insert(2, "prompt", tagged("prompts/assistant-0001.md"))
    assert plain_dump(doc) == dump(yaml_writer(), doc)
    assert plain_dump(doc) is not None

"""What a plan of thousands keeps in memory changed; what it computes must not have. The configuration's
fingerprints, now hashed one object at a time, equal the fingerprint of the whole sorted list; a plan
keeps only shallow positions, yet still points at a name, an id and `voice.clone` exactly."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import API_KEY, client, emulator  # noqa: F401  (fixtures)
from helpers import write
from hypothesis import given, settings
from hypothesis import strategies as st

from revox_sync.engine.change import Desired
from revox_sync.engine.kind import LoadContext
from revox_sync.engine.plan import config_fingerprints
from revox_sync.kinds.assistant.kind import KIND as ASSISTANTS


def _reference(desired: list[Desired], key: bytes) -> tuple[str, str]:
    """The definition, the slow way: each list made whole, sorted as strings, encoded, then hashed."""

    def encode(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)

    def blank(value: Any, loc: tuple[Any, ...], secret: frozenset[Any]) -> Any:
        if loc in secret:
            return "(sensitive)"
        if isinstance(value, dict):
            return {k: blank(v, (*loc, k), secret) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v, (*loc, i), secret) for i, v in enumerate(value)]
        return value

    shown = sorted(encode([d.kind, d.name, d.id, blank(d.data, (), d.sensitive)]) for d in desired)
    whole = sorted(encode([d.kind, d.name, d.data]) for d in desired)
    return (
        hashlib.sha256(("[" + ",".join(shown) + "]").encode()).hexdigest()[:20],
        hmac.new(key, ("[" + ",".join(whole) + "]").encode(), hashlib.sha256).hexdigest()[:20],
    )


# names that JSON escapes, that share prefixes, and that sort differently encoded than raw
NAMES = st.text(
    alphabet=st.sampled_from(["a", "b", '"', "\\", " ", "é", "\n", "\x01", "😀", ",", "]"]), max_size=6
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["assistant", "voice", "phone_number"]),
            NAMES,
            st.one_of(st.none(), st.text(max_size=3)),
            st.dictionaries(st.sampled_from(["prompt", "api_key", "n"]), st.one_of(NAMES, st.integers())),
            st.booleans(),
        ),
        max_size=8,
    ),
)
def test_streamed_fingerprints_equal_the_sorted_whole(objects: list[tuple[Any, ...]]) -> None:
    desired = [
        Desired(kind, name, data, id=id_, sensitive=frozenset({("api_key",)}) if secret else frozenset())
        for kind, name, id_, data, secret in objects
    ]
    assert config_fingerprints(desired, b"key")[:2] == _reference(desired, b"key")


def test_a_plan_keeps_shallow_positions_that_still_point_exactly(tmp_path: Path) -> None:
    write(
        tmp_path / "a.yaml",
        "name: A\nid: asst_1\nvoice:\n  clone: Narrator\nfaq_items:\n  - question: Q?\n    answer: An answer.\n",
    )
    (d,) = ASSISTANTS.load(LoadContext(tmp_path)).desired
    positions = d.source.positions
    assert (d.name_location.line, d.name_location.col) == (1, 7)
    assert d.id_location is not None and d.id_location.line == 2
    assert (positions.value(("voice", "clone")).line, positions.value(("voice", "clone")).col) == (4, 10)
    assert positions.value(("faq_items", 0)).line == 6
    assert ("faq_items", 0, "answer") not in positions.values  # dropped: below two levels
    assert positions.value(("faq_items", 0, "answer")).line == 6  # its nearest ancestor


def test_a_reply_lets_go_of_its_bytes_once_read_as_text_and_keeps_bytes_it_cannot_read() -> None:
    import httpx

    from revox_sync.client import Reply

    reply = Reply(200, httpx.Headers(), bytearray('{"name": "Café"}'.encode()))
    assert reply.take_text() == '{"name": "Café"}'
    assert reply.content == b""  # the listing is not held twice while it is parsed
    broken = Reply(200, httpx.Headers(), b"\xff\xfe")
    with pytest.raises(UnicodeDecodeError):
        broken.take_text()
    assert broken.content == b"\xff\xfe"  # what an error message quotes is still there

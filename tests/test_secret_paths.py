"""The secret-path trie that `secret_values` and `redact` follow gives what testing `is_secret` at every
node gives (the definition), for any data and any paths that came from sensitive variables."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from revox_sync.engine.change import redact
from revox_sync.sensitive import SENSITIVE, is_secret, secret_values

KEYS = st.sampled_from(["llm_model", "api_key", "custom_tools", "headers", "value", "key", "*", "x"])
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)
PATHS = st.lists(st.one_of(KEYS, st.integers(0, 2)), max_size=5).map(tuple)


def every_secret(value: Any, loc: tuple[Any, ...], variables: frozenset[Any]) -> list[str]:
    if is_secret(loc, variables):
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value)
        return [str(value)] if ok else []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in every_secret(v, (*loc, k), variables)]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in every_secret(v, (*loc, i), variables)]
    return []


def blanked(value: Any, loc: tuple[Any, ...], variables: frozenset[Any]) -> Any:
    if is_secret(loc, variables):
        return SENSITIVE if value is not None else value
    if isinstance(value, dict):
        return {k: blanked(v, (*loc, k), variables) for k, v in value.items()}
    if isinstance(value, list):
        return [blanked(v, (*loc, i), variables) for i, v in enumerate(value)]
    return value


@given(VALUES, PATHS, st.frozensets(PATHS, max_size=3))
def test_the_trie_finds_what_is_secret_finds(
    value: Any, loc: tuple[Any, ...], variables: frozenset[Any]
) -> None:
    assert list(secret_values(value, loc, variables)) == every_secret(value, loc, variables)
    assert redact(loc, value, variables) == blanked(value, loc, variables)

"""What a file holds of a remote assistant: no server-owned or unknown keys, and only the values (top level
and nested) that differ from the API's defaults, because an omitted field or sub-field means the default."""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from typing import Any

from revox_sync.kinds.assistant import normalize
from revox_sync.kinds.assistant.fields import NOT_NULLABLE, SERVER_OWNED_FIELDS
from revox_sync.kinds.assistant.shape import ASSISTANT_FIELDS

Loc = tuple[str | int, ...]

# --- the API's top-level defaults: the one place they are written down ---------------------------------------
# A field whose remote value equals its default here (compared in canonical form) is left out of the file.
# Every field not listed defaults to null (which compares equal to [] for list fields).
API_DEFAULTS: dict[str, Any] = {
    "first_sentence_delay_ms": 400,
    "first_sentence_mode": "generated",
    "ivr_navigation_enabled": False,
    "llm_model": {"type": "dedicated-instance", "name": "gpt-4.1"},
    "max_call_duration_secs": 600,
    "sms_enabled": False,
    "stt_model": "stt-rt-v5",
    "background_sound": None,
    "background_sound_volume": 0.5,
    "thinking_sound": None,
    "thinking_sound_probability": 0.5,
    "thinking_sound_volume": 0.5,
    "type": "standalone",
    "call_retry_config": {},  # every nested default
}

# Key order of a new file: identity, what the assistant says, then the spec's own order.
LEADING_FIELDS = (
    "name",
    "id",
    "prompt",
    "voice",
    "first_sentence",
    "first_sentence_mode",
    "first_sentence_delay_ms",
)
FIELD_ORDER: tuple[str, ...] = LEADING_FIELDS + tuple(f for f in ASSISTANT_FIELDS if f not in LEADING_FIELDS)
ALWAYS_WRITTEN = frozenset({"name", "prompt"})


def is_default(field_name: str, value: Any) -> bool:
    return bool(normalize.canonical(field_name, value) == _default_form(field_name))


@functools.cache
def _default_form(field_name: str) -> Any:
    """The canonical form of a field's default, made once per field (only ever compared, never changed)."""
    return normalize.canonical(field_name, API_DEFAULTS.get(field_name))


def get_at(value: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        value = value[part]
    return value


def set_at(top: Any, path: Sequence[str | int], value: Any) -> Any:
    """`top` with the value at `path` replaced (in place below the top; the new top is returned)."""
    if not path:
        return value
    get_at(top, path[:-1])[path[-1]] = value
    return top


class _Probe:
    """A value no model field accepts: setting a key to it shows whether the canonical form knows the key."""


# --- turning a remote value into the form a file holds -------------------------------------------------------
class Canon:
    """Canonical comparisons of one top-level field while its value is edited in place."""

    def __init__(self, field_name: str, top: Any) -> None:
        self.field = field_name
        self.top = top
        self._before: dict[Any, Any] | None = None  # during `prune`: the forms it keeps unchanged

    def _unchanged_form(self, path: Loc) -> Any:
        """The form before an edit at `path`. `prune` only deletes what leaves the form as it was, so while
        it runs each form is made once."""
        if self._before is None:
            return self.form(path)
        scope = path[0] if path and isinstance(self.top, list) else None
        if scope not in self._before:
            self._before[scope] = self.form(path)
        return self._before[scope]

    def form(self, path: Loc = ()) -> Any:
        """The canonical form of what an edit at `path` can change: the one list item it is in (see
        `normalize.canonical_item`), else the whole field."""
        if path and isinstance(self.top, list) and isinstance(path[0], int):
            return normalize.canonical_item(self.field, self.top[path[0]])
        return normalize.canonical(self.field, self.top)

    def same_with(self, path: Loc, value: Any) -> bool:
        """Whether the canonical form stays the same with the value at `path` replaced by `value`."""
        before = self._unchanged_form(path)
        return bool(self._form_with(path, value, path) == before)

    def same_without(self, path: Loc) -> bool:
        """Whether the canonical form stays the same without the key at `path`: a copy of the mapping that
        holds it, less that key, stands in for it (the mapping itself, and its key order, stay as they are)."""
        before = self._unchanged_form(path)
        at, key = path[:-1], path[-1]
        without = {k: v for k, v in get_at(self.top, at).items() if k != key}
        return bool(self._form_with(at, without, path) == before)

    def _form_with(self, at: Loc, node: Any, path: Loc) -> Any:
        """`form(path)` with `node` in place of the value at `at` (put back after)."""
        if len(at) == 1 and isinstance(self.top, list) and isinstance(at[0], int):
            return normalize.canonical_item(self.field, node)  # the one item `form` reads
        if not at:
            top, self.top = self.top, node
            try:
                return self.form(path)
            finally:
                self.top = top
        holder = get_at(self.top, at[:-1])
        old = holder[at[-1]]
        holder[at[-1]] = node
        try:
            return self.form(path)
        finally:
            holder[at[-1]] = old

    def prune(self, path: Loc, *, defaults: bool) -> None:
        """Drop, under `path`, keys the model does not know and (with `defaults`) keys equal to the default."""
        self._before = {}
        try:
            self._prune(path, defaults=defaults)
        finally:
            self._before = None

    def _prune(self, path: Loc, *, defaults: bool) -> None:
        node = get_at(self.top, path) if path else self.top
        if isinstance(node, dict):
            for key in list(node):
                sub = (*path, key)
                if self.same_without(sub) and (defaults or self.same_with(sub, _Probe())):
                    del node[key]
                else:
                    self._prune(sub, defaults=defaults)
        elif isinstance(node, list):
            for index in range(len(node)):
                self._prune((*path, index), defaults=defaults)


def clean_value(field_name: str, value: Any, *, with_defaults: bool) -> Any:
    """A remote top-level value as a file holds it: no server-owned or unknown keys, no default sub-fields."""
    value = _copied(value)
    if field_name == "faq_items" and isinstance(value, list):
        value = [i for i in value if not normalize.is_suggestion(i)]
    canon = Canon(field_name, value)
    if isinstance(value, (dict, list)):
        canon.prune((), defaults=not with_defaults)
    return canon.top


def _copied(value: Any) -> Any:
    """A deep copy of JSON data (what `copy.deepcopy` makes of it, in a fraction of the time)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value if value is None or isinstance(value, (str, int, float)) else copy.deepcopy(value)


def wanted_fields(remote: dict[str, Any], *, with_defaults: bool, unknown: set[str]) -> dict[str, Any]:
    """Every top-level field the file should manage, in file form (before secrets and escapes); the remote
    keys this version does not know are added to `unknown`."""
    for key in remote:
        if key not in ASSISTANT_FIELDS and key not in SERVER_OWNED_FIELDS:
            unknown.add(key)
    out: dict[str, Any] = {}
    for name in FIELD_ORDER:
        if name == "id" or name not in remote:
            continue
        value = remote[name]
        if value is None and name in NOT_NULLABLE:
            continue
        if name not in ALWAYS_WRITTEN and not with_defaults and is_default(name, value):
            continue
        out[name] = clean_value(name, value, with_defaults=with_defaults)
    return out

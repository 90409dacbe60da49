"""Field-level changes between two canonical assistants: a pure function of two states."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from revox_sync import normalize, spec
from revox_sync.sensitive import SENSITIVE, is_secret


class _Absent:
    """Marks the side of a change where a key or list item does not exist."""

    def __repr__(self) -> str:
        return "(none)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class FieldChange:
    """One leaf that differs. `before`/`after` are canonical values, or ABSENT for an added/removed item."""

    path: str
    before: Any
    after: Any
    sensitive: bool = False

    @property
    def is_text(self) -> bool:
        """Long or multi-line text is shown as a line diff, not two walls of text."""
        texts = [v for v in (self.before, self.after) if v is not ABSENT and v is not None]
        return all(isinstance(v, str) for v in texts) and any("\n" in v or len(v) > 120 for v in texts)

    def text_diff(self) -> list[str]:
        """The unified diff of the changed lines (no file headers)."""
        lines = difflib.unified_diff(
            str(self.before).splitlines(), str(self.after).splitlines(), lineterm="", n=1
        )
        return [line for line in lines if not line.startswith(("---", "+++"))]

    def line_counts(self) -> tuple[int, int]:
        added = removed = 0
        for line in self.text_diff():
            if line.startswith("+"):
                added += 1
            elif line.startswith("-"):
                removed += 1
        return added, removed


def diff_fields(
    desired: dict[str, Any],
    remote: dict[str, Any],
    sensitive_paths: Iterable[spec.Loc] = (),
) -> tuple[list[str], list[FieldChange]]:
    """The top-level fields that differ, and every leaf change under them.

    Both sides must be canonical (`normalize.canonical_assistant`) over the same managed fields.
    """
    secret = frozenset(_positional(p) for p in sensitive_paths)
    fields = [f for f in desired if f not in remote or desired[f] != remote[f]]
    changes: list[FieldChange] = []
    for field in fields:
        changes.extend(_walk((field,), remote.get(field, ABSENT), desired[field], secret))
    return fields, changes


def _positional(path: spec.Loc) -> spec.Loc:
    """Canonical forms sort unordered lists, so a file's item index means nothing there: a secret in one
    item marks the whole list."""
    for i, part in enumerate(path):
        if isinstance(part, int) and normalize.rule_for(path[:i]).unordered:
            return path[:i]
    return path


def redact(loc: spec.Loc, value: Any, secret: frozenset[spec.Loc]) -> Any:
    """`value` with every sensitive leaf under `loc` replaced by SENSITIVE."""
    if is_secret(loc, secret):
        return SENSITIVE if value is not ABSENT and value is not None else value
    if isinstance(value, dict):
        return {k: redact((*loc, k), v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [redact((*loc, i), v, secret) for i, v in enumerate(value)]
    return value


def _walk(loc: spec.Loc, before: Any, after: Any, secret: frozenset[spec.Loc]) -> Iterator[FieldChange]:
    if before == after or (before is ABSENT and after is None and len(loc) > 1):
        return  # a new object's null sub-fields say nothing, as Terraform leaves them out
    if before is ABSENT and isinstance(after, dict) and after:
        before = {}  # a new object is shown leaf by leaf, as Terraform shows a new resource
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*after, *(k for k in before if k not in after)]:
            yield from _walk((*loc, key), before.get(key, ABSENT), after.get(key, ABSENT), secret)
        return
    rule = normalize.rule_for(loc)
    if before is ABSENT and isinstance(after, list) and any(isinstance(v, dict) for v in after):
        before = []
    if isinstance(before, list) and isinstance(after, list) and rule.key:
        yield from _walk_keyed(loc, before, after, rule.key, secret)
        return
    if (
        isinstance(before, list)
        and isinstance(after, list)
        and (len(before) == len(after) or not before)
        and not rule.unordered
        and any(isinstance(v, (dict, list)) for v in after)
    ):
        for i, a in enumerate(after):
            yield from _walk((*loc, i), before[i] if before else ABSENT, a, secret)
        return
    if is_secret(loc, secret):
        yield FieldChange(spec.dotted(loc), before, after, sensitive=True)
    else:
        yield FieldChange(spec.dotted(loc), redact(loc, before, secret), redact(loc, after, secret))


def _walk_keyed(
    loc: spec.Loc, before: list[Any], after: list[Any], key: str, secret: frozenset[spec.Loc]
) -> Iterator[FieldChange]:
    """Match items by their natural key, so an insertion is one added item, not a cascade."""
    old = {_key(item, key): (i, item) for i, item in enumerate(before)}
    new = {_key(item, key): (i, item) for i, item in enumerate(after)}
    for name, (i, item) in new.items():
        item_loc = (*loc, i)
        label = _item_label(loc, name) if name is not None else spec.dotted(item_loc)
        if name not in old and old:
            yield FieldChange(label, ABSENT, redact(item_loc, item, secret))
            continue
        # a new list shows each item leaf by leaf; a kept item shows what changed in it
        for change in _walk(item_loc, old[name][1] if name in old else ABSENT, item, secret):
            yield _relabel(change, item_loc, label)
    for name, (i, item) in old.items():
        if name not in new:
            label = _item_label(loc, name)
            yield FieldChange(label, redact((*loc, i), item, secret), ABSENT)
    if not normalize.rule_for(loc).unordered and [k for k in new if k in old] != [k for k in old if k in new]:
        yield FieldChange(f"{spec.dotted(loc)} (order)", list(old), list(new))


def _relabel(change: FieldChange, item_loc: spec.Loc, label: str) -> FieldChange:
    """A change inside a keyed item, with the item's index replaced by its natural key."""
    path = label + change.path[len(spec.dotted(item_loc)) :]
    return FieldChange(path, change.before, change.after, change.sensitive)


def _item_label(loc: spec.Loc, name: Any) -> str:
    return f"{spec.dotted(loc)}[{json.dumps(name, ensure_ascii=False)}]"


def _key(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else item

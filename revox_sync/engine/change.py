"""Field-level changes between two canonical objects of any kind: a pure function of two states.

A kind says how its fields compare through a table of `Rule`s (which lists are sets, which are keyed by a
natural key): the diff walks both values and asks `rules(loc)` where it matters."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from revox_sync.errors import Location
from revox_sync.sensitive import (
    Source,
    is_secret,
    replace_secrets,
    secret_cursor,
    secret_names,
    shown_as,
    shown_inline,
)

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Rule:
    """How one field compares. `key`: the natural key of a list's items (diffs match items by it)."""

    time: bool = False  # '6pm' == '18:00'
    unordered: bool = False  # a set: order carries no meaning
    key: str | None = None
    null_is_empty: bool = False  # null and [] mean the same to the API
    only: tuple[str, ...] | None = None  # compare only these keys of each item
    drop_suggestions: bool = False  # server-suggested items are not desired state
    order: tuple[str, ...] = ()  # the natural order to show an unordered list in (weekdays)
    casefold: bool = False  # keys equal but for case are the same key (HTTP header names)


KNOWN_AFTER_APPLY = "(known after apply)"
NO_RULE = Rule()
Rules = Callable[[Loc], Rule]


def no_rules(_loc: Loc) -> Rule:
    return NO_RULE


def dotted(loc: Loc) -> str:
    """('voice', 'speed') -> 'voice.speed'; ('faq_items', 2, 'answer') -> 'faq_items[2].answer'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Absent:
    """Marks the side of a change where a key or list item does not exist."""

    def __repr__(self) -> str:
        return "(none)"


ABSENT: Any = _Absent()


# An unchanged secret listed beside a changed value of its object: the API gets the object whole, so the
# secret goes wherever the change sends it (a key to a new `api_url`, a header to a new tool `url`).
RESENT = "unchanged, sent with the values changed beside it"


@dataclass(frozen=True)
class FieldChange:
    """One leaf that differs. `before`/`after` are canonical values, or ABSENT for an added/removed item.
    A sensitive value prints as SENSITIVE unless it is `Shown`, what it prints as."""

    path: str
    before: Any
    after: Any
    sensitive: bool = False
    note: str = ""  # said after the value (a route to an assistant this plan creates)
    # a text holding the values of these sensitive variables: shown once each is blanked where it stands
    # (`Plan.redacted`, which knows the values), sensitive until then
    inline: tuple[str, ...] = ()

    @property
    def resent(self) -> bool:
        """An unchanged secret, listed because it travels with a change of its object (RESENT)."""
        return self.note == RESENT

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


Sources = Mapping[Loc, Source]  # the variables each desired value was made from, by its path


def diff_fields(
    desired: dict[str, Any],
    remote: dict[str, Any],
    sensitive_paths: Iterable[Loc] = (),
    rules: Rules = no_rules,
    sources: Sources | None = None,
) -> tuple[list[str], list[FieldChange]]:
    """The top-level fields that differ, and every leaf change under them.

    Both sides must be canonical (the kind's own canonical form) over the same managed fields. A desired
    secret is shown as the variables it came from (`sources`); a remote one is blanked.
    """
    secret = frozenset(_positional(p, rules) for p in sensitive_paths)
    # in a sorted list an item's place is not the file's: no value there is named from the file's places
    sources = {p: s for p, s in (sources or {}).items() if _positional(p, rules) == p}
    fields = [f for f in desired if f not in remote or desired[f] != remote[f]]
    changes: list[FieldChange] = []
    for name in fields:
        changes.extend(_walk((name,), remote.get(name, ABSENT), desired[name], secret, rules, sources))
    return fields, changes


def _positional(path: Loc, rules: Rules) -> Loc:
    """Canonical forms sort unordered lists, so a file's item index means nothing there: a secret in one
    item marks the whole list."""
    for i, part in enumerate(path):
        if isinstance(part, int) and rules(path[:i]).unordered:
            return path[:i]
    return path


def redact(loc: Loc, value: Any, secret: frozenset[Loc], sources: Sources | None = None) -> Any:
    """`value` with every sensitive leaf under `loc` replaced by what it is shown as (SENSITIVE, or the
    variables `sources` says it came from); a part with none is not copied."""
    known = sources or {}
    return replace_secrets(
        value,
        secret_cursor(loc, secret),
        lambda v, at: _shown(at, known) if v is not ABSENT and v is not None else v,
        loc,
    )


def _shown(loc: Loc, sources: Sources) -> str:
    return shown_as(secret_names(loc, sources.get(loc)))


def _walk(
    loc: Loc, before: Any, after: Any, secret: frozenset[Loc], rules: Rules, sources: Sources
) -> Iterator[FieldChange]:
    if before == after or (before is ABSENT and after is None and len(loc) > 1):
        return  # a new object's null sub-fields say nothing, as Terraform leaves them out
    if before is ABSENT and isinstance(after, dict) and after:
        before = {}  # a new object is shown leaf by leaf, as Terraform shows a new resource
    if isinstance(before, dict) and isinstance(after, dict):
        changed = False
        for key in [*after, *(k for k in before if k not in after)]:
            for change in _walk(
                (*loc, key), before.get(key, ABSENT), after.get(key, ABSENT), secret, rules, sources
            ):
                changed = True
                yield change
        if changed:
            yield from _resent(loc, before, after, secret, rules, sources)
        return
    rule = rules(loc)
    if before is ABSENT and isinstance(after, list) and any(isinstance(v, dict) for v in after):
        before = []
    if isinstance(before, list) and isinstance(after, list) and rule.key:
        yield from _walk_keyed(loc, before, after, rule.key, secret, rules, sources)
        return
    if (
        isinstance(before, list)
        and isinstance(after, list)
        and (len(before) == len(after) or not before)
        and not rule.unordered
        and any(isinstance(v, (dict, list)) for v in after)
    ):
        for i, a in enumerate(after):
            yield from _walk((*loc, i), before[i] if before else ABSENT, a, secret, rules, sources)
        return
    if not is_secret(loc, secret):
        yield FieldChange(dotted(loc), redact(loc, before, secret), redact(loc, after, secret, sources))
    elif shown_inline(loc, sources.get(loc)):
        yield FieldChange(
            dotted(loc), before, after, sensitive=True, inline=secret_names(loc, sources.get(loc))
        )
    else:
        yield FieldChange(dotted(loc), before, _shown(loc, sources), sensitive=True)


def _resent(
    loc: Loc,
    before: dict[str, Any],
    after: dict[str, Any],
    secret: frozenset[Loc],
    rules: Rules,
    sources: Sources,
) -> Iterator[FieldChange]:
    """The secrets an object keeps while other values of it change (RESENT): each as a change from what it
    is shown as to the same."""
    for key, value in after.items():
        if key in before and before[key] == value and secret_cursor((*loc, key), secret):  # a secret below
            for change in _walk((*loc, key), ABSENT, value, secret, rules, sources):
                if change.sensitive:
                    yield replace(change, before=change.after, note=RESENT)


def _walk_keyed(
    loc: Loc,
    before: list[Any],
    after: list[Any],
    key: str,
    secret: frozenset[Loc],
    rules: Rules,
    sources: Sources,
) -> Iterator[FieldChange]:
    """Match items by their natural key, so an insertion is one added item, not a cascade."""
    old = {_key(item, key): (i, item) for i, item in enumerate(before)}
    new = {_key(item, key): (i, item) for i, item in enumerate(after)}
    for name, (i, item) in new.items():
        item_loc = (*loc, i)
        label = _item_label(loc, name) if name is not None else dotted(item_loc)
        if name not in old and old:
            yield FieldChange(label, ABSENT, redact(item_loc, item, secret, sources))
            continue
        # a new list shows each item leaf by leaf; a kept item shows what changed in it
        for change in _walk(item_loc, old[name][1] if name in old else ABSENT, item, secret, rules, sources):
            yield _relabel(change, item_loc, label)
    for name, (i, item) in old.items():
        if name not in new:
            label = _item_label(loc, name)
            yield FieldChange(label, redact((*loc, i), item, secret), ABSENT)
    if not rules(loc).unordered and [k for k in new if k in old] != [k for k in old if k in new]:
        yield FieldChange(f"{dotted(loc)} (order)", list(old), list(new))


def _relabel(change: FieldChange, item_loc: Loc, label: str) -> FieldChange:
    """A change inside a keyed item, with the item's index replaced by its natural key."""
    return replace(change, path=label + change.path[len(dotted(item_loc)) :])


def _item_label(loc: Loc, name: Any) -> str:
    return f"{dotted(loc)}[{json.dumps(name, ensure_ascii=False)}]"


def _key(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else item


Op = Literal["create", "update", "delete"]
OPS: tuple[Op, ...] = ("create", "update", "delete")


@dataclass(frozen=True)
class Action:
    """One write: `op` on an object of `kind`. `body` is what is sent; a Pending in it is the id of an object
    this plan creates, filled in by apply."""

    kind: str
    op: Op
    name: str
    id: str | None
    file: str | None = None
    changes: tuple[FieldChange, ...] = ()
    body: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    desired: Desired | None = None
    compact: bool = False  # shown one line per change (a kind of few, short fields)
    waits_for: tuple[tuple[str, str | None], ...] = ()  # (kind, id) of updates that must succeed first

    @property
    def fields(self) -> list[str]:
        return list(self.body)

    @property
    def label(self) -> str:
        ident = f" ({self.id})" if self.id else ""
        return f'{self.kind} "{self.name}"{ident}'


# --- what a plan is made of ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Desired:
    """One object as the configuration declares it; `data` holds only the fields it manages."""

    kind: str
    name: str
    data: dict[str, Any]
    id: str | None = None
    file: str | None = None
    sensitive: frozenset[Loc] = frozenset()
    variables: Sources = field(default_factory=dict)  # the variables each value was made from
    name_location: Location | None = None
    id_location: Location | None = None
    source: Any = None  # what the kind keeps of the file besides `data` (positions, a sample's path)
    previous_names: tuple[str, ...] = ()  # former names it may match when none has its name (a rename)

    @property
    def location(self) -> Location:
        return self.name_location or Location(self.file or "<config>")


@dataclass(frozen=True)
class Pending:
    """The id of an object this plan creates: known only once apply has created it."""

    kind: str
    name: str

    def __str__(self) -> str:
        return KNOWN_AFTER_APPLY


def leaves(value: Any) -> Iterator[Any]:
    """Every value inside plain data that is neither a mapping nor a list."""
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def pending_in(value: Any) -> Iterator[Pending]:
    """Every Pending id inside a request body."""
    return (leaf for leaf in leaves(value) if isinstance(leaf, Pending))

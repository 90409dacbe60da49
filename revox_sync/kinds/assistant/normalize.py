"""Desired and remote values in one comparable form.

Two sources of truth and nothing else:
- the models in `spec` say each nested field's type and API default (omitted sub-field = default);
- `RULES` below says, per field path, how values compare beyond that (times, sets, keyed lists, ...).
Paths use `[]` for "any list item": `custom_tools[].headers`.

The models are read (and pydantic imported) when a value is first completed or compared: checking files
reads `RULES` alone.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from revox_sync.engine.change import NO_RULE, FieldChange, Loc, Rule, diff_fields
from revox_sync.kinds.assistant.fields import CONFIG_ONLY, FILLED_WHEN_OMITTED, Weekday, parse_time

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

    from revox_sync.sensitive import Source

RULES: dict[str, Rule] = {
    "call_retry_config.calling_windows[].calling_window_start_time": Rule(time=True),
    "call_retry_config.calling_windows[].calling_window_end_time": Rule(time=True),
    "call_retry_config.allowed_days": Rule(unordered=True, order=typing.get_args(Weekday)),
    "after_call_sms_outcomes": Rule(unordered=True, null_is_empty=True),
    "email_notification_outcomes": Rule(unordered=True, null_is_empty=True),
    "slack.outcomes": Rule(unordered=True),
    "zoho.outcomes": Rule(unordered=True),
    "stt_context.terms": Rule(unordered=True),
    "stt_context.general": Rule(key="key"),
    "faq_items": Rule(
        key="question", unordered=True, null_is_empty=True, only=("question", "answer"), drop_suggestions=True
    ),
    "structured_output_config": Rule(key="name", null_is_empty=True),
    "custom_tools": Rule(key="name", null_is_empty=True),
    "custom_tools[].headers": Rule(key="key", casefold=True),
    "custom_tools[].query_params": Rule(key="key"),
    "custom_tools[].input_schema": Rule(key="name"),
    "transfer_destinations": Rule(key="label", null_is_empty=True),
    "slack.channels": Rule(key="id"),
    "zoho.field_mapping": Rule(key="source"),
}


# Defaults that depend on a sibling value: Cartesia voices (a clone is one) default to the sonic-3 model.
CONTEXT_DEFAULTS: dict[str, typing.Callable[[dict[str, Any]], Any]] = {
    "voice.model": lambda voice: (
        "sonic-3" if voice.get("provider") == "cartesia" or voice.get("clone") is not None else None
    ),
}


def rule_path(loc: Loc) -> str:
    """('custom_tools', 3, 'headers') -> 'custom_tools[].headers', the form RULES is keyed by."""
    out = ""
    for part in loc:
        out += "[]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def rule_for(loc: Loc) -> Rule:
    return RULES.get(rule_path(loc), NO_RULE)


KeyedList = tuple[Loc, "Rule", list[dict[str, Any]]]


def _prefixes(path: str) -> typing.Iterator[str]:
    """'a[].b' -> 'a', 'a[]', 'a[].b': the rule paths a walk passes on its way to `path`."""
    for i, char in enumerate(path):
        if char in ".[" and i:
            yield path[:i]
    yield path


_KEYED_PREFIXES = frozenset(p for path, rule in RULES.items() if rule.key for p in _prefixes(path))


def keyed_lists(data: dict[str, Any]) -> typing.Iterator[KeyedList]:
    """(location, rule, items) of every list in `data` that RULES gives a natural key."""

    def walk(value: Any, loc: Loc, path: str) -> typing.Iterator[KeyedList]:
        if isinstance(value, dict):
            for name, item in value.items():
                sub = f"{path}.{name}" if path else str(name)
                if sub in _KEYED_PREFIXES:  # no keyed list elsewhere: the rest is not walked
                    yield from walk(item, (*loc, name), sub)
        elif isinstance(value, list):
            rule = RULES.get(path, NO_RULE)
            if rule.key:
                yield loc, rule, [item for item in value if isinstance(item, dict)]
            if f"{path}[]" in _KEYED_PREFIXES:
                for i, item in enumerate(value):
                    yield from walk(item, (*loc, i), f"{path}[]")

    yield from walk(data, (), "")


def is_suggestion(item: Any) -> bool:
    """An FAQ item the server suggested and that still awaits a human answer."""
    return isinstance(item, dict) and item.get("source") == "ai" and bool(item.get("needs_human_answer"))


# --- the model tree, read once ---------------------------------------------------------------------------
def _unwrap(annotation: Any) -> list[Any]:
    """The member types of an Optional/Union/Annotated annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _unwrap(a)]
    return [annotation]


def _models(field: FieldInfo) -> tuple[tuple[type[BaseModel], tuple[Any, ...]], ...]:
    """The models a mapping value of this field may be shaped by, each with the `type` tags it accepts."""
    from pydantic import BaseModel

    out = []
    for model in _unwrap(field.annotation):
        if isinstance(model, type) and issubclass(model, BaseModel):
            tag = model.model_fields.get("type")
            out.append((model, typing.get_args(_unwrap(tag.annotation)[0]) if tag is not None else ()))
    return tuple(out)


def _model_for(meta: _Meta, value: Any) -> type[BaseModel] | None:
    """The model a mapping value of this field is shaped by (a tagged union picks by `type`)."""
    models = meta.models
    if len(models) > 1 and isinstance(value, dict):
        for model, tags in models:
            if value.get("type") in tags:
                return model
    return models[0][0] if models else None


def _item_model(field: FieldInfo) -> type[BaseModel] | None:
    from pydantic import BaseModel

    for member in _unwrap(field.annotation):
        if typing.get_origin(member) is list:
            (item,) = typing.get_args(member)
            inner = [m for m in _unwrap(item) if isinstance(m, type) and issubclass(m, BaseModel)]
            return inner[0] if inner else None
    return None


def _is_float(field: FieldInfo) -> bool:
    return float in _unwrap(field.annotation)


def _default(field: FieldInfo) -> Any:
    from pydantic_core import PydanticUndefined

    if field.default_factory is not None:
        made = field.default_factory()  # type: ignore[call-arg]
        return _dump(made)
    return None if field.default is PydanticUndefined else _dump(field.default)


def _dump(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


# --- completing and canonicalising ------------------------------------------------------------------------
def complete(field: str, value: Any) -> Any:
    """A top-level field's value as it is sent: as written, plus the sub-fields the API requires in a
    request (`fields.FILLED_WHEN_OMITTED`) set to their default when the file omits them.

    The API replaces a nested object whole, so an omitted sub-field means its default either way.
    Leaf values keep the form the user wrote ('6pm' stays '6pm').
    """
    return _complete(_top(field), value, field, canonical=False)


def canonical(field: str, value: Any) -> Any:
    """The comparable form of a top-level field's value, from a file or from the API alike."""
    return _complete(_top(field), value, field, canonical=True)


@dataclass(frozen=True)
class _Meta:
    """What normalising needs to know of one model field, read once from its annotation (asking pydantic's
    class properties for it millions of times is a large part of a plan's time)."""

    field: FieldInfo
    is_float: bool
    item_model: type[BaseModel] | None
    models: tuple[tuple[type[BaseModel], tuple[Any, ...]], ...]


_METAS: dict[int, _Meta] = {}
_TOPS: dict[str, _Meta] = {}


def _top(field: str) -> _Meta:
    """The meta of a top-level field, without asking pydantic's `model_fields` descriptor each time."""
    meta = _TOPS.get(field)
    if meta is None:
        from revox_sync.kinds.assistant.spec import AssistantSpec

        meta = _TOPS[field] = _meta(AssistantSpec.model_fields[field])
    return meta


def _meta(field: FieldInfo) -> _Meta:
    meta = _METAS.get(id(field))
    if meta is None:
        meta = _METAS[id(field)] = _Meta(field, _is_float(field), _item_model(field), _models(field))
    return meta


@dataclass(frozen=True)
class _Sub:
    """One sub-field of a model at one rule path, with everything `_complete_object` asks of it."""

    name: str
    path: str
    meta: _Meta
    config_only: bool
    filled: bool
    derive: typing.Callable[[dict[str, Any]], Any] | None
    default: Any  # read once: `_complete` builds new lists and objects from it, never hands it out


_SUBS: dict[tuple[type[BaseModel], str], tuple[tuple[_Sub, ...], frozenset[str]]] = {}


def _subs(model: type[BaseModel], path: str) -> tuple[tuple[_Sub, ...], frozenset[str]]:
    found = _SUBS.get((model, path))
    if found is None:
        subs = []
        for name, sub in model.model_fields.items():
            sub_path = f"{path}.{name}"
            derive = CONTEXT_DEFAULTS.get(sub_path)
            config_only, filled = sub_path in CONFIG_ONLY, sub_path in FILLED_WHEN_OMITTED
            subs.append(_Sub(name, sub_path, _meta(sub), config_only, filled, derive, _default(sub)))
        found = _SUBS[(model, path)] = (tuple(subs), frozenset(model.model_fields))
    return found


def _complete(meta: _Meta, value: Any, path: str, *, canonical: bool) -> Any:
    """`path` is the rule path ('custom_tools[].headers'), built as we descend."""
    if value is None:
        return [] if canonical and RULES.get(path, NO_RULE).null_is_empty else None
    if isinstance(value, dict):
        model = _model_for(meta, value)
        return _complete_object(model, value, path, canonical=canonical) if model else value
    if isinstance(value, list):
        rule = RULES.get(path, NO_RULE)
        if canonical and rule.drop_suggestions:
            value = [v for v in value if not is_suggestion(v)]
        item_model, item_path = meta.item_model, path + "[]"
        items = [
            _complete_object(item_model, v, item_path, canonical=canonical)
            if item_model is not None and isinstance(v, dict)
            else v
            for v in value
        ]
        if canonical and rule.only:
            items = [
                {k: item.get(k) for k in rule.only} if isinstance(item, dict) else item for item in items
            ]
        if canonical and rule.unordered:
            items = sorted(items, key=_sort_key(rule))
        return items
    if canonical:
        if isinstance(value, str):
            if RULES.get(path, NO_RULE).time:
                return parse_time(value) or value
            return server_text(value)
        elif meta.is_float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
    return value


def server_text(text: str) -> str:
    """Text as a server keeps it: without surrounding whitespace and with `\n` line endings. A difference
    only in what the server normalises away is no change, so an assistant converges after one apply (a
    block scalar's final newline is the common case)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def _complete_object(
    model: type[BaseModel], value: dict[str, Any], path: str, *, canonical: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    subs, known = _subs(model, path)
    for sub in subs:
        name = sub.name
        if sub.config_only and name not in value:
            continue  # never filled with a default: the API has no such field
        if not canonical and not sub.filled and name not in value:
            continue  # sent as written: the API applies its own default to an omitted optional sub-field
        raw = value.get(name)
        if raw is None and (canonical or name not in value):
            raw = sub.derive(value) if sub.derive else sub.default
        out[name] = _complete(sub.meta, raw, sub.path, canonical=canonical)
    if not canonical:
        # Keep sub-fields the model does not know (sent as written); canonical forms compare known ones only.
        out.update({k: v for k, v in value.items() if k not in known})
    return out


def _sort_key(rule: Rule) -> Any:
    import json

    if rule.key:
        return lambda item: str(item.get(rule.key)) if isinstance(item, dict) else str(item)
    if rule.order:
        rank = {value: i for i, value in enumerate(rule.order)}
        return lambda item: (rank.get(item, len(rank)), str(item))
    return lambda item: json.dumps(item, sort_keys=True, default=str)


_DROPPED = object()  # an item the canonical form leaves out (a server suggestion)


def canonical_item(field: str, item: Any) -> Any:
    """What one item of a list field adds to the field's canonical form. The form of the whole list is its
    items' forms (less dropped ones), maybe sorted: so replacing one item leaves it the same exactly when this
    stays the same, and the importer probes one item instead of the whole list."""
    meta = _top(field)
    rule = RULES.get(field, NO_RULE)
    if rule.drop_suggestions and is_suggestion(item):
        return _DROPPED
    model = meta.item_model
    form = (
        _complete_object(model, item, field + "[]", canonical=True)
        if model and isinstance(item, dict)
        else item
    )
    return {k: form.get(k) for k in rule.only} if rule.only and isinstance(form, dict) else form


def canonical_assistant(data: dict[str, Any], fields: typing.Iterable[str]) -> dict[str, Any]:
    """The comparable form of the given top-level fields of an assistant (file data or API object)."""
    return {f: canonical(f, data.get(f)) for f in fields}


def diff_assistant(
    desired: dict[str, Any],
    remote: dict[str, Any],
    sensitive_paths: typing.Iterable[Loc] = (),
    variables: typing.Mapping[Loc, Source] | None = None,
) -> tuple[list[str], list[FieldChange]]:
    """The engine's diff with the assistant's comparison rules (RULES)."""
    return diff_fields(desired, remote, sensitive_paths, rule_for, variables)

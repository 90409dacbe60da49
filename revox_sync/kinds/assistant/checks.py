"""The checks of one assistant file's data: the model's own, then the rules the API documents that span
fields or list items, each pointing at the exact value it is about.

Data the models' shape plainly accepts (`shape.plain`) is not handed to pydantic: the rules across fields read
a view of it, which reads like the model. Only data that shape does not accept goes to the models, imported
then, for their findings and messages."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from revox_sync.engine.change import Loc, dotted
from revox_sync.kinds.assistant.fields import (
    DEPRECATED_FIELDS,
    E164_RE,
    EMAIL_RE,
    NOT_NULLABLE,
    SERVER_OWNED_FAQ_FIELDS,
    SERVER_OWNED_FIELDS,
    SPEED_RANGES,
    TOOL_NAME_RE,
    URL_RE,
    parse_time,
)
from revox_sync.kinds.assistant.normalize import keyed_lists
from revox_sync.kinds.assistant.shape import Plain, plain
from revox_sync.names import same_name

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from revox_sync.kinds.assistant.spec import AssistantSpec, InputField, Voice


# --- checking one file's data -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    """A problem with one value; `loc` is its path in the file's data."""

    loc: Loc
    message: str
    severity: Literal["error", "warning"] = "error"
    at_key: bool = False


def _keys_at(loc: Loc) -> set[str]:
    """The keys a mapping at `loc` may hold (all variants of a union), for did-you-mean."""
    from revox_sync.kinds.assistant.spec import AssistantSpec

    models: list[type[BaseModel]] = [AssistantSpec]
    for part in loc:
        if isinstance(part, int):
            continue
        fields = [m.model_fields[part] for m in models if part in m.model_fields]
        models = [n for f in fields for n in _models_in(f.annotation)]
    return {key for m in models for key in m.model_fields}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    metadata = getattr(annotation, "__metadata__", None)
    if metadata is not None:
        found.extend(_models_in(annotation.__origin__))
    return found


def _unknown_key_message(loc: Loc) -> str:
    key = str(loc[-1])
    parent = loc[:-1]
    if not parent and key in SERVER_OWNED_FIELDS:
        return f"'{key}' is read-only (set by the server); remove it from the file"
    if len(parent) == 2 and parent[0] == "faq_items" and key in SERVER_OWNED_FAQ_FIELDS:
        return f"'{key}' of a FAQ item is set by the server; remove it from the file"
    where = f" in {dotted(parent)}" if parent else ""
    message = f"unknown key '{key}'{where}"
    close = difflib.get_close_matches(key, sorted(_keys_at(parent)), n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{close[0]}'?"
    return message


_UNION_TAGS = frozenset({"dedicated-instance", "openrouter", "custom", "realtime"})


def _strip_tags(loc: Loc) -> Loc:
    """Drop the discriminator tags pydantic inserts into a tagged union's error location."""
    return tuple(
        p for i, p in enumerate(loc) if not (p in _UNION_TAGS and i > 0 and loc[i - 1] == "llm_model")
    )


def _pydantic_issues(error: ValidationError) -> Iterator[Issue]:
    for err in error.errors(include_url=False):
        loc = _strip_tags(tuple(err["loc"]))
        kind = err["type"]
        if kind == "extra_forbidden":
            yield Issue(loc, _unknown_key_message(loc), at_key=True)
        elif kind == "missing":
            parent = dotted(loc[:-1])
            where = f" in {parent}" if parent else ""
            yield Issue(loc[:-1], f"missing required key '{loc[-1]}'{where}")
        elif kind == "union_tag_invalid":
            ctx = err.get("ctx") or {}
            yield Issue(
                (*loc, "type"),
                f"{dotted(loc)}.type: '{ctx.get('tag')}' is not one of {ctx.get('expected_tags')}",
            )
        elif kind == "union_tag_not_found":
            yield Issue(loc, f"missing required key 'type' in {dotted(loc)}")
        else:
            msg = err["msg"]
            yield Issue(loc, f"{dotted(loc)}: {msg[0].lower()}{msg[1:]}")


def _null_issues(data: dict[str, Any]) -> Iterator[Issue]:
    for key in sorted(NOT_NULLABLE & data.keys()):
        if data[key] is None:
            yield Issue(
                (key,),
                f"{key}: cannot be null (the API always has a value); remove the key to leave it unmanaged",
            )


def check_assistant(
    data: dict[str, Any], *, shape_first: bool = True
) -> tuple[AssistantSpec | Plain | None, list[Issue]]:
    """Validate one file's data: the model (or the view of plainly valid data), or None, and every issue
    found (errors and warnings). `shape_first` reads the shape first, which spares importing the models
    (a few files) but costs more per file than they do (many files, once they are imported)."""
    issues = list(_null_issues(data))
    spec: AssistantSpec | Plain | None = plain(data) if shape_first else None
    if spec is None:
        from pydantic import ValidationError

        from revox_sync.kinds.assistant.spec import AssistantSpec

        try:
            spec = AssistantSpec.model_validate(data)
        except ValidationError as exc:
            issues.extend(_pydantic_issues(exc))
            # Check the fields that are well-formed too, so one run reports every problem of the file.
            broken = {err["loc"][0] for err in exc.errors() if err["loc"]}
            rest = {"name": "-"} | {k: v for k, v in data.items() if k not in broken}
            with contextlib.suppress(ValidationError):
                issues.extend(_semantic_issues(AssistantSpec.model_validate(rest)))
            issues.extend(_duplicate_item_issues(data))
            return None, issues
    issues.extend(_semantic_issues(spec))
    issues.extend(_duplicate_item_issues(data))
    if any(i.severity == "error" for i in issues):
        return None, issues
    return spec, issues


def _duplicates(values: list[str]) -> Iterator[tuple[int, str, int]]:
    """(index, value, first index) for each repeated value."""
    first: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in first:
            yield i, value, first[value]
        else:
            first.setdefault(value, i)


def _duplicate_item_issues(data: dict[str, Any]) -> Iterator[Issue]:
    """Items of a keyed list (normalize.RULES names each list's key) must be unique by that key: the diff
    matches items by it."""
    for loc, rule, items in keyed_lists(data):
        key = str(rule.key)
        values = [str(item.get(key)) for item in items]
        for i, value, first in _duplicates([v.casefold() for v in values] if rule.casefold else values):
            yield Issue((*loc, i, key), f"{dotted(loc)}: duplicate {key} '{value}' (also item {first})")


def _input_field_issues(fields: list[InputField], base: Loc) -> Iterator[Issue]:
    for i, item in enumerate(fields):
        if item.type == "enum" and not item.enum_options:
            yield Issue((*base, i, "type"), f"{dotted((*base, i))}: type 'enum' needs enum_options")
        if item.type != "enum" and item.enum_options:
            yield Issue(
                (*base, i, "enum_options"),
                f"{dotted((*base, i, 'enum_options'))}: only used with type 'enum'",
                severity="warning",
            )


def _phone_issue(value: str | None, loc: Loc) -> Iterator[Issue]:
    if value is not None and not E164_RE.match(value):
        yield Issue(loc, f"{dotted(loc)}: '{value}' is not an E.164 phone number (like +14155550123)")


def _url_issue(value: str | None, loc: Loc) -> Iterator[Issue]:
    if value is not None and value != "" and not URL_RE.match(value):
        yield Issue(loc, f"{dotted(loc)}: '{value}' is not an http(s) URL")


def _voice_issues(voice: Voice) -> Iterator[Issue]:
    if voice.clone is not None and voice.id is not None:
        yield Issue(("voice", "clone"), "voice: give clone (a voice of voices.yaml) or id, not both")
    elif voice.clone is None and voice.id is None:
        yield Issue(("voice",), "missing required key 'id' in voice (or clone: a voice of voices.yaml)")
    if voice.clone is not None and voice.provider not in (None, "cartesia"):
        yield Issue(("voice", "provider"), "voice.provider: a cloned voice is a cartesia voice")
    if voice.id is not None and voice.clone is None and voice.provider is None:
        yield Issue(("voice",), "missing required key 'provider' in voice")
    provider = voice.provider or "cartesia"
    low, high = SPEED_RANGES[provider]
    if not low <= voice.speed <= high:
        yield Issue(
            ("voice", "speed"),
            f"voice.speed: must be between {low} and {high} for {provider} (got {voice.speed})",
        )
    if voice.model is not None and provider != "cartesia":
        yield Issue(("voice", "model"), "voice.model: only used with cartesia", severity="warning")


def _semantic_issues(spec: AssistantSpec | Plain) -> Iterator[Issue]:
    """Rules the API documents that span fields or items."""
    if spec.voice is not None:
        yield from _voice_issues(spec.voice)
    if not spec.name.strip():
        yield Issue(("name",), "name: must not be blank")
    elif spec.name != spec.name.strip() or "\n" in spec.name or "\r" in spec.name:
        # the server trims text: a name it stores otherwise would never match this file again
        yield Issue(("name",), "name: no leading or trailing whitespace or line breaks (the API trims them)")
    for i, old in enumerate(spec.previous_names or ()):
        if same_name(old, spec.name):
            yield Issue(("previous_names", i), f"previous_names: {old!r} is the current name")
    if spec.type == "sub-assistant":
        yield Issue(
            ("type",),
            "type 'sub-assistant' is hidden from the assistants list, so plans cannot see it once created",
            severity="warning",
        )
    crc = spec.call_retry_config
    if crc is not None:
        for i, window in enumerate(crc.calling_windows):
            for key in ("calling_window_start_time", "calling_window_end_time"):
                value = getattr(window, key)
                if parse_time(value) is None:
                    loc: Loc = ("call_retry_config", "calling_windows", i, key)
                    yield Issue(loc, f"{dotted(loc)}: '{value}' is not a time like '17:00' or '6pm'")
            start = parse_time(window.calling_window_start_time)
            end = parse_time(window.calling_window_end_time)
            if start and end and end <= start:
                loc = ("call_retry_config", "calling_windows", i, "calling_window_end_time")
                yield Issue(
                    loc, f"{dotted(loc)}: the window ends ({end}) before it starts ({start})", "warning"
                )
        if crc.timezone is not None and not _is_timezone(crc.timezone):
            yield Issue(
                ("call_retry_config", "timezone"),
                f"call_retry_config.timezone: '{crc.timezone}' is not an IANA timezone (like Europe/Paris)",
            )
        for i, day, _ in _duplicates(list(crc.allowed_days)):
            yield Issue(
                ("call_retry_config", "allowed_days", i), f"call_retry_config.allowed_days: '{day}' twice"
            )
    yield from _phone_issue(spec.from_phone_number, ("from_phone_number",))
    yield from _phone_issue(spec.transfer_phone_number, ("transfer_phone_number",))
    for old, new in DEPRECATED_FIELDS.items():
        if getattr(spec, old) is not None:
            yield Issue(
                (old,), f"{old} is deprecated (SDK 0.5.0 dropped it): use {new}", "warning", at_key=True
            )
    destinations = spec.transfer_destinations or []
    for i, dest in enumerate(destinations):
        yield from _phone_issue(dest.phone_number, ("transfer_destinations", i, "phone_number"))
    if spec.human_transfer_mode is not None and not destinations:
        yield Issue(
            ("human_transfer_mode",),
            "human_transfer_mode has no effect without transfer_destinations",
            severity="warning",
        )
    if spec.structured_output_config:
        yield from _input_field_issues(spec.structured_output_config, ("structured_output_config",))
    tools = spec.custom_tools or []
    for i, tool in enumerate(tools):
        base: Loc = ("custom_tools", i)
        if not TOOL_NAME_RE.match(tool.name):
            yield Issue((*base, "name"), f"{dotted(base)}.name: '{tool.name}' must be lowercase_snake_case")
        yield from _url_issue(tool.url.replace("{{", "").replace("}}", ""), (*base, "url"))
        yield from _input_field_issues(tool.input_schema, (*base, "input_schema"))
    yield from _url_issue(spec.webhook_url, ("webhook_url",))
    yield from _url_issue(spec.logo_url, ("logo_url",))
    if spec.precall_lookup_url is not None:
        yield from _url_issue(spec.precall_lookup_url.replace("{{phone}}", "x"), ("precall_lookup_url",))
        if "{{phone}}" not in spec.precall_lookup_url:
            yield Issue(("precall_lookup_url",), "precall_lookup_url: must contain {{phone}}")
    if spec.email_notification_address:
        for address in spec.email_notification_address.split(","):
            if not EMAIL_RE.match(address.strip()):
                yield Issue(
                    ("email_notification_address",),
                    f"email_notification_address: '{address.strip()}' is not an email address",
                )


def _is_timezone(name: str) -> bool:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True

"""The desired state of one assistant, as a file declares it.

Field names, types and ranges follow the API reference (`shared/seed/assistants-update.md`, which wins on a
field's meaning) and the official SDK 0.5.0 (`AssistantCreateParams` / `AssistantUpdateParams`), which adds
fields the seed lacks. Structure and per-field ranges live in the pydantic models; rules that span fields
or list items live in `_semantic_issues`, so each issue can point at the exact item it is about.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from revox_sync.engine.change import Loc, dotted

# --- server-owned fields: set by the API, errors in a file ------------------------------------------------
SERVER_OWNED_FIELDS = frozenset(
    {
        "organization_id",
        "created_at",
        "updated_at",
        "created_by",
        "pending_faq_count",
        "is_inbound_receptionist",
        "is_realestate_assistant",
    }
)
SERVER_OWNED_FAQ_FIELDS = frozenset({"id", "source", "needs_human_answer"})

DEPRECATED_FIELDS = {"transfer_phone_number": "transfer_destinations"}

# --- value types ------------------------------------------------------------------------------------------
E164_RE = re.compile(r"^\+[1-9]\d{1,14}$")
TIME_24H_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
TIME_12H_RE = re.compile(r"^(1[0-2]|0?[1-9])(?::([0-5]\d))?\s?([ap])\.?m\.?$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
TOOL_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_time(text: str) -> str | None:
    """'6pm' / '9:30am' / '18:00' -> 'HH:MM'; None when it is neither format the API accepts."""
    text = text.strip()
    m = TIME_24H_RE.match(text)
    if m:
        return f"{int(m.group(1)):02d}:{m.group(2)}"
    m = TIME_12H_RE.match(text)
    if m:
        hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "p" else 0)
        return f"{hour:02d}:{m.group(2) or '00'}"
    return None


Outcome = Literal["not_interested", "interested", "completed", "requested_callback_later", "none"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WORKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")
OutputType = Literal["string", "number", "boolean", "enum", "date", "datetime"]
NonEmpty = Annotated[str, Field(min_length=1)]
Unit = Annotated[float, Field(ge=0, le=1)]
PositiveInt = Annotated[int, Field(gt=0, le=9007199254740991)]


class _Strict(BaseModel):
    """Strict: YAML already types values, so `"1.0"` for a number is a mistake worth reporting."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Calendly(_Strict):
    connection_id: NonEmpty
    event_type_id: NonEmpty


class CallingWindow(_Strict):
    calling_window_start_time: str = "10:00"
    calling_window_end_time: str = "18:00"
    retry_delay_seconds: PositiveInt = 7200


class CallRetryConfig(_Strict):
    allowed_days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS))
    call_twice_in_a_row: bool = False
    calling_windows: list[CallingWindow] = Field(default_factory=lambda: [CallingWindow()])
    max_retry_attempts: PositiveInt = 3
    timezone: str | None = None


class KeyValue(_Strict):
    key: NonEmpty
    value: str


class InputField(_Strict):
    name: NonEmpty
    required: bool
    type: OutputType
    description: str | None = None
    enum_options: list[NonEmpty] | None = None


class CustomTool(_Strict):
    name: NonEmpty
    description: NonEmpty
    url: NonEmpty
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    headers: list[KeyValue] = Field(default_factory=list)
    query_params: list[KeyValue] = Field(default_factory=list)
    input_schema: list[InputField] = Field(default_factory=list)
    body_template: str | None = None


class FaqItem(_Strict):
    question: NonEmpty
    answer: str


class DedicatedModel(_Strict):
    type: Literal["dedicated-instance"]
    name: Literal["gpt-4.1", "ministral-3-8b-instruct"]


class OpenRouterModel(_Strict):
    type: Literal["openrouter"]
    openrouter_model_id: NonEmpty
    openrouter_provider: NonEmpty


class CustomModel(_Strict):
    type: Literal["custom"]
    api_url: NonEmpty
    model_name: NonEmpty
    api_key: NonEmpty = Field(json_schema_extra={"writeOnly": True})


class RealtimeModel(_Strict):
    type: Literal["realtime"]
    provider: Literal["openai", "google"]
    realtime_model_id: NonEmpty
    realtime_voice_id: str | None = None


LlmModel = Annotated[
    DedicatedModel | OpenRouterModel | CustomModel | RealtimeModel, Field(discriminator="type")
]


class Point(_Strict):
    x: float
    y: float


class PromptFlowEdge(_Strict):
    id: str
    source: str
    target: str


class PromptFlowNodeData(_Strict):
    body: str
    title: str


class PromptFlowNode(_Strict):
    id: str
    data: PromptFlowNodeData
    position: Point
    type: Literal["promptBlock"]


class PromptFlow(_Strict):
    edges: list[PromptFlowEdge]
    nodes: list[PromptFlowNode]


class SlackChannel(_Strict):
    id: NonEmpty
    name: str | None = None


class Slack(_Strict):
    connection_id: NonEmpty
    channels: list[SlackChannel]
    outcomes: list[Outcome]
    template: str | None = None


class SttContext(_Strict):
    general: list[KeyValue] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)


class TransferDestination(_Strict):
    label: NonEmpty
    phone_number: str


# Ranges the API documents per voice provider.
SPEED_RANGES = {"cartesia": (0.6, 1.5), "elevenlabs": (0.7, 1.2), "gradium": (0.6, 1.5)}


class Voice(_Strict):
    """`provider` and `id` name a voice of the account; `clone` names a cloned voice of `voices.yaml`
    instead (provider cartesia implied), which each account knows by its own id."""

    provider: Literal["cartesia", "elevenlabs", "gradium"] | None = None
    id: NonEmpty | None = None
    clone: NonEmpty | None = None
    model: Literal["sonic-3", "sonic-3.5"] | None = None
    speed: Annotated[float, Field(ge=0.6, le=1.5)] = 1.0
    volume: Annotated[float, Field(ge=0.5, le=2.0)] = 1.0


class ZohoFieldMapping(_Strict):
    source: NonEmpty
    zoho_field: NonEmpty


class Zoho(_Strict):
    connection_id: NonEmpty
    module: NonEmpty
    field_mapping: list[ZohoFieldMapping]
    log_call_activity: bool
    outcomes: list[Outcome]
    template: str | None = None


ThinkingSound = Literal[
    "city-ambience.ogg",
    "forest-ambience.ogg",
    "office-ambience.ogg",
    "crowded-room.ogg",
    "keyboard-typing.ogg",
    "keyboard-typing2.ogg",
    "hold_music.ogg",
]


class AssistantSpec(_Strict):
    """One assistant file. Every field but `name` is optional: an absent field is unmanaged."""

    id: NonEmpty | None = Field(None, description="Pins this file to one remote assistant.")
    name: NonEmpty
    prompt: str | None = None
    type: Literal["standalone", "multi-step", "sub-assistant"] | None = None
    voice: Voice | None = None
    llm_model: LlmModel | None = None
    first_sentence: str | None = None
    first_sentence_mode: Literal["generated", "static", "none"] | None = None
    first_sentence_delay_ms: Annotated[int, Field(ge=0, le=9007199254740991)] | None = None
    end_of_call_sentence: str | None = None
    max_call_duration_secs: Annotated[float, Field(gt=0)] | None = None
    max_duration_end_message: str | None = None
    voicemail_message: str | None = None
    voicemail_sms_prompt: str | None = None
    background_sound: Literal["audio/office.ogg"] | None = None
    background_sound_volume: Unit | None = None
    thinking_sound: ThinkingSound | None = None
    thinking_sound_probability: Unit | None = None
    thinking_sound_volume: Unit | None = None
    ivr_navigation_enabled: bool | None = None
    stt_model: Literal["stt-rt-v4", "stt-rt-v5"] | None = None
    stt_context: SttContext | None = None
    cartesia_dictionary_pronunciation_id: str | None = None
    call_retry_config: CallRetryConfig | None = None
    from_phone_number: str | None = None
    transfer_destinations: list[TransferDestination] | None = None
    transfer_phone_number: str | None = Field(
        None, json_schema_extra={"deprecated": True}, description="Deprecated: use transfer_destinations."
    )
    human_transfer_mode: Literal["warm", "cold"] | None = None
    warm_transfer_summary_instructions: str | None = None
    faq_items: list[FaqItem] | None = None
    structured_output_config: list[InputField] | None = None
    structured_output_prompt: str | None = None
    custom_tools: list[CustomTool] | None = None
    sms_enabled: bool | None = None
    sms_template: str | None = None
    after_call_sms_prompt: str | None = None
    after_call_sms_outcomes: list[Outcome] | None = None
    email_notification_address: str | None = None
    email_notification_outcomes: list[Outcome] | None = None
    webhook_url: str | None = None
    precall_lookup_url: str | None = None
    calendly: Calendly | None = None
    slack: Slack | None = None
    zoho: Zoho | None = None
    logo_url: str | None = None
    position: Point | None = None
    prompt_flow: PromptFlow | None = None


# Sub-fields the API requires in a request body (the SDK's `Required[...]`) that a file may omit, meaning
# the default: requests carry them with that default. Other omitted sub-fields are left out of requests.
FILLED_WHEN_OMITTED = frozenset(
    {
        "call_retry_config.allowed_days",
        "call_retry_config.call_twice_in_a_row",
        "call_retry_config.calling_windows",
        "call_retry_config.max_retry_attempts",
        "call_retry_config.calling_windows[].calling_window_start_time",
        "call_retry_config.calling_windows[].calling_window_end_time",
        "call_retry_config.calling_windows[].retry_delay_seconds",
        "custom_tools[].headers",
        "custom_tools[].query_params",
        "custom_tools[].input_schema",
        "custom_tools[].body_template",
        "stt_context.general",
        "stt_context.terms",
    }
)

# Fields whose response type is not nullable: `null` there would be sent and then never converge.
NOT_NULLABLE = frozenset(
    {
        "prompt",
        "type",
        "llm_model",
        "first_sentence_mode",
        "first_sentence_delay_ms",
        "max_call_duration_secs",
        "background_sound_volume",
        "thinking_sound_probability",
        "thinking_sound_volume",
        "ivr_navigation_enabled",
        "stt_model",
        "sms_enabled",
    }
)

ASSISTANT_FIELDS: tuple[str, ...] = tuple(AssistantSpec.model_fields)


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
    models: list[type[BaseModel]] = [AssistantSpec]
    for part in loc:
        if isinstance(part, int):
            continue
        fields = [m.model_fields[part] for m in models if part in m.model_fields]
        models = [n for f in fields for n in _models_in(f.annotation)]
    return {key for m in models for key in m.model_fields}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
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


def check_assistant(data: dict[str, Any]) -> tuple[AssistantSpec | None, list[Issue]]:
    """Validate one file's data: the model, or None, and every issue found (errors and warnings)."""
    issues = list(_null_issues(data))
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
    from revox_sync.kinds.assistant.normalize import keyed_lists

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
    if voice.id is not None and voice.provider is None:
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


def _semantic_issues(spec: AssistantSpec) -> Iterator[Issue]:
    """Rules the API documents that span fields or items."""
    if spec.voice is not None:
        yield from _voice_issues(spec.voice)
    if not spec.name.strip():
        yield Issue(("name",), "name: must not be blank")
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


# Editor hover text for the top-level fields (from the API reference, shortened).
FIELD_DOCS: dict[str, str] = {
    "id": "Pins this file to one remote assistant; renaming is then an update. Omit to match by name.",
    "name": "The assistant's name, unique across the config directory.",
    "prompt": "The prompt given to the LLM. Use `!file prompts/x.md` for long prompts.",
    "type": "standalone (default), multi-step (orchestrates sub-assistants) or sub-assistant.",
    "voice": (
        "The voice: provider and id (GET /voices), or clone (a cloned voice of voices.yaml, by name); "
        "speed (Cartesia 0.6-1.5, ElevenLabs 0.7-1.2), volume."
    ),
    "llm_model": "The LLM: dedicated-instance, openrouter, custom (OpenAI-compatible, with api_key) or realtime.",
    "first_sentence": "The first sentence of the call (an instruction when first_sentence_mode is generated).",
    "first_sentence_mode": "generated: the LLM writes it; static: spoken as written; none: wait for the caller.",
    "first_sentence_delay_ms": "Delay before speaking the first sentence, in ms (default 400).",
    "end_of_call_sentence": "Said when the agent decides to end the call.",
    "max_call_duration_secs": "The longest a call may last, in seconds.",
    "max_duration_end_message": "Said, uninterruptibly, when the call reaches its maximum duration.",
    "voicemail_message": "Spoken when voicemail is detected, then hang up; null hangs up at once.",
    "voicemail_sms_prompt": "SMS sent when the call reaches voicemail; supports {{variable}} placeholders.",
    "background_sound": "Ambient sound during the call; null disables it.",
    "background_sound_volume": "Volume of the background sound, 0 to 1.",
    "thinking_sound": "Clip played while the agent thinks; null disables it.",
    "thinking_sound_probability": "Chance, 0 to 1, that the thinking sound plays on a turn.",
    "thinking_sound_volume": "Volume of the thinking sound, 0 to 1.",
    "ivr_navigation_enabled": "Let the assistant send DTMF tones to navigate phone menus.",
    "stt_model": "Speech-to-text model.",
    "stt_context": "Speech-to-text hints: general key/value pairs and domain terms.",
    "call_retry_config": "Calling windows, allowed days, retry delays and attempts. Omitted sub-fields mean the default.",
    "from_phone_number": "Outbound number (E.164) owned by the account; null uses the default number.",
    "transfer_destinations": "Where calls go when a caller asks for a human: labels and E.164 numbers.",
    "transfer_phone_number": "Deprecated: use transfer_destinations.",
    "human_transfer_mode": "warm (the AI bridges) or cold (SIP REFER), when transfer_destinations is set.",
    "warm_transfer_summary_instructions": "Extra instructions for the warm-transfer handoff summary.",
    "faq_items": "Questions and answers; the API replaces the whole list.",
    "structured_output_config": "Data to extract from each call (name, type, required).",
    "structured_output_prompt": "Custom prompt for structured data extraction.",
    "custom_tools": "HTTP tools the assistant may call during a call.",
    "sms_enabled": "Let the agent send SMS during calls.",
    "sms_template": "Fixed SMS text sent instead of a generated one.",
    "after_call_sms_prompt": "Instructions for the SMS sent after the call.",
    "after_call_sms_outcomes": "Call outcomes that trigger the after-call SMS.",
    "email_notification_address": "Email address(es), comma-separated, notified when a call ends with a matching outcome.",
    "email_notification_outcomes": "Call outcomes that trigger the email notification.",
    "webhook_url": "URL called when a call completes.",
    "precall_lookup_url": "Inbound only: URL (with {{phone}}) fetched before answering, returning prompt_variables.",
    "calendly": "Calendly connection and event type for scheduling.",
    "slack": "Slack notification after calls with the given outcomes.",
    "zoho": "Zoho CRM upsert after calls with the given outcomes.",
    "cartesia_dictionary_pronunciation_id": "Cartesia pronunciation dictionary to use.",
    "logo_url": "Brand logo shown on the assistant's demo page.",
    "position": "Canvas position in a multi-step flow editor.",
    "prompt_flow": "Visual prompt editor data; the flattened prompt is what the LLM receives.",
}

# A string that `${VAR}` interpolation turns into the value (so `speed: ${SPEED:-1.1}` is valid).
INTERPOLATION_SCHEMA = {
    "type": "string",
    "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$",
    "description": "A ${VAR} or ${VAR:-default} reference, resolved when the file is loaded.",
}


def _allow_interpolation(node: Any) -> Any:
    """Numbers, booleans and enums may also be written as a `${...}` reference."""
    if isinstance(node, list):
        return [_allow_interpolation(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _allow_interpolation(v) for k, v in node.items()}
    if node.get("type") in ("number", "integer", "boolean") or "enum" in node or "const" in node:
        return {"anyOf": [node, INTERPOLATION_SCHEMA]}
    return node


def json_schema() -> dict[str, Any]:
    """The JSON Schema of an assistant file, for editors and other validators."""
    schema = AssistantSpec.model_json_schema()
    for name, text in FIELD_DOCS.items():
        schema["properties"][name]["description"] = text
    schema = _allow_interpolation(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Revox assistant (revox-sync)"
    schema["description"] = (
        "One Revox voice assistant. Absent keys are unmanaged; `!file path` may stand for any string."
    )
    return dict(schema)

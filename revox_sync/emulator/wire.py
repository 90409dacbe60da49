"""Request validation for the emulator: the write bodies the Revox API accepts, as strict pydantic models.

Mirrors `AssistantCreateParams` / `AssistantUpdateParams` of the official SDK (revox 0.5.0) plus the seed's
deprecated `transfer_phone_number`, then `PhoneNumberUpdateParams` and `VoiceCloneParams`. Every model forbids
unknown keys and validates strictly (no "1" -> 1), so a body the emulator accepts is one the real API accepts.
The models only *check* a body: the emulator stores the JSON as sent (ints stay ints, floats stay floats),
apart from calling-window times, which it normalises to "HH:mm" the way the server does.

Nullability: where the seed (the PATCH reference page) documents a field as nullable and the SDK response
model lets it be null, null is accepted and stored. Where the response model requires a value
(`first_sentence_delay_ms`, `llm_model`, ...), null resets the field to the server default; `name` and
`prompt` can never be null.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Outcome = Literal["not_interested", "interested", "completed", "requested_callback_later", "none"]
Day = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
FieldType = Literal["string", "number", "boolean", "enum", "date", "datetime"]
ThinkingSound = Literal[
    "city-ambience.ogg",
    "forest-ambience.ogg",
    "office-ambience.ogg",
    "crowded-room.ogg",
    "keyboard-typing.ogg",
    "keyboard-typing2.ogg",
    "hold_music.ogg",
]
PositiveInt = Annotated[int, Field(gt=0, le=9007199254740991)]
NonNegInt = Annotated[int, Field(ge=0, le=9007199254740991)]
Unit = Annotated[float, Field(ge=0, le=1)]

_TIME_24 = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_TIME_12 = re.compile(r"^(1[0-2]|0?[1-9])(?::([0-5]\d))?\s*([ap])\.?m\.?$", re.IGNORECASE)


def normalise_time(value: str) -> str:
    """'6pm' -> '18:00', '9:05' -> '09:05'; ValueError when it is neither HH:mm nor H:mma."""
    text = value.strip()
    m = _TIME_24.match(text)
    if m:
        return f"{int(m.group(1)):02d}:{m.group(2)}"
    m = _TIME_12.match(text)
    if m:
        hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "p" else 0)
        return f"{hour:02d}:{m.group(2) or '00'}"
    raise ValueError(
        f"invalid time {value!r}: expected 'HH:mm' (24-hour) or 'H:mma' (12-hour), e.g. '17:00', '6pm'"
    )


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


W = TypeVar("W", bound=Wire)


class Calendly(Wire):
    connection_id: str
    event_type_id: str


class CallingWindow(Wire):
    calling_window_end_time: str
    calling_window_start_time: str
    retry_delay_seconds: NonNegInt

    @field_validator("calling_window_end_time", "calling_window_start_time")
    @classmethod
    def _time(cls, v: str) -> str:
        return normalise_time(v)


class CallRetryConfig(Wire):
    allowed_days: list[Day]
    call_twice_in_a_row: bool
    calling_windows: list[CallingWindow]
    max_retry_attempts: PositiveInt
    timezone: str | None = None


class KeyValue(Wire):
    key: str
    value: str


class InputSchema(Wire):
    name: str
    required: bool
    type: FieldType
    description: str | None = None
    enum_options: list[str] | None = None


class CustomTool(Wire):
    body_template: str | None
    description: str
    headers: list[KeyValue]
    input_schema: list[InputSchema]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    name: str
    query_params: list[KeyValue]
    url: str


class FaqItem(Wire):
    answer: str
    question: str


class LlmDedicated(Wire):
    name: Literal["gpt-4.1", "ministral-3-8b-instruct"]
    type: Literal["dedicated-instance"]


class LlmOpenRouter(Wire):
    openrouter_model_id: str
    openrouter_provider: str
    type: Literal["openrouter"]


class LlmCustom(Wire):
    api_key: str
    api_url: str
    model_name: str
    type: Literal["custom"]

    model_config = ConfigDict(extra="forbid", strict=True, protected_namespaces=())


class LlmRealtime(Wire):
    provider: Literal["openai", "google"]
    realtime_model_id: str
    type: Literal["realtime"]
    realtime_voice_id: str | None = None


LlmModel = Annotated[LlmDedicated | LlmOpenRouter | LlmCustom | LlmRealtime, Field(discriminator="type")]


class XY(Wire):
    x: float
    y: float


class PromptFlowEdge(Wire):
    id: str
    source: str
    target: str


class PromptFlowNodeData(Wire):
    body: str
    title: str


class PromptFlowNode(Wire):
    id: str
    data: PromptFlowNodeData
    position: XY
    type: Literal["promptBlock"]


class PromptFlow(Wire):
    edges: list[PromptFlowEdge]
    nodes: list[PromptFlowNode]


class SlackChannel(Wire):
    id: str
    name: str | None = None


class Slack(Wire):
    channels: list[SlackChannel]
    connection_id: str
    outcomes: list[Outcome]
    template: str | None = None


class StructuredOutput(Wire):
    name: Annotated[str, Field(min_length=1)]
    required: bool
    type: FieldType
    description: str | None = None
    enum_options: list[str] | None = None


class SttContext(Wire):
    general: list[KeyValue]
    terms: list[str]


class TransferDestination(Wire):
    label: str
    phone_number: str


class Voice(Wire):
    id: Annotated[str, Field(min_length=1)]
    provider: Literal["cartesia", "elevenlabs", "gradium"]
    model: Literal["sonic-3", "sonic-3.5"] | None = None
    speed: Annotated[float, Field(ge=0.6, le=1.5)] | None = None
    volume: Annotated[float, Field(ge=0.5, le=2.0)] | None = None


class ZohoFieldMapping(Wire):
    source: str
    zoho_field: str


class Zoho(Wire):
    connection_id: str
    field_mapping: list[ZohoFieldMapping]
    log_call_activity: bool
    module: str
    outcomes: list[Outcome]
    template: str | None = None


class AssistantUpdate(Wire):
    """The body of PATCH /assistants/{id}: every field optional."""

    after_call_sms_outcomes: list[Outcome] | None = None
    after_call_sms_prompt: str | None = None
    background_sound: Literal["audio/office.ogg"] | None = None
    background_sound_volume: Unit | None = None
    calendly: Calendly | None = None
    call_retry_config: CallRetryConfig | None = None
    cartesia_dictionary_pronunciation_id: str | None = None
    custom_tools: list[CustomTool] | None = None
    email_notification_address: str | None = None
    email_notification_outcomes: list[Outcome] | None = None
    end_of_call_sentence: str | None = None
    faq_items: list[FaqItem] | None = None
    first_sentence: str | None = None
    first_sentence_delay_ms: NonNegInt | None = None
    first_sentence_mode: Literal["generated", "static", "none"] | None = None
    from_phone_number: str | None = None
    human_transfer_mode: Literal["warm", "cold"] | None = None
    ivr_navigation_enabled: bool | None = None
    llm_model: LlmModel | None = None
    logo_url: str | None = None
    max_call_duration_secs: Annotated[float, Field(gt=0)] | None = None
    max_duration_end_message: str | None = None
    name: Annotated[str, Field(min_length=1)] | None = None
    position: XY | None = None
    precall_lookup_url: str | None = None
    prompt: str | None = None
    prompt_flow: PromptFlow | None = None
    slack: Slack | None = None
    sms_enabled: bool | None = None
    sms_template: str | None = None
    structured_output_config: list[StructuredOutput] | None = None
    structured_output_prompt: str | None = None
    stt_context: SttContext | None = None
    stt_model: Literal["stt-rt-v4", "stt-rt-v5"] | None = None
    thinking_sound: ThinkingSound | None = None
    thinking_sound_probability: Unit | None = None
    thinking_sound_volume: Unit | None = None
    transfer_destinations: list[TransferDestination] | None = None
    transfer_phone_number: str | None = None  # seed field, deprecated by transfer_destinations
    type: Literal["standalone", "multi-step", "sub-assistant"] | None = None
    voice: Voice | None = None
    voicemail_message: str | None = None
    voicemail_sms_prompt: str | None = None
    warm_transfer_summary_instructions: str | None = None
    webhook_url: str | None = None
    zoho: Zoho | None = None


class PhoneNumberUpdate(Wire):
    inbound_assistant_id: str | None = None
    label: str | None = None


Language = Literal["en", "fr", "es", "de", "it", "pt", "ru", "zh"]
AudioType = Literal["audio/webm", "audio/wav", "audio/mpeg", "audio/ogg", "audio/mp4", "video/webm"]
MAX_SAMPLE_BYTES = 7 * 1024 * 1024 + 512 * 1024  # the SDK's "max ~7.5MB decoded", read as 7.5 MiB


class VoiceClone(Wire):
    """The body of POST /voices/clone (`VoiceCloneParams`): all four keys required; the MIME type travels as
    `contentType`, so `content_type` is an unknown key, as the API sees it."""

    audio: str
    content_type: AudioType = Field(alias="contentType")
    language: Language
    name: str


WRITABLE_FIELDS = frozenset(AssistantUpdate.model_fields)
NEVER_NULL = frozenset({"name", "prompt"})


class ApiError(Exception):
    """A request the API refuses: the server answers `status` with the message (and the field when known)."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequest(ApiError):
    """A request body the API would refuse with 400."""


class Conflict(ApiError):
    """The request clashes with the current state (a voice still in use): 409."""

    status = 409


class TooLarge(ApiError):
    """A payload over the API's size limit: 413, the status that names exactly that."""

    status = 413


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    previous: int | str | None = None
    for part in loc:
        if previous == "llm_model" and isinstance(part, str) and part in _LLM_TAGS:
            previous = part
            continue  # the discriminated union's tag is not part of the user's path
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
        previous = part
    return out


_LLM_TAGS = frozenset({"dedicated-instance", "openrouter", "custom", "realtime"})


def _bad_request(exc: ValidationError) -> BadRequest:
    err = exc.errors(include_url=False)[0]
    field = _loc(tuple(err["loc"]))
    if err["type"] == "extra_forbidden":
        name = field.rsplit(".", 1)[-1]
        return BadRequest(
            f"Unknown field '{name}'" + (f" at '{field}'" if "." in field or "[" in field else ""), field
        )
    if err["type"] == "missing":
        return BadRequest(f"Missing required field '{field}'", field)
    msg = str(err["msg"]).removeprefix("Value error, ")
    return BadRequest(f"Invalid value for '{field}': {msg}", field)


def _parse(model: type[W], body: Any) -> W:
    """`body` checked against `model`; BadRequest at the first field the API would refuse."""
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise _bad_request(exc) from None


def validate_update(body: Any) -> dict[str, Any]:
    """The body with calling-window times normalised; BadRequest when the API would refuse it."""
    model = _parse(AssistantUpdate, body)
    for key in NEVER_NULL:
        if key in body and body[key] is None:
            raise BadRequest(f"Invalid value for '{key}': must not be null", key)
    out = dict(body)
    crc = out.get("call_retry_config")
    if isinstance(crc, dict) and model.call_retry_config is not None:
        out["call_retry_config"] = {
            **crc,
            "calling_windows": [
                {**raw, **w.model_dump(include={"calling_window_start_time", "calling_window_end_time"})}
                for raw, w in zip(
                    crc["calling_windows"], model.call_retry_config.calling_windows, strict=True
                )
            ],
        }
    return out


def validate_create(body: Any) -> dict[str, Any]:
    out = validate_update(body)
    for key in ("name", "prompt"):
        if key not in out:
            raise BadRequest(f"Missing required field '{key}'", key)
    return out


def validate_phone_number_update(body: Any) -> dict[str, Any]:
    _parse(PhoneNumberUpdate, body)
    return dict(body)


def validate_voice_clone(body: Any) -> tuple[VoiceClone, bytes]:
    """The clone request and its decoded sample; BadRequest or TooLarge when the API would refuse it.

    The base64 must be strict (no data-URL prefix, no line breaks, right padding): the sample is decoded
    once, here, so a body that cannot be decoded never reaches the state."""
    clone = _parse(VoiceClone, body)
    if not clone.name.strip():
        raise BadRequest("Invalid value for 'name': must not be empty", "name")
    try:
        sample = base64.b64decode(clone.audio, validate=True)
    except binascii.Error:
        raise BadRequest("Invalid value for 'audio': not valid base64", "audio") from None
    if not sample:
        raise BadRequest("Invalid value for 'audio': the audio is empty", "audio")
    if len(sample) > MAX_SAMPLE_BYTES:
        raise TooLarge(
            f"Audio too large: {len(sample)} bytes decoded, the limit is {MAX_SAMPLE_BYTES} bytes (7.5 MB)",
            "audio",
        )
    return clone, sample

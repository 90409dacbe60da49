"""The desired state of one assistant, as a file declares it.

Field names, types and ranges follow the API reference (`shared/seed/assistants-update.md`, which wins on a
field's meaning) and the official SDK 0.5.0 (`AssistantCreateParams` / `AssistantUpdateParams`), which adds
fields the seed lacks. Structure and per-field ranges live in the pydantic models (and in their JSON Schema,
shipped as `shape.json` so that a valid file is checked without pydantic); value formats and field sets in
`fields`; rules that span fields or list items in `checks`, so each issue can point at the exact item it is
about.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from revox_sync.kinds.assistant.fields import WORKDAYS, Weekday

Outcome = Literal["not_interested", "interested", "completed", "requested_callback_later", "none"]
OutputType = Literal["string", "number", "boolean", "enum", "date", "datetime"]
NonEmpty = Annotated[str, Field(min_length=1)]
Unit = Annotated[float, Field(ge=0, le=1)]
PositiveInt = Annotated[int, Field(gt=0, le=9007199254740991)]


class _Strict(BaseModel):
    """Strict: YAML already types values, so `"1.0"` for a number is a mistake worth reporting. Built when
    first used (`defer_build`): validating builds `AssistantSpec` alone, its parts inside it, rather than one
    validator per model at import."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


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
    previous_names: list[NonEmpty] | None = None
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

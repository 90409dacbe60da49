"""The JSON Schema of an assistant file, for editors (yaml-language-server) and other validators; and the
models' own schema, which `shape.json` holds."""

from __future__ import annotations

from typing import Any

from revox_sync.kinds.assistant import spec

# Editor hover text for the top-level fields (from the API reference, shortened).
FIELD_DOCS: dict[str, str] = {
    "id": "Pins this file to one remote assistant; renaming is then an update. Omit to match by name.",
    "previous_names": (
        "Former names: with no remote assistant of this name, the one of a former name is renamed (an "
        "update, not a create)."
    ),
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
    "pattern": r"^\$\{([A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?|each\.[A-Za-z_][A-Za-z0-9_]*)\}$",
    "description": "A ${VAR} or ${VAR:-default} reference, resolved when the file is loaded (or ${each.KEY}).",
}
# Keys of the configuration layer (config/templates.py), gone before a file becomes an assistant.
FLEET_PROPERTIES = {
    "extends": {
        "type": "string",
        "description": (
            "A template (path relative to the config directory, e.g. templates/receptionist.yaml) this file "
            "is merged onto: mappings merge key by key, recursively; a scalar or a list here replaces the "
            "template's; null here sets null. Templates may extend templates."
        ),
    },
    "for_each": {
        "description": (
            "One assistant per row: `!file rows.csv` (with a header row) or a list of mappings; "
            "${each.KEY} in any string stands for the row's KEY."
        ),
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}],
    },
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
    schema = spec.AssistantSpec.model_json_schema()
    for name, text in FIELD_DOCS.items():
        schema["properties"][name]["description"] = text
    schema = _allow_interpolation(schema)
    schema["properties"].update(FLEET_PROPERTIES)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Revox assistant (revox-sync)"
    schema["description"] = (
        "One Revox voice assistant. Absent keys are unmanaged; `!file path` may stand for any string."
    )
    return dict(schema)


def shape() -> dict[str, Any]:
    """The models' JSON Schema with the defaults their factories make written out: what `shape.json` holds,
    for checking a file without pydantic (`shape.plain`). Write it again after changing a model:

        python -c "import json, pathlib; from revox_sync.kinds.assistant import schema; text = json.dumps(schema.shape(), indent=1); pathlib.Path('revox_sync/kinds/assistant/shape.json').write_text(text)"
    """
    from pydantic_core import to_jsonable_python

    doc = spec.AssistantSpec.model_json_schema()
    for name, node in [("AssistantSpec", doc), *doc["$defs"].items()]:
        for field, info in getattr(spec, name).model_fields.items():
            if info.default_factory is not None:
                made = info.get_default(call_default_factory=True)
                node["properties"][field]["default"] = to_jsonable_python(made)
    return doc

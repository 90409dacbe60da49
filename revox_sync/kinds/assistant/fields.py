"""What an assistant file's fields are beyond their models: the ones the server owns, the deprecated ones,
the formats of values (numbers, times, URLs) and the sets of sub-fields that comparing and sending treat
apart. Plain values, without pydantic: the checks of a valid file, the policy rules and the other kinds
read them without building the models (`spec`)."""

from __future__ import annotations

import re
from typing import Literal

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


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WORKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")

# Ranges the API documents per voice provider.
SPEED_RANGES = {"cartesia": (0.6, 1.5), "elevenlabs": (0.7, 1.2), "gradium": (0.6, 1.5)}

# Sub-fields of a file that the API does not have: resolved before anything is compared or sent.
CONFIG_ONLY = frozenset({"voice.clone"})

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

# Top-level keys that say how a file matches its remote assistant: never compared, never sent.
MATCHING_FIELDS = frozenset({"id", "previous_names"})

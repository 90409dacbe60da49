"""The emulator's data: assistants, phone numbers and voices, with the server's own rules for writing them.

Everything is plain JSON-able dicts kept behind one lock, so the threaded HTTP server can call in from any
thread. With a `path`, the state is saved as JSON after every write, atomically (temp file in the same
directory, fsync, os.replace), so a crash never leaves half a file and consecutive `--local` runs see each
other's changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from revox_sync.emulator.wire import (
    ApiError,
    BadRequest,
    Conflict,
    validate_create,
    validate_phone_number_update,
    validate_update,
    validate_voice_clone,
)

ORGANIZATION_ID = "org_emulator"
CREATED_BY = {
    "id": "user_emulator",
    "email": "emulator@localhost",
    "first_name": "Local",
    "last_name": "Emulator",
}
DEFAULT_VOICE_ID = "a0e99841-438c-4a64-b679-ae501e7d6091"
STATE_VERSION = 1


def server_defaults() -> dict[str, Any]:
    """Every writable field of a new assistant, as the server fills it when the create body omits it."""
    return {
        "after_call_sms_outcomes": None,
        "after_call_sms_prompt": None,
        "background_sound": None,
        "background_sound_volume": 0.5,
        "calendly": None,
        "call_retry_config": {
            "allowed_days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "call_twice_in_a_row": False,
            "calling_windows": [
                {
                    "calling_window_start_time": "10:00",
                    "calling_window_end_time": "18:00",
                    "retry_delay_seconds": 7200,
                }
            ],
            "max_retry_attempts": 3,
            "timezone": None,
        },
        "cartesia_dictionary_pronunciation_id": None,
        "custom_tools": [],
        "email_notification_address": None,
        "email_notification_outcomes": None,
        "end_of_call_sentence": None,
        "faq_items": [],
        "first_sentence": None,
        "first_sentence_delay_ms": 400,
        "first_sentence_mode": "generated",
        "from_phone_number": None,
        "human_transfer_mode": None,
        "ivr_navigation_enabled": False,
        "llm_model": {"type": "dedicated-instance", "name": "gpt-4.1"},
        "logo_url": None,
        "max_call_duration_secs": 600.0,
        "max_duration_end_message": None,
        "position": None,
        "precall_lookup_url": None,
        "prompt_flow": None,
        "slack": None,
        "sms_enabled": False,
        "sms_template": None,
        "structured_output_config": [],
        "structured_output_prompt": None,
        "stt_context": None,
        "stt_model": "stt-rt-v5",
        "thinking_sound": None,
        "thinking_sound_probability": 0.5,
        "thinking_sound_volume": 0.5,
        "transfer_destinations": [],
        "transfer_phone_number": None,
        "type": "standalone",
        "voice": {"provider": "cartesia", "id": DEFAULT_VOICE_ID, "speed": 1.0},
        "voicemail_message": None,
        "voicemail_sms_prompt": None,
        "warm_transfer_summary_instructions": None,
        "webhook_url": None,
        "zoho": None,
    }


# Fields whose value the server always has: a null in a write resets them to the default.
_RESET_ON_NULL = frozenset(
    {
        "background_sound_volume",
        "call_retry_config",
        "faq_items",
        "first_sentence_delay_ms",
        "first_sentence_mode",
        "ivr_navigation_enabled",
        "llm_model",
        "max_call_duration_secs",
        "sms_enabled",
        "stt_model",
        "thinking_sound_probability",
        "thinking_sound_volume",
        "type",
    }
)

VOICES: list[dict[str, Any]] = [
    {
        "id": DEFAULT_VOICE_ID,
        "name": "Barbershop Man",
        "description": "Warm, conversational American male voice",
        "language": "en",
        "provider": "cartesia",
        "accent": "american",
        "gender": "male",
        "isCloned": False,
        "modelCompat": "universal",
    },
    {
        "id": "79a125e8-cd45-4c13-8a67-188112f4dd22",
        "name": "British Lady",
        "description": "Clear, professional British female voice",
        "language": "en",
        "provider": "cartesia",
        "accent": "british",
        "gender": "female",
        "isCloned": False,
        "modelCompat": "universal",
    },
    {
        "id": "a8a1eb38-5f15-4c1d-8722-7ac0f329727d",
        "name": "Calm French Woman",
        "description": "Calm, friendly French female voice",
        "language": "fr",
        "provider": "cartesia",
        "accent": "france",
        "gender": "female",
        "isCloned": False,
        "modelCompat": "sonic-3",
    },
    {
        "id": "21m00Tcm4TlvDq8ikWAM",
        "name": "Rachel",
        "description": "Calm young American female narrator",
        "language": "en",
        "provider": "elevenlabs",
        "accent": "american",
        "gender": "female",
        "isCloned": False,
    },
    {
        "id": "pNInz6obpgDQGcFmaJgB",
        "name": "Adam",
        "description": "Deep American male voice",
        "language": "en",
        "provider": "elevenlabs",
        "accent": "american",
        "gender": "male",
        "isCloned": False,
    },
    {
        "id": "gradium-emma-fr",
        "name": "Emma",
        "description": "Expressive French female voice",
        "language": "fr",
        "provider": "gradium",
        "accent": "france",
        "gender": "female",
        "isCloned": False,
    },
]


# What GET /voices serves of a voice (the SDK's `Voice`); a clone's record also keeps private fields.
LISTED_VOICE_FIELDS = (
    "id",
    "name",
    "description",
    "language",
    "provider",
    "accent",
    "gender",
    "isCloned",
    "modelCompat",
)


class NotFound(ApiError):
    """The id names nothing: the API answers 404."""

    status = 404


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def _listed(voice: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(voice[k]) for k in LISTED_VOICE_FIELDS if k in voice}


def _pending_faq_count(items: list[dict[str, Any]] | None) -> int:
    return sum(1 for i in items or [] if i.get("source") == "ai" and i.get("needs_human_answer"))


class EmulatorState:
    """Assistants, phone numbers and voices of one emulated organisation; thread-safe."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.RLock()
        self.assistants: dict[str, dict[str, Any]] = {}
        self.phone_numbers: dict[str, dict[str, Any]] = {}
        self.voices: list[dict[str, Any]] = copy.deepcopy(VOICES)
        self._scheduled_calls: dict[str, dict[str, Any]] = {}
        self._last_stamp = ""

    # -- persistence ----------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> EmulatorState:
        """The state saved at `path`, or an empty state that will be saved there."""
        state = cls(path)
        path = Path(path)
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(f"cannot read emulator state {path}: {exc}") from exc
            state.assistants = {a["id"]: a for a in data.get("assistants", [])}
            state.phone_numbers = {p["id"]: p for p in data.get("phone_numbers", [])}
            if data.get("voices"):
                state.voices = data["voices"]
        return state

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(
                {
                    "version": STATE_VERSION,
                    "assistants": list(self.assistants.values()),
                    "phone_numbers": list(self.phone_numbers.values()),
                    "voices": self.voices,
                }
            )

    def save(self) -> None:
        """Write the state to `path` atomically; a no-op for an in-memory state."""
        if self.path is None:
            return
        from revox_sync.files import write_atomic

        with self._lock:
            write_atomic(self.path, json.dumps(self.to_json(), indent=2, sort_keys=True))

    # -- helpers --------------------------------------------------------------------------------------

    def _stamp(self) -> str:
        """A timestamp strictly later than the previous one, so updated_at always moves."""
        stamp = now_iso()
        if stamp <= self._last_stamp:
            base = datetime.fromisoformat(self._last_stamp.replace("Z", "+00:00"))
            stamp = (
                (base + timedelta(microseconds=1)).isoformat(timespec="microseconds").replace("+00:00", "Z")
            )
        self._last_stamp = stamp
        return stamp

    def _apply_fields(self, record: dict[str, Any], body: dict[str, Any]) -> None:
        defaults = server_defaults()
        for key, value in body.items():
            if value is None and key in _RESET_ON_NULL:
                value = defaults[key]
            if key == "faq_items":
                value = [
                    {
                        "id": new_id("faq_"),
                        "question": item["question"],
                        "answer": item["answer"],
                        "source": "human",
                        "needs_human_answer": False,
                    }
                    for item in value
                ]
            record[key] = copy.deepcopy(value)
        record["pending_faq_count"] = _pending_faq_count(record.get("faq_items"))

    def _new_record(self) -> dict[str, Any]:
        """A new assistant as the server starts it: its own fields, then every default."""
        stamp = self._stamp()
        return {
            "id": new_id("asst_"),
            "organization_id": ORGANIZATION_ID,
            "created_at": stamp,
            "updated_at": stamp,
            "created_by": dict(CREATED_BY),
            **server_defaults(),
            "is_inbound_receptionist": False,
            "is_realestate_assistant": False,
        }

    def _get(self, assistant_id: str) -> dict[str, Any]:
        try:
            return self.assistants[assistant_id]
        except KeyError:
            raise NotFound(f"Assistant {assistant_id} not found") from None

    def _voice(self, voice_id: str) -> dict[str, Any]:
        for voice in self.voices:
            if voice["id"] == voice_id:
                return voice
        raise NotFound(f"Voice {voice_id} not found")

    def _add_clone(self, name: str, language: str, content_type: str, sample: bytes) -> dict[str, Any]:
        """A new clone record. The API keeps no sample a client can read back: the record keeps only its
        sha256 (never served), so tests can tell which sample a clone was made from."""
        voice = {
            "id": str(uuid.uuid4()),
            "name": name,
            "description": "",  # the clone request carries none
            "language": language,
            "provider": "cartesia",
            "isCloned": True,
            "createdAt": self._stamp(),
            "contentType": content_type,
            "sampleSha256": hashlib.sha256(sample).hexdigest(),
        }
        self.voices.append(voice)
        return voice

    def _phone_out(self, number: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in number.items() if k != "inbound_assistant_id"}
        target = number.get("inbound_assistant_id")
        out["inbound_assistant"] = copy.deepcopy(self.assistants.get(target)) if target else None
        return out

    # -- API operations (called by the server) --------------------------------------------------------

    def list_assistants(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(a) for a in self.assistants.values()]

    def get_assistant(self, assistant_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._get(assistant_id))

    def create_assistant(self, body: Any) -> dict[str, Any]:
        fields = validate_create(body)
        with self._lock:
            record = self._new_record()
            self._apply_fields(record, fields)
            self.assistants[record["id"]] = record
            self.save()
            return copy.deepcopy(record)

    def update_assistant(self, assistant_id: str, body: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The updated assistant, and the unpatched-calls notice when scheduled calls kept the old prompt."""
        fields = validate_update(body)
        with self._lock:
            record = self._get(assistant_id)
            prompt_changed = "prompt" in fields and fields["prompt"] != record.get("prompt")
            self._apply_fields(record, fields)
            record["updated_at"] = self._stamp()
            notice = None
            if prompt_changed and assistant_id in self._scheduled_calls:
                notice = self._scheduled_calls.pop(assistant_id)
            self.save()
            return copy.deepcopy(record), notice

    def delete_assistant(self, assistant_id: str) -> None:
        with self._lock:
            self._get(assistant_id)
            del self.assistants[assistant_id]
            for number in self.phone_numbers.values():
                if number.get("inbound_assistant_id") == assistant_id:
                    number["inbound_assistant_id"] = None
            self._scheduled_calls.pop(assistant_id, None)
            self.save()

    def list_voices(self) -> list[dict[str, Any]]:
        """The catalogue, then the organisation's clones in the order they were made."""
        with self._lock:
            return [_listed(v) for v in self.voices]

    def get_voice(self, voice_id: str) -> dict[str, Any]:
        """GET /voices/{id}: the SDK's `VoiceRetrieveResponse.voice` (id, name, description)."""
        with self._lock:
            voice = self._voice(voice_id)
            return {"id": voice["id"], "name": voice["name"], "description": voice["description"]}

    def clone_voice(self, body: Any) -> dict[str, Any]:
        """POST /voices/clone: the SDK's `VoiceCloneResponse`, not enveloped.

        A clone has one id everywhere: the one GET /voices lists, DELETE /voices/{id} takes and an
        assistant's `voice: {provider: cartesia, id}` uses. `cartesiaVoiceId` equals it, because for catalogue
        voices too the id an assistant uses with provider cartesia is Cartesia's own."""
        request, sample = validate_voice_clone(body)
        with self._lock:
            voice = self._add_clone(request.name, request.language, request.content_type, sample)
            self.save()
            return {
                "id": voice["id"],
                "cartesiaVoiceId": voice["id"],
                "createdAt": voice["createdAt"],
                "language": voice["language"],
                "name": voice["name"],
            }

    def delete_voice(self, voice_id: str) -> None:
        """DELETE /voices/{id}: only clones, and only when no assistant uses them.

        A catalogue voice answers 400, not 403: the key is fine, the request is wrong (and clients, the
        revox-sync client among them, read 403 as a rejected key)."""
        with self._lock:
            voice = self._voice(voice_id)
            if not voice["isCloned"]:
                raise BadRequest(f"Voice {voice_id} is not a cloned voice: only cloned voices can be deleted")
            users = sorted(
                (a["name"], a["id"])
                for a in self.assistants.values()
                if (a.get("voice") or {}).get("id") == voice_id
            )
            if users:
                named = ", ".join(f"{name} ({aid})" for name, aid in users)
                plural = "s" if len(users) > 1 else ""
                raise Conflict(
                    f"Voice {voice_id} is in use by {len(users)} assistant{plural}: {named}; "
                    "give them another voice first"
                )
            self.voices.remove(voice)
            self.save()

    def list_phone_numbers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._phone_out(n) for n in self.phone_numbers.values()]

    def update_phone_number(self, number_id: str, body: Any) -> dict[str, Any]:
        fields = validate_phone_number_update(body)
        with self._lock:
            number = self.phone_numbers.get(number_id)
            if number is None:
                raise NotFound(f"Phone number {number_id} not found")
            target = fields.get("inbound_assistant_id")
            if target is not None and target not in self.assistants:
                raise BadRequest(f"Assistant {target} not found", "inbound_assistant_id")
            number.update(fields)
            self.save()
            return self._phone_out(number)

    # -- test hooks -----------------------------------------------------------------------------------

    def seed_assistant(self, assistant: dict[str, Any]) -> dict[str, Any]:
        """Insert a full assistant as the dashboard would (no validation); missing fields get defaults."""
        with self._lock:
            record = self._new_record()
            record.update(copy.deepcopy(assistant))
            record["pending_faq_count"] = _pending_faq_count(record.get("faq_items"))
            self.assistants[record["id"]] = record
            self.save()
            return copy.deepcopy(record)

    def seed_voice(
        self, name: str, language: str = "en", sample: bytes = b"dashboard sample"
    ) -> dict[str, Any]:
        """A cloned voice added as the dashboard would (no validation); returns it as GET /voices lists it.

        `sample` only feeds the private digest (`voice_sample_digest`)."""
        with self._lock:
            voice = self._add_clone(name, language, "audio/wav", sample)
            self.save()
            return _listed(voice)

    def voice_sample_digest(self, voice_id: str) -> str:
        """The sha256 of the sample a clone was made from: what only the server knows."""
        with self._lock:
            return str(self._voice(voice_id)["sampleSha256"])

    def add_faq_suggestion(self, assistant_id: str, question: str) -> dict[str, Any]:
        """An AI-suggested FAQ item waiting for a human answer, as the server adds after calls."""
        with self._lock:
            record = self._get(assistant_id)
            item = {
                "id": new_id("faq_"),
                "question": question,
                "answer": "",
                "source": "ai",
                "needs_human_answer": True,
            }
            record.setdefault("faq_items", [])
            if record["faq_items"] is None:
                record["faq_items"] = []
            record["faq_items"].append(item)
            record["pending_faq_count"] = _pending_faq_count(record["faq_items"])
            self.save()
            return copy.deepcopy(item)

    def set_scheduled_calls(self, assistant_id: str, count: int, variables: list[str] | None = None) -> None:
        """The next PATCH that changes this assistant's prompt answers with an unpatchedCallsNotice."""
        with self._lock:
            self._get(assistant_id)
            self._scheduled_calls[assistant_id] = {"count": count, "variables": list(variables or [])}

    def add_phone_number(
        self, number: str, label: str | None = None, inbound_assistant_id: str | None = None
    ) -> dict[str, Any]:
        with self._lock:
            if inbound_assistant_id is not None:
                self._get(inbound_assistant_id)
            record: dict[str, Any] = {
                "id": new_id("pn_"),
                "phone_number": number,
                "label": label,
                "inbound_assistant_id": inbound_assistant_id,
                "created_at": self._stamp(),
                "created_by": dict(CREATED_BY),
                "inbound_sip_uri": None,
                "livekit_outbound_trunk_id": None,
                "provider": "twilio",
                "source": "revox_purchased",
                "type": "owned_number",
            }
            self.phone_numbers[record["id"]] = record
            self.save()
            return self._phone_out(record)

"""The emulator's data: assistants, phone numbers and voices, with the server's own rules for writing them.

Everything is plain JSON-able dicts kept behind one lock, so the threaded HTTP server can call in from any
thread. With a `path`, every write is durable before it is answered and every request first catches up on
what other processes wrote to the same path (`store.py`: snapshot, journal, file lock), so consecutive and
concurrent `--local` runs see each other's changes and `kill -9` at any moment loses nothing acknowledged.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from revox_sync.emulator.store import StateError, Store
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
STATE_FILE_HINT = "the emulator's state file; fix it or delete it to start over"


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


# Text the server keeps trimmed and with `\n` line endings, as APIs commonly do: a client must not plan
# a change that is only this normalisation.
_NORMALISED_TEXT = frozenset(
    {
        "prompt",
        "first_sentence",
        "end_of_call_sentence",
        "max_duration_end_message",
        "voicemail_message",
        "voicemail_sms_prompt",
    }
)


def _server_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


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


def _voice_table(voices: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(v["id"]): copy.deepcopy(v) for v in voices}


def _listed(voice: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(voice[k]) for k in LISTED_VOICE_FIELDS if k in voice}


def _pending_faq_count(items: list[dict[str, Any]] | None) -> int:
    return sum(1 for i in items or [] if i.get("source") == "ai" and i.get("needs_human_answer"))


class EmulatorState:
    """Assistants, phone numbers and voices of one emulated organisation; thread-safe, and with a `path`
    safe to share between processes (see `store.py`)."""

    def __init__(self, path: Path | None = None, *, hint: str = STATE_FILE_HINT) -> None:
        self._store = Store(path, hint) if path is not None else None
        self._lock = threading.RLock()
        self._depth = 0  # nesting of _guard in the thread holding _lock
        self.assistants: dict[str, dict[str, Any]] = {}
        self.phone_numbers: dict[str, dict[str, Any]] = {}
        self.voices: dict[str, dict[str, Any]] = _voice_table(VOICES)  # by id: the catalogue, then clones
        self._scheduled_calls: dict[str, dict[str, Any]] = {}
        self._last_stamp = ""

    # -- persistence ----------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path, *, hint: str = STATE_FILE_HINT) -> EmulatorState:
        """The state kept at `path` (empty if there is none yet); a `StateFileError` says what is wrong
        with a file that cannot be read, and `hint` whose file it is."""
        state = cls(path, hint=hint)
        try:
            with state._guard():
                pass
        except BaseException:
            if state._store is not None:
                state._store.close()  # the lock file, not left open by a state never used
            raise
        return state

    @property
    def path(self) -> Path | None:
        return self._store.path if self._store is not None else None

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """This process's threads one at a time and, with a file, every process: caught up on disk first."""
        with self._lock:
            if self._store is None or self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with self._store.locked():
                self._depth = 1
                try:
                    self._catch_up(self._store)
                    yield
                except OSError as exc:  # memory may now be ahead of the disk: reread it next time
                    self._store.forget()
                    raise StateError(f"{self._store.path}: cannot read or write the state: {exc}") from None
                finally:
                    self._depth = 0

    def _catch_up(self, store: Store) -> None:
        snapshot, entries = store.catch_up()
        if snapshot is not None:
            self.assistants = {a["id"]: a for a in snapshot.get("assistants", [])}
            self.phone_numbers = {p["id"]: p for p in snapshot.get("phone_numbers", [])}
            self.voices = _voice_table(snapshot.get("voices") or VOICES)
        for entry in entries:
            tables = (
                ("assistants", self.assistants),
                ("phone_numbers", self.phone_numbers),
                ("voices", self.voices),
            )
            for kind, table in tables:
                for record_id, record in entry.get(kind, {}).items():
                    if record is None:
                        table.pop(record_id, None)
                    else:
                        table[record_id] = record

    def _commit(
        self, assistants: Iterable[str] = (), phone_numbers: Iterable[str] = (), voices: Iterable[str] = ()
    ) -> None:
        """Persist the records these ids name now (absent: deleted); called inside `_guard` after a write."""
        if self._store is None:
            return
        entry = {
            "assistants": {i: self.assistants.get(i) for i in assistants},
            "phone_numbers": {i: self.phone_numbers.get(i) for i in phone_numbers},
            "voices": {i: self.voices.get(i) for i in voices},
        }
        if self._store.append(entry):
            self._store.compact(self.to_json())

    def to_json(self) -> dict[str, Any]:
        with self._guard():
            return copy.deepcopy(
                {
                    "version": STATE_VERSION,
                    "assistants": list(self.assistants.values()),
                    "phone_numbers": list(self.phone_numbers.values()),
                    "voices": list(self.voices.values()),
                }
            )

    def close(self) -> None:
        """Fold the journal into the snapshot (what others wrote included) and let go of the lock file."""
        if self._store is None:
            return
        with self._guard():
            if self._store.has_journal:
                self._store.compact(self.to_json())
        self._store.close()

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
            if key in _NORMALISED_TEXT and isinstance(value, str):
                value = _server_text(value)
            if key == "faq_items":
                value = [
                    {
                        "id": new_id("faq_"),
                        "question": _server_text(item["question"]),
                        "answer": _server_text(item["answer"]),
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
        voice = self.voices.get(voice_id)
        if voice is None:
            raise NotFound(f"Voice {voice_id} not found")
        return voice

    def _add_clone(self, name: str, language: str, content_type: str, sample: bytes) -> dict[str, Any]:
        """A new clone record. The API keeps no sample a client can read back: the record keeps only its
        sha256 (never served), so tests can tell which sample a clone was made from."""
        voice: dict[str, Any] = {
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
        self.voices[voice["id"]] = voice
        return voice

    def _phone_out(self, number: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in number.items() if k != "inbound_assistant_id"}
        target = number.get("inbound_assistant_id")
        out["inbound_assistant"] = copy.deepcopy(self.assistants.get(target)) if target else None
        return out

    # -- API operations (called by the server) --------------------------------------------------------

    def list_assistants(self) -> list[dict[str, Any]]:
        with self._guard():
            return [copy.deepcopy(a) for a in self.assistants.values()]

    def get_assistant(self, assistant_id: str) -> dict[str, Any]:
        with self._guard():
            return copy.deepcopy(self._get(assistant_id))

    def create_assistant(self, body: Any) -> dict[str, Any]:
        fields = validate_create(body)
        with self._guard():
            record = self._new_record()
            self._apply_fields(record, fields)
            self.assistants[record["id"]] = record
            self._commit(assistants=[record["id"]])
            return copy.deepcopy(record)

    def update_assistant(self, assistant_id: str, body: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The updated assistant, and the unpatched-calls notice when scheduled calls kept the old prompt."""
        fields = validate_update(body)
        with self._guard():
            record = self._get(assistant_id)
            prompt_changed = "prompt" in fields and fields["prompt"] != record.get("prompt")
            self._apply_fields(record, fields)
            record["updated_at"] = self._stamp()
            notice = None
            if prompt_changed and assistant_id in self._scheduled_calls:
                notice = self._scheduled_calls.pop(assistant_id)
            self._commit(assistants=[assistant_id])
            return copy.deepcopy(record), notice

    def delete_assistant(self, assistant_id: str) -> None:
        with self._guard():
            self._get(assistant_id)
            del self.assistants[assistant_id]
            unrouted = [
                n["id"] for n in self.phone_numbers.values() if n.get("inbound_assistant_id") == assistant_id
            ]
            for number_id in unrouted:
                self.phone_numbers[number_id]["inbound_assistant_id"] = None
            self._scheduled_calls.pop(assistant_id, None)
            self._commit(assistants=[assistant_id], phone_numbers=unrouted)

    def list_voices(self) -> list[dict[str, Any]]:
        """The catalogue, then the organisation's clones in the order they were made."""
        with self._guard():
            return [_listed(v) for v in self.voices.values()]

    def get_voice(self, voice_id: str) -> dict[str, Any]:
        """GET /voices/{id}: the SDK's `VoiceRetrieveResponse.voice` (id, name, description)."""
        with self._guard():
            voice = self._voice(voice_id)
            return {"id": voice["id"], "name": voice["name"], "description": voice["description"]}

    def clone_voice(self, body: Any) -> dict[str, Any]:
        """POST /voices/clone: the SDK's `VoiceCloneResponse`, not enveloped.

        A clone has one id everywhere: the one GET /voices lists, DELETE /voices/{id} takes and an
        assistant's `voice: {provider: cartesia, id}` uses. `cartesiaVoiceId` equals it, because for catalogue
        voices too the id an assistant uses with provider cartesia is Cartesia's own."""
        request, sample = validate_voice_clone(body)
        with self._guard():
            voice = self._add_clone(request.name, request.language, request.content_type, sample)
            self._commit(voices=[voice["id"]])
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
        with self._guard():
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
            del self.voices[voice_id]
            self._commit(voices=[voice_id])

    def list_phone_numbers(self) -> list[dict[str, Any]]:
        with self._guard():
            return [self._phone_out(n) for n in self.phone_numbers.values()]

    def update_phone_number(self, number_id: str, body: Any) -> dict[str, Any]:
        fields = validate_phone_number_update(body)
        with self._guard():
            number = self.phone_numbers.get(number_id)
            if number is None:
                raise NotFound(f"Phone number {number_id} not found")
            target = fields.get("inbound_assistant_id")
            if target is not None and target not in self.assistants:
                raise BadRequest(f"Assistant {target} not found", "inbound_assistant_id")
            number.update(fields)
            self._commit(phone_numbers=[number_id])
            return self._phone_out(number)

    # -- test hooks -----------------------------------------------------------------------------------

    def seed_assistant(self, assistant: dict[str, Any]) -> dict[str, Any]:
        """Insert a full assistant as the dashboard would (no validation); missing fields get defaults."""
        with self._guard():
            record = self._new_record()
            record.update(copy.deepcopy(assistant))
            record["pending_faq_count"] = _pending_faq_count(record.get("faq_items"))
            self.assistants[record["id"]] = record
            self._commit(assistants=[record["id"]])
            return copy.deepcopy(record)

    def seed_voice(
        self, name: str, language: str = "en", sample: bytes = b"dashboard sample"
    ) -> dict[str, Any]:
        """A cloned voice added as the dashboard would (no validation); returns it as GET /voices lists it.

        `sample` only feeds the private digest (`voice_sample_digest`)."""
        with self._guard():
            voice = self._add_clone(name, language, "audio/wav", sample)
            self._commit(voices=[voice["id"]])
            return _listed(voice)

    def voice_sample_digest(self, voice_id: str) -> str:
        """The sha256 of the sample a clone was made from: what only the server knows."""
        with self._guard():
            return str(self._voice(voice_id)["sampleSha256"])

    def add_faq_suggestion(self, assistant_id: str, question: str) -> dict[str, Any]:
        """An AI-suggested FAQ item waiting for a human answer, as the server adds after calls."""
        with self._guard():
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
            self._commit(assistants=[assistant_id])
            return copy.deepcopy(item)

    def set_scheduled_calls(self, assistant_id: str, count: int, variables: list[str] | None = None) -> None:
        """The next PATCH that changes this assistant's prompt answers with an unpatchedCallsNotice."""
        with self._guard():
            self._get(assistant_id)
            self._scheduled_calls[assistant_id] = {"count": count, "variables": list(variables or [])}

    def add_phone_number(
        self, number: str, label: str | None = None, inbound_assistant_id: str | None = None
    ) -> dict[str, Any]:
        with self._guard():
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
            self._commit(phone_numbers=[record["id"]])
            return self._phone_out(record)

"""Cloned voices in the emulator: POST /voices/clone, GET /voices, GET and DELETE /voices/{id}, as SDK 0.5.0
describes them. The official SDK is the client wherever it can send the request, so it parses every answer;
httpx sends what the SDK would not."""

# ruff: noqa: F811  (pytest fixtures imported from emulator_fixtures are redefined as test arguments)

from __future__ import annotations

import base64
import hashlib
import http.client
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import write

from revox_sync.emulator import EmulatorServer, EmulatorState
from revox_sync.emulator.state import DEFAULT_VOICE_ID
from revox_sync.emulator.wire import MAX_SAMPLE_BYTES
from tests.emulator_fixtures import API_KEY, sdk, sdk_request_errors  # noqa: F401  (fixture)

revox = pytest.importorskip("revox")

AUTH = {"Authorization": f"Bearer {API_KEY}"}
SAMPLE = b"RIFF\x24\x00\x00\x00WAVEfmt brand voice sample"
GOOD: dict[str, Any] = {
    "audio": base64.b64encode(SAMPLE).decode("ascii"),
    "contentType": "audio/wav",
    "language": "en",
    "name": "Brand voice",
}


def clone(emulator: EmulatorServer, body: Any) -> httpx.Response:
    return httpx.post(emulator.url + "/voices/clone", json=body, headers=AUTH, timeout=10)


def delete(emulator: EmulatorServer, voice_id: str) -> httpx.Response:
    return httpx.delete(f"{emulator.url}/voices/{voice_id}", headers=AUTH, timeout=5)


def test_sdk_clones_lists_retrieves_uses_and_deletes_a_voice(sdk: Any, sdk_contract: EmulatorServer) -> None:
    cloned = sdk.voices.clone(
        audio=GOOD["audio"], content_type="audio/wav", language="fr", name="Brand voice"
    )
    assert (cloned.name, cloned.language) == ("Brand voice", "fr")
    assert cloned.cartesia_voice_id == cloned.id
    assert cloned.created_at.endswith("Z")

    listed = {v.id: v for v in sdk.voices.list().voices}
    mine = listed[cloned.id]
    assert (mine.name, mine.language, mine.provider, mine.is_cloned) == (
        "Brand voice",
        "fr",
        "cartesia",
        True,
    )
    assert mine.description == ""
    assert listed[DEFAULT_VOICE_ID].is_cloned is False
    assert [v.id for v in listed.values() if v.is_cloned] == [cloned.id]

    retrieved = sdk.voices.retrieve(cloned.id, provider="cartesia").voice
    assert (retrieved.id, retrieved.name, retrieved.description) == (cloned.id, "Brand voice", "")

    assistant = sdk.assistants.create(
        name="Support", prompt="p", voice={"provider": "cartesia", "id": cloned.id, "speed": 1.05}
    ).assistant
    assert assistant.voice.id == cloned.id
    with pytest.raises(revox.ConflictError):
        sdk.voices.delete(cloned.id)

    sdk.assistants.delete(assistant.id)
    assert sdk.voices.delete(cloned.id).success is True
    assert cloned.id not in {v.id for v in sdk.voices.list().voices}
    assert [(r.method, r.path) for r in sdk_contract.requests] == [
        ("POST", "/voices/clone"),
        ("GET", "/voices"),
        ("GET", f"/voices/{cloned.id}"),
        ("POST", "/assistants"),
        ("DELETE", f"/voices/{cloned.id}"),
        ("DELETE", f"/assistants/{assistant.id}"),
        ("DELETE", f"/voices/{cloned.id}"),
        ("GET", "/voices"),
    ]


def test_two_clones_may_share_a_name(sdk: Any, emulator: EmulatorServer) -> None:
    first = sdk.voices.clone(audio=GOOD["audio"], content_type="audio/wav", language="en", name="Twin")
    second = sdk.voices.clone(audio=GOOD["audio"], content_type="audio/ogg", language="de", name="Twin")
    assert first.id != second.id
    twins = [(v.id, v.language) for v in sdk.voices.list().voices if v.name == "Twin"]
    assert twins == [(first.id, "en"), (second.id, "de")]


# Bodies the SDK's VoiceCloneParams refuse: the emulator refuses them with 400 at the field.
BAD_FOR_SDK: list[tuple[Any, str, str]] = [
    ({k: v for k, v in GOOD.items() if k != "audio"}, "audio", "Missing required field 'audio'"),
    (
        {k: v for k, v in GOOD.items() if k != "contentType"},
        "contentType",
        "Missing required field 'contentType'",
    ),
    ({k: v for k, v in GOOD.items() if k != "language"}, "language", "Missing required field 'language'"),
    ({k: v for k, v in GOOD.items() if k != "name"}, "name", "Missing required field 'name'"),
    (
        {**GOOD, "contentType": "audio/flac"},
        "contentType",
        "Invalid value for 'contentType': Input should be 'audio/webm', 'audio/wav', 'audio/mpeg', "
        "'audio/ogg', 'audio/mp4' or 'video/webm'",
    ),
    (
        {**GOOD, "language": "nl"},
        "language",
        "Invalid value for 'language': Input should be 'en', 'fr', 'es', 'de', 'it', 'pt', 'ru' or 'zh'",
    ),
    ({**GOOD, "description": "mine"}, "description", "Unknown field 'description'"),
    (
        {"content_type" if k == "contentType" else k: v for k, v in GOOD.items()},
        "contentType",
        "Missing required field 'contentType'",  # the wire key the body lacks
    ),
    ({**GOOD, "audio": 12}, "audio", "Invalid value for 'audio': Input should be a valid string"),
    ({**GOOD, "name": None}, "name", "Invalid value for 'name': Input should be a valid string"),
]


@pytest.mark.parametrize(("body", "field", "message"), BAD_FOR_SDK)
def test_clone_refuses_what_the_sdk_refuses(
    emulator: EmulatorServer, body: dict[str, Any], field: str, message: str
) -> None:
    assert sdk_request_errors("POST", "/voices/clone", body), "the case must be invalid for the SDK"
    response = clone(emulator, body)
    assert response.status_code == 400
    assert response.json() == {"error": "Bad Request", "message": message, "field": field}
    assert emulator.state.list_voices() == EmulatorState().list_voices()


# Bodies of the right types that the API still refuses: its own rules on the values.
BAD_FOR_API: list[tuple[Any, str, str]] = [
    ({**GOOD, "audio": "not base64!"}, "audio", "Invalid value for 'audio': not valid base64"),
    ({**GOOD, "audio": "QUJ"}, "audio", "Invalid value for 'audio': not valid base64"),
    (
        {**GOOD, "audio": "data:audio/wav;base64," + GOOD["audio"]},
        "audio",
        "Invalid value for 'audio': not valid base64",
    ),
    ({**GOOD, "audio": ""}, "audio", "Invalid value for 'audio': the audio is empty"),
    ({**GOOD, "name": ""}, "name", "Invalid value for 'name': must not be empty"),
    ({**GOOD, "name": "   "}, "name", "Invalid value for 'name': must not be empty"),
]


@pytest.mark.parametrize(("body", "field", "message"), BAD_FOR_API)
def test_clone_refuses_bad_values(
    emulator: EmulatorServer, body: dict[str, Any], field: str, message: str
) -> None:
    assert sdk_request_errors("POST", "/voices/clone", body) == [], "the case must be valid for the SDK types"
    response = clone(emulator, body)
    assert response.status_code == 400
    assert response.json() == {"error": "Bad Request", "message": message, "field": field}
    assert emulator.state.list_voices() == EmulatorState().list_voices()


def test_clone_refuses_a_body_that_is_not_an_object(emulator: EmulatorServer) -> None:
    response = clone(emulator, [GOOD])
    assert response.status_code == 400
    assert response.json() == {"error": "Bad Request", "message": "Request body must be a JSON object"}


def test_clone_takes_a_sample_up_to_the_limit_and_refuses_one_byte_more(emulator: EmulatorServer) -> None:
    assert MAX_SAMPLE_BYTES == 7864320  # 7.5 MiB: "max ~7.5MB decoded" in the SDK
    at_limit = base64.b64encode(b"\0" * MAX_SAMPLE_BYTES).decode("ascii")
    assert clone(emulator, {**GOOD, "audio": at_limit}).status_code == 200
    over = base64.b64encode(b"\0" * (MAX_SAMPLE_BYTES + 1)).decode("ascii")
    response = clone(emulator, {**GOOD, "audio": over, "name": "Too long"})
    assert response.status_code == 413
    assert response.json() == {
        "error": http.client.responses[413],
        "message": "Audio too large: 7864321 bytes decoded, the limit is 7864320 bytes (7.5 MB)",
        "field": "audio",
    }
    assert [v["name"] for v in emulator.state.list_voices() if v["isCloned"]] == ["Brand voice"]


def test_delete_refuses_catalogue_and_unknown_voices(emulator: EmulatorServer) -> None:
    response = delete(emulator, DEFAULT_VOICE_ID)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Bad Request",
        "message": f"Voice {DEFAULT_VOICE_ID} is not a cloned voice: only cloned voices can be deleted",
    }
    response = delete(emulator, "voice_nope")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found", "message": "Voice voice_nope not found"}
    response = httpx.get(f"{emulator.url}/voices/voice_nope?provider=cartesia", headers=AUTH, timeout=5)
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found", "message": "Voice voice_nope not found"}
    assert emulator.state.list_voices() == EmulatorState().list_voices()


def test_delete_of_a_voice_in_use_is_409_naming_the_assistants(emulator: EmulatorServer) -> None:
    voice = emulator.state.seed_voice("Brand voice")
    used = {"provider": "cartesia", "id": voice["id"]}
    support = emulator.state.seed_assistant({"name": "Support", "prompt": "p", "voice": used})
    sales = emulator.state.seed_assistant({"name": "Sales", "prompt": "p", "voice": used})
    emulator.state.seed_assistant({"name": "Other", "prompt": "p"})
    response = delete(emulator, voice["id"])
    assert response.status_code == 409
    assert response.json() == {
        "error": "Conflict",
        "message": f"Voice {voice['id']} is in use by 2 assistants: Sales ({sales['id']}), "
        f"Support ({support['id']}); give them another voice first",
    }
    assert voice in emulator.state.list_voices()


def test_clone_only_paths_and_methods(emulator: EmulatorServer) -> None:
    response = httpx.get(emulator.url + "/voices/clone", headers=AUTH, timeout=5)
    assert response.status_code == 405
    assert response.json() == {
        "error": "Method Not Allowed",
        "message": "Method GET not allowed on /voices/clone",
    }
    response = httpx.patch(emulator.url + "/voices", json={}, headers=AUTH, timeout=5)
    assert response.status_code == 405
    assert response.json() == {
        "error": "Method Not Allowed",
        "message": "Method PATCH not allowed on /voices",
    }


def test_cloned_voices_persist_and_their_digest_is_never_served(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with EmulatorServer(state_file=state_file, api_key=API_KEY) as server:
        made = clone(server, GOOD).json()
        listed = httpx.get(server.url + "/voices", headers=AUTH, timeout=5)
        fetched = httpx.get(f"{server.url}/voices/{made['id']}?provider=cartesia", headers=AUTH, timeout=5)
    digest = hashlib.sha256(SAMPLE).hexdigest()
    for answer in (json.dumps(made), listed.text, fetched.text):
        assert digest not in answer
    assert set(made) == {"id", "cartesiaVoiceId", "createdAt", "language", "name"}

    reloaded = EmulatorState.load(state_file)
    assert reloaded.voice_sample_digest(made["id"]) == digest
    assert [v for v in reloaded.list_voices() if v["isCloned"]] == [
        {
            "id": made["id"],
            "name": "Brand voice",
            "description": "",
            "language": "en",
            "provider": "cartesia",
            "isCloned": True,
        }
    ]
    assert listed.json()["voices"] == reloaded.list_voices()


def test_seed_voice_adds_a_clone_as_the_dashboard_would(sdk: Any, emulator: EmulatorServer) -> None:
    seeded = emulator.state.seed_voice("Dashboard voice", language="it")
    listed = {v.id: v for v in sdk.voices.list().voices}
    assert (listed[seeded["id"]].name, listed[seeded["id"]].language) == ("Dashboard voice", "it")
    assert listed[seeded["id"]].is_cloned is True
    catalogue = sdk.voices.retrieve(DEFAULT_VOICE_ID, provider="cartesia").voice
    assert (catalogue.name, catalogue.description) == (
        "Barbershop Man",
        "Warm, conversational American male voice",
    )
    assert sdk.voices.delete(seeded["id"]).success is True


def test_validate_online_accepts_a_cloned_voice_id(cli, emulator: EmulatorServer, workdir: Path) -> None:
    voice = emulator.state.seed_voice("Brand voice")
    write(
        workdir / "assistants/a.yaml",
        f"name: A\nprompt: p\nvoice: {{provider: cartesia, id: {voice['id']}}}\n",
    )
    result = cli("validate", "--online")
    assert (result.code, result.err) == (0, "")
    assert httpx.delete(f"{emulator.url}/voices/{voice['id']}", headers=AUTH, timeout=5).status_code == 200
    result = cli("validate", "--online")
    assert result.code == 1
    assert (
        f"assistants/a.yaml:3:33: voice.id: no cartesia voice '{voice['id']}' in this account" in result.err
    )

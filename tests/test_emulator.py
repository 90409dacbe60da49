"""The emulator behaves like the Revox API: defaults, whole-object PATCH, FAQ rules, validation, auth, state."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from revox_sync.client import RevoxClient
from revox_sync.emulator import EmulatorServer, EmulatorState
from revox_sync.emulator.wire import normalise_time
from revox_sync.local import start_local
from tests.emulator_fixtures import API_KEY

NEW = {"name": "Support", "prompt": "Help callers."}
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def raw(server: EmulatorServer, method: str, path: str, body: object = None, **kw: object) -> httpx.Response:
    headers = kw.pop("headers", AUTH)
    return httpx.request(method, server.url + path, json=body, headers=headers, timeout=5)  # type: ignore[arg-type]


def test_create_fills_server_fields_and_defaults(client: RevoxClient) -> None:
    a = client.create_assistant(NEW)
    assert a["id"].startswith("asst_") and len(a["id"]) == 5 + 24
    assert a["organization_id"] and a["created_by"]["email"]
    assert a["created_at"] == a["updated_at"]
    assert a["first_sentence_delay_ms"] == 400
    assert a["first_sentence_mode"] == "generated"
    assert a["llm_model"] == {"type": "dedicated-instance", "name": "gpt-4.1"}
    assert a["max_call_duration_secs"] == 600.0 and isinstance(a["max_call_duration_secs"], float)
    assert a["stt_model"] == "stt-rt-v5"
    assert a["voice"] == {"provider": "cartesia", "id": "a0e99841-438c-4a64-b679-ae501e7d6091", "speed": 1.0}
    assert a["call_retry_config"]["allowed_days"] == ["monday", "tuesday", "wednesday", "thursday", "friday"]
    assert a["call_retry_config"]["calling_windows"] == [
        {
            "calling_window_start_time": "10:00",
            "calling_window_end_time": "18:00",
            "retry_delay_seconds": 7200,
        }
    ]
    assert a["faq_items"] == [] and a["pending_faq_count"] == 0
    assert a["webhook_url"] is None and a["background_sound"] is None
    assert client.get_assistant(a["id"]) == a


def test_patch_changes_only_sent_fields_and_replaces_nested_objects_whole(client: RevoxClient) -> None:
    a = client.create_assistant(
        {**NEW, "voice": {"provider": "cartesia", "id": "v1", "speed": 1.2, "volume": 1.5}}
    )
    b = client.update_assistant(
        a["id"], {"voice": {"provider": "elevenlabs", "id": "21m00Tcm4TlvDq8ikWAM"}}
    ).assistant
    assert b["voice"] == {"provider": "elevenlabs", "id": "21m00Tcm4TlvDq8ikWAM"}  # speed/volume gone
    assert {k: v for k, v in b.items() if k not in ("voice", "updated_at")} == {
        k: v for k, v in a.items() if k not in ("voice", "updated_at")
    }
    crc = {
        "allowed_days": ["saturday"],
        "call_twice_in_a_row": True,
        "calling_windows": [
            {
                "calling_window_start_time": "9am",
                "calling_window_end_time": "6:30pm",
                "retry_delay_seconds": 60,
            }
        ],
        "max_retry_attempts": 2,
    }
    c = client.update_assistant(a["id"], {"call_retry_config": crc}).assistant
    assert c["call_retry_config"] == {
        **crc,
        "calling_windows": [
            {
                "calling_window_start_time": "09:00",
                "calling_window_end_time": "18:30",
                "retry_delay_seconds": 60,
            }
        ],
    }  # no timezone: replaced whole, not merged with the default's "timezone": null


def test_numbers_keep_their_json_types(client: RevoxClient) -> None:
    a = client.create_assistant({**NEW, "max_call_duration_secs": 300, "thinking_sound_volume": 1})
    assert a["max_call_duration_secs"] == 300 and isinstance(a["max_call_duration_secs"], int)
    b = client.update_assistant(a["id"], {"max_call_duration_secs": 300.5}).assistant
    assert b["max_call_duration_secs"] == 300.5


def test_null_clears_nullable_fields_and_resets_defaulted_ones(client: RevoxClient) -> None:
    a = client.create_assistant({**NEW, "webhook_url": "https://x.test/hook", "first_sentence_delay_ms": 0})
    b = client.update_assistant(a["id"], {"webhook_url": None, "first_sentence_delay_ms": None}).assistant
    assert b["webhook_url"] is None
    assert b["first_sentence_delay_ms"] == 400


def test_updated_at_moves_on_every_write(client: RevoxClient) -> None:
    a = client.create_assistant(NEW)
    stamps = [a["updated_at"]]
    for i in range(3):
        stamps.append(client.update_assistant(a["id"], {"prompt": str(i)}).assistant["updated_at"])
    assert stamps == sorted(set(stamps))
    assert client.get_assistant(a["id"])["created_at"] == a["created_at"]


def test_faq_items_are_replaced_whole(client: RevoxClient, emulator: EmulatorServer) -> None:
    a = client.create_assistant({**NEW, "faq_items": [{"question": "Hours?", "answer": "9-5"}]})
    [item] = a["faq_items"]
    assert item["source"] == "human" and item["needs_human_answer"] is False and item["id"]
    emulator.state.add_faq_suggestion(a["id"], "Do you ship abroad?")
    seen = client.get_assistant(a["id"])
    assert seen["pending_faq_count"] == 1
    assert seen["faq_items"][1] | {"id": "x"} == {
        "id": "x",
        "question": "Do you ship abroad?",
        "answer": "",
        "source": "ai",
        "needs_human_answer": True,
    }
    # Answering the suggestion: the client sends the whole list; the AI item not re-sent is gone.
    b = client.update_assistant(
        a["id"], {"faq_items": [{"question": "Do you ship abroad?", "answer": "Yes, to the EU."}]}
    ).assistant
    assert [(i["question"], i["source"]) for i in b["faq_items"]] == [("Do you ship abroad?", "human")]
    assert b["pending_faq_count"] == 0


def test_unpatched_calls_notice_only_when_prompt_changes(
    client: RevoxClient, emulator: EmulatorServer
) -> None:
    a = client.create_assistant(NEW)
    emulator.state.set_scheduled_calls(a["id"], 2, ["company"])
    assert client.update_assistant(a["id"], {"name": "Renamed"}).unpatched_calls_notice is None
    assert client.update_assistant(a["id"], {"prompt": NEW["prompt"]}).unpatched_calls_notice is None
    notice = client.update_assistant(a["id"], {"prompt": "new"}).unpatched_calls_notice
    assert notice == {"count": 2, "variables": ["company"]}
    assert client.update_assistant(a["id"], {"prompt": "newer"}).unpatched_calls_notice is None


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        ({**NEW, "colour": "red"}, "Unknown field 'colour'", "colour"),
        (
            {**NEW, "voice": {"id": "v", "provider": "cartesia", "x": 1}},
            "Unknown field 'x' at 'voice.x'",
            "voice.x",
        ),
        ({**NEW, "voice": {"provider": "cartesia"}}, "Missing required field 'voice.id'", "voice.id"),
        ({**NEW, "voice": {"id": "v", "provider": "azure"}}, None, "voice.provider"),
        ({**NEW, "voice": {"id": "v", "provider": "cartesia", "speed": 3}}, None, "voice.speed"),
        ({**NEW, "first_sentence_mode": "loud"}, None, "first_sentence_mode"),
        ({**NEW, "first_sentence_delay_ms": "400"}, None, "first_sentence_delay_ms"),
        ({**NEW, "sms_enabled": 1}, None, "sms_enabled"),
        (
            {**NEW, "llm_model": {"type": "openrouter", "openrouter_model_id": "m"}},
            None,
            "llm_model.openrouter_provider",
        ),
        (
            {**NEW, "call_retry_config": {"calling_windows": [], "max_retry_attempts": 1}},
            "Missing required field 'call_retry_config.allowed_days'",
            "call_retry_config.allowed_days",
        ),
        (
            {
                **NEW,
                "call_retry_config": {
                    "allowed_days": [],
                    "call_twice_in_a_row": False,
                    "max_retry_attempts": 1,
                    "calling_windows": [
                        {
                            "calling_window_start_time": "25:00",
                            "calling_window_end_time": "6pm",
                            "retry_delay_seconds": 0,
                        }
                    ],
                },
            },
            None,
            "call_retry_config.calling_windows[0].calling_window_start_time",
        ),
        (
            {**NEW, "faq_items": [{"question": "q", "answer": "a", "source": "ai"}]},
            None,
            "faq_items[0].source",
        ),
        ({"prompt": "p"}, "Missing required field 'name'", "name"),
        ({"name": "n"}, "Missing required field 'prompt'", "prompt"),
        ({**NEW, "name": None}, None, "name"),
    ],
)
def test_validation_errors(emulator: EmulatorServer, body: dict, message: str | None, field: str) -> None:
    response = raw(emulator, "POST", "/assistants", body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"] == "Bad Request"
    assert payload["field"] == field
    if message:
        assert payload["message"] == message
    assert emulator.state.list_assistants() == []


def test_transfer_phone_number_is_accepted_as_a_nullable_string(client: RevoxClient) -> None:
    a = client.create_assistant({**NEW, "transfer_phone_number": "+33100000000"})
    assert a["transfer_phone_number"] == "+33100000000"
    assert (
        client.update_assistant(a["id"], {"transfer_phone_number": None}).assistant["transfer_phone_number"]
        is None
    )


@pytest.mark.parametrize(
    ("given", "stored"), [("6pm", "18:00"), ("9:05", "09:05"), ("12am", "00:00"), ("10:30AM", "10:30")]
)
def test_times_are_normalised(given: str, stored: str) -> None:
    assert normalise_time(given) == stored


def test_auth_is_required_when_the_server_has_a_key(emulator: EmulatorServer) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": API_KEY}):
        response = raw(emulator, "GET", "/assistants", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized"
    assert raw(emulator, "GET", "/assistants").status_code == 200


def test_keyless_server_accepts_anything() -> None:
    with EmulatorServer() as server:
        assert httpx.get(server.url + "/auth-status").json() == {"authenticated": True}


def test_unknown_paths_are_json_404(emulator: EmulatorServer) -> None:
    response = raw(emulator, "GET", "/nope")
    assert response.status_code == 404 and response.json()["error"] == "Not Found"
    response = raw(emulator, "GET", "/assistants/asst_missing")
    assert response.status_code == 404 and "asst_missing" in response.json()["message"]


def test_paths_without_api_prefix_work(emulator: EmulatorServer) -> None:
    root = emulator.url.removesuffix("/api")
    assert httpx.get(root + "/voices", headers=AUTH).status_code == 200


def test_phone_numbers_embed_the_inbound_assistant(client: RevoxClient, emulator: EmulatorServer) -> None:
    a = client.create_assistant(NEW)
    n = emulator.state.add_phone_number("+33199999999", inbound_assistant_id=a["id"])
    assert n["inbound_assistant"]["id"] == a["id"]
    assert client.update_phone_number(n["id"], {"label": "Main"})["label"] == "Main"
    assert client.update_phone_number(n["id"], {"inbound_assistant_id": None})["inbound_assistant"] is None
    bad = raw(emulator, "PATCH", f"/phone-numbers/{n['id']}", {"inbound_assistant_id": "asst_nope"})
    assert bad.status_code == 400 and bad.json()["field"] == "inbound_assistant_id"
    client.update_phone_number(n["id"], {"inbound_assistant_id": a["id"]})
    client.delete_assistant(a["id"])
    assert client.list_phone_numbers()[0]["inbound_assistant"] is None


def test_request_log_redacts_authorization(client: RevoxClient, emulator: EmulatorServer) -> None:
    client.create_assistant(NEW)
    [request] = emulator.requests
    assert (request.method, request.path, request.body) == ("POST", "/assistants", NEW)
    assert request.headers["authorization"] == "Bearer (redacted)"
    assert API_KEY not in repr(emulator.requests)
    emulator.clear_requests()
    assert emulator.requests == []


def test_latency_is_added(client: RevoxClient, emulator: EmulatorServer) -> None:
    emulator.latency = 0.1
    started = time.monotonic()
    client.auth_status()
    assert time.monotonic() - started >= 0.1


def test_state_file_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.json"
    with EmulatorServer(state_file=path) as server, RevoxClient(None, server.url) as c:
        a = c.create_assistant(NEW)
        c.update_assistant(a["id"], {"prompt": "persisted"})
        server.state.add_phone_number("+33111111111")
    data = json.loads(path.read_text())
    assert [x["prompt"] for x in data["assistants"]] == ["persisted"]
    # no temp files or journal left; the lock file stays (removing it would race with a process waiting on it)
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json", "state.json.lock"]
    with EmulatorServer(state_file=path) as server, RevoxClient(None, server.url) as c:
        assert c.get_assistant(a["id"])["prompt"] == "persisted"
        assert len(c.list_phone_numbers()) == 1


def test_seed_assistant_inserts_as_the_dashboard_would(emulator: EmulatorServer, client: RevoxClient) -> None:
    seeded = emulator.state.seed_assistant(
        {"name": "From dashboard", "prompt": "p", "webhook_url": "https://x.test"}
    )
    assert client.get_assistant(seeded["id"])["webhook_url"] == "https://x.test"
    assert seeded["voice"]["provider"] == "cartesia"


def test_start_local_persists_between_runs(tmp_path: Path) -> None:
    server = start_local(tmp_path / ".revox-local")
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with RevoxClient(None, server.url) as c:
            c.create_assistant(NEW)
    finally:
        server.stop()
    server = start_local(tmp_path / ".revox-local")
    try:
        with RevoxClient(None, server.url) as c:
            assert [a["name"] for a in c.list_assistants()] == ["Support"]
    finally:
        server.stop()
    assert (tmp_path / ".revox-local" / "state.json").exists()


def test_refuses_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer(host="0.0.0.0")


def test_concurrent_requests_overlap() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with EmulatorServer() as server, RevoxClient(None, server.url) as c:
        server.latency = 0.2
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: c.auth_status(), range(8)))
        assert time.monotonic() - started < 0.2 * 3


def test_state_is_thread_safe_under_parallel_creates() -> None:
    from concurrent.futures import ThreadPoolExecutor

    state = EmulatorState()
    with ThreadPoolExecutor(8) as pool:
        ids = list(
            pool.map(lambda i: state.create_assistant({"name": f"a{i}", "prompt": "p"})["id"], range(50))
        )
    assert len(set(ids)) == 50 == len(state.list_assistants())


def test_ipv6_loopback() -> None:
    try:
        server = EmulatorServer(host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert server.url.startswith("http://[::1]:")
        with RevoxClient(None, server.url) as c:
            assert c.auth_status() is True
    finally:
        server.stop()

"""RevoxClient over a real loopback socket, against the emulator and its fault injection."""

from __future__ import annotations

import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from revox_sync import __version__
from revox_sync.client import DEFAULT_BASE_URL, RevoxClient, check_base_url, parse_retry_after
from revox_sync.emulator import EmulatorServer
from revox_sync.errors import ApiError, FatalError
from tests.emulator_fixtures import API_KEY

NEW = {"name": "Sales qualifier", "prompt": "You qualify leads."}


def calls(server: EmulatorServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests]


# -- plain requests -----------------------------------------------------------------------------------


def test_crud_round_trip_and_headers(client: RevoxClient, emulator: EmulatorServer) -> None:
    created = client.create_assistant(NEW)
    assert created["id"].startswith("asst_")
    assert client.get_assistant(created["id"])["name"] == "Sales qualifier"
    result = client.update_assistant(created["id"], {"prompt": "New prompt"})
    assert result.assistant["prompt"] == "New prompt"
    assert result.unpatched_calls_notice is None
    assert [a["id"] for a in client.list_assistants()] == [created["id"]]
    client.delete_assistant(created["id"])
    assert client.list_assistants() == []

    first = emulator.requests[0]
    assert first.headers["authorization"] == "Bearer (redacted)"
    assert first.headers["user-agent"] == f"revox-sync/{__version__}"
    assert client.request_count == len(emulator.requests) == 6


def test_voices_phone_numbers_auth_status(client: RevoxClient, emulator: EmulatorServer) -> None:
    assistant = client.create_assistant(NEW)
    number = emulator.state.add_phone_number("+33123456789", label="Front desk")
    assert client.auth_status() is True
    assert any(v["provider"] == "cartesia" for v in client.list_voices())
    updated = client.update_phone_number(number["id"], {"inbound_assistant_id": assistant["id"]})
    assert updated["inbound_assistant"]["id"] == assistant["id"]
    [listed] = client.list_phone_numbers()
    assert listed["inbound_assistant"]["name"] == "Sales qualifier"


def test_unpatched_calls_notice_is_returned(client: RevoxClient, emulator: EmulatorServer) -> None:
    assistant = client.create_assistant(NEW)
    emulator.state.set_scheduled_calls(assistant["id"], 3, ["first_name"])
    result = client.update_assistant(assistant["id"], {"prompt": "Changed"})
    assert result.unpatched_calls_notice == {"count": 3, "variables": ["first_name"]}


def test_base_url_trailing_slash_is_tolerated(emulator: EmulatorServer) -> None:
    with RevoxClient(API_KEY, emulator.url + "/") as c:
        assert c.list_assistants() == []
    assert calls(emulator) == [("GET", "/assistants")]


def test_no_authorization_header_without_a_key() -> None:
    with EmulatorServer() as server, RevoxClient(None, server.url) as c:
        c.list_assistants()
        assert "authorization" not in server.requests[0].headers


# -- retries ------------------------------------------------------------------------------------------


def test_429_honours_retry_after(client: RevoxClient, emulator: EmulatorServer) -> None:
    messages: list[str] = []
    client.on_retry = messages.append
    emulator.inject("GET", "^/assistants$", status=429, retry_after=0.3)
    started = time.monotonic()
    assert client.list_assistants() == []
    assert time.monotonic() - started >= 0.3
    assert calls(emulator) == [("GET", "/assistants")] * 2
    assert messages == ["429 from GET /assistants (Injected fault), retrying in 0.3s"]


def test_retry_after_as_an_http_date(client: RevoxClient, emulator: EmulatorServer) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=1.5)
    emulator.inject("GET", "^/voices$", status=503, retry_after=format_datetime(when, usegmt=True))
    started = time.monotonic()
    client.list_voices()
    assert time.monotonic() - started >= 0.4  # whole seconds in an HTTP date: waits 0.5 to 1.5 s
    assert len(emulator.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 409])
def test_retryable_status_then_success(client: RevoxClient, emulator: EmulatorServer, status: int) -> None:
    assistant = client.create_assistant(NEW)
    emulator.clear_requests()
    emulator.inject("PATCH", "^/assistants/", status=status, times=2)
    result = client.update_assistant(assistant["id"], {"prompt": "x"})
    assert result.assistant["prompt"] == "x"
    assert calls(emulator) == [("PATCH", f"/assistants/{assistant['id']}")] * 3


def test_connection_drop_is_retried(client: RevoxClient, emulator: EmulatorServer) -> None:
    emulator.inject("GET", "^/voices$", drop="before")
    assert client.list_voices()
    assert calls(emulator) == [("GET", "/voices")] * 2


def test_timeout_is_retried(emulator: EmulatorServer) -> None:
    emulator.inject("GET", "^/assistants$", delay=0.5)
    with RevoxClient(API_KEY, emulator.url, timeout=0.2, backoff_base=0.01) as c:
        assert c.list_assistants() == []
    assert len(emulator.requests) == 2


def test_gives_up_after_max_retries(emulator: EmulatorServer) -> None:
    emulator.inject("GET", "^/assistants$", status=503, times=10)
    with (
        RevoxClient(API_KEY, emulator.url, max_retries=2, backoff_base=0.01) as c,
        pytest.raises(ApiError) as info,
    ):
        c.list_assistants()
    assert str(info.value) == "gave up after 3 attempts: 503 from GET /assistants (Injected fault)"
    assert info.value.status_code == 503
    assert len(emulator.requests) == 3


def test_retry_budget_bounds_a_long_retry_after(emulator: EmulatorServer) -> None:
    emulator.inject("GET", "^/assistants$", status=429, retry_after=120)
    with RevoxClient(API_KEY, emulator.url, max_retry_seconds=1.0) as c:
        started = time.monotonic()
        with pytest.raises(ApiError, match=r"gave up after 1 attempts \(retry budget of 1s exhausted\): 429"):
            c.list_assistants()
    assert time.monotonic() - started < 1.0


def test_400_is_not_retried(client: RevoxClient, emulator: EmulatorServer) -> None:
    with pytest.raises(ApiError):
        client.create_assistant({"name": "x"})
    assert len(emulator.requests) == 1


# -- safe creates ---------------------------------------------------------------------------------------


def test_create_dropped_after_commit_is_not_duplicated(client: RevoxClient, emulator: EmulatorServer) -> None:
    emulator.inject("POST", "^/assistants$", drop="after")
    created = client.create_assistant(NEW)
    assert [a["id"] for a in emulator.state.list_assistants()] == [created["id"]]
    assert calls(emulator) == [("POST", "/assistants"), ("GET", "/assistants")]


def test_create_5xx_after_commit_is_not_duplicated(client: RevoxClient, emulator: EmulatorServer) -> None:
    emulator.inject("POST", "^/assistants$", status=502, commit=True)
    created = client.create_assistant(NEW)
    assert [a["id"] for a in emulator.state.list_assistants()] == [created["id"]]
    assert calls(emulator) == [("POST", "/assistants"), ("GET", "/assistants")]


def test_create_429_is_retried_without_listing(client: RevoxClient, emulator: EmulatorServer) -> None:
    emulator.inject("POST", "^/assistants$", status=429, retry_after=0)
    client.create_assistant(NEW)
    assert calls(emulator) == [("POST", "/assistants")] * 2


def test_delete_404_on_retry_counts_as_done(client: RevoxClient, emulator: EmulatorServer) -> None:
    assistant = client.create_assistant(NEW)
    emulator.inject("DELETE", "^/assistants/", drop="after")
    client.delete_assistant(assistant["id"])
    assert emulator.state.list_assistants() == []


def test_delete_404_on_first_attempt_is_an_error(client: RevoxClient) -> None:
    with pytest.raises(ApiError, match=r"assistant asst_nope does not exist \(is the pinned id right\?\)"):
        client.delete_assistant("asst_nope")


def test_parallel_requests_share_one_client(client: RevoxClient, emulator: EmulatorServer) -> None:
    ids = [client.create_assistant({"name": f"a{i}", "prompt": "p"})["id"] for i in range(12)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: client.update_assistant(i, {"prompt": i}), ids))
    assert [r.assistant["prompt"] for r in results] == ids
    assert client.request_count == 24


# -- errors a user can act on -----------------------------------------------------------------------------


def test_401_says_which_key_to_check(emulator: EmulatorServer) -> None:
    with RevoxClient("wrong-key-456", emulator.url) as c, pytest.raises(ApiError) as info:
        c.list_assistants()
    assert str(info.value) == "the API key was rejected (401): check REVOX_API_KEY (or --api-key)"
    assert info.value.status_code == 401


def test_400_names_the_field(client: RevoxClient) -> None:
    assistant = client.create_assistant(NEW)
    with pytest.raises(ApiError) as info:
        client.update_assistant(assistant["id"], {"voice": {"id": "v", "provider": "cartesia", "pitch": 2}})
    assert str(info.value) == (
        f"the API rejected PATCH /assistants/{assistant['id']} (400): Unknown field 'pitch' at 'voice.pitch'"
    )
    assert info.value.status_code == 400


def test_get_unknown_id(client: RevoxClient) -> None:
    with pytest.raises(
        ApiError, match=r"^assistant asst_x does not exist \(is the pinned id right\?\)$"
    ) as info:
        client.get_assistant("asst_x")
    assert info.value.status_code == 404


def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    with RevoxClient(None, url, max_retries=1, backoff_base=0.01) as c, pytest.raises(ApiError) as info:
        c.list_assistants()
    assert str(info.value).startswith(f"gave up after 2 attempts: cannot reach http://127.0.0.1:{port}/api: ")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "too long", "field": "name"}, "too long (field: name)"),
        ({"error": {"message": "bad voice", "path": ["voice", "id"]}}, "bad voice (field: voice.id)"),
        ({"detail": [{"loc": ["body", "prompt"], "msg": "required"}]}, "body.prompt: required"),
        ({"errors": [{"field": "x", "message": "nope"}]}, "x: nope"),
        ({"error": "Bad Request"}, "Bad Request"),
    ],
)
def test_error_bodies_are_parsed_liberally(body: object, expected: str) -> None:
    import json

    import httpx

    from revox_sync.client import Reply, describe_error_body

    message, field = describe_error_body(Reply(400, httpx.Headers(), json.dumps(body).encode()))
    text = message or ""
    if field and field not in text:
        text += f" (field: {field})"
    assert text == expected


# -- base URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://api.example.com", "http://10.0.0.1:8080/api", "ftp://localhost"])
def test_insecure_base_urls_are_refused(url: str) -> None:
    with pytest.raises(FatalError):
        RevoxClient("k", url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/api", "http://127.8.9.10/api/", "http://[::1]:9/api", "http://localhost/api"]
)
def test_loopback_http_is_allowed(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


def test_default_base_url() -> None:
    assert check_base_url(DEFAULT_BASE_URL) == "https://www.getrevox.com/api"


def test_retry_after_forms() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 28 <= (parse_retry_after(format_datetime(when, usegmt=True)) or 0) <= 31


# -- the key never leaks ------------------------------------------------------------------------------------


def test_api_key_never_appears_anywhere(
    emulator: EmulatorServer, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    secret = API_KEY
    lines: list[str] = []
    caplog.set_level(logging.DEBUG)
    c = RevoxClient(
        secret,
        emulator.url,
        backoff_base=0.01,
        max_retries=1,
        on_retry=lines.append,
        verbose_log=lines.append,
    )
    errors: list[str] = [repr(c), str(c)]
    emulator.inject("GET", "^/assistants$", status=503, times=5)
    emulator.inject("POST", "^/assistants$", drop="after")
    for action in (
        c.list_assistants,
        lambda: c.create_assistant(NEW),
        lambda: c.get_assistant("asst_missing"),
        lambda: c.update_assistant("asst_missing", {"nope": 1}),
    ):
        try:
            action()
        except ApiError as exc:
            errors += [str(exc), repr(exc), repr(exc.__cause__), repr(exc.__context__)]
    with RevoxClient(secret + "-wrong", emulator.url) as bad:
        try:
            bad.list_assistants()
        except ApiError as exc:
            errors.append(str(exc))
    c.close()
    out = capsys.readouterr()
    everything = "\n".join(
        [*lines, *errors, out.out, out.err, caplog.text, *(repr(r) for r in emulator.requests)]
    )
    assert lines and errors
    assert "test-key" not in everything
    assert "GET /assistants -> 503" in everything  # -v logs: method, path, status, elapsed

"""The client against a hostile server (issue 10): late commits, slow drips, wrong shapes, huge bodies,
redirects. Real loopback sockets: the emulator's fault injection, the real CLI, a real subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import Run, run_cli, write

from revox_sync.cli import main
from revox_sync.client import RevoxClient
from revox_sync.emulator import EmulatorServer
from revox_sync.errors import ApiError
from revox_sync.output import Environment
from tests.emulator_fixtures import API_KEY

NEW = {"name": "Sales qualifier", "prompt": "You qualify leads."}
SERVER_AT_FAULT = "(this is the server's answer, not a problem in your files)"


def calls(server: EmulatorServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests]


def wait_for(condition: object, seconds: float = 10.0) -> None:
    """Poll `condition()` until true; bounded, so a broken server fails the test instead of hanging it."""
    end = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < end, "condition never became true"
        time.sleep(0.01)


def no_key(run: Run) -> Run:
    assert API_KEY not in run.all
    return run


# -- A. a create the server commits late is never made twice ---------------------------------------------


def test_late_commit_is_found_on_the_second_look(emulator: EmulatorServer) -> None:
    release = threading.Event()
    emulator.inject("POST", "^/assistants$", until=release, delay=10)
    messages: list[str] = []

    def on_retry(message: str) -> None:
        messages.append(message)
        if "look 2 of" in message:  # the first look found nothing: let the server commit now
            release.set()
            wait_for(lambda: emulator.state.list_assistants())

    with RevoxClient(
        API_KEY, emulator.url, timeout=0.3, rechecks=3, recheck_interval=0.01, on_retry=on_retry
    ) as c:
        created = c.create_assistant(NEW)
    assert [a["id"] for a in emulator.state.list_assistants()] == [created["id"]]
    assert calls(emulator) == [("POST", "/assistants"), ("GET", "/assistants"), ("GET", "/assistants")]
    assert messages == [
        "timed out waiting for POST /assistants (ReadTimeout); the outcome is unknown: "
        'looking for "Sales qualifier" in 0.0s (look 1 of 3)',
        '"Sales qualifier" is not listed yet: looking again in 0.0s (look 2 of 3)',
    ]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"status": 500}, "500 from POST /assistants (Injected fault)"),
        (
            {"drop": "before"},
            "connection dropped during POST /assistants (Server disconnected without sending a response.)",
        ),
    ],
)
def test_create_with_an_unknown_outcome_is_never_sent_again(
    emulator: EmulatorServer, fault: dict[str, object], reason: str
) -> None:
    emulator.inject("POST", "^/assistants$", **fault)  # type: ignore[arg-type]
    with (
        RevoxClient(API_KEY, emulator.url, rechecks=2, recheck_interval=0.01) as c,
        pytest.raises(ApiError) as info,
    ):
        c.create_assistant(NEW)
    assert str(info.value) == (
        f'outcome unknown: {reason}, and "Sales qualifier" was still not listed after 2 looks over 0.02s; '
        "the server may still create it, so it was not sent again: the next plan will find it if it did"
    )
    assert calls(emulator) == [("POST", "/assistants"), ("GET", "/assistants"), ("GET", "/assistants")]
    assert emulator.state.list_assistants() == []


def test_apply_of_a_create_committed_after_every_look_exits_1_and_the_next_plan_finds_it(
    cli, emulator: EmulatorServer, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(workdir / "assistants/sales.yaml", "name: Sales qualifier\nprompt: You qualify leads.\n")
    monkeypatch.setattr(RevoxClient, "timeout", 0.3)
    monkeypatch.setattr(RevoxClient, "rechecks", 2)
    monkeypatch.setattr(RevoxClient, "recheck_interval", 0.01)
    release = threading.Event()
    emulator.inject("POST", "^/assistants$", until=release, delay=10)

    result = no_key(cli("apply", "--auto-approve"))
    unknown = (
        "outcome unknown: timed out waiting for POST /assistants (ReadTimeout), and "
        '"Sales qualifier" was still not listed after 2 looks over 0.02s; the server may still create it, '
        "so it was not sent again: the next plan will find it if it did"
    )
    assert result.code == 1
    assert result.err.splitlines()[-3:] == [
        "error: apply incomplete: 0 of 1 actions succeeded (0 added, 0 changed, 0 destroyed).",
        f'  failed:    create assistant "Sales qualifier": {unknown}',
        "Fix the cause and run apply again: it will do only what is left.",
    ]
    assert f'  [1/1] ✗ create assistant "Sales qualifier" failed: {unknown}' in result.out.splitlines()

    release.set()  # the server commits, after the run gave up on it
    wait_for(lambda: emulator.state.list_assistants())
    plan = no_key(cli("plan"))
    assert plan.code == 0, plan.all
    assert "No changes. Remote assistants match the configuration." in plan.out
    assert [m for m, _ in calls(emulator)].count("POST") == 1
    assert [a["name"] for a in emulator.state.list_assistants()] == ["Sales qualifier"]


def test_create_409_and_400_are_known_outcomes_reported_at_once(
    client: RevoxClient, emulator: EmulatorServer
) -> None:
    emulator.inject("POST", "^/assistants$", status=409)
    with pytest.raises(ApiError, match=r"^POST /assistants failed \(409\): Injected fault$"):
        client.create_assistant(NEW)
    emulator.inject("POST", "^/assistants$", status=400)
    with pytest.raises(ApiError, match=r"^the API rejected POST /assistants \(400\): Injected fault$"):
        client.create_assistant(NEW)
    assert calls(emulator) == [("POST", "/assistants")] * 2  # no look, no second send


# -- B. a slow server does not hang a run --------------------------------------------------------------------

DRIP_BODY = json.dumps({"assistants": []}).encode() + b" " * 2000  # 2,000 bytes at one per 0.2 s: 400 s


@pytest.mark.parametrize("how", ["option", "env"])
def test_plan_against_a_dripping_server_stops_at_the_run_timeout(
    emulator: EmulatorServer, workdir: Path, how: str
) -> None:
    write(workdir / "assistants/sales.yaml", "name: Sales qualifier\nprompt: p\n")
    emulator.inject("GET", "^/assistants$", status=200, body=DRIP_BODY, drip=0.2)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVOX_")}
    args = [sys.executable, "-m", "revox_sync", "--base-url", emulator.url, "--api-key", API_KEY]
    if how == "option":
        args += ["--timeout", "1"]
    else:
        environ["REVOX_TIMEOUT"] = "1"
    done = subprocess.run(
        [*args, "plan"], capture_output=True, text=True, timeout=120, env=environ, cwd=workdir
    )  # the subprocess timeout only guards against a hang: the run's own deadline must end it
    assert API_KEY not in done.stdout + done.stderr
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: GET /assistants was cut off: the run's time limit (--timeout 1s) was reached "
        "before the server finished answering\n"
    )
    assert calls(emulator) == [("GET", "/assistants")]


def test_request_deadline_cuts_a_drip_and_the_retry_succeeds(emulator: EmulatorServer) -> None:
    emulator.inject("GET", "^/assistants$", status=200, body=DRIP_BODY, drip=0.05)
    messages: list[str] = []
    with RevoxClient(
        API_KEY, emulator.url, request_deadline=0.3, backoff_base=0, on_retry=messages.append
    ) as c:
        assert c.list_assistants() == []
    assert messages == [
        "GET /assistants took longer than 0.3s to answer (the server sends too slowly), retrying in 0.0s"
    ]
    assert calls(emulator) == [("GET", "/assistants")] * 2


def test_past_the_run_deadline_nothing_more_is_sent(emulator: EmulatorServer) -> None:
    emulator.inject("GET", "^/assistants$", status=200, body=DRIP_BODY, drip=0.05)
    with RevoxClient(API_KEY, emulator.url, run_timeout=0.3) as c:
        with pytest.raises(
            ApiError, match=r"^GET /assistants was cut off: the run's time limit \(--timeout 0.3s\)"
        ):
            c.list_assistants()
        with pytest.raises(ApiError) as info:
            c.list_voices()
    assert str(info.value) == "GET /voices was not sent: the run's time limit (--timeout 0.3s) was reached"
    assert calls(emulator) == [("GET", "/assistants")]


def test_the_clock_stops_while_apply_waits_for_yes(emulator: EmulatorServer, workdir: Path) -> None:
    write(workdir / "assistants/sales.yaml", "name: Sales qualifier\nprompt: p\n")

    class SlowReader(io.StringIO):
        """A user who reads the plan for longer than the run's --timeout before typing yes."""

        def readline(self, size: int | None = -1) -> str:
            time.sleep(1.5)
            return "yes\n"

    out, err = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=SlowReader(), stdout=out, stderr=err, environ={}, stdin_isatty=True, stdout_isatty=True
    )
    args = ["--base-url", emulator.url, "--api-key", API_KEY, "--timeout", "1", "apply"]
    code = main(args, env)
    assert API_KEY not in out.getvalue() + err.getvalue()
    assert code == 0, out.getvalue() + err.getvalue()
    assert [a["name"] for a in emulator.state.list_assistants()] == ["Sales qualifier"]


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_timeout_must_be_a_positive_number(value: str) -> None:
    result = run_cli("--timeout", value, "plan")
    assert result.code == 1
    assert result.err.startswith("error: Invalid value for '--timeout': ")


# -- C. wrong, huge and redirected answers ---------------------------------------------------------------------

LIST_EXPECTED = "expected an object with an 'assistants' list of objects, each with an 'id'"


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ([], "a list"),
        ({"data": [], "total": 0}, "an object without 'assistants' (its keys: data, total)"),
        ({"assistants": "none"}, "'assistants' as a string"),
        ({"assistants": {"id": "asst_1"}}, "'assistants' as an object"),
        ({"assistants": [{"id": "asst_1", "name": "A"}, 7]}, "item 2 of 'assistants' as a number"),
        ({"assistants": [{"name": "A"}]}, "item 1 of 'assistants' without an 'id'"),
        (b"<html>Welcome to nginx!</html>", "a body that is not JSON ('<html>Welcome to nginx!</html>')"),
        (b"\xff\xfe not utf-8", "a body that is not JSON ('\ufffd\ufffd not utf-8')"),
    ],
)
def test_plan_reports_a_wrong_shaped_answer_as_the_servers(
    cli, emulator: EmulatorServer, workdir: Path, body: object, what: str
) -> None:
    write(workdir / "assistants/sales.yaml", "name: Sales qualifier\nprompt: p\n")
    emulator.inject("GET", "^/assistants$", status=200, body=body)
    result = no_key(cli("plan"))
    assert (result.code, result.out) == (1, "")
    assert (
        result.err
        == f"error: the API answered GET /assistants with {what}: {LIST_EXPECTED} {SERVER_AT_FAULT}\n"
    )


def test_a_create_answered_without_an_id_is_the_servers_fault(
    client: RevoxClient, emulator: EmulatorServer
) -> None:
    emulator.inject("POST", "^/assistants$", status=200, body={"assistant": {"name": "x"}}, commit=True)
    with pytest.raises(ApiError) as info:
        client.create_assistant(NEW)
    assert str(info.value) == (
        "the API answered POST /assistants with 'assistant' without an 'id': "
        f"expected an object with an 'assistant' object with an 'id' {SERVER_AT_FAULT}"
    )


def test_plan_reports_a_redirect_and_does_not_follow_it(cli, emulator: EmulatorServer, workdir: Path) -> None:
    write(workdir / "assistants/sales.yaml", "name: Sales qualifier\nprompt: p\n")
    where = "https://elsewhere.example/api/assistants"
    emulator.inject("GET", "^/assistants$", status=301, body=b"", headers={"Location": where})
    result = no_key(cli("plan"))
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: the API answered GET /assistants with a redirect (301) to {where}: the base URL is probably "
        "wrong (revox-sync does not follow redirects, so the API key is never sent to another address)\n"
    )
    assert calls(emulator) == [("GET", "/assistants")]


def test_a_response_past_the_size_cap_is_refused_unread(emulator: EmulatorServer) -> None:
    huge = json.dumps({"assistants": [{"id": f"asst_{i}", "prompt": "x" * 1000} for i in range(50)]}).encode()
    emulator.inject("GET", "^/assistants$", status=200, body=huge, times=2)
    with RevoxClient(API_KEY, emulator.url, max_response_bytes=10_000) as c:
        with pytest.raises(ApiError) as info:
            c.list_assistants()
        assert str(info.value) == (
            f"the API answered GET /assistants with more than 10000 bytes: refusing to read it {SERVER_AT_FAULT}"
        )
    assert calls(emulator) == [("GET", "/assistants")]  # not retried: the answer is wrong, not lost


def test_a_huge_error_message_is_quoted_short(client: RevoxClient, emulator: EmulatorServer) -> None:
    emulator.inject("POST", "^/assistants$", status=400, body={"message": "bad \x1b[2J" + "x" * 100_000})
    with pytest.raises(ApiError) as info:
        client.create_assistant(NEW)
    assert str(info.value) == "the API rejected POST /assistants (400): bad \\x1b[2J" + "x" * 292 + "…"


def test_a_server_that_drips_its_headers_is_cut_at_the_request_deadline() -> None:
    """Each byte resets a read timeout; only the deadline of the whole exchange ends this."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Slow: " + b"a" * 400
                try:
                    for i in range(len(head)):
                        if stop.is_set():
                            return
                        conn.sendall(head[i : i + 1])
                        time.sleep(0.05)
                except OSError:
                    continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    try:
        pattern = r"took longer than 0.5s to answer \(the server sends too slowly\)"
        client = RevoxClient(API_KEY, url, request_deadline=0.5, max_retries=0, timeout=5.0)
        with client as c, pytest.raises(ApiError, match=pattern):
            c.list_assistants()
    finally:
        stop.set()
        listener.close()


def test_a_base_url_with_credentials_is_refused_before_anything_prints_it(workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    result = run_cli("--base-url", "http://user:pw-s3cret-9999@127.0.0.1:9/api", "--api-key", API_KEY, "plan")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: refusing a base URL with credentials in it (user:password@): pass the key with --api-key "
        "or REVOX_API_KEY\n"
    )


def test_an_answer_nested_too_deeply_is_the_server_s_fault_not_a_bug(
    emulator: EmulatorServer, workdir: Path
) -> None:
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    emulator.inject("GET", "^/assistants$", status=200, body=b"[" * 200_000 + b"]" * 200_000)
    result = run_cli("--base-url", emulator.url, "--api-key", API_KEY, "plan")
    assert (result.code, result.out) == (1, "")
    assert "please report it" not in result.err
    assert result.err.startswith("error: the API answered GET /assistants with a body that is not JSON")


def test_a_server_too_slow_twice_is_given_up_on_after_one_retry(emulator: EmulatorServer) -> None:
    """A dripping server would otherwise hold every request for max_retries x the deadline."""
    emulator.inject("GET", "^/assistants$", status=200, body=DRIP_BODY, drip=0.05, times=5)
    client = RevoxClient(API_KEY, emulator.url, request_deadline=0.3, backoff_base=0)
    with client as c, pytest.raises(ApiError) as info:
        c.list_assistants()
    assert str(info.value) == "GET /assistants took longer than 0.3s to answer (the server sends too slowly)"
    assert calls(emulator) == [("GET", "/assistants")] * 2

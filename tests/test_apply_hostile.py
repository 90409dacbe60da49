"""apply under a hostile world: interrupts, literal secrets echoed by the API, and racing pipelines.

Interrupt tests send a real SIGINT to a real `revox-sync apply` process talking to the emulator over a
loopback socket; the rest drive the CLI in-process against real servers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY
from helpers import JsonHandler, write

from revox_sync.emulator import EmulatorServer

FILES = 12


def fleet(workdir: Path, count: int = FILES) -> list[str]:
    names = [f"Bot {i:02d}" for i in range(count)]
    for name in names:
        write(workdir / f"assistants/{name.lower().replace(' ', '-')}.yaml", f"name: {name}\nprompt: Hi.\n")
    return names


def posts(emulator: EmulatorServer) -> int:
    return sum(1 for r in emulator.requests if r.method == "POST")


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def start_apply(
    emulator: EmulatorServer,
    workdir: Path,
    *args: str,
    command: tuple[str, ...] = ("apply", "--auto-approve"),
) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("REVOX_API_KEY", "REVOX_BASE_URL")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "revox_sync",
            "--base-url",
            emulator.url,
            "--api-key",
            API_KEY,
            *command,
            *args,
        ],
        cwd=workdir,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_first_interrupt_stops_new_writes_finishes_those_in_flight_and_reports(emulator, workdir, cli):
    names = fleet(workdir)
    emulator.latency = 0.3
    proc = start_apply(emulator, workdir, "--parallelism", "2")
    wait_for(lambda: posts(emulator) >= 3)
    at_signal = posts(emulator)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 1, out + err
    sent = posts(emulator)
    stored = {a["name"] for a in emulator.state.list_assistants()}
    assert len(stored) == sent  # every write that went out finished and was reported
    assert at_signal <= sent <= at_signal + 2 < FILES  # only the writes in flight went on
    assert "Interrupt received: no new writes start; waiting for the 2 in flight" in err or (
        "Interrupt received: no new writes start; waiting for the 1 in flight" in err
    )
    assert out.count("✓ created") == sent
    assert (
        f"apply interrupted: {sent} of {FILES} actions succeeded ({sent} added, 0 changed, 0 destroyed)."
        in err
    )
    not_started = sorted(set(names) - stored)
    assert [line.split('"')[1] for line in err.splitlines() if "not started:" in line] == not_started
    assert "Run apply again: it will do only what is left." in err
    assert "Traceback" not in out + err

    emulator.latency = 0.0
    rerun = cli("apply", "--auto-approve")
    assert rerun.code == 0, rerun.all
    assert f"Apply complete! Resources: {FILES - sent} added, 0 changed, 0 destroyed." in rerun.out
    assert sorted(a["name"] for a in emulator.state.list_assistants()) == names  # none twice


def test_second_interrupt_abandons_writes_in_flight_and_names_them(emulator, workdir):
    names = fleet(workdir, 4)
    emulator.inject("POST", "^/assistants$", delay=3.0, times=10)
    proc = start_apply(emulator, workdir, "--parallelism", "2")
    wait_for(lambda: posts(emulator) == 2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 1, out + err
    assert "Second interrupt: abandoning the 2 writes in flight" in err
    abandoned = sorted(line.split('"')[1] for line in err.splitlines() if "abandoned:" in line)
    assert abandoned == names[:2]
    assert [line.split('"')[1] for line in err.splitlines() if "not started:" in line] == names[2:]
    assert "outcome unknown" in err
    assert "apply interrupted: 0 of 4 actions succeeded" in err
    assert posts(emulator) == 2


# --- secrets written literally in a file ---------------------------------------------------------------------
LITERAL_KEY = "sk-literal-llm-key-0123456789"
LITERAL_HEADER = "Bearer literal-header-value-42"


class EchoHandler(JsonHandler):
    """An API that lists nothing and answers every write with a 500 quoting the request body."""

    def do_GET(self) -> None:
        self._answer(200, {"assistants": []})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self._answer(500, {"error": "Internal", "message": f"could not store {body}"})


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()
    server.server_close()


def test_literal_secrets_in_a_file_never_print_even_when_the_api_echoes_them(workdir, echo_server):
    from helpers import run_cli

    write(
        workdir / "assistants/a.yaml",
        f"""\
name: A
prompt: Hi.
llm_model:
  type: custom
  api_url: https://llm.example.com/v1
  model_name: m
  api_key: {LITERAL_KEY}
custom_tools:
  - name: crm
    description: look up
    url: https://crm.example.com
    method: GET
    headers:
      - key: Authorization
        value: {LITERAL_HEADER}
""",
    )
    result = run_cli("--base-url", echo_server, "--api-key", API_KEY, "-v", "apply", "--auto-approve")
    assert result.code == 1
    assert "could not store" in result.err  # the API's message is shown...
    assert LITERAL_KEY not in result.all and LITERAL_HEADER not in result.all  # ...without the secrets
    assert "literal-header-value" not in result.all
    assert "(sensitive)" in result.err


# --- two pipelines at once -----------------------------------------------------------------------------------
def test_duplicates_made_by_a_concurrent_apply_are_reported_with_the_command_that_removes_them(
    cli, emulator, workdir
):
    [name] = fleet(workdir, 1)
    # another pipeline creates the same assistant while this one's POST is on the wire
    emulator.inject("POST", "^/assistants$", delay=0.3)

    def other_pipeline() -> None:
        wait_for(lambda: posts(emulator) == 1)
        emulator.state.create_assistant({"name": name, "prompt": "Hi."})

    racer = threading.Thread(target=other_pipeline)
    racer.start()
    result = cli("apply", "--auto-approve")
    racer.join()

    ids = sorted(a["id"] for a in emulator.state.list_assistants())
    assert len(ids) == 2
    assert result.code == 1
    kept, extra = sorted(emulator.state.list_assistants(), key=lambda a: (a["created_at"], a["id"]))
    assert result.err.splitlines()[-3:] == [
        f'error: 2 remote assistants are now named "{name}" ({kept["id"]}, {extra["id"]}): another apply ran '
        f"at the same time. Keep the oldest: add `id: {kept['id']}` to assistants/bot-00.yaml",
        f"Then remove the others: revox-sync --base-url {emulator.url} apply --prune --target {extra['id']}",
        "error: apply done (1 added, 0 changed, 0 destroyed), but 1 name(s) it created now exist twice (see above).",
    ]
    assert "Apply complete!" not in result.out
    command = result.err.splitlines()[-2].split(": ", 1)[1]

    # the advice works: pin the kept one, run the command, and only the extra one goes
    with (workdir / "assistants/bot-00.yaml").open("a") as file:
        file.write(f"id: {kept['id']}\n")
    emulator.clear_requests()
    removed = cli(*command.split()[3:], "--auto-approve")
    assert removed.code == 0, removed.all
    assert [(r.method, r.path) for r in emulator.requests if r.method != "GET"] == [
        ("DELETE", f"/assistants/{extra['id']}")
    ]
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_name_that_appeared_since_the_plan_is_not_created_again(cli, emulator, workdir):
    """The confirmation may wait for minutes: the creates look at the account again before posting."""
    [name] = fleet(workdir, 1)

    def dashboard_edit_during_the_prompt() -> str:
        emulator.state.create_assistant({"name": name, "prompt": "Hi."})
        return "yes\n"

    class Prompt:
        def readline(self) -> str:
            return dashboard_edit_during_the_prompt()

    import io

    from helpers import Run

    from revox_sync.cli import main
    from revox_sync.output import Environment

    out, err = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=Prompt(),  # type: ignore[arg-type]
        stdout=out,
        stderr=err,
        environ=dict(os.environ),
        stdin_isatty=True,
        stdout_isatty=True,
        color=False,
    )
    code = main(["--base-url", emulator.url, "--api-key", API_KEY, "apply"], env)
    run = Run(code, out.getvalue(), err.getvalue())
    assert run.code == 1, run.all
    assert posts(emulator) == 0
    [existing] = emulator.state.list_assistants()
    assert (
        f'create assistant "{name}" failed: one of that name appeared in the account after the plan '
        f"({existing['id']}); nothing was created: run plan again" in run.all
    )


class EchoPrettyHandler(EchoHandler):
    """Quotes the request body as Python's json.dumps does by default (spaces after ':' and ','), so a
    300-character cut of the message falls in the middle of the secret."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self._answer(400, {"message": "Invalid body: " + json.dumps(body)})


def test_a_secret_cut_by_the_quoting_limit_is_blanked_before_it_is_cut(workdir):
    from helpers import run_cli

    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoPrettyHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        secret = "sk-literal-SECRET1234"
        # the prompt's length puts the secret across the 300th character of the quoted message
        for pad in range(125, 150):
            write(
                workdir / "assistants/a.yaml",
                f"name: A\nprompt: {'p' * pad}\nllm_model: {{type: custom, api_url: 'https://l.example.com', "
                f"model_name: m, api_key: {secret}}}\n",
            )
            url = f"http://127.0.0.1:{server.server_address[1]}/api"
            result = run_cli("--base-url", url, "--api-key", API_KEY, "-v", "apply", "--auto-approve")
            assert result.code == 1
            for n in range(6, len(secret) + 1):
                assert secret[:n] not in result.all, (pad, secret[:n])
    finally:
        server.shutdown()
        server.server_close()


def test_a_failed_look_for_duplicates_never_hides_what_apply_did(cli, emulator, workdir):
    names = fleet(workdir, 2)
    emulator.inject("POST", "^/assistants$", delay=0.3, times=2)  # time to break the listing after them

    def break_the_next_listing() -> None:
        wait_for(lambda: posts(emulator) == 2)
        emulator.inject("GET", "^/assistants$", status=401)

    breaker = threading.Thread(target=break_the_next_listing)
    breaker.start()
    result = cli("apply", "--auto-approve")
    breaker.join()
    assert result.code == 0, result.all
    assert (
        "warning: could not look for duplicates of what this run created: the API key was rejected (401): "
        "check --api-key" in result.err  # the key this run was given (issue 22: a 401 names its source)
    )
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in result.out
    assert sorted(a["name"] for a in emulator.state.list_assistants()) == names


class EchoVoicesHandler(EchoPrettyHandler):
    def do_GET(self) -> None:
        self._answer(200, {"voices": []} if self.path.endswith("/voices") else {"assistants": []})


def test_an_api_error_that_echoes_a_clone_request_never_prints_the_audio(workdir):
    import base64

    from helpers import run_cli

    sample = bytes(range(256)) * 64
    write(workdir / "assistants/samples/brand.wav", sample)
    write(
        workdir / "assistants/voices.yaml",
        "voices:\n  Brand voice: {language: en, sample: samples/brand.wav}\n",
    )
    write(workdir / "assistants/a.yaml", "name: A\nprompt: Hi.\nvoice: {clone: Brand voice}\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoVoicesHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api"
        result = run_cli("--base-url", url, "--api-key", API_KEY, "-v", "apply", "--auto-approve")
    finally:
        server.shutdown()
        server.server_close()
    assert result.code == 1
    assert '"audio": "(sent data)"' in result.all
    assert base64.b64encode(sample).decode()[:40] not in result.all


def test_an_interrupt_counts_as_in_flight_only_the_writes_still_running() -> None:
    """A worker that ended a write and started the next before the run took the first result has one write in
    flight, not two: the count is of writes still running, whatever the run has taken so far."""
    from revox_sync.engine.apply import Interrupts, apply_plan
    from revox_sync.engine.change import Action
    from revox_sync.engine.kind import Written
    from revox_sync.engine.plan import Plan

    interrupts = Interrupts()
    both_running = threading.Barrier(2, timeout=10)
    interrupted, release = threading.Event(), threading.Event()
    counts: list[tuple[int, int]] = []

    class Slow:
        name = "assistant"

        def write(self, client: object, action: Action, body: dict[str, object]) -> Written:
            if action.name in (
                "c",
                "d",
            ):  # the second write of each worker: both run when the interrupt comes
                if both_running.wait() == 0:
                    interrupts()
                    interrupted.set()
                release.wait(10)
            return Written(action.id)

    def taken(result: object) -> None:
        interrupted.wait(10)  # the first result taken; the other worker's first one waits in the queue

    def interrupt(count: int, in_flight: int) -> None:
        counts.append((count, in_flight))
        release.set()

    actions = tuple(Action("assistant", "update", name, f"id-{name}") for name in "abcd")
    plan = Plan(actions=actions, fingerprints={}, config_fingerprint="")
    results = apply_plan(
        plan,
        {"assistant": Slow()},  # type: ignore[dict-item]
        None,  # type: ignore[arg-type]
        parallelism=2,
        on_result=taken,
        interrupts=interrupts,
        on_interrupt=interrupt,
    )
    assert counts == [(1, 2)]
    assert [r.outcome for r in results] == ["succeeded"] * 4

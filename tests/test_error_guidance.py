"""Errors that say what to do (issue 22, point 6): a rejected key names where it came from, a host name that
does not resolve is not retried, a stale saved plan names what moved and the command to run again, and the
config directory is `-d DIR` for every command."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY
from helpers import NOT_ABOUT_POLICY, run_cli, write
from test_sharing import backup_of
from test_voices import wav_sample

from revox_sync.client import RevoxClient

WRONG_KEY = "rvx_wrong_key_4242"


@pytest.fixture(autouse=True)
def an_assistant(workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")


def environ(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("REVOX_")}
    return {**base, **extra}


# --- a 401 names the variable the key came from ---------------------------------------------------------------
def test_a_rejected_key_of_an_environment_names_its_variable(emulator, workdir: Path) -> None:
    write(
        workdir / "revox-sync.yaml",
        NOT_ABOUT_POLICY
        + f"environments:\n  staging: {{api_key_env: REVOX_API_KEY_STAGING, base_url: '{emulator.url}'}}\n",
    )
    result = run_cli("--env", "staging", "plan", environ=environ(REVOX_API_KEY_STAGING=WRONG_KEY))
    assert (result.code, result.out) == (1, "")
    assert result.err == "error: the API key was rejected (401): check REVOX_API_KEY_STAGING\n"
    assert WRONG_KEY not in result.all


def test_a_rejected_key_given_on_the_command_line_names_api_key(emulator, workdir: Path) -> None:
    write(
        workdir / "revox-sync.yaml",
        f"environments:\n  staging: {{api_key_env: REVOX_API_KEY_STAGING, base_url: '{emulator.url}'}}\n",
    )
    result = run_cli(
        "--env", "staging", "--api-key", WRONG_KEY, "plan", environ=environ(REVOX_API_KEY_STAGING=API_KEY)
    )
    assert (result.code, result.err) == (1, "error: the API key was rejected (401): check --api-key\n")
    assert WRONG_KEY not in result.all


def test_a_rejected_key_from_the_environment_names_revox_api_key(
    emulator, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVOX_API_KEY", WRONG_KEY)  # click reads it from the process's environment
    result = run_cli("--base-url", emulator.url, "plan")
    assert (result.code, result.err) == (
        1,
        "error: the API key was rejected (401): check REVOX_API_KEY (or --api-key)\n",
    )
    assert WRONG_KEY not in result.all


# --- a host name that does not resolve is not retried ---------------------------------------------------------
@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The host names looked up; a name under `.invalid` never resolves (RFC 6761), as a resolver answers."""
    real = socket.getaddrinfo
    names: list[str] = []

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        names.append(str(host))
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RevoxClient, "_delay", lambda self, attempt, retry_after: 0.0)


def test_a_host_name_that_does_not_resolve_is_tried_once(
    workdir: Path, lookups: list[str], no_backoff
) -> None:
    url = "https://api.revox.invalid/api"
    result = run_cli(
        "--base-url",
        url,
        "--api-key",
        API_KEY,
        "plan",
        environ=environ(REVOX_ALLOWED_HOSTS="api.revox.invalid"),
    )
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: cannot reach {url}: the host name 'api.revox.invalid' does not resolve (is it spelt right?)\n"
    )
    assert lookups == ["api.revox.invalid"]


def test_a_base_url_of_the_project_file_that_does_not_resolve_is_tried_once(
    workdir: Path, lookups: list[str], no_backoff
) -> None:
    write(workdir / "revox-sync.yaml", "environments:\n  staging: {base_url: 'https://revox.invalid/api'}\n")
    result = run_cli(
        "--env", "staging", "--api-key", API_KEY, "plan", environ=environ(REVOX_ALLOWED_HOSTS="revox.invalid")
    )
    assert result.code == 1
    assert "the host name 'revox.invalid' does not resolve" in result.err and "retrying" not in result.err
    assert lookups == ["revox.invalid"]


def test_a_refused_connection_is_still_retried(workdir: Path, lookups: list[str], no_backoff) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    result = run_cli("--base-url", url, "--api-key", API_KEY, "plan")
    assert result.code == 1
    assert result.err.count(f"cannot reach {url}: ") == 5  # four retries announced, then the last failure
    assert result.err.count("retrying in 0.0s") == 4
    assert "error: gave up after 5 attempts: " in result.err


# --- a stale saved plan names what moved and the command to run again ----------------------------------------
LLM_SECRET = "sk-stale-secret-31337"
A = (
    "name: A\nprompt: p\nfirst_sentence: ${GREETING}\n"
    "llm_model: {type: custom, api_url: 'https://l.example.com', model_name: m, api_key: '${LLM_API_KEY}'}\n"
)


def test_a_stale_plan_names_the_files_and_objects_that_moved_and_the_command_to_run_again(
    emulator, workdir: Path
) -> None:
    write(
        workdir / "revox-sync.yaml",
        NOT_ABOUT_POLICY
        + f"environments:\n  staging: {{api_key_env: REVOX_API_KEY_STAGING, base_url: '{emulator.url}'}}\n",
    )
    write(workdir / "env/extra vars.yaml", "TEAM: sales\n")
    write(workdir / "cfg/a.yaml", A)
    write(workdir / "cfg/b.yaml", "name: B\nprompt: p\n")
    write(workdir / "cfg/d.yaml", "name: D\nprompt: p\n")
    run = (
        "--env", "staging", "--var-file", "env/extra vars.yaml",
        "--var", "GREETING=Hi there", "--var", f"LLM_API_KEY={LLM_SECRET}",
    )  # fmt: skip
    env = environ(REVOX_API_KEY_STAGING=API_KEY)
    assert run_cli(*run, "apply", "-d", "cfg", "--auto-approve", environ=env).code == 0
    write(workdir / "cfg/a.yaml", A.replace("prompt: p", "prompt: q"))
    assert run_cli(*run, "plan", "-d", "cfg", "--out", "plan.json", environ=env).code == 0
    write(workdir / "cfg/b.yaml", "name: B\nprompt: changed\n")
    write(workdir / "cfg/c.yaml", "name: C\nprompt: p\n")
    (workdir / "cfg/d.yaml").unlink()
    remote = {a["name"]: a for a in emulator.state.list_assistants()}
    emulator.state.update_assistant(remote["A"]["id"], {"first_sentence": "Edited in the dashboard"})
    emulator.clear_requests()

    result = run_cli(*run, "apply", "-d", "cfg", "--auto-approve", "plan.json", environ=env)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: plan is stale: the configuration files changed: cfg/b.yaml, cfg/c.yaml (new), cfg/d.yaml (gone); "
        f'remote assistant(s) changed: "A" ({remote["A"]["id"]}). Nothing was changed; run '
        "`revox-sync --env staging --var-file 'env/extra vars.yaml' --var 'GREETING=Hi there' "
        "--var LLM_API_KEY=... plan -d cfg --out plan.json` again.\n"
    )
    assert [r.method for r in emulator.requests if r.method != "GET"] == []
    assert LLM_SECRET not in result.all + (workdir / "plan.json").read_text()


def test_a_stale_local_plan_says_to_plan_again_locally_with_its_targets(workdir: Path) -> None:
    write(workdir / "assistants/b.yaml", "name: B\nprompt: p\n")
    assert run_cli("--local", "plan", "--target", "A", "--out", "plan.json").code == 0
    write(workdir / "assistants/a.yaml", "name: A\nprompt: changed\n")
    result = run_cli("--local", "apply", "--auto-approve", "plan.json")
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[1:] == [
        "error: plan is stale: the configuration files changed: assistants/a.yaml. Nothing was changed; "
        "run `revox-sync --local plan --out plan.json --target=A` again."
    ]


def test_a_stale_plan_says_to_plan_again_with_the_options_it_was_approved_with(workdir: Path) -> None:
    """A saved plan's allowances are part of what was approved: the command to plan again keeps them, or the
    new plan would be refused where the old one was not."""
    write(workdir / "assistants/b.yaml", "name: B\nprompt: p\n")
    made = run_cli("--local", "plan", "--allow-policy-errors", "--prune", "--out", "plan.json")
    assert made.code == 0, made.all
    write(workdir / "assistants/a.yaml", "name: A\nprompt: changed\n")
    result = run_cli("--local", "apply", "--auto-approve", "plan.json")
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[-1].endswith(
        "run `revox-sync --local plan --out plan.json --prune --allow-policy-errors` again."
    ), result.err


# --- one convention for the config directory: -d DIR for every command -----------------------------------------
@pytest.mark.parametrize("command", ["plan", "apply", "doctor"])
def test_a_config_directory_given_as_an_argument_says_to_use_d(
    cli, emulator, workdir: Path, command: str
) -> None:
    write(workdir / "cfg/b.yaml", "name: B\nprompt: p\n")
    result = cli(command, "cfg")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: unexpected argument 'cfg': the config directory is given as -d DIR: "
        f"revox-sync --base-url {emulator.url} {command} -d cfg\n"
    )  # the run's --base-url kept (never its --api-key)
    assert emulator.requests == []


def test_the_d_fix_keeps_the_runs_global_options(workdir: Path) -> None:
    """The command to run instead is the run's own (`--local`, `--env`), as a stale plan's is: copied as
    printed, it reads the same account."""
    write(workdir / "cfg/b.yaml", "name: B\nprompt: p\n")
    write(workdir / "revox-sync.yaml", "environments:\n  staging: {}\n")
    result = run_cli("--local", "--env", "staging", "plan", "cfg")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: unexpected argument 'cfg': the config directory is given as -d DIR: "
        "revox-sync --local --env staging plan -d cfg\n"
    )


def test_plan_with_an_argument_that_is_no_directory_still_says_how_the_directory_is_given(
    cli, emulator
) -> None:
    result = cli("plan", "nowhere")
    assert (result.code, result.out) == (1, "")
    assert result.err == "error: unexpected argument 'nowhere': the config directory is given as -d DIR\n"


def test_validate_takes_d_and_paths(workdir: Path) -> None:
    write(workdir / "cfg/b.yaml", "name: B\nprompt: p\nvoice: {clone: Narrator}\n")
    write(workdir / "cfg/voices.yaml", "voices:\n  Narrator:\n    language: en\n    sample: samples/n.wav\n")
    write(
        workdir / "cfg/samples/n.wav", wav_sample()
    )  # the voice the assistant clones: read from -d's directory
    assert run_cli("validate", "-d", "cfg").code == 0
    assert run_cli("validate", "-d", "cfg", "cfg/b.yaml").code == 0
    paths = run_cli("validate", "cfg/b.yaml")  # paths alone are checked against the default config directory
    assert (paths.code, paths.err.splitlines()[0]) == (
        1,
        "cfg/b.yaml:3:16: voice.clone: no voice named 'Narrator' in voices.yaml (there is none)",
    )
    missing = run_cli("validate", "-d", "elsewhere")
    assert (missing.code, missing.err) == (1, "elsewhere: no such file or directory\n1 error.\n")


def test_fmt_and_doctor_take_d(workdir: Path) -> None:
    write(workdir / "cfg/b.yaml", "prompt: p\nname:   B\n")
    check = run_cli("fmt", "-d", "cfg", "--check")
    assert (check.code, check.out) == (1, "cfg/b.yaml\n")
    doctor = run_cli("--local", "doctor", "-d", "cfg")
    assert "✓ config directory: cfg/ (1 YAML files)" in doctor.out.splitlines()


def test_a_stale_restore_plan_says_to_plan_the_restore_again(cli, emulator, workdir: Path) -> None:
    assert cli("apply", "--auto-approve").code == 0
    write(workdir / "assistants/a.yaml", "name: A\nprompt: second\n")
    backup = backup_of(cli("apply", "--auto-approve"))
    assert cli("restore", str(backup), "--force-conflicts", "--out", "undo.json").code == 0
    [remote] = emulator.state.list_assistants()
    emulator.state.update_assistant(remote["id"], {"first_sentence": "Edited in the dashboard"})
    result = cli("restore", str(backup), "undo.json", "--auto-approve")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f'error: plan is stale: remote assistant(s) changed: "A" ({remote["id"]}). Nothing was changed; run '
        f"`revox-sync --base-url {emulator.url} restore {backup} --out undo.json --force-conflicts` again.\n"
    )


def test_the_fingerprints_of_the_files_hold_no_secret(workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", A)
    docs = []
    for secret in ("sk-first-secret-1111", "sk-other-secret-2222"):
        run = ("--local", "--var", "GREETING=Hi", "--var", f"LLM_API_KEY={secret}")
        assert run_cli(*run, "plan", "--out", "plan.json").code == 0
        text = (workdir / "plan.json").read_text()
        assert secret not in text
        docs.append(json.loads(text))
    assert list(docs[0]["config_files"]) == ["assistants/a.yaml"]
    assert docs[0]["config_files"] == docs[1]["config_files"]  # a secret's value changes none of them
    assert docs[0]["secrets_fingerprint"] != docs[1]["secrets_fingerprint"]

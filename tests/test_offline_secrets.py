"""Offline checks need no secret; a secret falling back to its default is called out (issue 22, points 4
and 5): the real CLI against the emulator, on real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from helpers import NOT_ABOUT_POLICY, Run, run_cli, write

from revox_sync.emulator import EmulatorServer

REAL_KEY = "sk-real-after-hours-0123456789"
AFTER_HOURS = {
    "name": "After hours",
    "prompt": "You take messages after hours.",
    "llm_model": {
        "type": "custom",
        "api_url": "https://llm.example.com/v1",
        "model_name": "m",
        "api_key": REAL_KEY,
    },
}
NOTE = (
    "note: a plan will need REVOX_AFTER_HOURS_LLM_API_KEY (not set here: the files were checked without "
    "its value)"
)
VOICE = "voice:\n  provider: cartesia\n  id: a0e99841-438c-4a64-b679-ae501e7d6091\n"


def environ(**extra: str) -> dict[str, str]:
    """The process environment without any REVOX_ variable (no secret of the developer's shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REVOX_", "ACME_")) and k != "NO_COLOR"}
    return {**env, **extra}


def test_validate_of_a_fresh_import_needs_no_secret_and_says_once_what_a_plan_needs(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    emulator.state.seed_assistant(AFTER_HOURS)
    imported = cli("import", "--all", environ=environ())
    assert imported.code == 0, imported.all
    assert '"${REVOX_AFTER_HOURS_LLM_API_KEY}"' in (in_tmp / "assistants/after-hours.yaml").read_text()

    checked = cli("validate", environ=environ())

    assert (checked.code, checked.out, checked.err) == (0, "1 assistant file valid.\n", NOTE + "\n")
    assert REAL_KEY not in imported.all + checked.all


def test_the_note_lists_every_needed_variable_once_in_one_line(in_tmp: Path) -> None:
    header = "custom_tools:\n  - {name: crm, description: d, url: 'https://crm.example.com', method: GET,\n"
    write(
        in_tmp / "assistants/desk.yaml",
        "name: Desk\nprompt: 'Say ${GREETING_TOKEN} and ${GREETING_TOKEN}.'\n"
        + VOICE
        + "llm_model: {type: custom, api_url: 'https://llm.example.com/v1', model_name: m,"
        " api_key: '${DESK_LLM}'}\n"
        + header
        + "     headers: [{key: Authorization, value: 'Bearer ${CRM_AUTH}'}], input_schema: []}\n",
    )
    write(in_tmp / "assistants/lab.yaml", "name: Lab\nprompt: 'Quote ${GREETING_TOKEN}'\n" + VOICE)

    for fmt in ("text", "json", "sarif", "github"):
        checked = run_cli("validate", "--format", fmt, environ=environ())
        assert checked.code == 0, (fmt, checked.all)
        if fmt == "text":
            assert checked.err == (
                "note: a plan will need GREETING_TOKEN, DESK_LLM, CRM_AUTH (not set here: the files were "
                "checked without their values)\n"
            )
        elif fmt == "json":
            doc = json.loads(checked.out)
            assert doc["valid"] is True and doc["findings"] == []
            assert doc["plan_needs_variables"] == ["GREETING_TOKEN", "DESK_LLM", "CRM_AUTH"]
        elif fmt == "sarif":
            [run] = json.loads(checked.out)["runs"]
            assert run["results"] == []
            [invocation] = run["invocations"]
            assert invocation["executionSuccessful"] is True
            [notification] = invocation["toolExecutionNotifications"]
            assert notification["level"] == "note"
            assert notification["message"]["text"].startswith("note: a plan will need GREETING_TOKEN, ")
        else:
            assert checked.out.splitlines() == [
                "::notice title=revox-sync::note: a plan will need GREETING_TOKEN, DESK_LLM, CRM_AUTH (not set "
                "here: the files were checked without their values)"
            ]


def test_a_file_checked_without_its_secret_still_has_its_shape_checked(in_tmp: Path) -> None:
    write(
        in_tmp / "assistants/desk.yaml",
        "name: Desk\nprompt: p\n"
        + VOICE
        + "llm_model: {type: custom, model_name: m, api_key: '${DESK_KEY}'}\n",
    )

    checked = run_cli("validate", environ=environ())

    assert checked.code == 1
    assert "assistants/desk.yaml:" in checked.err and "api_url" in checked.err, checked.err
    assert "DESK_KEY is not set" not in checked.err
    assert "note: a plan will need DESK_KEY " in checked.err


def test_an_unset_variable_where_no_secret_goes_is_still_an_error(in_tmp: Path) -> None:
    write(in_tmp / "assistants/desk.yaml", "name: Desk\nprompt: 'Hello from ${CITY}'\n" + VOICE)

    checked = run_cli("validate", environ=environ())

    assert checked.code == 1
    assert checked.err == (
        "assistants/desk.yaml:2:9: environment variable CITY is not set (and ${CITY} has no default)\n"
        "1 error.\n"
    )


def test_plan_and_apply_name_every_missing_secret(cli, emulator: EmulatorServer, in_tmp: Path) -> None:
    write(in_tmp / "revox-sync.yaml", NOT_ABOUT_POLICY)
    llm = (
        "llm_model: {type: custom, api_url: 'https://llm.example.com/v1', model_name: m, api_key: '${%s}'}\n"
    )
    write(in_tmp / "assistants/a.yaml", "name: A\nprompt: p\n" + VOICE + llm % "A_LLM_API_KEY")
    write(in_tmp / "assistants/b.yaml", "name: B\nprompt: p\n" + VOICE + llm % "B_LLM_API_KEY")

    for command in ("plan", "apply"):
        ran = cli(command, environ=environ())
        assert ran.code == 1, ran.all
        assert "environment variable A_LLM_API_KEY is not set" in ran.err
        assert "environment variable B_LLM_API_KEY is not set" in ran.err
        assert "note:" not in ran.err
    assert emulator.requests == []


DEFAULT = "sk-local-placeholder"
DESK = (
    "name: Desk\nprompt: p\n"
    + VOICE
    + "llm_model:\n  type: custom\n  api_url: https://llm.example.com/v1\n  model_name: m\n"
    + "  api_key: ${ACME_LLM_API_KEY:-sk-local-placeholder}\n"
)
WARNING = (
    'Warning: assistant "Desk": llm_model.api_key falls back to the default of ${ACME_LLM_API_KEY}, which is '
    "not set; apply refuses to store it without --allow-default-secrets"
)


def writes(emulator: EmulatorServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests if r.method != "GET"]


def grep_default(root: Path, *runs: Run) -> None:
    """The default's text appears in no output and in no file but the one it is written in."""
    for r in runs:
        assert DEFAULT not in r.all
    for path in root.rglob("*"):
        if path.is_file() and path != root / "assistants/desk.yaml":
            assert DEFAULT.encode() not in path.read_bytes(), path


def test_plan_calls_out_a_secret_falling_back_to_its_default(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    write(in_tmp / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(in_tmp / "assistants/desk.yaml", DESK)

    text = cli("plan", environ=environ())
    markdown = cli("plan", "--format", "markdown", environ=environ())
    as_json = cli("plan", "--format", "json", "--out", "plan.json", environ=environ(ACME_LLM_API_KEY=""))

    assert text.code == 0, text.all
    assert text.out.splitlines()[-1] == WARNING
    assert "(sensitive: ${ACME_LLM_API_KEY})" in text.out
    assert markdown.code == 0, markdown.all
    assert WARNING.replace('"Desk"', "`Desk`") in markdown.out  # set but empty: as unset
    assert as_json.code == 0, as_json.all
    doc = json.loads(as_json.out)
    assert doc["warnings"] == [
        {
            "kind": "assistant",
            "name": "Desk",
            "path": "llm_model.api_key",
            "variable": "ACME_LLM_API_KEY",
            "message": WARNING,
        }
    ]
    assert json.loads((in_tmp / "plan.json").read_text())["warnings"] == doc["warnings"]
    grep_default(in_tmp, text, markdown, as_json)
    assert writes(emulator) == []


def test_apply_refuses_to_store_a_default_secret_unless_told_to(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    write(in_tmp / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(in_tmp / "assistants/desk.yaml", DESK)

    refused = cli("apply", "--auto-approve", environ=environ())
    saved = cli("plan", "--out", "plan.json", environ=environ())
    refused_saved = cli("apply", "--auto-approve", "plan.json", environ=environ())
    mixed = cli("apply", "--auto-approve", "--allow-default-secrets", "plan.json", environ=environ())

    for r in (refused, refused_saved):
        assert r.code == 1, r.all
        assert r.err.splitlines()[-1] == (
            "error: this plan would store the default of ${ACME_LLM_API_KEY} as a secret (the variable is not "
            "set); set it, or plan and apply with --allow-default-secrets if the default is meant. Nothing was "
            "changed."
        )
    assert saved.code == 0 and WARNING in saved.out
    assert mixed.code == 1 and mixed.err == (
        "error: --allow-default-secrets comes from the saved plan: make it with `plan --allow-default-secrets`\n"
    )
    assert writes(emulator) == []

    allowed_plan = cli("plan", "--allow-default-secrets", "--out", "allowed.json", environ=environ())
    assert allowed_plan.code == 0, allowed_plan.all
    assert allowed_plan.out.splitlines()[-1] == WARNING.replace(
        "apply refuses to store it without --allow-default-secrets",
        "stored, as allowed by --allow-default-secrets (which --local implies)",
    )
    assert json.loads((in_tmp / "allowed.json").read_text())["options"]["allow_default_secrets"] is True
    applied = cli("apply", "--auto-approve", "allowed.json", environ=environ())
    assert applied.code == 0, applied.all
    assert writes(emulator) == [("POST", "/assistants")]
    [stored] = emulator.state.assistants.values()
    assert stored["llm_model"]["api_key"] == DEFAULT  # what the operator allowed
    grep_default(in_tmp, refused, saved, refused_saved, mixed, allowed_plan, applied)


def test_a_set_variable_or_a_default_where_no_secret_goes_is_no_warning(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    write(in_tmp / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(in_tmp / "assistants/desk.yaml", DESK.replace("prompt: p", "prompt: 'Hi from ${CITY:-Paris}'"))

    planned = cli("plan", "--format", "json", environ=environ(ACME_LLM_API_KEY="sk-real-0123456789"))
    applied = cli("apply", "--auto-approve", environ=environ(ACME_LLM_API_KEY="sk-real-0123456789"))

    assert planned.code == 0 and json.loads(planned.out)["warnings"] == []
    assert applied.code == 0, applied.all
    assert "Warning" not in applied.all
    assert writes(emulator) == [("POST", "/assistants")]


def test_local_stores_a_default_secret_so_the_readmes_first_command_runs_on_a_fresh_checkout(
    in_tmp: Path,
) -> None:
    """`--local` holds no account: its plan allows the default (and says so), and apply stores it there."""
    write(in_tmp / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(in_tmp / "assistants/desk.yaml", DESK)
    plan = run_cli("--local", "plan", environ=environ())
    assert plan.code == 0, plan.all
    assert plan.out.splitlines()[-1] == WARNING.replace(
        "apply refuses to store it without --allow-default-secrets",
        "stored, as allowed by --allow-default-secrets (which --local implies)",
    )
    applied = run_cli("--local", "apply", "--auto-approve", environ=environ())
    assert applied.code == 0, applied.all
    assert run_cli("--local", "plan", environ=environ()).out.splitlines()[-1] == (
        "No changes. Remote assistants match the configuration."
    )
    assert DEFAULT not in plan.all + applied.all

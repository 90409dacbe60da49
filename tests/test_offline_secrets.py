"""Offline checks need no secret; a secret falling back to its default is called out (issue 22, points 4
and 5): the real CLI against the emulator, on real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from helpers import NOT_ABOUT_POLICY, run_cli, write

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

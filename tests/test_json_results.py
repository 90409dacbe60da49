"""`apply --format json` and `import --format json`: one JSON document on stdout, the people's output on
stderr, exit codes as in text mode (the real CLI against the emulator on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import write

from revox_sync.engine.apply import Result
from revox_sync.engine.change import Action
from revox_sync.engine.results import results_document


def test_apply_json_is_one_document_of_every_action(cli, emulator, workdir: Path) -> None:
    old = emulator.state.seed_assistant({"name": "Old", "prompt": "x"})
    kept = emulator.state.seed_assistant({"name": "Kept", "prompt": "before"})
    write(workdir / "assistants/kept.yaml", "name: Kept\nprompt: after\n")
    write(workdir / "assistants/new.yaml", "name: New\nprompt: hello\n")
    result = cli("apply", "--auto-approve", "--prune", "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)  # the whole of stdout
    [new] = [a for a in emulator.state.list_assistants() if a["name"] == "New"]
    backup = doc.pop("backup")  # what the update and the delete changed, saved before the first write
    assert backup.startswith(".revox-sync/backups/") and f"to {backup};" in result.err
    assert doc == {
        "format_version": 1,
        "status": "complete",
        "summary": {
            "add": 1,
            "change": 1,
            "destroy": 1,
            "failed": 0,
            "skipped": 0,
            "abandoned": 0,
            "not_started": 0,
        },
        "actions": [
            {
                "kind": "assistant",
                "name": "New",
                "id": new["id"],
                "operation": "create",
                "outcome": "ok",
                "error": None,
                "not_stored": [],
            },
            {
                "kind": "assistant",
                "name": "Kept",
                "id": kept["id"],
                "operation": "update",
                "outcome": "ok",
                "error": None,
                "not_stored": [],
            },
            {
                "kind": "assistant",
                "name": "Old",
                "id": old["id"],
                "operation": "delete",
                "outcome": "ok",
                "error": None,
                "not_stored": [],
            },
        ],
    }
    # the plan and the progress still reach the person, on stderr
    assert 'assistant "New" will be created' in result.err
    assert "Apply complete! Resources: 1 added, 1 changed, 1 destroyed." in result.err


def test_apply_json_with_nothing_to_do(cli, workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    assert cli("apply", "--auto-approve").code == 0
    result = cli("apply", "--auto-approve", "--format", "json")
    assert result.code == 0
    assert json.loads(result.out) == {
        "format_version": 1,
        "status": "no_changes",
        "summary": {
            "add": 0,
            "change": 0,
            "destroy": 0,
            "failed": 0,
            "skipped": 0,
            "abandoned": 0,
            "not_started": 0,
        },
        "actions": [],
        "backup": None,
    }
    assert "No changes." in result.err


def test_apply_json_partial_failure_exits_1_and_names_the_error_without_secrets(
    cli, emulator, workdir, monkeypatch
) -> None:
    secret = "tok-SECRET-0123456789"
    monkeypatch.setenv("CRM_TOKEN", secret)
    bot = emulator.state.seed_assistant({"name": "Bot", "prompt": "same"})
    write(workdir / "assistants/bot.yaml", "name: Bot\nprompt: new\n")
    write(workdir / "assistants/other.yaml", "name: Other\nprompt: ${CRM_TOKEN}\n")
    emulator.inject(
        "PATCH",
        rf"/assistants/{bot['id']}$",
        status=400,
        times=50,
        body={"error": {"message": f"rejected ({secret})"}},
    )
    result = cli("apply", "--auto-approve", "--format", "json")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["status"] == "incomplete"
    by_name = {a["name"]: a for a in doc["actions"]}
    assert by_name["Bot"]["outcome"] == "failed" and by_name["Bot"]["operation"] == "update"
    assert by_name["Bot"]["error"] and by_name["Other"]["outcome"] == "ok"
    assert doc["summary"]["failed"] == 1 and doc["summary"]["add"] == 1
    assert secret not in result.all
    assert "apply incomplete: 1 of 2 actions succeeded" in result.err


def test_apply_json_reports_fields_not_stored_as_sent(cli, emulator, workdir: Path) -> None:
    bot = emulator.state.seed_assistant({"name": "Bot", "prompt": "same"})
    write(workdir / "assistants/bot.yaml", "name: Bot\nprompt: new\n")
    emulator.inject(
        "PATCH",
        rf"/assistants/{bot['id']}$",
        status=200,
        commit=True,
        body={"assistant": {**bot, "prompt": "trimmed by the server"}},
    )
    result = cli("apply", "--auto-approve", "--format", "json")
    assert result.code == 0, result.err
    [action] = json.loads(result.out)["actions"]
    assert action["outcome"] == "ok"
    assert action["not_stored"] == ['prompt (sent "new", stored "trimmed by the server")']


def test_a_stale_plan_in_json_mode_is_an_error_on_stderr_only(cli, emulator, workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    assert cli("plan", "--out", "plan.json").code == 0
    emulator.state.seed_assistant({"name": "Sneaky", "prompt": "x"})
    write(workdir / "assistants/a.yaml", "name: A\nprompt: changed\n")
    result = cli("apply", "--auto-approve", "--format", "json", "plan.json")
    assert result.code == 1 and result.out == ""
    assert "stale" in result.err


def test_results_document_of_skips_and_an_interrupt() -> None:
    create = Action("voice", "create", "Brand", None)
    update = Action("assistant", "update", "A", "asst_1")
    late = Action("assistant", "delete", "B", "asst_2")
    results = [
        Result(create, error="boom", started=True),
        Result(update, skipped=True, error="needs voice Brand"),
        Result(late),
    ]
    doc = results_document(results, interrupted=True)
    assert doc["status"] == "interrupted"
    assert [(a["outcome"], a["error"]) for a in doc["actions"]] == [
        ("failed", "boom"),
        ("skipped", "needs voice Brand"),
        ("not_started", None),
    ]
    assert doc["summary"] == {
        "add": 0,
        "change": 0,
        "destroy": 0,
        "failed": 1,
        "skipped": 1,
        "abandoned": 0,
        "not_started": 1,
    }


def test_import_json_lists_files_and_variables(cli, emulator, workdir: Path) -> None:
    emulator.state.seed_assistant(
        {
            "name": "Custom",
            "prompt": "p",
            "llm_model": {
                "type": "custom",
                "api_url": "https://l.example.com/v1",
                "model_name": "m",
                "api_key": "sk-live-abcdef123456",
            },
        }
    )
    result = cli("import", "--all", "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc == {
        "format_version": 1,
        "files": [
            {"path": "assistants/custom.yaml", "status": "created"},
            {"path": "assistants/prompts/custom.md", "status": "created"},
        ],
        "variables": [{"name": "REVOX_CUSTOM_LLM_API_KEY", "used_by": ['llm_model.api_key of "Custom"']}],
        "generated": [],
        "skipped": [],
    }
    assert "created assistants/custom.yaml" in result.err
    assert "sk-live-abcdef123456" not in result.all
    again = cli("import", "--all", "--format", "json")
    assert json.loads(again.out)["files"] == [{"path": "assistants/custom.yaml", "status": "unchanged"}]

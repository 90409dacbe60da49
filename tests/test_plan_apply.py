"""plan and apply end to end: the real CLI, the emulator on a real socket, real files (CONTRACT §3, §4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import NOT_ABOUT_POLICY, write

from revox_sync.emulator import EmulatorServer

SALES = """\
name: Sales qualifier
prompt: !file prompts/sales.md
voice:
  provider: cartesia
  id: a0e99841-438c-4a64-b679-ae501e7d6091
  speed: 1.1
max_call_duration_secs: 300
first_sentence: Hi, this is Ana from Acme.
call_retry_config:
  allowed_days: [friday, monday, wednesday]
  calling_windows:
    - calling_window_start_time: 9am
      calling_window_end_time: 6pm
      retry_delay_seconds: 3600
faq_items:
  - question: What are your hours?
    answer: Nine to five, Monday to Friday.
"""
PROMPT = "You are Ana, a sales agent at Acme.\nQualify the lead.\nBe brief.\n"


def writes(emulator: EmulatorServer) -> list[tuple[str, str, object]]:
    return [(r.method, r.path, r.body) for r in emulator.requests if r.method != "GET"]


@pytest.fixture
def sales(workdir: Path) -> Path:
    write(workdir / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(workdir / "assistants/prompts/sales.md", PROMPT)
    return write(workdir / "assistants/sales.yaml", SALES)


def applied(cli, emulator: EmulatorServer) -> None:
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    emulator.clear_requests()


def test_plan_create_then_apply_converges(cli, emulator, sales):
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert '+ assistant "Sales qualifier" will be created' in plan.out
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.out
    assert writes(emulator) == []  # plan changes nothing
    assert [r.method for r in emulator.requests] == ["GET"]  # one list request

    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    assert "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." in result.out
    (method, path, body), *_ = writes(emulator)
    assert (method, path) == ("POST", "/assistants")
    assert body["prompt"] == PROMPT and body["voice"]["speed"] == 1.1

    # times as 12h, ints for floats, unordered days, FAQ ids, nested defaults: still no diff
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.all
    assert "No changes. Remote assistants match the configuration." in again.out


def test_update_sends_only_changed_fields_whole(cli, emulator, sales, workdir):
    applied(cli, emulator)
    sales.write_text(SALES.replace("speed: 1.1", "speed: 1.2"), encoding="utf-8")
    (workdir / "assistants/prompts/sales.md").write_text(PROMPT.replace("Be brief.", "Be brief and kind."))

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "~ voice.speed: 1.1 -> 1.2" in plan.out
    assert "~ prompt: text changed (+1 -1 lines)" in plan.out
    assert "-Be brief." in plan.out and "+Be brief and kind." in plan.out
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.out

    emulator.clear_requests()
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    [(method, path, body)] = writes(emulator)
    assert method == "PATCH" and path.startswith("/assistants/asst_")
    assert set(body) == {"voice", "prompt"}
    # the whole voice as the file writes it: omitted sub-fields mean the API default
    assert body["voice"] == {
        "provider": "cartesia",
        "id": "a0e99841-438c-4a64-b679-ae501e7d6091",
        "speed": 1.2,
    }
    assert cli("plan", "--detailed-exitcode").code == 0


def test_no_change_no_request(cli, emulator, sales):
    applied(cli, emulator)
    result = cli("apply", "--auto-approve")
    assert result.code == 0
    assert "No changes." in result.out
    assert writes(emulator) == []


def test_unmanaged_fields_survive(cli, emulator, sales):
    applied(cli, emulator)
    [remote] = emulator.state.list_assistants()
    emulator.state.update_assistant(remote["id"], {"webhook_url": "https://hooks.example.com/x"})
    assert cli("plan", "--detailed-exitcode").code == 0  # absent from the file: unmanaged
    sales.write_text(SALES.replace("speed: 1.1", "speed: 1.0"), encoding="utf-8")
    assert cli("apply", "--auto-approve").code == 0
    [after] = emulator.state.list_assistants()
    assert after["webhook_url"] == "https://hooks.example.com/x"


def test_prune_only_with_flag(cli, emulator, sales):
    other = emulator.state.seed_assistant({"name": "Old bot", "prompt": "old"})
    plan = cli("plan")
    assert '"Old bot"' not in plan.out.split("Plan:")[0]  # named in the closing note only, never destroyed
    plan = cli("plan", "--prune")
    assert f'- assistant "Old bot" ({other["id"]}) will be destroyed' in plan.out
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in plan.out
    assert cli("apply", "--auto-approve").code == 0
    assert any(a["name"] == "Old bot" for a in emulator.state.list_assistants())
    assert cli("apply", "--auto-approve", "--prune").code == 0
    assert [a["name"] for a in emulator.state.list_assistants()] == ["Sales qualifier"]


def test_broken_or_missing_config_stops_before_any_request(cli, emulator, workdir):
    result = cli("plan")
    assert result.code == 1
    assert "no assistant files" in result.err
    write(workdir / "assistants/a.yaml", "name: A\nprompt: x\nvoice: {provider: cartesia}\n")
    write(workdir / "assistants/b.yaml", "name: B\nprompt: x\n")
    result = cli("apply", "--auto-approve")
    assert result.code == 1
    assert "assistants/a.yaml:3:8: missing required key 'id' in voice" in result.err
    assert "Traceback" not in result.all
    assert emulator.requests == []
    missing = cli("plan", "-d", "nowhere")
    assert missing.code == 1 and "nowhere" in missing.err


def test_identity_errors(cli, emulator, workdir):
    emulator.state.seed_assistant({"name": "Twin", "prompt": "a"})
    emulator.state.seed_assistant({"name": "Twin", "prompt": "b"})
    write(workdir / "assistants/twin.yaml", "name: Twin\nprompt: a\n")
    write(workdir / "assistants/ghost.yaml", "id: asst_missing\nname: Ghost\n")
    result = cli("plan")
    assert result.code == 1
    assert "assistants/twin.yaml:1:7: 2 remote assistants are named 'Twin'" in result.err
    assert "pin one with `id:`" in result.err
    assert "assistants/ghost.yaml:1:5: pinned id 'asst_missing' does not exist" in result.err
    assert writes(emulator) == []


def test_two_files_claiming_one_assistant(cli, emulator, workdir):
    remote = emulator.state.seed_assistant({"name": "Desk", "prompt": "a"})
    write(workdir / "assistants/a.yaml", f"id: {remote['id']}\nname: Desk renamed\n")
    write(workdir / "assistants/b.yaml", "name: Desk\nprompt: a\n")
    result = cli("plan")
    assert result.code == 1
    assert (
        f"assistants/b.yaml:1:7: remote assistant {remote['id']} is already claimed by assistants/a.yaml"
        in result.err
    )


def test_pinned_id_rename_is_an_update(cli, emulator, workdir):
    remote = emulator.state.seed_assistant({"name": "Desk", "prompt": "a"})
    write(workdir / "assistants/a.yaml", f"id: {remote['id']}\nname: Front desk\n")
    plan = cli("plan")
    assert '~ name: "Desk" -> "Front desk"' in plan.out
    emulator.clear_requests()
    assert cli("apply", "--auto-approve").code == 0
    [(method, _, body)] = writes(emulator)
    assert method == "PATCH" and body == {"name": "Front desk"}


def seed_many(emulator: EmulatorServer, workdir: Path, count: int) -> None:
    for i in range(count):
        emulator.state.seed_assistant({"name": f"Bot {i}", "prompt": "same"})
        write(workdir / f"assistants/bot{i}.yaml", f"name: Bot {i}\nprompt: same\n")


def test_safety_limit(cli, emulator, workdir):
    seed_many(emulator, workdir, 10)
    for i in range(4):
        write(workdir / f"assistants/bot{i}.yaml", f"name: Bot {i}\nprompt: changed\n")
    plan = cli("plan")
    assert "apply will refuse this plan without --force" in plan.err
    refused = cli("apply", "--auto-approve")
    assert refused.code == 1
    assert "safety limit: this would change or destroy 4 of 10" in refused.err
    assert writes(emulator) == []
    forced = cli("apply", "--auto-approve", "--force")
    assert forced.code == 0, forced.all
    assert len(writes(emulator)) == 4


def test_three_of_ten_is_within_the_limit(cli, emulator, workdir):
    seed_many(emulator, workdir, 10)
    for i in range(3):
        write(workdir / f"assistants/bot{i}.yaml", f"name: Bot {i}\nprompt: changed\n")
    assert cli("apply", "--auto-approve").code == 0


def test_saved_plan_applies_and_holds_no_secret(cli, emulator, sales, workdir, monkeypatch):
    monkeypatch.setenv("LLM_API_KEY", "sk-live-very-secret")
    sales.write_text(
        SALES
        + "llm_model:\n  type: custom\n  api_url: https://llm.example.com/v1\n"
        + "  model_name: m\n  api_key: ${LLM_API_KEY}\n"
        + "webhook_url: ${HOOK_TOKEN:-https://hooks.example.com/t0ken}\n",
        encoding="utf-8",
    )
    # HOOK_TOKEN unset: its default goes out as the secret, which apply stores only when told to (issue 22)
    plan = cli("plan", "--allow-default-secrets", "--out", "plan.json")
    assert plan.code == 0, plan.all
    saved = (workdir / "plan.json").read_text()
    doc = json.loads(saved)
    assert [(w["path"], w["variable"]) for w in doc["warnings"]] == [("webhook_url", "HOOK_TOKEN")]
    assert doc["options"]["allow_default_secrets"] is True
    assert doc["format_version"] == 3 and doc["checksum"].startswith("hmac-sha256:")  # keyed
    assert doc["checksum"] in plan.err
    assert "sk-live-very-secret" not in saved + plan.all
    assert "t0ken" not in saved + plan.all  # came from a *TOKEN variable: sensitive
    changes = {c["path"]: c["after"] for c in doc["actions"][0]["changes"]}
    assert changes["llm_model.api_key"] == "(sensitive: ${LLM_API_KEY})"  # named, never its value
    assert changes["webhook_url"] == "(sensitive: ${HOOK_TOKEN})"  # its default, a secret, is blanked whole
    result = cli("apply", "--auto-approve", "plan.json")
    assert result.code == 0, result.all
    assert "sk-live-very-secret" not in result.all
    [created] = emulator.state.list_assistants()
    assert created["llm_model"]["api_key"] == "sk-live-very-secret"


def test_stale_plan_remote_changed(cli, emulator, sales, workdir):
    applied(cli, emulator)
    sales.write_text(SALES.replace("speed: 1.1", "speed: 1.2"), encoding="utf-8")
    assert cli("plan", "--out", "plan.json").code == 0
    [remote] = emulator.state.list_assistants()
    emulator.state.update_assistant(remote["id"], {"first_sentence": "Edited in the dashboard"})
    emulator.clear_requests()
    result = cli("apply", "--auto-approve", "plan.json")
    assert result.code == 1
    assert "plan is stale" in result.err and remote["id"] in result.err
    assert writes(emulator) == []


def test_stale_plan_config_changed(cli, emulator, sales, workdir):
    assert cli("plan", "--out", "plan.json").code == 0
    sales.write_text(SALES.replace("speed: 1.1", "speed: 1.3"), encoding="utf-8")
    result = cli("apply", "--auto-approve", "plan.json")
    assert result.code == 1
    assert "plan is stale: the configuration files changed" in result.err
    assert writes(emulator) == []


def test_tampered_plan_is_refused(cli, emulator, sales, workdir):
    assert cli("plan", "--out", "plan.json").code == 0
    doc = json.loads((workdir / "plan.json").read_text())
    doc["options"]["prune"] = True
    (workdir / "plan.json").write_text(json.dumps(doc))
    result = cli("apply", "--auto-approve", "plan.json")
    assert result.code == 1 and "checksum mismatch" in result.err
    assert writes(emulator) == []


def test_saved_plan_is_for_one_account(cli, emulator, sales, workdir):
    assert cli("plan", "--out", "plan.json").code == 0
    with EmulatorServer(api_key="test-key-123") as other:
        from helpers import run_cli

        result = run_cli(
            "--base-url", other.url, "--api-key", "test-key-123", "apply", "--auto-approve", "plan.json"
        )
        assert result.code == 1
        assert f"it was made for {emulator.url} (key " in result.err
        assert f"this run targets {other.url} (key " in result.err
        assert other.requests == [r for r in other.requests if r.method == "GET"]
    no_tty = cli("apply", "plan.json")
    assert no_tty.code == 1 and "pass --auto-approve" in no_tty.err
    assert writes(emulator) == []


def test_apply_without_terminal_refuses(cli, emulator, sales):
    result = cli("apply")
    assert result.code == 1
    assert "no terminal; pass --auto-approve" in result.err
    assert writes(emulator) == []


def test_apply_asks_and_only_yes_proceeds(cli, emulator, sales):
    no = cli("apply", stdin="y\n", tty=True)
    assert no.code == 1 and "apply cancelled" in no.err
    assert writes(emulator) == []
    yes = cli("apply", stdin="yes\n", tty=True)
    assert yes.code == 0, yes.all
    assert "Only 'yes' will be accepted" in yes.out
    assert len(writes(emulator)) == 1


def test_retries_and_parallel_apply(cli, emulator, workdir):
    seed_many(emulator, workdir, 6)
    for i in range(6):
        write(workdir / f"assistants/bot{i}.yaml", f"name: Bot {i}\nprompt: new {i}\n")
    emulator.inject("PATCH", r"/assistants/", status=429, retry_after=0.05, times=2)
    emulator.inject("PATCH", r"/assistants/", status=503, times=1)
    result = cli("apply", "--auto-approve", "--force", "--parallelism", "3")
    assert result.code == 0, result.all
    assert sorted(a["prompt"] for a in emulator.state.list_assistants()) == [f"new {i}" for i in range(6)]
    assert "retrying" in result.err


def test_timed_out_create_is_not_made_twice(cli, emulator, sales):
    emulator.inject("POST", r"/assistants$", drop="after")
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    assert [a["name"] for a in emulator.state.list_assistants()] == ["Sales qualifier"]
    assert [m for m, _, _ in writes(emulator)] == ["POST"]


def test_partial_failure_then_rerun_finishes(cli, emulator, workdir):
    seed_many(emulator, workdir, 3)
    for i in range(3):
        write(workdir / f"assistants/bot{i}.yaml", f"name: Bot {i}\nprompt: new\n")
    [bot1] = [a for a in emulator.state.list_assistants() if a["name"] == "Bot 1"]
    emulator.inject("PATCH", rf"/assistants/{bot1['id']}$", status=500, times=50)
    result = cli("apply", "--auto-approve")
    assert result.code == 1
    assert "apply incomplete: 2 of 3 actions succeeded" in result.err
    assert 'succeeded: update assistant "Bot 0"' in result.err
    assert 'failed:    update assistant "Bot 1"' in result.err
    emulator.clear_faults()
    emulator.clear_requests()
    rerun = cli("apply", "--auto-approve")
    assert rerun.code == 0, rerun.all
    assert [(m, p) for m, p, _ in writes(emulator)] == [("PATCH", f"/assistants/{bot1['id']}")]


def test_faq_suggestions_discarded_are_named(cli, emulator, sales):
    applied(cli, emulator)
    [remote] = emulator.state.list_assistants()
    emulator.state.add_faq_suggestion(remote["id"], "Do you ship to Canada?")
    assert cli("plan", "--detailed-exitcode").code == 0  # suggestions are not desired state
    sales.write_text(SALES.replace("Nine to five", "Eight to six"), encoding="utf-8")
    plan = cli("plan")
    assert '~ faq_items["What are your hours?"].answer' in plan.out
    assert 'will be discarded: "Do you ship to Canada?"' in plan.out


def test_target_limits_the_plan(cli, emulator, workdir):
    write(workdir / "assistants/a.yaml", "name: A\nprompt: a\n")
    write(workdir / "assistants/b.yaml", "name: B\nprompt: b\n")
    plan = cli("plan", "--target", "B")
    assert '"B" will be created' in plan.out and '"A"' not in plan.out
    assert cli("apply", "--auto-approve", "--target", "B").code == 0
    assert [a["name"] for a in emulator.state.list_assistants()] == ["B"]
    unknown = cli("plan", "--target", "b ")
    assert unknown.code == 1 and "--target 'b ': nothing of that name or id" in unknown.err
    [b] = emulator.state.list_assistants()
    write(workdir / "assistants/b.yaml", "name: B\nprompt: b2\n")
    by_id = cli("plan", "--target", b["id"])
    assert '"B"' in by_id.out and '"A"' not in by_id.out


def test_undeclared_remote_assistants_are_named_but_left_alone(cli, emulator, sales):
    emulator.state.seed_assistant({"name": "Stray bot", "prompt": "x"})
    plan = cli("plan")
    assert 'Note: 1 remote assistant is not declared in any file ("Stray bot") and left alone' in plan.out
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.out
    assert "Stray bot" in cli("plan", "--format", "markdown").out
    assert json.loads(cli("plan", "--format", "json").out)["undeclared"] == [
        {"kind": "assistant", "name": "Stray bot"}
    ]


def test_global_option_after_the_command_gets_a_hint(cli, sales):
    result = cli("plan", "--local")
    assert result.code == 1
    assert "--local is a global option: it goes before the command" in result.err


def test_json_and_markdown_formats(cli, emulator, sales):
    applied(cli, emulator)
    sales.write_text(SALES.replace("speed: 1.1", "speed: 1.2"), encoding="utf-8")
    doc = json.loads(cli("plan", "--format", "json").out)
    assert doc["summary"] == {"add": 0, "change": 1, "destroy": 0}
    [action] = doc["actions"]
    assert action["action"] == "update" and action["name"] == "Sales qualifier"
    assert action["file"] == "assistants/sales.yaml" and action["id"].startswith("asst_")
    assert action["changes"] == [{"path": "voice.speed", "before": 1.1, "after": 1.2}]
    md = cli("plan", "--format", "markdown").out
    assert (
        "| ~ | assistant | `Sales qualifier` |" in md
        and "`voice`" in md
        and "~ voice.speed: 1.1 -> 1.2" in md
    )


def test_unpatched_calls_notice_is_surfaced(cli, emulator, sales, workdir):
    applied(cli, emulator)
    [remote] = emulator.state.list_assistants()
    emulator.state.set_scheduled_calls(remote["id"], 3, ["first_name"])
    (workdir / "assistants/prompts/sales.md").write_text(PROMPT + "Say {{first_name}}.\n")
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    assert "3 scheduled call(s) keep the previous prompt" in result.err


def test_rejected_key_is_a_clear_error(emulator, sales):
    from helpers import run_cli

    result = run_cli("--base-url", emulator.url, "--api-key", "wrong-key-456", "plan")
    assert result.code == 1
    assert "API key was rejected" in result.err
    assert "wrong-key-456" not in result.all and "Traceback" not in result.all


def test_missing_key_and_plain_http(workdir, sales):
    from helpers import run_cli

    assert "no API key" in run_cli("plan").err
    result = run_cli("--api-key", "k", "--base-url", "http://api.example.com", "plan")
    assert result.code == 1 and "http://" in result.err


def test_the_pinned_file_keeps_its_assistant_whatever_the_file_order(cli, emulator, workdir):
    remote = emulator.state.seed_assistant({"name": "Desk", "prompt": "a"})
    write(workdir / "assistants/a.yaml", "name: Desk\nprompt: a\n")
    write(workdir / "assistants/b.yaml", f"id: {remote['id']}\nname: Desk renamed\n")
    result = cli("plan")
    assert result.code == 1
    assert (
        f"assistants/a.yaml:1:7: remote assistant {remote['id']} is already claimed by assistants/b.yaml"
        in result.err
    )


def test_local_needs_no_key_even_with_an_environment(workdir, monkeypatch):
    from helpers import run_cli

    write(
        workdir / "revox-sync.yaml",
        NOT_ABOUT_POLICY + "environments:\n  staging:\n    api_key_env: REVOX_API_KEY_STAGING\n",
    )
    write(workdir / "assistants/a.yaml", "name: A\nprompt: a\n")
    monkeypatch.delenv("REVOX_API_KEY_STAGING", raising=False)
    result = run_cli("--local", "--env", "staging", "plan")
    assert result.code == 0, result.all
    assert (workdir / ".revox-local/.gitignore").read_text().endswith("*\n")


def test_text_the_server_normalises_converges_after_one_apply(cli, emulator, workdir):
    """The server trims text and keeps `\\n` line endings: a block scalar's final newline, indentation
    around a sentence and CRLF line endings are no change once applied."""
    write(workdir / "revox-sync.yaml", "rules: {voicemail-callback: off}\n")  # a voicemail with no number
    write(
        workdir / "assistants/desk.yaml",
        'name: Desk\nprompt: |\n  Greet the caller.\n  Be brief.\n\nfirst_sentence: "  Hello!  "\n'
        'voicemail_message: "Call us back.\\r\\nThanks.\\r\\n"\n'
        "faq_items:\n  - {question: 'Hours? ', answer: \"Nine to five.\\n\"}\n",
    )
    assert cli("apply", "--auto-approve").code == 0
    [stored] = emulator.state.list_assistants()
    assert (stored["prompt"], stored["first_sentence"], stored["voicemail_message"]) == (
        "Greet the caller.\nBe brief.",
        "Hello!",
        "Call us back.\nThanks.",
    )
    emulator.clear_requests()
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.all
    assert "No changes." in again.out
    # any other difference is still a change
    write(workdir / "assistants/desk.yaml", "name: Desk\nprompt: Greet the caller.\n")
    assert "      ~ prompt: text changed (+0 -1 lines)\n" in cli("plan").out

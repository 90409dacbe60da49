"""Sharing an account: `owns` keeps another configuration's objects out of sight and out of `--prune`,
`protect` refuses to destroy or reroute what must survive, and `previous_names` renames instead of making
a second assistant. End to end: the real CLI, the emulator on a real socket, real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write

from revox_sync.emulator import EmulatorServer

NUMBER = "+15551234567"


def writes(emulator: EmulatorServer) -> list[tuple[str, str, object]]:
    return [(r.method, r.path, r.body) for r in emulator.requests if r.method != "GET"]


def names(emulator: EmulatorServer) -> list[str]:
    return sorted(a["name"] for a in emulator.state.list_assistants())


@pytest.fixture
def shared(emulator: EmulatorServer, workdir: Path) -> dict[str, dict[str, object]]:
    """An account two configurations share: Harbor's assistants and the head office's."""
    seeded = {
        name: emulator.state.seed_assistant({"name": name, "prompt": "p"})
        for name in ("Harbor front desk", "Harbor old bot", "HQ sales", "HQ support")
    }
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: p\n")
    emulator.clear_requests()
    return seeded


# --- owns --------------------------------------------------------------------------------------------------
def test_owns_hides_and_spares_what_another_configuration_owns(cli, emulator, workdir, shared):
    write(workdir / "revox-sync.yaml", 'owns:\n  assistants: ["Harbor *"]\n')
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert "Harbor old bot" in plan.all  # undeclared, and owned: listed
    assert "HQ" not in plan.all  # another configuration's: not listed

    pruned = cli("plan", "--prune")
    assert f'- assistant "Harbor old bot" ({shared["Harbor old bot"]["id"]}) will be destroyed' in pruned.out
    assert "HQ" not in pruned.all
    assert "Plan: 0 to add, 0 to change, 1 to destroy." in pruned.out

    assert cli("apply", "--auto-approve", "--prune").code == 0
    assert writes(emulator) == [("DELETE", f"/assistants/{shared['Harbor old bot']['id']}", None)]
    assert names(emulator) == ["HQ sales", "HQ support", "Harbor front desk"]


def test_without_owns_everything_is_owned(cli, emulator, workdir, shared):
    pruned = cli("plan", "--prune")
    assert "Plan: 0 to add, 0 to change, 3 to destroy." in pruned.out


def test_a_file_outside_owns_is_a_located_error(cli, emulator, workdir, shared):
    write(workdir / "revox-sync.yaml", 'owns:\n  assistants: ["Harbor *"]\n')
    write(workdir / "assistants/hq.yaml", "name: HQ billing\nprompt: p\n")
    for command in (("validate",), ("plan",), ("apply", "--auto-approve")):
        result = cli(*command)
        assert result.code == 1, result.all
        assert result.err.strip().splitlines()[0] == (
            'assistants/hq.yaml:1:7: assistant "HQ billing" is outside what this configuration owns: '
            "owns.assistants is 'Harbor *' (in revox-sync.yaml)"
        )
    assert writes(emulator) == []


def test_a_kind_owns_does_not_list_owns_nothing(cli, emulator, workdir, shared):
    emulator.state.add_phone_number(NUMBER)
    write(workdir / "revox-sync.yaml", 'owns:\n  assistants: ["Harbor *"]\n')
    write(workdir / "assistants/phone_numbers.yaml", f'phone_numbers:\n  "{NUMBER}": {{label: Main}}\n')
    result = cli("plan")
    assert result.code == 1
    assert result.err.strip().splitlines()[0] == (
        f'assistants/phone_numbers.yaml:2:3: phone number "{NUMBER}" is outside what this configuration '
        "owns: owns lists no phone_numbers: add a pattern under owns.phone_numbers in revox-sync.yaml"
    )


def test_a_pinned_id_cannot_take_over_an_unowned_assistant(cli, emulator, workdir, shared):
    write(workdir / "revox-sync.yaml", 'owns:\n  assistants: ["Harbor *"]\n')
    write(workdir / "assistants/take.yaml", f"id: {shared['HQ sales']['id']}\nname: Harbor sales\n")
    result = cli("plan")
    assert result.code == 1
    assert (
        f"assistants/take.yaml:2:7: remote assistant {shared['HQ sales']['id']} is named 'HQ sales', which "
        "this configuration does not own (owns.assistants is 'Harbor *' (in revox-sync.yaml)): it cannot be "
        "taken over"
    ) in result.err


def test_an_environment_owns_replaces_the_top_level(cli, emulator, workdir, shared):
    write(
        workdir / "revox-sync.yaml",
        "owns:\n  assistants: [\"Harbor *\"]\nenvironments:\n  hq:\n    owns:\n      assistants: ['H*']\n",
    )
    assert "3 to destroy" in cli("--env", "hq", "plan", "--prune").out
    assert "1 to destroy" in cli("plan", "--prune").out


def test_owns_errors_are_located(cli, workdir):
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    write(workdir / "revox-sync.yaml", "owns:\n  asistants: [x]\nprotect: [x]\n")
    result = cli("validate")
    assert result.code == 1
    assert result.err.strip().splitlines()[:2] == [
        "revox-sync.yaml:2:3: unknown key 'asistants' in owns; did you mean 'assistants'?",
        "revox-sync.yaml:3:10: protect must be a mapping of kinds (assistants, phone_numbers, voices) to name "
        "patterns",
    ]


# --- protect -----------------------------------------------------------------------------------------------
def test_protected_assistant_survives_prune_and_force(cli, emulator, workdir, shared):
    write(workdir / "revox-sync.yaml", "protect:\n  assistants:\n    - Harbor old bot\n")
    for command in (("plan", "--prune"), ("apply", "--auto-approve", "--prune", "--force")):
        result = cli(*command)
        assert result.code == 1, result.all
        assert result.err.strip().splitlines()[0] == (
            f'revox-sync.yaml:3:7: assistant "Harbor old bot" ({shared["Harbor old bot"]["id"]}) is protected '
            "(protect.assistants: 'Harbor old bot'): this plan would destroy it; nothing was changed (--force "
            "does not override protection: remove the pattern first if this is intended)"
        )
    assert writes(emulator) == []
    assert "Harbor old bot" in names(emulator)
    assert cli("apply", "--auto-approve").code == 0  # without --prune nothing protected is touched


def test_protection_is_per_environment(cli, emulator, workdir, shared):
    write(
        workdir / "revox-sync.yaml",
        "environments:\n  staging: {}\n  production:\n    protect: {assistants: ['HQ *']}\n",
    )
    assert cli("--env", "production", "plan", "--prune").code == 1
    assert cli("--env", "staging", "plan", "--prune").code == 0


def test_protected_number_is_not_rerouted(cli, emulator, workdir, shared):
    number = emulator.state.add_phone_number(NUMBER, inbound_assistant_id=shared["HQ sales"]["id"])
    write(workdir / "revox-sync.yaml", f"protect:\n  phone_numbers: ['{NUMBER}']\n")
    write(
        workdir / "assistants/phone_numbers.yaml",
        f'phone_numbers:\n  "{NUMBER}":\n    assistant: Harbor front desk\n',
    )
    result = cli("apply", "--auto-approve", "--force")
    assert result.code == 1
    assert result.err.strip().splitlines()[0] == (
        f'revox-sync.yaml:2:19: phone number "{NUMBER}" ({number["id"]}) is protected '
        f"(protect.phone_numbers: '{NUMBER}'): this plan would change its inbound_assistant_id; nothing was "
        "changed (--force does not override protection: remove the pattern first if this is intended)"
    )
    assert writes(emulator) == []
    # its label is not its route: changing it is allowed
    write(
        workdir / "assistants/phone_numbers.yaml",
        f'phone_numbers:\n  "{NUMBER}":\n    label: Main line\n',
    )
    assert cli("apply", "--auto-approve").code == 0
    assert writes(emulator) == [("PATCH", f"/phone-numbers/{number['id']}", {"label": "Main line"})]


# --- previous_names ------------------------------------------------------------------------------------------
def test_rename_through_previous_names_is_one_patch(cli, emulator, workdir, shared):
    write(
        workdir / "assistants/front.yaml",
        "name: Harbor reception\nprevious_names: [Harbor front desk]\nprompt: p\n",
    )
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert '~ name: "Harbor front desk" -> "Harbor reception"' in plan.out
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.out
    assert cli("apply", "--auto-approve").code == 0
    front = shared["Harbor front desk"]["id"]
    assert writes(emulator) == [("PATCH", f"/assistants/{front}", {"name": "Harbor reception"})]
    emulator.clear_requests()
    again = cli("plan")  # converged: the current name matches now
    assert "No changes." in again.out, again.all


def test_previous_names_never_beat_an_exact_name(cli, emulator, workdir, shared):
    write(
        workdir / "assistants/front.yaml", "name: HQ sales\nprevious_names: [Harbor front desk]\nprompt: p\n"
    )
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert "Plan: 0 to add, 0 to change, 0 to destroy." in plan.out or "No changes." in plan.out


def test_ambiguous_previous_names_are_an_error(cli, emulator, workdir, shared):
    write(
        workdir / "assistants/front.yaml",
        "name: Harbor desk\nprevious_names: [Harbor front desk, Harbor old bot]\nprompt: p\n",
    )
    result = cli("plan")
    assert result.code == 1
    assert (
        result.err.strip()
        .splitlines()[0]
        .startswith("assistants/front.yaml:1:7: previous_names match 2 remote assistants (")
    )
    write(
        workdir / "assistants/front.yaml", "name: Harbor desk\nprevious_names: [Harbor old bot]\nprompt: p\n"
    )
    write(workdir / "assistants/old.yaml", "name: Harbor old bot\nprompt: p\n")
    result = cli("plan")
    assert result.code == 1
    assert (
        "assistants/front.yaml:1:7: previous_names: 'Harbor old bot' is also the name assistants/old.yaml "
        "declares: rename one, or pin the remote one with `id:`"
    ) in result.err
    assert writes(emulator) == []


# --- backups and restore --------------------------------------------------------------------------------------
def backup_of(result) -> Path:
    """The backup an apply said it made."""
    [line] = [line for line in result.err.splitlines() if line.startswith("Backed up ")]
    return Path(line.split(" to ", 1)[1].split(";", 1)[0])


def test_restore_brings_back_a_dashboard_edit_the_apply_overwrote(cli, emulator, workdir, shared):
    front = shared["Harbor front desk"]["id"]
    improved = "Greet warmly, then ask how to help.\nKeep it short."
    emulator.state.update_assistant(front, {"prompt": improved})  # a dashboard edit
    result = cli("apply", "--auto-approve")  # the file still says "p": the edit is overwritten
    assert result.code == 0, result.all
    path = backup_of(result)
    assert path.parent == Path(".revox-sync/backups") and path.name.endswith(".json")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert Path(".revox-sync/.gitignore").read_text().splitlines()[-1] == "*"
    assert f"undo with: revox-sync --base-url {emulator.url} restore {path}" in result.err
    emulator.clear_requests()

    restored = cli("restore", str(path), "--auto-approve")
    assert restored.code == 0, restored.all
    assert f'~ assistant "Harbor front desk" ({front}) will be updated in-place' in restored.out
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in restored.out
    assert writes(emulator) == [("PATCH", f"/assistants/{front}", {"prompt": improved})]
    assert emulator.state.get_assistant(front)["prompt"] == improved
    # restoring again changes nothing; the files' next plan shows the difference it brought back
    emulator.clear_requests()
    again = cli("restore", str(path), "--auto-approve")
    assert again.code == 0 and "No changes." in again.out
    assert writes(emulator) == []


def test_a_destroyed_assistant_and_its_route_come_back(cli, emulator, workdir, shared):
    old = shared["Harbor old bot"]
    emulator.state.update_assistant(
        str(old["id"]), {"first_sentence": "Ahoy!", "max_call_duration_secs": 120}
    )
    number = emulator.state.add_phone_number(NUMBER, inbound_assistant_id=str(old["id"]))
    write(workdir / "revox-sync.yaml", 'owns:\n  assistants: ["Harbor *"]\n  phone_numbers: ["+1*"]\n')
    write(
        workdir / "assistants/phone_numbers.yaml",
        f'phone_numbers:\n  "{NUMBER}": {{assistant: Harbor front desk}}\n',
    )
    result = cli("apply", "--auto-approve", "--prune")
    assert result.code == 0, result.all
    assert "Harbor old bot" not in names(emulator)
    path = backup_of(result)
    emulator.clear_requests()

    restored = cli("restore", str(path), "--auto-approve")
    assert restored.code == 0, restored.all
    assert f"destroyed since the backup (was {old['id']}): created again with a new id" in restored.out
    [(post, url, body), (patch, number_url, route)] = writes(emulator)
    assert (post, url, patch, number_url) == (
        "POST",
        "/assistants",
        "PATCH",
        f"/phone-numbers/{number['id']}",
    )
    assert body["name"] == "Harbor old bot" and body["first_sentence"] == "Ahoy!"
    assert body["max_call_duration_secs"] == 120
    again = {a["name"]: a for a in emulator.state.list_assistants()}["Harbor old bot"]
    assert again["id"] != old["id"]
    assert route == {"inbound_assistant_id": again["id"]}
    assert f'created assistant "Harbor old bot" ({again["id"]})' in restored.out


def test_a_backup_is_refused_for_another_account(cli, emulator, workdir, shared):
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    path = backup_of(cli("apply", "--auto-approve"))
    emulator.clear_requests()
    other = cli("--api-key", "another-accounts-key", "restore", str(path), "--auto-approve")
    assert other.code == 1
    mine = path.stem.rsplit("-", 1)[1]
    assert (
        other.err.strip()
        .splitlines()[0]
        .startswith(f"error: {path}: made for another account (key {mine}; this run uses key ")
    )
    assert emulator.requests == []  # refused before any request


def test_an_edited_backup_is_refused(cli, emulator, workdir, shared):
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    path = backup_of(cli("apply", "--auto-approve"))
    text = path.read_text()
    path.write_text(text.replace('"prompt": "p"', '"prompt": "forged"'))
    assert text != path.read_text()
    emulator.clear_requests()
    edited = cli("restore", str(path), "--auto-approve")
    assert edited.code == 1
    assert edited.err.strip() == (
        f"error: {path}: checksum mismatch: the backup was edited after it was made. Nothing was changed."
    )
    assert emulator.requests == []


def test_a_backup_holds_no_secret_in_plaintext_yet_restores_it(cli, emulator, workdir, shared, monkeypatch):
    old_key, token = "sk-old-secret-key-5550", "tok-secret-in-prompt-777"
    monkeypatch.setenv("DESK_TOKEN", token)
    front = shared["Harbor front desk"]["id"]
    llm = {"type": "custom", "api_url": "https://l.example.com", "model_name": "m", "api_key": old_key}
    emulator.state.update_assistant(front, {"llm_model": llm, "prompt": f"Token {token}."})
    monkeypatch.setenv("NEW_LLM_KEY", "sk-new-secret-key-6660")
    write(
        workdir / "assistants/front.yaml",
        "name: Harbor front desk\nprompt: Token ${DESK_TOKEN} no more.\nllm_model:\n  type: custom\n"
        "  api_url: https://l.example.com\n  model_name: m\n  api_key: ${NEW_LLM_KEY}\n",
    )
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    path = backup_of(result)
    text = path.read_text()
    for secret in (old_key, token, "sk-new-secret-key-6660", "test-key-123"):
        assert secret not in text
    assert '"api_key": "(sensitive)"' in text
    emulator.clear_requests()
    restored = cli("restore", str(path), "--auto-approve")
    assert restored.code == 0, restored.all
    for secret in (old_key, token, "sk-new-secret-key-6660"):
        assert secret not in restored.all
    [(_, _, body)] = writes(emulator)
    assert body == {"prompt": f"Token {token}.", "llm_model": llm}


def test_a_saved_restore_plan_applies_only_as_that_restore(cli, emulator, workdir, shared):
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    path = backup_of(cli("apply", "--auto-approve"))
    saved = cli("restore", str(path), "--out", "undo.json")
    assert saved.code == 0, saved.all
    assert f"Apply it with: revox-sync --base-url {emulator.url} restore {path} undo.json" in saved.err
    refused = cli("apply", "--auto-approve", "undo.json")
    assert refused.code == 1
    assert (
        "undo.json is the plan of a restore: apply it with `revox-sync restore BACKUP undo.json`"
        in refused.err
    )
    emulator.clear_requests()
    applied = cli("restore", str(path), "undo.json", "--auto-approve", "--backup-dir", "undo-backups")
    assert applied.code == 0, applied.all
    front = shared["Harbor front desk"]["id"]
    assert writes(emulator) == [("PATCH", f"/assistants/{front}", {"prompt": "p"})]
    assert backup_of(applied).parent == Path("undo-backups")  # a restore is undone the same way


def test_an_apply_that_cannot_back_up_writes_nothing(cli, emulator, workdir, shared):
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    write(workdir / "blocked", "a file where the folder should be")
    result = cli("apply", "--auto-approve", "--backup-dir", "blocked/backups")
    assert result.code == 1
    assert result.err.strip().startswith("error: cannot write the backup to blocked/backups/: ")
    assert writes(emulator) == []


def test_the_readme_project_file_means_what_the_section_says(tmp_path):
    """The `revox-sync.yaml` of the README's section loads, and its environment adds to protect."""
    from revox_sync.config.project import load_project

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Sharing an account, protecting and undoing", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    project = load_project(write(tmp_path / "revox-sync.yaml", block))
    top, production = project.scope(None), project.scope("production")
    assert top.owned("assistant", "Harbor desk") and not top.owned("assistant", "HQ desk")
    assert top.owned("phone_number", "+15125550100") and not top.owned("phone_number", "+14155550100")
    assert top.protection("phone_number", "+15125550100") is None
    assert production.protection("phone_number", "+15125550100") is not None
    assert production.protection("assistant", "Harbor main line") is not None


def test_names_the_server_would_trim_and_a_previous_name_equal_to_the_name_are_errors(cli, workdir):
    write(workdir / "assistants/a.yaml", 'name: "Desk "\nprompt: p\n')
    write(workdir / "assistants/b.yaml", "name: Front\nprevious_names: [Old, Front]\nprompt: p\n")
    result = cli("validate")
    assert result.code == 1
    assert result.err.strip().splitlines()[:2] == [
        "assistants/a.yaml:1:7: name: no leading or trailing whitespace or line breaks (the API trims them)",
        "assistants/b.yaml:2:23: previous_names: 'Front' is the current name",
    ]


def test_apply_and_restore_as_json_name_the_backup_and_each_outcome(cli, emulator, workdir, shared):
    import json

    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    applied = cli("apply", "--auto-approve", "--format", "json")
    assert applied.code == 0, applied.all
    doc = json.loads(applied.out)
    path = backup_of(applied)
    assert doc["backup"] == str(path) and doc["status"] == "complete"
    restored = cli("restore", str(path), "--auto-approve", "--format", "json")
    assert restored.code == 0, restored.all
    doc = json.loads(restored.out)  # stdout is the document alone; the plan went to stderr
    front = shared["Harbor front desk"]["id"]
    assert [(a["kind"], a["id"], a["operation"], a["outcome"]) for a in doc["actions"]] == [
        ("assistant", front, "update", "ok")
    ]
    assert doc["backup"] == str(backup_of(restored)) != str(path)

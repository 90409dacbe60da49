"""`restore` as a three-way undo: only what the backed-up apply changed goes back, and only where the account
still holds what the apply wrote; a field changed since is a conflict, reported and left (`--force-conflicts`
puts it back). `owns` and `protect` as they stand at restore time are honoured. And protection follows the
object: revox-sync never renames a protected object to a name that is not protected. End to end: the real CLI,
the emulator on a real socket, real files."""

# ruff: noqa: F811  (the `shared` fixture imported from test_sharing is redefined as test arguments)

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from emulator_fixtures import API_KEY
from helpers import write
from test_sharing import backup_of, shared, writes  # noqa: F401  (shared: a fixture)

from revox_sync.emulator import EmulatorServer

FRONT = "assistants/front.yaml"
NUMBER = "+15551234567"


def dashboard_edit(emulator: EmulatorServer, assistant_id: str, body: dict[str, object]) -> None:
    """A PATCH straight to the API, as the dashboard makes one; then the request log starts afresh."""
    request = urllib.request.Request(
        f"{emulator.url}/assistants/{assistant_id}",
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
    emulator.clear_requests()


def applied(cli, front_file: str) -> Path:
    write(FRONT, front_file)
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    return backup_of(result)


# --- conflicts -------------------------------------------------------------------------------------------
def test_a_field_edited_since_the_apply_is_a_conflict_left_as_it_is(cli, emulator, workdir, shared):
    front = str(shared["Harbor front desk"]["id"])
    seeded = emulator.state.get_assistant(front)
    path = applied(
        cli, "name: Harbor front desk\nprompt: from the file\nfirst_sentence: Hello from the file\n"
    )
    dashboard_edit(emulator, front, {"first_sentence": "Hello from the dashboard"})

    restored = cli("restore", str(path), "--auto-approve")
    assert restored.code == 0, restored.all
    assert (
        f'conflict: assistant "Harbor front desk" ({front}): first_sentence changed since the apply (it wrote '
        '"Hello from the file", the account holds "Hello from the dashboard"): left as it is'
    ) in restored.err
    assert "1 conflict left as it is: restore --force-conflicts puts it back too" in restored.err
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in restored.out
    assert "first_sentence" not in restored.out  # the plan puts back the prompt alone
    assert writes(emulator) == [("PATCH", f"/assistants/{front}", {"prompt": "p"})]
    now = emulator.state.get_assistant(front)
    assert (now["prompt"], now["first_sentence"]) == ("p", "Hello from the dashboard")

    emulator.clear_requests()
    forced = cli("restore", str(path), "--auto-approve", "--force-conflicts")
    assert forced.code == 0, forced.all
    assert "conflict:" not in forced.all
    assert writes(emulator) == [
        ("PATCH", f"/assistants/{front}", {"first_sentence": seeded["first_sentence"]})
    ]
    assert emulator.state.get_assistant(front)["first_sentence"] == seeded["first_sentence"]


def test_one_field_changed_in_several_places_is_one_conflict_and_prints_on_one_line_each(
    cli, emulator, workdir, shared
):
    front = str(shared["Harbor front desk"]["id"])
    path = applied(
        cli,
        "name: Harbor front desk\nprompt: p\nfaq_items:\n  - {question: a, answer: b}\n  - {question: c, answer: d}\n",
    )
    edited = [{"question": "a", "answer": "B2"}, {"question": "c", "answer": "D2\n::error::x"}]
    dashboard_edit(emulator, front, {"faq_items": edited})
    restored = cli("restore", str(path), "--auto-approve")
    assert restored.code == 0, restored.all
    label = f'conflict: assistant "Harbor front desk" ({front})'
    assert restored.err.splitlines() == [
        f'{label}: faq_items["a"].answer changed since the apply (it wrote "b", the account holds "B2"): left as it is',
        f'{label}: faq_items["c"].answer changed since the apply (it wrote "d", the account holds "D2\\n::error::x"): '
        "left as it is",
        "1 conflict left as it is: restore --force-conflicts puts it back too",
    ]
    assert "No changes." in restored.out
    assert writes(emulator) == []


def test_a_saved_restore_plan_keeps_force_conflicts(cli, emulator, workdir, shared):
    front = str(shared["Harbor front desk"]["id"])
    path = applied(cli, "name: Harbor front desk\nprompt: from the file\n")
    dashboard_edit(emulator, front, {"prompt": "from the dashboard"})
    saved = cli("restore", str(path), "--force-conflicts", "--out", "undo.json")
    assert saved.code == 0, saved.all
    assert '~ prompt: "from the dashboard" -> "p"' in saved.out
    assert json.loads(Path("undo.json").read_text())["options"]["force_conflicts"] is True
    applied_plan = cli("restore", str(path), "undo.json", "--auto-approve")
    assert applied_plan.code == 0, applied_plan.all
    assert writes(emulator) == [("PATCH", f"/assistants/{front}", {"prompt": "p"})]


def test_fields_the_apply_did_not_change_are_never_touched(cli, emulator, workdir, shared):
    """The old restore put back every field that differed from the backup: a later dashboard edit of a field
    the apply never wrote was reverted too."""
    front = str(shared["Harbor front desk"]["id"])
    path = applied(cli, "name: Harbor front desk\nprompt: from the file\n")
    dashboard_edit(
        emulator, front, {"first_sentence": "Added in the dashboard", "max_call_duration_secs": 90}
    )

    restored = cli("restore", str(path), "--auto-approve")
    assert restored.code == 0, restored.all
    assert "conflict" not in restored.all
    assert writes(emulator) == [("PATCH", f"/assistants/{front}", {"prompt": "p"})]
    now = emulator.state.get_assistant(front)
    assert (now["first_sentence"], now["max_call_duration_secs"]) == ("Added in the dashboard", 90)


def test_an_assistant_destroyed_since_the_apply_changed_it_is_a_conflict(cli, emulator, workdir, shared):
    front = str(shared["Harbor front desk"]["id"])
    path = applied(cli, "name: Harbor front desk\nprompt: from the file\n")
    emulator.state.delete_assistant(front)
    emulator.clear_requests()

    restored = cli("restore", str(path), "--auto-approve")
    assert restored.code == 0, restored.all
    assert (
        f'conflict: assistant "Harbor front desk" ({front}) was destroyed since the apply changed it: left '
        "destroyed"
    ) in restored.err
    assert writes(emulator) == []

    forced = cli("restore", str(path), "--auto-approve", "--force-conflicts")
    assert forced.code == 0, forced.all
    [(method, url, body)] = writes(emulator)
    assert (method, url, body["name"], body["prompt"]) == ("POST", "/assistants", "Harbor front desk", "p")


def test_a_route_to_an_assistant_the_apply_created_goes_back_unless_moved_since(
    cli, emulator, workdir, shared
):
    """The backup is made before the apply creates anything: what it wrote there is an id to come, known at
    restore time by the name of what the apply created."""
    hq, support = str(shared["HQ sales"]["id"]), str(shared["HQ support"]["id"])
    number = emulator.state.add_phone_number(NUMBER, inbound_assistant_id=hq)
    write("assistants/new.yaml", "name: Harbor new\nprompt: n\n")
    write(
        "assistants/phone_numbers.yaml",
        f'phone_numbers:\n  "{NUMBER}": {{assistant: Harbor new, label: New}}\n',
    )
    path = applied(cli, "name: Harbor front desk\nprompt: p\n")
    route = f"/phone-numbers/{number['id']}"

    emulator.clear_requests()
    restored = cli("restore", str(path), "--out", "undo.json")
    assert restored.code == 0, restored.all
    assert "conflict" not in restored.all
    assert f'  ~ phone_number "{NUMBER}": inbound_assistant "Harbor new" -> "HQ sales"' in restored.out
    assert f'  ~ phone_number "{NUMBER}": label "New" -> null' in restored.out
    assert (
        'note: the apply this backup was made before also created assistant "Harbor new"; restore leaves it'
        in (restored.err)
    )

    emulator.state.update_phone_number(str(number["id"]), {"inbound_assistant_id": support})  # the dashboard
    emulator.clear_requests()
    restored = cli("restore", str(path), "--auto-approve")
    assert restored.code == 0, restored.all
    assert (
        f'conflict: phone number "{NUMBER}" ({number["id"]}): inbound_assistant_id changed since the apply (it '
        f'wrote "{names_to_ids(emulator)["Harbor new"]}", the account holds "{support}"): left as it is'
    ) in restored.err
    assert writes(emulator) == [("PATCH", route, {"label": None})]
    assert emulator.state.phone_numbers[str(number["id"])]["inbound_assistant_id"] == support


def names_to_ids(emulator: EmulatorServer) -> dict[str, str]:
    return {a["name"]: a["id"] for a in emulator.state.list_assistants()}


def test_a_conflict_never_shows_a_secret(cli, emulator, workdir, shared, monkeypatch):
    old_key, new_key, dashboard_key = "sk-old-secret-1111", "sk-new-secret-2222", "sk-dash-secret-3333"
    token = 'tok-"secret"\\in-prompt-4444'  # JSON escapes it: output must be scrubbed before it is encoded
    front = str(shared["Harbor front desk"]["id"])
    llm = {"type": "custom", "api_url": "https://l.example.com", "model_name": "m", "api_key": old_key}
    emulator.state.update_assistant(front, {"llm_model": llm})
    monkeypatch.setenv("NEW_LLM_KEY", new_key)
    monkeypatch.setenv("DESK_TOKEN", token)
    path = applied(
        cli,
        "name: Harbor front desk\nprompt: Token ${DESK_TOKEN} now.\nllm_model:\n  type: custom\n"
        "  api_url: https://l.example.com\n  model_name: m\n  api_key: ${NEW_LLM_KEY}\n",
    )
    monkeypatch.delenv("NEW_LLM_KEY")
    monkeypatch.delenv("DESK_TOKEN")
    dashboard_edit(
        emulator,
        front,
        {"llm_model": {**llm, "api_key": dashboard_key}, "prompt": "Edited in the dashboard."},
    )
    runs = [
        cli("restore", str(path), "--out", "undo.json"),
        cli("restore", str(path), "--auto-approve", "--format", "json"),
    ]
    for run in runs:
        assert run.code == 0, run.all
        # the prompt holds a sensitive variable's value: blanked where it stands
        assert run.err.splitlines()[:3] == [
            f'conflict: assistant "Harbor front desk" ({front}): prompt changed since the apply (it wrote '
            '"Token (sensitive) now.", the account holds "Edited in the dashboard."): left as it is',
            f'conflict: assistant "Harbor front desk" ({front}): llm_model.api_key changed since the apply '
            "(it wrote (sensitive), the account holds (sensitive)): left as it is",
            "2 conflicts left as they are: restore --force-conflicts puts them back too",
        ]
    written = [Path("undo.json").read_text(), path.read_text()]
    written += [p.read_text() for p in Path(".revox-sync/backups").iterdir()]
    for secret in (old_key, new_key, dashboard_key, token, json.dumps(token)[1:-1]):
        for text in [r.all for r in runs] + written:
            assert secret not in text
    assert writes(emulator) == []  # both fields moved since: nothing to put back


def test_a_backup_of_an_earlier_format_is_refused_with_what_to_do(cli, emulator, workdir, shared):
    from revox_sync.engine import backup
    from revox_sync.engine.plan import checksum

    path = applied(cli, "name: Harbor front desk\nprompt: from the file\n")
    doc = json.loads(path.read_text())
    doc["format_version"] = 1
    doc["checksum"] = checksum(doc, API_KEY.encode(), b"revox-sync backup")
    path.write_text(json.dumps(doc))
    emulator.clear_requests()
    result = cli("restore", str(path), "--auto-approve")
    assert result.code == 1
    assert result.err.strip() == (
        f"error: {path}: made by an earlier revox-sync (format_version 1), which did not record what the "
        "apply wrote, so a later edit cannot be told from it: restore it with the version that made it, or "
        "put back by hand what its objects[].state shows. Nothing was changed."
    )
    assert emulator.requests == []
    assert backup.FORMAT_VERSION == 2


# --- owns and protect at restore time ---------------------------------------------------------------------
def test_restore_leaves_what_this_configuration_no_longer_owns(cli, emulator, workdir, shared):
    front, hq = str(shared["Harbor front desk"]["id"]), str(shared["HQ sales"]["id"])
    write("assistants/hq.yaml", "name: HQ sales\nprompt: changed by Harbor\n")
    path = applied(cli, "name: Harbor front desk\nprompt: from the file\n")
    Path("assistants/hq.yaml").unlink()
    write("revox-sync.yaml", "owns:\n  assistants: ['Harbor *']\nprotect:\n  assistants: [HQ sales]\n")
    emulator.clear_requests()

    restored = cli("restore", str(path), "--auto-approve", "--force-conflicts")
    assert restored.code == 0, restored.all
    assert (
        f'note: assistant "HQ sales" ({hq}) is outside what this configuration owns (owns.assistants is '
        "'Harbor *' (in revox-sync.yaml)): restore leaves it"
    ) in restored.err
    assert writes(emulator) == [("PATCH", f"/assistants/{front}", {"prompt": "p"})]
    assert emulator.state.get_assistant(hq)["prompt"] == "changed by Harbor"


def test_restore_never_undoes_a_rename_into_a_name_protect_does_not_cover(cli, emulator, workdir, shared):
    front = str(shared["Harbor front desk"]["id"])
    path = applied(cli, "name: Harbor reception\nprevious_names: [Harbor front desk]\nprompt: p\n")
    write("revox-sync.yaml", "protect:\n  assistants: [Harbor reception]\n")
    emulator.clear_requests()
    result = cli("restore", str(path), "--auto-approve")
    assert result.code == 1, result.all
    assert result.err.strip().splitlines() == [
        f'{path}: assistant "Harbor reception" ({front}) is protected (protect.assistants: \'Harbor '
        'reception\'): renaming it to "Harbor front desk" would leave it unprotected; protect the new name '
        "too (or its id), or keep the name",
        "1 error.",
    ]
    assert writes(emulator) == []


# --- protection follows the object ----------------------------------------------------------------------
RENAMED = "name: Harbor reception\nprevious_names: [Harbor front desk]\nprompt: p\n"


def test_a_protected_assistant_is_never_renamed_out_of_its_protection(cli, emulator, workdir, shared):
    """The issue's attack: a rename by previous_names in one pull request, a prune in the next."""
    front = str(shared["Harbor front desk"]["id"])
    write("revox-sync.yaml", "protect:\n  assistants: [Harbor front desk]\n")
    write(FRONT, RENAMED)
    refused = (
        f'{FRONT}:1:7: assistant "Harbor front desk" ({front}) is protected (protect.assistants: '
        "'Harbor front desk'): renaming it to \"Harbor reception\" would leave it unprotected; protect the new "
        "name too (or its id), or keep the name"
    )
    for command in (("plan",), ("apply", "--auto-approve", "--force")):
        result = cli(*command)
        assert result.code == 1, result.all
        assert result.err.strip().splitlines() == [refused, "1 error."]
    assert writes(emulator) == []
    assert emulator.state.get_assistant(front)["name"] == "Harbor front desk"


def test_a_pinned_id_is_never_renamed_out_of_its_protection(cli, emulator, workdir, shared):
    front = str(shared["Harbor front desk"]["id"])
    write("revox-sync.yaml", "protect:\n  assistants: ['Harbor front*']\n")
    write(FRONT, f"id: {front}\nname: Harbor reception\nprompt: p\n")
    result = cli("plan")
    assert result.code == 1, result.all
    assert result.err.strip().splitlines() == [
        f'{FRONT}:2:7: assistant "Harbor front desk" ({front}) is protected (protect.assistants: '
        "'Harbor front*'): renaming it to \"Harbor reception\" would leave it unprotected; protect the new "
        "name too (or its id), or keep the name",
        "1 error.",
    ]


def test_a_rename_into_a_protected_name_goes_ahead(cli, emulator, workdir, shared):
    front = str(shared["Harbor front desk"]["id"])
    for patterns in ("[Harbor front desk, Harbor reception]", "['Harbor *']", f"[{front}]"):
        emulator.state.update_assistant(front, {"name": "Harbor front desk"})
        emulator.clear_requests()
        write("revox-sync.yaml", f"protect:\n  assistants: {patterns}\n")
        write(FRONT, RENAMED)
        result = cli("apply", "--auto-approve")
        assert result.code == 0, result.all
        assert writes(emulator) == [("PATCH", f"/assistants/{front}", {"name": "Harbor reception"})]

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

"""`import` into a fleet: assistants a fleet file generates are reported, never written; the real CLI against
the emulator on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import NOT_ABOUT_POLICY, write
from test_fleet import CITIES, FLEET, TEMPLATE, csv

from revox_sync.emulator import EmulatorServer

FRONT_DESK = {"name": "Front desk", "prompt": "You answer the phone of the head office."}
AUSTIN = '"Austin receptionist": assistants/fleet.yaml generates it (row assistants/clinics.csv:2)'
BOSTON = '"Boston receptionist": assistants/fleet.yaml generates it (row assistants/clinics.csv:3)'
CHICAGO = '"Chicago receptionist": assistants/fleet.yaml generates it (row assistants/clinics.csv:4)'
HINT = (
    "import never writes a file that generates assistants: to keep the remote values, edit the template, "
    "the file or its row; to push the file's values back, run `revox-sync plan`, then `revox-sync apply`"
)


@pytest.fixture(autouse=True)
def not_about_policy(workdir: Path) -> None:
    write(workdir / "revox-sync.yaml", NOT_ABOUT_POLICY)  # the fleet's outbound template, applied as it is


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root`, byte for byte."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def remote_id(emulator: EmulatorServer, name: str) -> str:
    [found] = [a for a in emulator.state.list_assistants() if a["name"] == name]
    return str(found["id"])


def report_only(cli, root: Path, *args: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Run import, which must succeed without a warning and leave every file under `root` byte for byte;
    what it printed."""
    before = snapshot(root)
    result = cli("import", *args)
    assert (result.code, result.err) == (0, ""), result.all
    assert snapshot(root) == before
    return result.out.splitlines()


@pytest.fixture
def applied(cli, emulator, workdir: Path) -> Path:  # type: ignore[no-untyped-def]
    """A 3-row fleet applied to the account, plus one assistant made on the dashboard."""
    write(workdir / "assistants/templates/receptionist.yaml", TEMPLATE)
    write(workdir / "assistants/clinics.csv", csv(CITIES))
    write(workdir / "assistants/fleet.yaml", FLEET)
    assert cli("apply", "--auto-approve").code == 0
    emulator.state.seed_assistant(FRONT_DESK)
    emulator.clear_requests()
    return workdir / "assistants"


def test_import_all_writes_only_the_plain_assistant_and_reports_the_fleet(cli, emulator, applied):
    before = snapshot(applied)
    result = cli("import", "--all")
    assert result.code == 0, result.all
    assert result.out.splitlines() == [
        "created assistants/front-desk.yaml",
        "created assistants/prompts/front-desk.md",
        f"not imported {AUSTIN}, in sync",
        f"not imported {BOSTON}, in sync",
        f"not imported {CHICAGO}, in sync",
    ]
    assert result.err == ""
    after = snapshot(applied)
    assert set(after) - set(before) == {"front-desk.yaml", "prompts/front-desk.md"}
    assert {k: after[k] for k in before} == before  # fleet file, CSV and template byte-identical
    assert [r.method for r in emulator.requests if r.method != "GET"] == []
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_drifted_fleet_member_is_reported_with_the_drifted_fields(cli, emulator, applied):
    boston = remote_id(emulator, "Boston receptionist")
    emulator.state.update_assistant(boston, {"first_sentence": "Boston here.", "max_call_duration_secs": 600})
    before = snapshot(applied)
    result = cli("import", "--all")
    assert result.code == 0, result.all
    assert result.out.splitlines()[2:] == [
        f"not imported {AUSTIN}, in sync",
        f"not imported {BOSTON}, drifted: first_sentence, max_call_duration_secs",
        f"not imported {CHICAGO}, in sync",
        HINT,
    ]
    assert {k: v for k, v in snapshot(applied).items() if k in before} == before


def test_a_named_fleet_member_is_reported_and_nothing_is_written(cli, emulator, applied):
    emulator.state.update_assistant(remote_id(emulator, "Austin receptionist"), {"first_sentence": "Hi."})
    assert report_only(cli, applied, "Austin receptionist") == [
        f"not imported {AUSTIN}, drifted: first_sentence",
        HINT,
    ]
    chicago = remote_id(emulator, "Chicago receptionist")
    assert report_only(cli, applied, chicago) == [f"not imported {CHICAGO}, in sync"]


def test_overwrite_never_touches_fleet_files(cli, emulator, applied):
    assert cli("import", "--all").code == 0
    for name in ("Austin receptionist", "Front desk"):
        emulator.state.update_assistant(remote_id(emulator, name), {"first_sentence": "Changed."})
    before = snapshot(applied)
    result = cli("import", "--all", "--overwrite")
    assert result.code == 0, result.all
    assert result.out.splitlines() == [
        "updated assistants/front-desk.yaml",
        f"not imported {AUSTIN}, drifted: first_sentence",
        f"not imported {BOSTON}, in sync",
        f"not imported {CHICAGO}, in sync",
        HINT,
    ]
    after = snapshot(applied)
    assert {k: after[k] for k in before if k != "front-desk.yaml"} == {
        k: v for k, v in before.items() if k != "front-desk.yaml"
    }
    assert "first_sentence: Changed." in after["front-desk.yaml"].decode()


def test_a_pinned_row_matches_by_id_after_a_dashboard_rename(cli, emulator, workdir):
    write(workdir / "assistants/templates/receptionist.yaml", TEMPLATE)
    rows = "[{city: Austin, front_desk: '+15125550100'}]"
    write(workdir / "assistants/fleet.yaml", FLEET.replace("!file clinics.csv", rows))
    assert cli("apply", "--auto-approve").code == 0
    austin = remote_id(emulator, "Austin receptionist")
    pinned = rows.replace("}]", f", id: {austin}}}]")
    write(workdir / "assistants/fleet.yaml", FLEET.replace("!file clinics.csv", pinned) + "id: ${each.id}\n")
    emulator.state.update_assistant(austin, {"name": "Austin front desk"})
    assert report_only(cli, workdir / "assistants", "--all") == [
        'not imported "Austin front desk": assistants/fleet.yaml generates it (row assistants/fleet.yaml:2:12), '
        "drifted: name",
        HINT,
    ]


def test_a_file_that_extends_a_template_is_reported_not_rewritten(cli, emulator, workdir):
    write(workdir / "assistants/templates/receptionist.yaml", TEMPLATE)
    austin = write(workdir / "assistants/austin.yaml", "extends: templates/receptionist.yaml\nname: Austin\n")
    assert cli("apply", "--auto-approve").code == 0
    emulator.state.update_assistant(remote_id(emulator, "Austin"), {"max_call_duration_secs": 600})
    assert report_only(cli, workdir / "assistants", "--all", "--overwrite") == [
        'not imported "Austin": assistants/austin.yaml generates it (extends '
        "assistants/templates/receptionist.yaml), drifted: max_call_duration_secs",
        HINT,
    ]
    assert austin.read_text() == "extends: templates/receptionist.yaml\nname: Austin\n"


def test_two_remote_assistants_with_a_generated_name_get_no_file(cli, emulator, applied):
    emulator.state.seed_assistant({"name": "Boston receptionist", "prompt": "A copy."})
    ids = ", ".join(a["id"] for a in emulator.state.list_assistants() if a["name"] == "Boston receptionist")
    assert report_only(cli, applied, "Boston receptionist") == [
        f"not imported {BOSTON}, but 2 remote assistants have that name ({ids}): pin one with `id:`"
    ]


def test_a_fleet_file_that_does_not_load_stops_the_import(cli, emulator, applied):
    write(applied / "clinics.csv", "town,front_desk\nAustin,+15125550100\n")
    before = snapshot(applied)
    result = cli("import", "--all")
    assert result.code == 1, result.all
    assert result.err.splitlines() == [
        "error: cannot import: assistants/fleet.yaml generates assistants, but it does not load, so import "
        "cannot tell them from the account's others; fix it first (nothing was written):",
        "assistants/fleet.yaml:3:7: ${each.city}: no column 'city' in the row at assistants/clinics.csv:2 "
        "(columns: town, front_desk) (row assistants/clinics.csv:2)",
        "assistants/fleet.yaml:4:17: ${each.city}: no column 'city' in the row at assistants/clinics.csv:2 "
        "(columns: town, front_desk) (row assistants/clinics.csv:2)",
    ]
    assert result.out == ""
    assert snapshot(applied) == before


def test_a_drifted_secret_is_named_never_shown(cli, emulator, workdir, monkeypatch):
    monkeypatch.setenv("CRM_TOKEN", "crm-token-0123456789")
    webhook = "webhook_url: https://h.example.com/${CRM_TOKEN}\n"
    write(workdir / "assistants/templates/receptionist.yaml", TEMPLATE + webhook)
    write(workdir / "assistants/clinics.csv", csv(CITIES))
    write(workdir / "assistants/fleet.yaml", FLEET)
    assert cli("apply", "--auto-approve").code == 0
    other = {"webhook_url": "https://h.example.com/other-9876543210"}
    emulator.state.update_assistant(remote_id(emulator, "Boston receptionist"), other)
    assert report_only(cli, workdir / "assistants", "--all") == [
        f"not imported {AUSTIN}, in sync",
        f"not imported {BOSTON}, drifted: webhook_url",
        f"not imported {CHICAGO}, in sync",
        HINT,
    ]

"""Fleets: templates, `extends`, `for_each` rows; the real CLI against the emulator on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import NOT_ABOUT_POLICY, write

from revox_sync.emulator import EmulatorServer

TEMPLATE = """\
prompt: You are the receptionist of Harbor Dental.
voice: {provider: cartesia, id: a0e99841-438c-4a64-b679-ae501e7d6091, speed: 1.1}
max_call_duration_secs: 300
call_retry_config:
  max_retry_attempts: 2
  timezone: America/Chicago
"""
FLEET = """\
extends: templates/receptionist.yaml
for_each: !file clinics.csv
name: "${each.city} receptionist"
first_sentence: "Thank you for calling Harbor Dental ${each.city}, how can I help?"
transfer_destinations:
  - {label: Front desk, phone_number: "${each.front_desk}"}
"""
CITIES = [("Austin", "+15125550100"), ("Boston", "+16175550100"), ("Chicago", "+13125550100")]


def csv(rows: list[tuple[str, str]]) -> str:
    return "city,front_desk\n" + "".join(f"{c},{n}\n" for c, n in rows)


def writes(emulator: EmulatorServer) -> list[tuple[str, str, object]]:
    return [(r.method, r.path, r.body) for r in emulator.requests if r.method != "GET"]


@pytest.fixture
def fleet(workdir: Path) -> Path:
    write(workdir / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(workdir / "assistants/templates/receptionist.yaml", TEMPLATE)
    write(workdir / "assistants/clinics.csv", csv(CITIES))
    return write(workdir / "assistants/fleet.yaml", FLEET)


def test_a_fleet_is_created_in_one_apply_and_converges(cli, emulator, fleet):
    assert cli("validate").out == "3 assistants (1 file) valid.\n"
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    assert "Apply complete! Resources: 3 added, 0 changed, 0 destroyed." in result.out
    posts = sorted(
        (body for method, _, body in writes(emulator) if method == "POST"), key=lambda b: b["name"]
    )
    assert [b["name"] for b in posts] == [
        "Austin receptionist",
        "Boston receptionist",
        "Chicago receptionist",
    ]
    austin = posts[0]
    assert austin["first_sentence"] == "Thank you for calling Harbor Dental Austin, how can I help?"
    assert austin["transfer_destinations"] == [{"label": "Front desk", "phone_number": "+15125550100"}]
    assert austin["prompt"] == "You are the receptionist of Harbor Dental."  # from the template
    assert austin["voice"] == {
        "provider": "cartesia",
        "id": "a0e99841-438c-4a64-b679-ae501e7d6091",
        "speed": 1.1,
    }
    assert austin["call_retry_config"]["max_retry_attempts"] == 2
    assert "extends" not in austin and "for_each" not in austin
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.all
    assert "No changes. Remote assistants match the configuration." in again.out


def test_a_template_change_is_one_patch_per_assistant_with_only_that_field(cli, emulator, fleet, workdir):
    assert cli("apply", "--auto-approve").code == 0
    emulator.clear_requests()
    template = workdir / "assistants/templates/receptionist.yaml"
    template.write_text(TEMPLATE.replace("max_call_duration_secs: 300", "max_call_duration_secs: 420"))
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    patches = writes(emulator)
    assert len(patches) == 3
    assert {(m, tuple(sorted(b))) for m, _, b in patches} == {("PATCH", ("max_call_duration_secs",))}
    assert {b["max_call_duration_secs"] for _, _, b in patches} == {420}
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_row_added_to_the_csv_is_one_create(cli, emulator, fleet, workdir):
    assert cli("apply", "--auto-approve").code == 0
    emulator.clear_requests()
    write(workdir / "assistants/clinics.csv", csv([*CITIES, ("Denver", "+13035550100")]))
    plan = cli("plan")
    assert '+ assistant "Denver receptionist" will be created' in plan.out
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.out
    assert cli("apply", "--auto-approve").code == 0
    [(method, path, body)] = writes(emulator)
    assert (method, path, body["name"]) == ("POST", "/assistants", "Denver receptionist")


def test_an_extending_file_overrides_merges_and_nulls(cli, emulator, workdir):
    write(workdir / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(workdir / "assistants/templates/receptionist.yaml", TEMPLATE + "first_sentence: Hello.\n")
    write(
        workdir / "assistants/austin.yaml",
        "extends: templates/receptionist.yaml\nname: Austin\n"
        "voice: {provider: cartesia, id: a0e99841-438c-4a64-b679-ae501e7d6091, speed: 1.2}\n"
        "call_retry_config: {max_retry_attempts: 3}\nfirst_sentence: null\n",
    )
    assert cli("apply", "--auto-approve").code == 0
    [(_, _, body)] = writes(emulator)
    assert body["voice"]["speed"] == 1.2  # a mapping merged key by key, the extending file's value wins
    assert body["call_retry_config"]["max_retry_attempts"] == 3
    assert body["call_retry_config"]["timezone"] == "America/Chicago"  # kept from the template
    assert body["first_sentence"] is None  # null sets null, it does not fall back
    assert next(iter(body)) == "name"


def errors_of(run) -> list[str]:  # type: ignore[no-untyped-def]
    assert run.code == 1, run.all
    return run.err.splitlines()[:-1]


def test_errors_point_at_the_template_line_and_the_row(cli, emulator, fleet, workdir):
    template = workdir / "assistants/templates/receptionist.yaml"
    template.write_text(TEMPLATE.replace("speed: 1.1", "speed: 9"))
    assert errors_of(cli("validate")) == [  # one line for the template's mistake, naming every row
        "assistants/templates/receptionist.yaml:2:78: voice.speed: input should be less than or equal to 1.5 "
        "(rows assistants/clinics.csv:2, assistants/clinics.csv:3, assistants/clinics.csv:4)"
    ]
    template.write_text(TEMPLATE)
    write(workdir / "assistants/clinics.csv", csv([*CITIES, ("Austin", "+15125550199")]))
    assert errors_of(cli("validate")) == [
        "assistants/fleet.yaml:3:7: duplicate name 'Austin receptionist' (row assistants/clinics.csv:5): "
        "assistants/fleet.yaml:3 (row assistants/clinics.csv:2) already declares it"
    ]
    write(workdir / "assistants/clinics.csv", "city,front_desk\nAustin,+15125550100\n,\n")
    assert errors_of(cli("validate")) == ["assistants/clinics.csv:3: for_each: an empty row"]
    write(workdir / "assistants/clinics.csv", "town,front_desk\nAustin,+15125550100\n")
    assert errors_of(cli("plan")) == [
        "assistants/fleet.yaml:3:7: ${each.city}: no column 'city' in the row at assistants/clinics.csv:2 "
        "(columns: town, front_desk) (row assistants/clinics.csv:2)",
        "assistants/fleet.yaml:4:17: ${each.city}: no column 'city' in the row at assistants/clinics.csv:2 "
        "(columns: town, front_desk) (row assistants/clinics.csv:2)",
    ]
    assert writes(emulator) == []


def test_extends_errors_are_located(cli, workdir):
    write(workdir / "assistants/templates/a.yaml", "extends: templates/b.yaml\nprompt: p\n")
    write(workdir / "assistants/templates/b.yaml", "extends: templates/a.yaml\n")
    write(workdir / "assistants/loop.yaml", "extends: templates/a.yaml\nname: Loop\n")
    write(workdir / "assistants/out.yaml", "extends: ../elsewhere.yaml\nname: Out\nprompt: p\n")
    write(workdir / "assistants/nope.yaml", "extends: templates/nope.yaml\nname: Nope\nprompt: p\n")
    write(workdir / "assistants/plain.yaml", "name: Plain\nprompt: Hi ${each.city}\n")
    assert errors_of(cli("validate")) == [
        "assistants/nope.yaml:1:10: extends: no template assistants/templates/nope.yaml",
        "assistants/out.yaml:1:10: extends: ../elsewhere.yaml is outside the config directory",
        "assistants/plain.yaml:2:9: ${each.KEY} is only filled in a file with for_each",
        "assistants/templates/b.yaml:1:10: extends: a cycle: assistants/loop.yaml -> assistants/templates/a.yaml "
        "-> assistants/templates/b.yaml -> assistants/templates/a.yaml",
    ]


def test_an_inline_for_each_and_typed_values(cli, emulator, workdir):
    write(
        workdir / "assistants/fleet.yaml",
        "for_each:\n  - {city: Austin, speed: 1.2}\n  - {city: Boston, speed: 1.3}\n"
        'name: "${each.city}"\nprompt: "Hi from ${each.city}"\n'
        "voice:\n  provider: cartesia\n  id: a0e99841-438c-4a64-b679-ae501e7d6091\n  speed: ${each.speed}\n",
    )
    assert cli("apply", "--auto-approve").code == 0
    bodies = sorted((b for _, _, b in writes(emulator)), key=lambda b: b["name"])
    assert [(b["name"], b["prompt"], b["voice"]["speed"]) for b in bodies] == [
        ("Austin", "Hi from Austin", 1.2),
        ("Boston", "Hi from Boston", 1.3),
    ]
    assert cli("plan", "--detailed-exitcode").code == 0


def test_sensitive_values_stay_sensitive_through_templates(cli, emulator, workdir, monkeypatch):
    monkeypatch.setenv("CRM_TOKEN", "crm-token-0123456789")
    write(
        workdir / "assistants/templates/base.yaml",
        "prompt: p\nwebhook_url: https://h.example.com/${CRM_TOKEN}\n",
    )
    write(
        workdir / "assistants/fleet.yaml",
        "extends: templates/base.yaml\nfor_each: [{n: A}, {n: B}]\nname: ${each.n}\n",
    )
    plan = cli("plan", "--out", "plan.json")
    assert plan.code == 0, plan.all
    assert "crm-token-0123456789" not in plan.all + (workdir / "plan.json").read_text()
    assert plan.out.count('+ webhook_url: "https://h.example.com/(sensitive: ${CRM_TOKEN})"') == 2


def test_a_csv_saved_by_excel_reads_its_bom_crlf_and_multi_line_cells(cli, emulator, workdir):
    write(workdir / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(workdir / "assistants/templates/receptionist.yaml", TEMPLATE)
    write(
        workdir / "assistants/fleet.yaml",
        FLEET + 'faq_items:\n  - {question: Opening hours, answer: "${each.hours}"}\n',
    )
    # Excel's "CSV UTF-8": a BOM, CRLF line ends, a line break inside a quoted cell
    rows = 'city,front_desk,hours\r\nAustin,+15125550100,"Mon-Fri 8-6\r\nSat 9-1"\r\nBoston,+16175550100,Mon-Fri\r\n'
    write(workdir / "assistants/clinics.csv", b"\xef\xbb\xbf" + rows.encode())
    assert cli("validate").out == "2 assistants (1 file) valid.\n"
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert '+ name: "Austin receptionist"' in plan.out
    assert "\ufeff" not in plan.all
    assert cli("apply", "--auto-approve").code == 0
    bodies = sorted((b for _, _, b in writes(emulator)), key=lambda b: b["name"])
    assert [(b["name"], b["faq_items"][0]["answer"]) for b in bodies] == [
        ("Austin receptionist", "Mon-Fri 8-6\nSat 9-1"),
        ("Boston receptionist", "Mon-Fri"),
    ]


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\x85"])
def test_a_control_character_in_a_cell_is_an_error_at_its_row(cli, emulator, fleet, workdir, control):
    cells = f'Austin,+15125550100\n"Bos\nto{control}n",+16175550100\n'
    write(workdir / "assistants/clinics.csv", "city,front_desk\n" + cells)
    expected = (
        f"assistants/clinics.csv:4:3: for_each: invalid character U+{ord(control):04X} in a cell "
        "(control characters other than tab and line breaks are not allowed)\n1 error.\n"
    )
    for command in ("validate", "plan"):
        done = cli(command)
        assert (done.code, done.out, done.err) == (1, "", expected)
    assert emulator.requests == []


def test_a_tab_in_a_cell_is_text(cli, emulator, fleet, workdir):
    write(workdir / "assistants/clinics.csv", csv([("Austin\tTX", "+15125550100")]))
    assert cli("apply", "--auto-approve").code == 0
    assert [b["name"] for _, _, b in writes(emulator)] == ["Austin\tTX receptionist"]


def test_a_multi_line_row_is_reported_at_its_first_line(cli, emulator, fleet, workdir):
    cells = 'Austin,+15125550100\n"Boston\nMA\nUSA",+16175550100,extra\n'
    write(workdir / "assistants/clinics.csv", "city,front_desk\n" + cells)
    expected = "assistants/clinics.csv:3: for_each: 3 values for 2 columns (city, front_desk)\n1 error.\n"
    for command in ("validate", "plan"):
        done = cli(command)
        assert (done.code, done.out, done.err) == (1, "", expected)
    assert emulator.requests == []

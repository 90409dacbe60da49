"""One name, whatever its Unicode form: "é" typed is one code point, pasted from some systems it is "e" and a
combining accent. Both spell the same name to anyone who reads it, so matching, duplicates, `previous_names`,
`--target`, references between kinds and import compare names in NFC. End to end: the real CLI, the emulator
on a real socket, real files."""

from __future__ import annotations

from helpers import NOT_ABOUT_POLICY, write
from test_sharing import writes
from test_voices import SAMPLE

NFC = "Caf\u00e9 main"  # é, one code point
NFD = "Cafe\u0301 main"  # e, then a combining acute accent
NUMBER = "+15551234567"
NO_CHANGES = "No changes. Remote assistants match the configuration.\n"


def test_a_remote_name_in_another_form_is_the_file_s_assistant_renamed_to_its_spelling(
    cli, emulator, workdir
):
    """Not a create (a lookalike duplicate): the same assistant, whose name the file spells otherwise. The
    strings differ on the wire, so the plan shows the file's spelling going out, and says why it looks equal."""
    remote = emulator.state.seed_assistant({"name": NFD, "prompt": "p"})
    write(workdir / "assistants/cafe.yaml", f"name: {NFC}\nprompt: p\n")
    emulator.clear_requests()
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert plan.out == (
        f'  ~ assistant "{NFC}" ({remote["id"]}) will be updated in-place\n'
        f'      ~ name: "{NFD}" -> "{NFC}" (the same name in another Unicode form: apply sends the '
        "file's spelling)\n"
        "\n"
        "Plan: 0 to add, 1 to change, 0 to destroy.\n"
    )
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.all
    assert writes(emulator) == [("PATCH", f"/assistants/{remote['id']}", {"name": NFC})]
    assert [a["name"] for a in emulator.state.list_assistants()] == [NFC]
    assert cli("plan").out == NO_CHANGES


def test_two_files_whose_names_differ_only_in_form_are_a_duplicate_name(cli, emulator, workdir):
    write(workdir / "assistants/a.yaml", f"name: {NFC}\nprompt: p\n")
    write(workdir / "assistants/b.yaml", f"prompt: p\nname: {NFD}\n")
    for command in (("validate",), ("plan",)):
        result = cli(*command)
        assert result.code == 1, result.all
        assert result.err.strip().splitlines() == [
            f"assistants/b.yaml:2:7: duplicate name {NFD!r}: assistants/a.yaml:1 already declares it "
            f"(as {NFC!r}: the same name in another Unicode form)",
            "1 error.",
        ]
    assert writes(emulator) == []


def test_target_names_an_assistant_in_either_form(cli, emulator, workdir):
    write(workdir / "assistants/a.yaml", f"name: {NFC}\nprompt: p\n")
    write(workdir / "assistants/b.yaml", "name: Other\nprompt: p\n")
    plan = cli("plan", "--target", NFD)
    assert plan.code == 0, plan.all
    assert f'+ assistant "{NFC}" will be created' in plan.out
    assert "Other" not in plan.out
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.out


def test_previous_names_match_a_former_name_in_either_form(cli, emulator, workdir):
    old = emulator.state.seed_assistant({"name": "Ancien caf\u00e9", "prompt": "p"})
    write(workdir / "assistants/a.yaml", "name: New desk\nprevious_names: ['Ancien cafe\u0301']\nprompt: p\n")
    emulator.clear_requests()
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.all
    assert writes(emulator) == [("PATCH", f"/assistants/{old['id']}", {"name": "New desk"})]


def test_a_previous_name_that_is_the_current_name_in_another_form_is_an_error(cli, workdir):
    write(workdir / "assistants/a.yaml", f"name: {NFC}\nprevious_names: ['{NFD}']\nprompt: p\n")
    result = cli("validate")
    assert result.code == 1, result.all
    assert result.err.strip().splitlines() == [
        f"assistants/a.yaml:2:18: previous_names: {NFD!r} is the current name",
        "1 error.",
    ]


def test_a_number_routes_to_an_assistant_named_in_another_form(cli, emulator, workdir):
    emulator.state.add_phone_number(NUMBER)
    desk = emulator.state.seed_assistant({"name": NFC, "prompt": "p"})
    write(workdir / "assistants/a.yaml", f"name: {NFC}\nprompt: p\n")
    write(workdir / "assistants/phone_numbers.yaml", f"phone_numbers:\n  '{NUMBER}': {{assistant: {NFD}}}\n")
    emulator.clear_requests()
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.all
    number = emulator.state.list_phone_numbers()[0]
    assert writes(emulator) == [
        ("PATCH", f"/phone-numbers/{number['id']}", {"inbound_assistant_id": desk["id"]})
    ]


def test_a_new_number_routes_to_a_new_assistant_named_in_another_form(cli, emulator, workdir):
    """The assistant is created by this apply: its id, known only then, fills the number's route."""
    emulator.state.add_phone_number(NUMBER)
    write(workdir / "assistants/a.yaml", f"name: {NFC}\nprompt: p\n")
    write(workdir / "assistants/phone_numbers.yaml", f"phone_numbers:\n  '{NUMBER}': {{assistant: {NFD}}}\n")
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.all
    (desk,) = emulator.state.list_assistants()
    assert emulator.state.list_phone_numbers()[0]["inbound_assistant"]["id"] == desk["id"]
    assert cli("plan").out == NO_CHANGES


def test_a_clone_is_referred_to_in_either_form(cli, emulator, workdir):
    voice = emulator.state.seed_voice(NFD, "en")
    write(workdir / "assistants/samples/cafe.wav", SAMPLE)
    write(
        workdir / "assistants/voices.yaml",
        f"voices:\n  {NFC}:\n    language: en\n    sample: samples/cafe.wav\n",
    )
    write(workdir / "assistants/a.yaml", f"name: Desk\nprompt: p\nvoice:\n  clone: {NFD}\n")
    assert cli("validate").code == 0
    emulator.clear_requests()
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.all
    (method, _, body), *rest = writes(emulator)
    assert (method, rest) == ("POST", [])  # the clone is the account's: not cloned again
    assert isinstance(body, dict) and body["voice"]["id"] == voice["id"]


def test_two_voices_whose_names_differ_only_in_form_are_a_duplicate_name(cli, workdir):
    write(workdir / "assistants/samples/cafe.wav", SAMPLE)
    entry = "    language: en\n    sample: samples/cafe.wav\n"
    write(workdir / "assistants/voices.yaml", f"voices:\n  {NFC}:\n{entry}  {NFD}:\n{entry}")
    write(workdir / "assistants/a.yaml", "name: Desk\nprompt: p\n")
    result = cli("validate")
    assert result.code == 1, result.all
    assert result.err.strip().splitlines() == [
        f"assistants/voices.yaml:5:3: duplicate name {NFD!r}: line 2 already declares it "
        f"(as {NFC!r}: the same name in another Unicode form)",
        "1 error.",
    ]


def test_import_matches_a_file_in_the_other_form_and_selects_by_either_form(cli, emulator, workdir):
    emulator.state.seed_assistant({"name": NFD, "prompt": "p"})
    imported = cli("import", "--all")
    assert imported.code == 0, imported.all
    assert "created assistants/cafe-main.yaml" in imported.out  # one slug, whatever the form
    # an NFC argument selects the NFD assistant, and its file (spelt NFD now) is the one it goes to
    again = cli("import", NFC)
    assert again.code == 0, again.all
    assert "unchanged assistants/cafe-main.yaml" in again.out
    assert sorted(p.name for p in (workdir / "assistants").glob("*.yaml")) == ["cafe-main.yaml"]


def test_import_into_a_file_that_spells_the_name_in_the_other_form_writes_no_second_file(
    cli, emulator, workdir
):
    emulator.state.seed_assistant({"name": NFD, "prompt": "p"})
    write(workdir / "assistants/mine.yaml", f"name: {NFC}\nprompt: p\n")
    imported = cli("import", "--all", "--overwrite")
    assert imported.code == 0, imported.all
    assert sorted(p.name for p in (workdir / "assistants").glob("*.yaml")) == ["mine.yaml"]
    assert cli("plan").out == NO_CHANGES


def test_a_fleet_row_and_a_file_that_spell_one_name_in_two_forms_are_a_duplicate_name(cli, workdir):
    write(workdir / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(workdir / "assistants/templates/base.yaml", "prompt: p\n")
    write(workdir / "assistants/towns.csv", "town\nCafe\u0301\nHarbor\n")
    write(
        workdir / "assistants/fleet.yaml",
        'extends: templates/base.yaml\nfor_each: !file towns.csv\nname: "${each.town} main"\n',
    )
    write(workdir / "assistants/zz.yaml", f"name: {NFC}\nprompt: p\n")
    result = cli("validate")
    assert result.code == 1, result.all
    assert result.err.splitlines() == [
        f"assistants/zz.yaml:1:7: duplicate name {NFC!r}: assistants/fleet.yaml:3 (row assistants/towns.csv:2) "
        f"already declares it (as {NFD!r}: the same name in another Unicode form)",
        "1 error.",
    ]


def test_import_warns_of_remote_names_that_differ_only_in_form(cli, emulator, workdir):
    """Two assistants of the account whose names look alike: each gets a file, and the user is told that the
    names must differ before `validate` will accept them."""
    emulator.state.seed_assistant({"name": NFC, "prompt": "p"})
    emulator.state.seed_assistant({"name": NFD, "prompt": "p"})
    imported = cli("import", "--all")
    assert imported.code == 0, imported.all
    assert imported.err.splitlines() == [
        f'warning: 2 assistants are named "{NFC}" (assistants/cafe-main.yaml, assistants/cafe-main-2.yaml): '
        "names must be unique in the config directory, rename all but one in its file (the pinned id makes "
        "that a rename)"
    ]


def test_render_names_an_assistant_in_either_form(cli, workdir):
    write(workdir / "assistants/a.yaml", f"name: {NFC}\nprompt: p\n")
    rendered = cli("render", NFD, NFC)
    assert rendered.code == 0, rendered.all
    assert rendered.out == f"---\n# assistants/a.yaml\nname: {NFC}\nprompt: p\n"  # once


def test_a_rule_override_matches_a_name_in_either_form(cli, workdir):
    """`rules.overrides[].names` are name patterns like `owns`: a pattern typed with "é" turns the rule off for
    the assistant whose file spells it with a combining accent."""
    write(
        workdir / "revox-sync.yaml",
        "rules:\n  overrides:\n    - names: ['Caf\u00e9 *']\n      rules: {ai-disclosure: off, opt-out: off, fixed-timezone: off}\n",
    )
    outbound = "call_retry_config: {max_retry_attempts: 1, timezone: America/Chicago}\nfirst_sentence: Hi.\n"
    write(workdir / "assistants/a.yaml", f"name: {NFD}\nprompt: p\n{outbound}")
    validated = cli("validate")
    assert (validated.code, validated.out, validated.err) == (0, "1 assistant file valid.\n", ""), (
        validated.all
    )

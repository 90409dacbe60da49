"""Plans a person can read (issue 12, point 4): updates that make the same changes print them once under one
header, destroys stay one line each, the JSON plan keeps one action per object, and a Markdown plan of a large
change fits a pull-request comment, saying what it cut."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import write

from revox_sync.emulator import EmulatorServer
from revox_sync.engine.change import Action, FieldChange
from revox_sync.engine.plan import Plan
from revox_sync.engine.render import TextRenderer

CITIES = ["Austin", "Boston", "Chicago", "Denver", "Erie", "Fresno"]
GITHUB_COMMENT_LIMIT = 65_536
GROUP_NOTE = (
    "Note: grouped updates show no ids and at most 2 names each; "
    "`revox-sync plan --format json` lists every object with its id."
)
FULL_PLAN = (
    "The full plan: `revox-sync plan --out FILE` saves it (JSON, every action with its id), "
    "`revox-sync plan --format json` prints it."
)


def receptionists(
    emulator: EmulatorServer, workdir: Path, cities: list[str], before: str, after: str
) -> dict[str, str]:
    """One remote receptionist per city saying `before`, and its file saying `after`; name -> id."""
    ids = {}
    for city in cities:
        name = f"{city} receptionist"
        ids[name] = emulator.state.seed_assistant({"name": name, "first_sentence": before, "prompt": "p"})[
            "id"
        ]
        write(
            workdir / f"assistants/{city.lower().replace(' ', '-')[:40]}.yaml",
            f"name: {name}\nfirst_sentence: {after}\nprompt: p\n",
        )
    return ids


def test_updates_with_the_same_changes_print_them_once_and_apply_sends_each_its_patch(cli, emulator, workdir):
    ids = receptionists(emulator, workdir, CITIES[:4], "Hello", "Hi there")
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert plan.out == (
        '  ~ 4 assistants will be updated in-place: "Austin receptionist", "Boston receptionist", ... (+2)\n'
        '      ~ first_sentence: "Hello" -> "Hi there"\n'
        "\n"
        "Plan: 0 to add, 4 to change, 0 to destroy.\n"
        "\n"
        f"{GROUP_NOTE}\n"
    )
    emulator.clear_requests()
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    assert sorted((r.method, r.path, r.body) for r in emulator.requests if r.method != "GET") == sorted(
        ("PATCH", f"/assistants/{i}", {"first_sentence": "Hi there"}) for i in ids.values()
    )
    assert cli("plan").out == "No changes. Remote assistants match the configuration.\n"


def test_the_json_plan_keeps_one_action_per_object(cli, emulator, workdir):
    ids = receptionists(emulator, workdir, CITIES[:3], "Hello", "Hi there")
    doc = json.loads(cli("plan", "--format", "json").out)
    assert doc["summary"] == {"add": 0, "change": 3, "destroy": 0}
    assert [(a["action"], a["name"], a["id"], a["file"], a["changes"]) for a in doc["actions"]] == [
        (
            "update",
            f"{city} receptionist",
            ids[f"{city} receptionist"],
            f"assistants/{city.lower()}.yaml",
            [{"path": "first_sentence", "before": "Hello", "after": "Hi there"}],
        )
        for city in CITIES[:3]
    ]


def mixed(emulator: EmulatorServer, workdir: Path) -> dict[str, str]:
    """Two change sets that interleave in name order, a singleton, a create and two strays to prune."""
    ids = receptionists(emulator, workdir, ["Austin", "Chicago", "Erie"], "Hello", "Hi there")
    ids |= receptionists(emulator, workdir, ["Boston", "Denver"], "Hello", "Welcome")
    ids |= receptionists(emulator, workdir, ["Fresno"], "Hello", "Howdy")
    write(workdir / "assistants/gary.yaml", "name: Gary receptionist\nprompt: p\n")
    for name in ("Old desk 1", "Old desk 2"):
        ids[name] = emulator.state.seed_assistant({"name": name, "prompt": "p"})["id"]
    return ids


def test_mixed_groups_a_singleton_and_destroys_one_line_each(cli, emulator, workdir):
    ids = mixed(emulator, workdir)
    plan = cli("plan", "--prune")
    assert plan.code == 0, plan.all
    assert plan.out == (
        '  + assistant "Gary receptionist" will be created\n'
        '      + name: "Gary receptionist"\n'
        '      + prompt: "p"\n'
        '  ~ 3 assistants will be updated in-place: "Austin receptionist", "Chicago receptionist", ... (+1)\n'
        '      ~ first_sentence: "Hello" -> "Hi there"\n'
        '  ~ 2 assistants will be updated in-place: "Boston receptionist", "Denver receptionist"\n'
        '      ~ first_sentence: "Hello" -> "Welcome"\n'
        f'  ~ assistant "Fresno receptionist" ({ids["Fresno receptionist"]}) will be updated in-place\n'
        '      ~ first_sentence: "Hello" -> "Howdy"\n'
        f'  - assistant "Old desk 1" ({ids["Old desk 1"]}) will be destroyed\n'
        f'  - assistant "Old desk 2" ({ids["Old desk 2"]}) will be destroyed\n'
        "\n"
        "Plan: 1 to add, 6 to change, 2 to destroy.\n"
        "\n"
        f"{GROUP_NOTE}\n"
    )


def test_markdown_groups_the_sections_and_keeps_one_table_row_per_object(cli, emulator, workdir):
    ids = mixed(emulator, workdir)
    md = cli("plan", "--prune", "--format", "markdown")
    assert md.code == 0, md.all
    rows = [
        f"| ~ | assistant | `{city} receptionist` | `{ids[f'{city} receptionist']}` | update | `first_sentence` |"
        for city in CITIES
    ]
    assert md.out == "\n".join(
        [
            "### revox-sync plan",
            "",
            "**Plan: 1 to add, 6 to change, 2 to destroy.**",
            "",
            "| | kind | name | id | action | fields |",
            "|---|---|---|---|---|---|",
            "| + | assistant | `Gary receptionist` |  | create |  |",
            *rows,
            f"| - | assistant | `Old desk 1` | `{ids['Old desk 1']}` | delete |  |",
            f"| - | assistant | `Old desk 2` | `{ids['Old desk 2']}` | delete |  |",
            "",
            "<details><summary>+ assistant <code>Gary receptionist</code> will be created</summary>",
            "",
            "```diff",
            '+ name: "Gary receptionist"',
            '+ prompt: "p"',
            "```",
            "",
            "</details>",
            "",
            "<details><summary>~ 3 assistants will be updated in-place: "
            "<code>Austin receptionist</code>, <code>Chicago receptionist</code>, ... (+1)</summary>",
            "",
            "```diff",
            '~ first_sentence: "Hello" -> "Hi there"',
            "```",
            "",
            "</details>",
            "",
            "<details><summary>~ 2 assistants will be updated in-place: <code>Boston receptionist</code>, "
            "<code>Denver receptionist</code></summary>",
            "",
            "```diff",
            '~ first_sentence: "Hello" -> "Welcome"',
            "```",
            "",
            "</details>",
            "",
            f"<details><summary>~ assistant <code>Fresno receptionist</code> (<code>{ids['Fresno receptionist']}</code>) "
            "will be updated in-place</summary>",
            "",
            "```diff",
            '~ first_sentence: "Hello" -> "Howdy"',
            "```",
            "",
            "</details>",
            "",
            "",
        ]
    )


def test_names_in_a_group_header_are_escaped(cli, emulator, workdir):
    for i in (1, 2):
        emulator.state.seed_assistant({"name": f"Evil\x1b[2K\x07{i}\u202e", "first_sentence": "Hello"})
        write(workdir / f"assistants/evil{i}.yaml", f'name: "Evil\\e[2K\\a{i}\\u202e"\nfirst_sentence: Hi\n')
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert plan.out.splitlines()[0] == (
        '  ~ 2 assistants will be updated in-place: "Evil\\u001b[2K\\u00071\\u202e", "Evil\\u001b[2K\\u00072\\u202e"'
    )
    md = cli("plan", "--format", "markdown").out
    assert [c for c in md if c in "\x1b\x07\u202e"] == []
    assert (
        "<details><summary>~ 2 assistants will be updated in-place: <code>Evil\\u001b[2K\\u00071\\u202e</code>, "
        "<code>Evil\\u001b[2K\\u00072\\u202e</code></summary>"
    ) in md.splitlines()


def assert_whole_blocks(md: str) -> None:
    """Every <details> block the comment opens holds one closed diff fence and is closed, in order."""
    marks = [
        "<details>" if line.startswith("<details>") else line
        for line in md.splitlines()
        if line.startswith(("<details>", "</details>", "```"))
    ]
    assert marks == ["<details>", "```diff", "```", "</details>"] * marks.count("<details>")


def test_a_markdown_plan_of_300_distinct_changes_fits_a_comment_and_says_what_it_cut(cli, emulator, workdir):
    rules = [f"Rule {j}: be kind and brief, as every clinic of the group is." for j in range(12)]
    ids = {}
    for i in range(300):  # each prompt's first line changes, differently
        name = f"Clinic {i:03d}"
        prompt = "\n".join([f"Clinic {i}", *rules, ""])
        ids[name] = emulator.state.seed_assistant({"name": name, "prompt": prompt})["id"]
        indented = "".join(f"  {line}\n" for line in [f"Clinic {i} (new)", *rules])
        write(workdir / f"assistants/c{i:03d}.yaml", f"name: {name}\nprompt: |\n{indented}")
    md = cli("plan", "--format", "markdown")
    assert md.code == 0, md.all
    assert len(md.out) < GITHUB_COMMENT_LIMIT
    assert_whole_blocks(md.out)
    lines = md.out.splitlines()
    for name, i in ids.items():  # the table still names every one
        assert f"| ~ | assistant | `{name}` | `{i}` | update | `prompt` |" in lines
    shown = sum(line.startswith("<details>") for line in lines)
    assert 0 < shown < 300
    assert lines[-4:] == [  # cut after a whole section
        "</details>",
        "",
        f"**Cut to fit a pull-request comment:** {300 - shown} of 300 change sections ({300 - shown} actions) "
        f"are not shown. {FULL_PLAN}",
        "",
    ]
    doc = json.loads(cli("plan", "--format", "json").out)
    assert [a["name"] for a in doc["actions"]] == sorted(ids)


def test_a_capped_table_still_names_every_destroyed_object(cli, emulator, workdir):
    """280 long-named updates with one change set and 20 strays to prune: too many rows for one comment, so
    the table is cut, but never a destroy."""
    long = ", of the Harbor Dental group, open six days a week" * 3
    ids = receptionists(emulator, workdir, [f"City {i:03d}{long}" for i in range(280)], "Hello", "Hi there")
    gone = [
        emulator.state.seed_assistant({"name": f"Zz old {i:02d} {long}", "prompt": "p"}) for i in range(20)
    ]
    md = cli("plan", "--prune", "--format", "markdown")
    assert md.code == 0, md.all
    assert len(md.out) < GITHUB_COMMENT_LIMIT
    assert_whole_blocks(md.out)
    lines = md.out.splitlines()
    for g in gone:
        assert f"| - | assistant | `{g['name']}` | `{g['id']}` | delete |  |" in lines
    updates = [line for line in lines if line.startswith("| ~ |")]
    assert 0 < len(updates) < 280
    assert (
        updates
        == [
            f"| ~ | assistant | `{name}` | `{ids[name]}` | update | `first_sentence` |"
            for name in sorted(ids)
        ][: len(updates)]
    )
    cut = 280 - len(updates)
    gap = lines.index(updates[-1]) + 1
    assert lines[gap] == f"| | | ... (+{cut} more) | | | |"
    assert lines[gap + 1].startswith("| - | assistant | `Zz old 00")
    assert lines[-4:] == [
        "</details>",
        "",
        f"**Cut to fit a pull-request comment:** {cut} of 300 table rows are not shown. {FULL_PLAN}",
        "",
    ]
    assert (  # the one change set is shown whole
        "<details><summary>~ 280 assistants will be updated in-place: "
        f"<code>City 000{long} receptionist</code>, <code>City 001{long} receptionist</code>, ... (+278)</summary>"
    ) in lines


def test_one_change_too_large_for_a_comment_shows_its_first_lines_in_a_closed_fence(cli, emulator, workdir):
    """A rewritten long prompt: 100 lines out, 100 lines in, each 400 characters; the diff alone is 80 KB."""
    old = "".join(f"Old rule {i}: {'o' * 390}\n" for i in range(100))
    new = "".join(f"  New rule {i}: {'n' * 390}\n" for i in range(100))
    remote = emulator.state.seed_assistant({"name": "Desk", "prompt": old})
    write(workdir / "assistants/desk.yaml", f"name: Desk\nprompt: |\n{new}")
    md = cli("plan", "--format", "markdown")
    assert md.code == 0, md.all
    assert len(md.out) < GITHUB_COMMENT_LIMIT
    assert_whole_blocks(md.out)
    lines = md.out.splitlines()
    body = lines[lines.index("```diff") + 1 : lines.index("```")]
    assert body[:3] == [
        "~ prompt: text changed (+100 -100 lines)",
        "    @@ -1,100 +1,100 @@",
        f"    -{old.splitlines()[0]}",
    ]
    cut = 202 - (len(body) - 1)  # the headline, the hunk header, 100 lines out and 100 in
    assert 0 < cut < 202
    assert body[-1] == f"... ({cut} more lines cut to fit a pull-request comment)"
    assert lines[:7] == [
        "### revox-sync plan",
        "",
        "**Plan: 0 to add, 1 to change, 0 to destroy.**",
        "",
        "| | kind | name | id | action | fields |",
        "|---|---|---|---|---|---|",
        f"| ~ | assistant | `Desk` | `{remote['id']}` | update | `prompt` |",
    ]
    assert lines[-4:] == [
        "</details>",
        "",
        f"**Cut to fit a pull-request comment:** {cut} lines of one change section are not shown. {FULL_PLAN}",
        "",
    ]


def test_grouping_is_kind_generic_and_a_lone_compact_action_keeps_its_one_line():
    """Two numbers routed from the same assistant to the same new one are one change; a third is its own."""
    change = FieldChange("inbound_assistant", "Old", "Support")
    actions = [
        Action("phone_number", "update", number, f"pn_{i}", changes=(change,), compact=True)
        for i, number in enumerate(["+15551230001", "+15551230002"])
    ]
    actions.append(
        Action(
            "phone_number",
            "update",
            "+15551230003",
            "pn_3",
            changes=(FieldChange("label", "a", "b"),),
            compact=True,
        )
    )
    assert TextRenderer().render(Plan(tuple(actions), {}, "")).splitlines() == [
        '  ~ 2 phone_numbers will be updated in-place: "+15551230001", "+15551230002"',
        '      ~ inbound_assistant: "Old" -> "Support"',
        '  ~ phone_number "+15551230003": label "a" -> "b"',
        "",
        "Plan: 0 to add, 3 to change, 0 to destroy.",
        "",
        GROUP_NOTE,
    ]

"""What a plan prints of values set in the dashboard (issue 10, point 10): control characters are escaped in
every renderer, and one huge value prints bounded, while the JSON plan keeps every value whole."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import write

from revox_sync.output import printable

ESC_NAME = "Evil\x1b[2K\rName\u202e\x08"  # erase the line, go back to its start, reverse what follows
SHOWN_NAME = "Evil\\u001b[2K\\u000dName\\u202e\\u0008"


def seed_hostile(emulator, workdir: Path) -> tuple[str, str]:
    desk = emulator.state.seed_assistant(
        {
            "name": "Desk",
            "prompt": "line one\n\x1b[2Kfake \x9bline\u2066\nline two\n",
            "first_sentence": "Hi\x9b31m",
        }
    )
    evil = emulator.state.seed_assistant({"name": ESC_NAME, "prompt": "x"})
    write(
        workdir / "assistants/desk.yaml",
        "name: Desk\nprompt: |\n  line one\n  line two\nfirst_sentence: Hi\n",
    )
    return desk["id"], evil["id"]


def test_control_characters_from_the_dashboard_are_escaped_in_text(cli, emulator, workdir):
    desk, evil = seed_hostile(emulator, workdir)
    result = cli("plan", "--prune")
    assert result.code == 0, result.all
    assert result.out == (
        f'  ~ assistant "Desk" ({desk}) will be updated in-place\n'
        "      ~ prompt: text changed (+0 -1 lines)\n"
        "          @@ -1,3 +1,2 @@\n"
        "           line one\n"
        "          -\\u001b[2Kfake \\u009bline\\u2066\n"
        "           line two\n"
        '      ~ first_sentence: "Hi\\u009b31m" -> "Hi"\n'
        f'  - assistant "{SHOWN_NAME}" ({evil}) will be destroyed\n'
        "\n"
        "Plan: 0 to add, 1 to change, 1 to destroy.\n"
    )
    note = cli("plan").out.splitlines()[-1]  # names quoted as JSON strings: their own escapes, as safe
    assert note == (
        'Note: 1 remote assistant is not declared in any file ("Evil\\u001b[2K\\rName\\u202e\\b") and left alone; '
        "declare it (pin its `id:`) to manage it, or plan with --prune to destroy it."
    )


def test_control_characters_are_escaped_in_markdown_and_json(cli, emulator, workdir):
    _, evil = seed_hostile(emulator, workdir)
    md = cli("plan", "--prune", "--format", "markdown").out
    assert f"| - | assistant | `{SHOWN_NAME}` | `{evil}` | delete |  |" in md.splitlines()
    assert "    -\\u001b[2Kfake \\u009bline\\u2066" in md.splitlines()
    assert '~ first_sentence: "Hi\\u009b31m" -> "Hi"' in md.splitlines()
    raw = cli("plan", "--prune", "--format", "json").out
    assert [c for c in raw if c in "\x1b\r\x08\x9b\u202e\u2066"] == []
    doc = json.loads(raw)  # escaped, yet the same values
    assert [a["name"] for a in doc["actions"]] == ["Desk", ESC_NAME]
    assert doc["actions"][0]["changes"][1] == {"path": "first_sentence", "before": "Hi\x9b31m", "after": "Hi"}
    saved = cli("plan", "--prune", "--out", "plan.json")
    assert saved.code == 0
    assert json.loads((workdir / "plan.json").read_text(encoding="utf-8"))["actions"][1]["name"] == ESC_NAME


def test_printable_keeps_ordinary_text():
    """The one function the apply report calls on names and messages: tabs, accents, emoji stay."""
    assert printable("Café\tdesk 👩‍💻 «ok»") == "Café\tdesk 👩‍💻 «ok»"
    assert printable("a\nb\x7f\u2028") == "a\\u000ab\\u007f\\u2028"


def test_a_huge_value_prints_bounded_and_the_json_plan_keeps_it_whole(cli, emulator, workdir):
    long_line = "y" * 10_000
    old_prompt = "\n".join([long_line, *(f"line {i}" for i in range(3000))]) + "\n"
    answer = "z" * 5_000
    desk = emulator.state.seed_assistant(
        {"name": "Desk", "prompt": old_prompt, "faq_items": [{"question": "a", "answer": "b"}]}
    )
    write(
        workdir / "assistants/desk.yaml",
        "name: Desk\nprompt: short\nfaq_items:\n  - {question: a, answer: b}\n"
        f"  - {{question: q, answer: {answer}}}\n",
    )
    faq = json.dumps({"question": "q", "answer": answer})
    result = cli("plan")
    assert result.code == 0, result.all
    lines = result.out.splitlines()
    assert lines[:4] == [
        f'  ~ assistant "Desk" ({desk["id"]}) will be updated in-place',
        "      ~ prompt: text changed (+1 -3001 lines)",
        "          @@ -1,3001 +1 @@",
        "          -" + "y" * 1999 + "... (8001 more characters)",
    ]
    assert lines[4:502] == [f"          -line {i}" for i in range(498)]
    assert lines[502:] == [
        "          ... (2503 more lines of this diff; `plan --format json` shows the whole value)",
        f'      + faq_items["q"]: {faq[:2000]}... ({len(faq) - 2000} more characters)',
        "",
        "Plan: 0 to add, 1 to change, 0 to destroy.",
    ]
    doc = json.loads(cli("plan", "--format", "json").out)
    [prompt, faq] = doc["actions"][0]["changes"]
    assert (prompt["before"], prompt["after"]) == (old_prompt.strip(), "short")  # as compared: server text
    assert faq["after"] == {"question": "q", "answer": answer}


def test_apply_progress_and_errors_escape_control_characters(cli, emulator, workdir):
    """Names and server messages reach the apply report and the error lines escaped, never raw."""
    hostile = "Evil\x1b[2K\rbot\u202e"
    emulator.state.seed_assistant({"name": hostile, "prompt": "x"})
    write(workdir / "assistants/a.yaml", "name: A\nprompt: Hi.\n")
    emulator.inject("POST", "^/assistants$", status=400, times=1)
    result = cli("apply", "--auto-approve", "--prune")
    assert result.code == 1
    assert "\x1b" not in result.all and "\r" not in result.all and "\u202e" not in result.all
    assert '✓ destroyed assistant "Evil\\u001b[2K\\u000dbot\\u202e"' in result.out

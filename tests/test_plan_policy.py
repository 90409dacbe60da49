"""The plan carries the policy: `plan` shows the rules' findings on what it would create or update (text,
Markdown, JSON) and still exits 0; `apply` writes nothing while error findings remain, unless
--allow-policy-errors (given to apply, or saved in the plan it applies)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import write
from test_plan_apply import writes

# An outbound assistant calling 07:00-21:30 that does not say it is an AI voice.
NIGHT = """\
name: Night caller
prompt: Sell the plan.
first_sentence: Hi, this is Sam from Acme.
call_retry_config:
  max_retry_attempts: 3
  calling_windows:
    - {calling_window_start_time: "07:00", calling_window_end_time: "21:30", retry_delay_seconds: 7200}
"""
TCPA = "in the recipient's time zone (47 CFR 64.1200(c)(1))"
WINDOW = "call_retry_config.calling_windows[0]"
FINDINGS = [
    "assistants/night.yaml:2:9: warning: [opt-out] prompt: says nothing of a request to stop calling (none "
    "of: 'do not call', 'do-not-call', \"don't call\", 'not to be called', ... (8 more))",
    "assistants/night.yaml:3:17: [ai-disclosure] first_sentence: does not say the caller is an AI voice (none "
    "of: 'AI', 'A.I.', 'artificial intelligence', 'virtual assistant', ... (5 more))",
    f"assistants/night.yaml:7:35: [calling-hours] {WINDOW}.calling_window_start_time: calls from 07:00, "
    f"before 08:00 {TCPA}",
    f"assistants/night.yaml:7:69: [calling-hours] {WINDOW}.calling_window_end_time: calls until 21:30, "
    f"after 21:00 {TCPA}",
]
REFUSAL = (
    "Note: apply will refuse to write while error findings remain; --allow-policy-errors lets it go ahead."
)
APPLY_REFUSED = (
    "error: 3 policy errors in what this apply changes (above); nothing was changed: fix them, or pass "
    "--allow-policy-errors (to plan --out, for a saved plan) to apply anyway"
)


@pytest.fixture
def night(workdir: Path) -> Path:
    return write(workdir / "assistants/night.yaml", NIGHT)


def test_plan_shows_the_findings_in_a_block_after_the_changes_and_exits_0(cli, emulator, night):
    validate = cli("validate")
    assert validate.code == 1
    assert validate.err.splitlines() == [*FINDINGS, "3 errors."]

    plan = cli("plan")
    assert plan.code == 0, plan.all
    block = plan.out.split("Plan: 1 to add, 0 to change, 0 to destroy.\n")[1]
    assert block.splitlines() == ["", "Policy: 3 errors, 1 warning", *(f"  {f}" for f in FINDINGS), REFUSAL]
    assert cli("plan", "--detailed-exitcode").code == 2  # unchanged: changes, not findings
    assert writes(emulator) == []


def test_the_markdown_plan_has_a_findings_section(cli, night):
    plan = cli("plan", "--format", "markdown")
    assert plan.code == 0, plan.all
    section = plan.out.split("</details>\n")[-1].rstrip("\n")
    assert section.splitlines() == [
        "",
        "#### Policy: 3 errors, 1 warning",
        "",
        "- warning `assistants/night.yaml:2:9` `opt-out`: `prompt: says nothing of a request to stop calling "
        "(none of: 'do not call', 'do-not-call', \"don't call\", 'not to be called', ... (8 more))`",
        "- **error** `assistants/night.yaml:3:17` `ai-disclosure`: `first_sentence: does not say the caller is "
        "an AI voice (none of: 'AI', 'A.I.', 'artificial intelligence', 'virtual assistant', ... (5 more))`",
        f"- **error** `assistants/night.yaml:7:35` `calling-hours`: `{WINDOW}.calling_window_start_time: calls "
        f"from 07:00, before 08:00 {TCPA}`",
        f"- **error** `assistants/night.yaml:7:69` `calling-hours`: `{WINDOW}.calling_window_end_time: calls "
        f"until 21:30, after 21:00 {TCPA}`",
        "",
        REFUSAL,
    ]


def test_the_json_plan_has_a_top_level_findings_list(cli, night):
    plan = cli("plan", "--format", "json")
    assert plan.code == 0, plan.all
    doc = json.loads(plan.out)
    assert [(f["rule"], f["severity"], f["file"], f["line"]) for f in doc["findings"]] == [
        ("opt-out", "warning", "assistants/night.yaml", 2),
        ("ai-disclosure", "error", "assistants/night.yaml", 3),
        ("calling-hours", "error", "assistants/night.yaml", 7),
        ("calling-hours", "error", "assistants/night.yaml", 7),
    ]
    assert (
        doc["findings"][3]["message"]
        == f"{WINDOW}.calling_window_end_time: calls until 21:30, after 21:00 {TCPA}"
    )
    assert doc["options"] == {"prune": False, "targets": []}
    assert plan.err.splitlines()[-1] == (
        "warning: apply will refuse to write while error findings remain; --allow-policy-errors lets it go ahead"
    )


def test_apply_names_the_errors_and_writes_nothing(cli, emulator, night):
    applied = cli("apply", "--auto-approve")
    assert applied.code == 1
    assert applied.err.splitlines() == [*FINDINGS[1:], APPLY_REFUSED]
    assert writes(emulator) == []


def test_apply_with_the_option_goes_ahead_and_unchanged_objects_are_not_reported(cli, emulator, night):
    applied = cli("apply", "--auto-approve", "--allow-policy-errors")
    assert applied.code == 0, applied.all
    assert "Made with --allow-policy-errors: apply goes ahead despite the error findings." in applied.out
    assert [(m, p) for m, p, _ in writes(emulator)] == [("POST", "/assistants")]
    emulator.clear_requests()

    # what the plan does not change is validate's to report: a compliant file changed alone applies
    write("assistants/desk.yaml", "name: Desk\nprompt: Answer the phone.\n")
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert "Policy" not in plan.out
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.all
    assert [(m, p, b["name"]) for m, p, b in writes(emulator)] == [("POST", "/assistants", "Desk")]


def test_the_rules_section_and_suppressions_apply_to_the_plan(cli, emulator, night, workdir):
    write(workdir / "revox-sync.yaml", "rules: {calling-hours: warning, opt-out: off}\n")
    night.write_text(
        NIGHT.replace("from Acme.\n", "from Acme.  # revox-sync: ignore[ai-disclosure] reviewed\n"),
        encoding="utf-8",
    )
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert plan.out.split("Plan: 1 to add, 0 to change, 0 to destroy.\n")[1].splitlines() == [
        "",
        "Policy: 0 errors, 2 warnings",
        *(f"  {f.replace(': [calling', ': warning: [calling')}" for f in FINDINGS[2:]),
    ]
    assert cli("apply", "--auto-approve").code == 0  # warnings do not stop apply
    assert len(writes(emulator)) == 1


def test_a_saved_plan_carries_the_findings_and_the_option(cli, emulator, night, workdir):
    made = cli("plan", "--out", "plan.json")
    assert made.code == 0, made.all
    saved = json.loads((workdir / "plan.json").read_text())
    assert [f["rule"] for f in saved["findings"]] == [
        "opt-out",
        "ai-disclosure",
        "calling-hours",
        "calling-hours",
    ]
    refused = cli("apply", "plan.json", "--auto-approve")
    assert refused.code == 1
    assert refused.err.splitlines() == [*FINDINGS[1:], APPLY_REFUSED]
    assert cli("apply", "plan.json", "--allow-policy-errors", "--auto-approve").err == (
        "error: --allow-policy-errors comes from the saved plan (`plan --allow-policy-errors --out FILE`); do "
        "not pass it with PLAN_FILE\n"
    )

    # a saved plan whose findings were edited away is refused
    saved["findings"] = []
    (workdir / "edited.json").write_text(json.dumps(saved), encoding="utf-8")
    edited = cli("apply", "edited.json", "--auto-approve")
    assert edited.code == 1
    assert "checksum mismatch: the plan file was edited after it was saved" in edited.err
    assert writes(emulator) == []

    allowed = cli("plan", "--allow-policy-errors", "--out", "allowed.json")
    assert allowed.code == 0, allowed.all
    assert json.loads((workdir / "allowed.json").read_text())["options"]["allow_policy_errors"] is True
    applied = cli("apply", "allowed.json", "--auto-approve")
    assert applied.code == 0, applied.all
    assert [(m, p) for m, p, _ in writes(emulator)] == [("POST", "/assistants")]


def test_findings_never_hold_a_secret(cli, emulator, workdir):
    secret = "sk-live-0123456789abcdef"
    write(
        workdir / "revox-sync.yaml",
        "rules:\n  custom:\n    - {id: starts-hi, path: first_sentence, match: '^Hi'}\n",
    )
    key = 'llm_model: {type: custom, api_url: "https://llm.example/v1", model_name: m, api_key: "${TOKEN}"}\n'
    write(workdir / "assistants/night.yaml", NIGHT.replace("Hi, this is Sam", "${TOKEN} is Sam") + key)
    environ = {**os.environ, "TOKEN": secret}
    runs = [
        cli("plan", "--format", f, "--out", f"plan-{f}.json", environ=environ)
        for f in ("text", "json", "markdown")
    ]
    runs.append(cli("apply", "--auto-approve", environ=environ))
    assert [run.code for run in runs] == [0, 0, 0, 1]
    assert (
        "assistants/night.yaml:3:17: [starts-hi] first_sentence: does not match /^Hi/" in runs[0].out
    )  # custom
    assert all(secret not in run.all for run in runs)
    assert all(secret not in p.read_text() for p in workdir.glob("plan-*.json"))


def test_a_markdown_plan_with_thousands_of_findings_stays_inside_the_comment_budget():
    from revox_sync.engine.change import Action
    from revox_sync.engine.plan import Plan
    from revox_sync.engine.render import MARKDOWN_BUDGET, MarkdownRenderer
    from revox_sync.errors import Location
    from revox_sync.rules.rule import Finding

    actions = tuple(Action("assistant", "create", f"Caller {i}", None) for i in range(3000))
    findings = tuple(
        Finding(
            Location(f"assistants/caller-{i}.yaml", 3, 17),
            "ai-disclosure",
            "first_sentence: @team " + "x" * 40,
        )
        for i in range(3000)
    )
    shown = MarkdownRenderer().render(Plan(actions, {}, "", findings=findings))
    assert len(shown) <= MARKDOWN_BUDGET
    assert "#### Policy: 3000 errors, 0 warnings" in shown
    listed = [line for line in shown.splitlines() if line.startswith("- **error** ")]
    assert 0 < len(listed) < 3000
    assert f"- ... (+{3000 - len(listed)} more; `revox-sync validate` lists every one)" in shown
    assert listed[0] == (
        "- **error** `assistants/caller-0.yaml:3:17` `ai-disclosure`: `first_sentence: @team "
        + "x" * 40
        + "`"
    )


def test_a_mistake_in_the_rules_section_stops_plan_and_apply_before_any_request(
    cli, emulator, night, workdir
):
    write(workdir / "revox-sync.yaml", "rules:\n  calling-hourz: off\n")
    for command in ("plan", "apply"):
        run = cli(command, "--auto-approve") if command == "apply" else cli(command)
        assert (run.code, run.out) == (1, "")
        assert run.err == (
            "revox-sync.yaml:2:3: unknown rule 'calling-hourz' in rules; did you mean 'calling-hours'?\n1 error.\n"
        )
    assert emulator.requests == []

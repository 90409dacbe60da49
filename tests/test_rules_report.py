"""`validate --format json|sarif|github`: the real CLI's output, checked against the official SARIF 2.1.0
schema and GitHub's workflow-command syntax."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from helpers import Run, run_cli, write

pytestmark = pytest.mark.usefixtures("in_tmp")

SCHEMA = json.loads((Path(__file__).parent / "data/sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
LATE = """\
name: Late caller
prompt: Sell. If they ask not to be called again, stop.
first_sentence: Hi, this is an AI assistant from Acme.
call_retry_config:
  calling_windows:
    - {calling_window_start_time: "09:00", calling_window_end_time: "21:30"}  # revox-sync: ignore[calling-hours] tested
    - {calling_window_start_time: "10:00", calling_window_end_time: "22:00"}
  timezone: Europe/Paris
"""
BROKEN = "name: Broken\nvoice: {provider: cartesia, id: v, sped: 1}\n"


def files() -> None:
    write(Path("assistants/late.yaml"), LATE)
    write(Path("assistants/broken.yaml"), BROKEN)


def sarif(run: Run) -> dict[str, object]:
    document = json.loads(run.out)
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(document)
    return document  # type: ignore[no-any-return]


def test_sarif_validates_against_the_official_schema_and_names_rule_level_file_and_line() -> None:
    files()
    run = run_cli("validate", "--format", "sarif")
    assert run.code == 1 and run.err == ""
    document = sarif(run)
    (the_run,) = document["runs"]  # type: ignore[index]
    rules = the_run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids[:3] == ["schema", "calling-hours", "state-calling-hours"]
    results = [
        (
            r["ruleId"],
            ids[r["ruleIndex"]],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            "suppressions" in r,
        )
        for r in the_run["results"]
    ]
    assert results == [
        ("schema", "schema", "error", "assistants/broken.yaml", 2, False),
        ("calling-hours", "calling-hours", "error", "assistants/late.yaml", 6, True),
        ("calling-hours", "calling-hours", "error", "assistants/late.yaml", 7, False),
        ("fixed-timezone", "fixed-timezone", "warning", "assistants/late.yaml", 8, False),
    ]
    assert the_run["results"][1]["suppressions"] == [{"kind": "inSource", "justification": "tested"}]
    assert rules[1]["properties"]["source"].startswith("47 CFR 64.1200(c)(1)")
    assert rules[ids.index("retry-cap")]["defaultConfiguration"] == {"level": "none", "enabled": False}


def test_sarif_of_a_clean_run_is_valid_and_exits_0() -> None:
    write(Path("assistants/desk.yaml"), "name: Desk\n")
    run = run_cli("validate", "--format", "sarif")
    assert (run.code, run.err) == (0, "")
    assert sarif(run)["runs"][0]["results"] == []  # type: ignore[index]


def test_sarif_of_a_fleet_relates_each_result_to_its_rows() -> None:
    write(
        Path("assistants/templates/t.yaml"),
        LATE.replace("name: Late caller\n", "").replace("  # revox-sync: ignore[calling-hours] tested", ""),
    )
    write(
        Path("assistants/f.yaml"), "extends: templates/t.yaml\nfor_each: [{n: A}, {n: B}]\nname: ${each.n}\n"
    )
    document = sarif(run_cli("validate", "--format", "sarif"))
    first = document["runs"][0]["results"][0]  # type: ignore[index]
    assert (
        first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "assistants/templates/t.yaml"
    )
    assert [r["physicalLocation"]["region"] for r in first["relatedLocations"]] == [
        {"startLine": 2, "startColumn": 12},
        {"startLine": 2, "startColumn": 20},
    ]
    assert first["message"]["text"].endswith("(rows assistants/f.yaml:2:12, assistants/f.yaml:2:20)")


def test_json_lists_every_finding_with_its_place_and_state() -> None:
    files()
    run = run_cli("validate", "--format", "json")
    assert run.code == 1 and run.err == ""
    document = json.loads(run.out)
    assert document["format_version"] == 1
    assert document["valid"] is False
    assert document["summary"] == {"errors": 2, "warnings": 1, "suppressed": 1}
    assert document["findings"][1] == {
        "rule": "calling-hours",
        "severity": "error",
        "file": "assistants/late.yaml",
        "line": 6,
        "column": 69,
        "message": "call_retry_config.calling_windows[0].calling_window_end_time: calls until 21:30, after 21:00 "
        "in the recipient's time zone (47 CFR 64.1200(c)(1))",
        "rows": [],
        "environment": None,
        "suppressed": {"reason": "tested"},
    }


# GitHub's documented syntax: ::error file={name},line={line},col={col},title={title}::{message}; message data
# escapes %, CR and LF; property values escape those and also ':' and ','.
WORKFLOW_COMMAND = re.compile(
    r"^::(error|warning|notice) file=[^,:\r\n]+(?:,line=\d+(?:,col=\d+)?)?,title=[^,:\r\n]+::[^\r\n]*$"
)


def test_github_prints_one_workflow_command_per_unsuppressed_finding() -> None:
    files()
    run = run_cli("validate", "--format", "github")
    assert run.code == 1 and run.err == ""
    lines = run.out.splitlines()
    assert all(WORKFLOW_COMMAND.match(line) for line in lines), lines
    assert lines == [
        "::error file=assistants/broken.yaml,line=2,col=36,title=revox-sync [schema]::unknown key 'sped' in voice; "
        "did you mean 'speed'?",
        "::error file=assistants/late.yaml,line=7,col=69,title=revox-sync [calling-hours]::"
        "call_retry_config.calling_windows[1].calling_window_end_time: calls until 22:00, after 21:00 in the "
        "recipient's time zone (47 CFR 64.1200(c)(1))",
        "::warning file=assistants/late.yaml,line=8,col=13,title=revox-sync [fixed-timezone]::"
        "call_retry_config.timezone: calling windows are read in this one time zone for every recipient, not in "
        "each recipient's own: a recipient elsewhere is called at other local hours",
    ]


def test_github_escapes_percent_newlines_and_property_separators() -> None:
    write(Path("a,b:c.yaml"), "name: Odd\nprompt: x\n")
    write(
        Path("revox-sync.yaml"),
        'rules:\n  custom:\n    - {id: odd, path: prompt, match: "^y", message: "100% wrong\\r\\nnext, line: 2"}\n',
    )
    run = run_cli("validate", "--format", "github", "a,b:c.yaml")
    assert run.out == (
        "::error file=a%2Cb%3Ac.yaml,line=2,col=9,title=revox-sync [odd]::prompt: 100%25 wrong%0D%0Anext, line: 2\n"
    )
    assert WORKFLOW_COMMAND.match(run.out.rstrip("\n"))


def test_a_secret_never_reaches_any_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TOKEN", "tok-very-secret-123")
    write(Path("assistants/late.yaml"), LATE.replace("prompt: Sell.", "prompt: Sell ${CRM_TOKEN}."))
    write(
        Path("revox-sync.yaml"),
        "rules:\n  custom:\n    - {id: no-tokens, path: prompt, forbid: tok-}\n"
        "    - {id: known-prompts, path: prompt, one_of: [a, b]}\n",
    )
    for fmt in ("text", "json", "sarif", "github"):
        run = run_cli("validate", "--format", fmt, "--show-suppressed")
        assert "known-prompts" in run.all, fmt  # the prompt holds a secret: rules see a stand-in there
        assert "very-secret" not in run.all, fmt
    assert "[no-tokens]" not in run_cli("validate").all  # which never holds `tok-`


def test_github_makes_control_characters_visible() -> None:
    write(Path("assistants/a.yaml"), 'name: "Odd \\e[31m name"\nprompt: x\n')
    write(
        Path("revox-sync.yaml"),
        "rules:\n  custom:\n    - {id: odd, path: prompt, match: '^y', message: \"red \\e[31m\"}\n",
    )
    run = run_cli("validate", "--format", "github")
    assert (
        run.out
        == "::error file=assistants/a.yaml,line=2,col=9,title=revox-sync [odd]::prompt: red \\u001b[31m\n"
    )

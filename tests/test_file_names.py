"""Every output works on every file name: a name whose bytes are not UTF-8 (Python reads `\\xff` as the
surrogate escape `\\udcff`) never crashes an output. Text, `github` and JSON carry `\\udcff` (in JSON, the
escape that reads back as the name Python gives the file), SARIF percent-encodes the byte."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY
from helpers import Run, write

from revox_sync.emulator import EmulatorServer

pytestmark = pytest.mark.skipif(os.name != "posix", reason="a file name of any bytes is a POSIX thing")

NAME = os.fsdecode(b"assistants/\xff.yaml")  # 'assistants/\udcff.yaml'
SHOWN = "assistants/\\udcff.yaml"  # as every output prints it
CALLBACK = (
    "voicemail_message: gives no number to call back (a phone number of 10 or more digits, or a "
    "{{...phone...}} placeholder)"
)


@pytest.fixture
def odd(workdir: Path) -> Path:
    (workdir / ".git").mkdir()
    return write(NAME, "name: Odd\nprompt: x\nvoicemail_message: Call us.\n")


def encodes(run: Run) -> None:
    """What a UTF-8 terminal or file is given: every character encodes, no report of a crash."""
    run.out.encode("utf-8")
    run.err.encode("utf-8")
    assert "please report it" not in run.all


def test_validate_in_every_format(odd: Path, cli) -> None:
    runs = {fmt: cli("validate", "--format", fmt) for fmt in ("text", "json", "sarif", "github")}
    for run in runs.values():
        encodes(run)
        assert run.code == 1
    assert runs["text"].err == f"{SHOWN}:3:20: [voicemail-callback] {CALLBACK}\n1 error.\n"
    assert runs["github"].out == (
        f"::error file={SHOWN},line=3,col=20,title=revox-sync [voicemail-callback]::{CALLBACK}\n"
    )
    [finding] = json.loads(runs["json"].out)["findings"]
    assert f'"file": "{SHOWN}"' in runs["json"].out and finding["file"] == NAME
    [result] = json.loads(runs["sarif"].out)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "assistants/%FF.yaml"


def test_plan_json_and_a_saved_plan_carry_the_name(odd: Path, cli, emulator: EmulatorServer) -> None:
    run = cli("plan", "--format", "json")
    encodes(run)
    assert run.code == 0 and f'"file": "{SHOWN}"' in run.out
    assert [a["file"] for a in json.loads(run.out)["actions"]] == [NAME]
    assert [f["file"] for f in json.loads(run.out)["findings"]] == [NAME]  # voicemail-callback's
    run = cli("plan", "--allow-policy-errors", "--out", "plan.json")
    encodes(run)
    assert run.code == 0, run.all
    assert f'"file": "{SHOWN}"' in Path("plan.json").read_text(encoding="utf-8")
    run = cli("apply", "plan.json", "--auto-approve")
    encodes(run)
    assert run.code == 0, run.all
    assert [r.body["name"] for r in emulator.requests if r.method == "POST"] == ["Odd"]
    assert API_KEY not in run.all

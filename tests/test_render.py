"""`render`: the real CLI prints the assistants as `plan` compares them, and what it prints loads back as plain
files that plan the same as the fleet (real files, the emulator on loopback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import NOT_ABOUT_POLICY, Run, run_cli, write

TEMPLATE = """\
prompt: |
  You are the receptionist of Harbor Dental ${each.city}.
  Greet callers warmly.
voice: {provider: cartesia, id: a0e99841-438c-4a64-b679-ae501e7d6091, speed: 1.1}
call_retry_config:
  max_retry_attempts: 2
  timezone: America/Chicago
first_sentence: Hello.
"""
FLEET = """\
extends: templates/receptionist.yaml
for_each:
  - {city: Austin, desk: "+15125550100"}
  - {city: Boston, desk: "+16175550100"}
name: "${each.city} receptionist"
first_sentence: "Harbor Dental ${each.city}, how can I help?"
call_retry_config: {timezone: America/New_York}
transfer_destinations:
  - {label: Front desk, phone_number: "${each.desk}"}
"""


def rendered(city: str, desk: str, line: int) -> str:
    return f"""\
---
# assistants/fleet.yaml (row assistants/fleet.yaml:{line}:5)
name: {city} receptionist
first_sentence: Harbor Dental {city}, how can I help?
call_retry_config:
  timezone: America/New_York
  max_retry_attempts: 2
transfer_destinations:
  - label: Front desk
    phone_number: '{desk}'
prompt: |
  You are the receptionist of Harbor Dental {city}.
  Greet callers warmly.
voice:
  provider: cartesia
  id: a0e99841-438c-4a64-b679-ae501e7d6091
  speed: 1.1
"""


AUSTIN = rendered("Austin", "+15125550100", 3)
BOSTON = rendered("Boston", "+16175550100", 4)


@pytest.fixture
def fleet(workdir: Path) -> Path:
    write(workdir / "revox-sync.yaml", NOT_ABOUT_POLICY)
    write(workdir / "assistants/templates/receptionist.yaml", TEMPLATE)
    return write(workdir / "assistants/fleet.yaml", FLEET)


def ok(run: Run) -> str:
    assert (run.code, run.err) == (0, ""), run.all
    return run.out


def split_into_files(text: str, directory: Path) -> list[Path]:
    """The YAML output as one plain assistant file per document, as a reviewer would keep them."""
    documents = [d for d in text.split("---\n") if d.strip()]
    return [write(directory / f"assistant-{i}.yaml", d) for i, d in enumerate(documents)]


def plan_actions(cli: Any, directory: str) -> list[dict[str, Any]]:
    """The JSON plan's actions, less the file each came from (that is what differs between the two)."""
    run = cli("plan", "-d", directory, "--format", "json")
    assert run.code == 0, run.all
    return [{k: v for k, v in a.items() if k != "file"} for a in json.loads(run.out)["actions"]]


def test_render_prints_each_assistant_resolved_as_yaml(fleet):
    assert ok(run_cli("render")) == AUSTIN + BOSTON


def test_names_choose_assistants_in_the_order_given(fleet):
    assert ok(run_cli("render", "Boston receptionist", "Austin receptionist")) == BOSTON + AUSTIN
    assert ok(run_cli("render", "Boston receptionist", "Boston receptionist")) == BOSTON


def test_an_unknown_name_is_an_error_with_a_suggestion(fleet):
    run = run_cli("render", "Boston receptionst")
    assert (run.code, run.out) == (1, "")
    assert (
        run.err
        == "error: render 'Boston receptionst': no assistant of that name; did you mean 'Boston receptionist'?\n"
    )
    run = run_cli("render", "Zurich")
    assert (run.code, run.out, run.err) == (1, "", "error: render 'Zurich': no assistant of that name\n")


def test_render_json(fleet):
    assert json.loads(ok(run_cli("render", "--format", "json", "Austin receptionist"))) == [
        {
            "name": "Austin receptionist",
            "first_sentence": "Harbor Dental Austin, how can I help?",
            "call_retry_config": {"timezone": "America/New_York", "max_retry_attempts": 2},
            "transfer_destinations": [{"label": "Front desk", "phone_number": "+15125550100"}],
            "prompt": "You are the receptionist of Harbor Dental Austin.\nGreet callers warmly.\n",
            "voice": {"provider": "cartesia", "id": "a0e99841-438c-4a64-b679-ae501e7d6091", "speed": 1.1},
        }
    ]


def test_secrets_render_as_sensitive(workdir, monkeypatch):
    monkeypatch.setenv("CRM_TOKEN", "crm-token-0123456789")
    write(
        workdir / "assistants/templates/base.yaml",
        "prompt: p\nwebhook_url: https://h.example.com/${CRM_TOKEN}\n"
        "llm_model:\n  type: custom\n  api_url: https://llm.example.com/v1\n  model_name: m\n  api_key: sk-literal-98765\n",
    )
    write(
        workdir / "assistants/fleet.yaml",
        "extends: templates/base.yaml\nfor_each: [{n: A}]\nname: ${each.n}\n",
    )
    for fmt in ("yaml", "json"):
        out = ok(run_cli("render", "--format", fmt))
        assert "crm-token-0123456789" not in out and "sk-literal-98765" not in out
    assert json.loads(ok(run_cli("render", "--format", "json"))) == [
        {
            "name": "A",
            "prompt": "p",
            "webhook_url": "(sensitive)",
            "llm_model": {
                "type": "custom",
                "api_url": "https://llm.example.com/v1",
                "model_name": "m",
                "api_key": "(sensitive)",
            },
        }
    ]


def test_rendered_files_load_back_and_plan_as_the_fleet(cli, emulator, fleet, workdir):
    files = split_into_files(ok(run_cli("render")), workdir / "plain")
    assert len(files) == 2
    assert ok(run_cli("validate", "plain")) == "2 assistant files valid.\n"
    assert plan_actions(cli, "plain") == plan_actions(cli, "assistants")
    assert cli("apply", "--auto-approve").code == 0  # the fleet
    converged = cli("plan", "-d", "plain", "--detailed-exitcode")
    assert converged.code == 0, converged.all
    assert "No changes. Remote assistants match the configuration." in converged.out


def test_literal_dollar_braces_survive_templates_and_render(cli, emulator, workdir):
    """`$${each.city}` is a literal `${each.city}`, and `!file` text is never filled, as it is never
    interpolated: the rendered files say so with `$${`, and load back to the same text."""
    write(workdir / "assistants/prompts/receptionist.md", "Your city is ${each.city}; $${HOME} stays.\n")
    write(
        workdir / "assistants/fleet.yaml",
        "for_each: [{city: Austin}]\nname: ${each.city}\nprompt: !file prompts/receptionist.md\n"
        'first_sentence: "Write $${each.city} in ${each.city}"\n',
    )
    assert json.loads(ok(run_cli("render", "--format", "json"))) == [
        {
            "name": "Austin",
            "prompt": "Your city is ${each.city}; $${HOME} stays.\n",
            "first_sentence": "Write ${each.city} in Austin",
        }
    ]
    files = split_into_files(ok(run_cli("render")), workdir / "plain")
    assert (
        files[0]
        .read_text()
        .endswith(
            "prompt: |\n  Your city is $${each.city}; $$${HOME} stays.\nfirst_sentence: Write $${each.city} in Austin\n"
        )
    )
    assert plan_actions(cli, "plain") == plan_actions(cli, "assistants")

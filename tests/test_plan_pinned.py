"""The plan of one fixed project, pinned byte for byte: fingerprints, checksum, saved-plan JSON and the text a
user reads. A speed-up must change none of it; a deliberate change of format re-pins (delete the pinned file,
run this test once, review the diff and commit it)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import write

from revox_sync.commands.plan import learn_desired_secrets
from revox_sync.engine.kind import LoadContext
from revox_sync.engine.plan import build_plan
from revox_sync.engine.render import MarkdownRenderer, TextRenderer, json_document
from revox_sync.errors import ConfigErrors
from revox_sync.kinds import KINDS
from revox_sync.output import Environment
from revox_sync.sensitive import is_sensitive_variable, secret_values, shown_as

PINNED = Path(__file__).parent / "data" / "pinned_plan.json"
KEY = b"pinned-api-key"
VARIABLES = {"LLM_API_KEY": "sk-pinned-secret-123456", "HEADER_TOKEN": "tok-pinned-abcdef", "CITY": "Austin"}

FILES = {
    "assistants/prompts/sales.md": "You are the sales agent for ${CITY}.\nBe brief.\n",
    "assistants/sales.yaml": """\
name: Sales
prompt: !file prompts/sales.md
voice: {provider: cartesia, id: a0e99841-438c-4a64-b679-ae501e7d6091, speed: 1.1}
llm_model: {type: custom, api_url: "https://llm.example/v1", model_name: m, api_key: "${LLM_API_KEY}"}
max_call_duration_secs: 600
call_retry_config:
  allowed_days: [friday, monday]
  calling_windows:
    - {calling_window_start_time: 9am, calling_window_end_time: 6pm}
faq_items:
  - {question: "Price #1?", answer: Ten dollars.}
  - {question: "Hours?", answer: "Nine to five in ${CITY}."}
custom_tools:
  - name: lookup
    description: Looks the caller up.
    url: https://crm.example/lookup
    method: GET
    headers: [{key: Authorization, value: "Bearer ${HEADER_TOKEN}"}]
""",
    "assistants/support.yaml": """\
id: asst_support
name: Support desk
prompt: Help the caller. $${not a variable}
first_sentence: ${GREETING:-Hello there}
transfer_destinations:
  - {label: Front desk, phone_number: "+15550001111"}
""",
    "assistants/new.yml": "name: Brand new\nprompt: Fresh.\nstt_context: {terms: [b, a]}\n",
    "assistants/templates/clinic.yaml": "prompt: |\n  Clinic ${each.city}.\nvoice: {provider: elevenlabs, id: el-1}\n",
    "assistants/clinics.yaml": """\
extends: templates/clinic.yaml
for_each:
  - {city: North}
  - {city: South}
name: "Clinic ${each.city}"
""",
    "assistants/phone_numbers.yaml": "phone_numbers:\n  '+15551234567': {assistant: Sales, label: Main}\n",
}

REMOTE: dict[str, list[dict[str, Any]]] = {
    "assistant": [
        {
            "id": "asst_sales",
            "name": "Sales",
            "prompt": "You are the sales agent for Austin.\nBe polite.\n",
            "voice": {"provider": "cartesia", "id": "a0e99841-438c-4a64-b679-ae501e7d6091", "speed": 1.0},
            "llm_model": {
                "type": "custom",
                "api_url": "https://llm.example/v1",
                "model_name": "m",
                "api_key": "old-secret-999999",
            },
            "max_call_duration_secs": 600.0,
            "call_retry_config": {
                "allowed_days": ["monday", "friday"],
                "calling_windows": [
                    {"calling_window_start_time": "09:00", "calling_window_end_time": "18:00"}
                ],
                "max_retry_attempts": 3,
                "call_twice_in_a_row": False,
                "timezone": None,
            },
            "faq_items": [
                {"question": "Hours?", "answer": "Nine to five in Austin."},
                {"question": "Parking?", "answer": "", "source": "ai", "needs_human_answer": True},
            ],
            "custom_tools": [],
            "created_at": "2024-01-01T00:00:00Z",
        },
        {
            "id": "asst_support",
            "name": "Support",
            "prompt": "Help the caller. ${not a variable}",
            "first_sentence": "Hello there",
            "transfer_destinations": [{"label": "Front desk", "phone_number": "+15550001111"}],
        },
        {
            "id": "asst_north",
            "name": "Clinic North",
            "prompt": "Clinic North.\n",
            "voice": {"provider": "elevenlabs", "id": "el-1"},
        },
        {"id": "asst_old", "name": "Old bot", "prompt": "Bye."},
    ],
    "phone_number": [
        {"id": "pn_1", "phone_number": "+15551234567", "assistant_id": "asst_old", "label": "Old"},
    ],
    "voice": [],
}


def computed(root: Path) -> dict[str, str]:
    """What `plan --prune --out` saves and prints for the fixed project, computed as the command does."""
    for name, text in FILES.items():
        write(root / name, text)
    context = LoadContext(root / "assistants", VARIABLES)
    loaded = {}
    for kind in KINDS:
        try:
            loaded[kind.name] = kind.load(context)
        except ConfigErrors as exc:  # pragma: no cover - the fixed project loads
            pytest.fail("\n".join(map(str, exc.errors)))
    env = Environment()
    for name, value in VARIABLES.items():
        if is_sensitive_variable(name):
            env.add_secrets([value], shown_as([name]))
    for config in loaded.values():
        for d in config.desired if config else ():
            learn_desired_secrets(env, d)
    env.add_secrets(s for objects in REMOTE.values() for r in objects for s in secret_values(r))
    remote = {name: [dict(r) for r in objects] for name, objects in REMOTE.items() if loaded.get(name)}
    plan = build_plan(KINDS, loaded, remote, prune=True, key=KEY)
    plan = dataclasses.replace(plan.redacted(env.secrets), target="https://api.example", key=KEY)
    return {
        "saved": json_document(plan.to_dict()),
        "text": TextRenderer().render(plan),
        "markdown": MarkdownRenderer().render(plan),
    }


def test_the_fixed_project_plans_exactly_as_pinned(in_tmp: Path) -> None:
    now = computed(in_tmp)
    for value in now.values():
        for secret in (*VARIABLES.values(), "old-secret-999999"):
            if secret != "Austin":
                assert secret not in value
    if not PINNED.exists():  # re-pinning is a deliberate act: write, fail, review, commit
        PINNED.write_text(json.dumps(now, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        pytest.fail(f"wrote {PINNED}: review it and commit it")
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    assert now["saved"] == pinned["saved"]
    assert now["text"] == pinned["text"]
    assert now["markdown"] == pinned["markdown"]
    saved = json.loads(now["saved"])
    assert saved["summary"] == {"add": 2, "change": 3, "destroy": 1}

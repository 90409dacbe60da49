"""`revox-sync import` end to end: the real CLI against the emulator over loopback, real files in tmp dirs."""

# ruff: noqa: F811  (pytest fixtures imported from emulator_fixtures are redefined as test arguments)

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY, emulator  # noqa: F401

from revox_sync.cli import main
from revox_sync.emulator import EmulatorServer
from revox_sync.importer.comments import with_suggestions
from revox_sync.importer.layout import slugify
from revox_sync.importer.style import guess_indent
from revox_sync.kinds.assistant.load import load_directory
from revox_sync.output import Environment

LLM_KEY = "sk-live-TOPSECRET-0123456789"
HEADER_TOKEN = "Bearer crm-TOPSECRET-abcdef"
PROMPT = (
    "# Rôle\n"
    "Tu es Zoë, la réceptionniste de « Lakeside » 🌊.\n"
    "Say the text ${not_a_variable} literally, and $${this} too.\n"
    "\n"
    "  - an indented line with trailing spaces   \n"
    "日本語のテキスト\n"
)

RECEPTION = {
    "name": "Réception Zoë — Lakeside",
    "prompt": PROMPT,
    "first_sentence": "Bonjour ${first_name}, ici Zoë!",
    "first_sentence_mode": "static",
    "voice": {
        "provider": "cartesia",
        "id": "a0e99841-438c-4a64-b679-ae501e7d6091",
        "speed": 1.1,
        "model": "sonic-3",
    },
    "llm_model": {
        "type": "custom",
        "api_url": "https://llm.example.com/v1",
        "model_name": "llama-3.3-70b",
        "api_key": LLM_KEY,
    },
    "custom_tools": [
        {
            "name": "crm_lookup",
            "description": "Find the caller in the CRM",
            "url": "https://crm.example.com/lookup",
            "method": "POST",
            "headers": [{"key": "Authorization", "value": HEADER_TOKEN}],
            "query_params": [],
            "input_schema": [{"name": "phone", "type": "string", "required": True, "description": None}],
            "body_template": None,
        }
    ],
    "transfer_destinations": [
        {"label": "Front desk", "phone_number": "+14155550142"},
        {"label": "Billing", "phone_number": "+14155550187"},
    ],
    "human_transfer_mode": "warm",
    "warm_transfer_summary_instructions": "Give the caller's name and reason in one sentence.",
    "faq_items": [
        {
            "id": "faq_1",
            "question": "What are your hours?",
            "answer": "8am–6pm",
            "source": "human",
            "needs_human_answer": False,
        },
        {
            "id": "faq_3",
            "question": "  Tricky: text?",
            "answer": " starts with a space\n\tthen a tab line  \n\n${literal}\n\n",
            "source": "human",
            "needs_human_answer": False,
        },
        {
            "id": "faq_2",
            "question": "Where are you?",
            "answer": "120 Harbor St.",
            "source": "human",
            "needs_human_answer": False,
        },
    ],
    "structured_output_config": [
        {"name": "email", "type": "string", "required": True, "description": "Confirmed email"},
        {
            "name": "budget",
            "type": "enum",
            "required": False,
            "enum_options": ["low", "high"],
            "description": None,
        },
    ],
    "structured_output_prompt": "Extract the fields.\nUse null when unknown.\n",
    "after_call_sms_prompt": "Send a short thank-you note.\nMention the next step.",
    "after_call_sms_outcomes": ["interested", "completed"],
    "sms_enabled": True,
    "call_retry_config": {
        "allowed_days": ["monday", "wednesday", "saturday"],
        "call_twice_in_a_row": True,
        "calling_windows": [
            {
                "calling_window_start_time": "9am",
                "calling_window_end_time": "5:30pm",
                "retry_delay_seconds": 3600,
            },
            {
                "calling_window_start_time": "6pm",
                "calling_window_end_time": "8pm",
                "retry_delay_seconds": 7200,
            },
        ],
        "max_retry_attempts": 4,
        "timezone": "Europe/Paris",
    },
    "stt_context": {"general": [{"key": "domain", "value": "dentistry"}], "terms": ["Zoë", "Lakeside"]},
    "max_call_duration_secs": 300,
    "thinking_sound": "keyboard-typing.ogg",
    "background_sound": "audio/office.ogg",
    "webhook_url": "https://hooks.example.com/revox",
    "voicemail_message": "Line one.\nLine two with ${x} and $${y}.",
    "end_of_call_sentence": "yes",
    "email_notification_address": "ops@example.com",
    "email_notification_outcomes": ["completed"],
    "position": {"x": 1, "y": 2.5},
}

PLAIN = {
    "name": "Sales qualifier",
    "prompt": "You qualify leads.",
    "voice": {"provider": "elevenlabs", "id": "21m00Tcm4TlvDq8ikWAM", "speed": 1.0},
}

SLUG = "reception-zoe-lakeside"
LLM_VAR = "REVOX_RECEPTION_ZOE_LAKESIDE_LLM_API_KEY"
HEADER_VAR = "REVOX_RECEPTION_ZOE_LAKESIDE_CRM_LOOKUP_AUTHORIZATION"


def run(server: EmulatorServer, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err, color=False)
    code = main(["--base-url", server.url, "--api-key", API_KEY, *args], env)
    return code, out.getvalue(), err.getvalue()


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def unified(before: str, after: str) -> list[str]:
    """The changed lines of a diff, '-old' / '+new'."""
    import difflib

    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


@pytest.fixture
def seeded(emulator: EmulatorServer) -> dict[str, str]:
    reception = emulator.state.seed_assistant(RECEPTION)
    emulator.state.add_faq_suggestion(reception["id"], 'Do you open on Sundays? (say "yes")')
    emulator.state.add_faq_suggestion(reception["id"], "Do you take ${cards}?")
    plain = emulator.state.seed_assistant(PLAIN)
    return {"reception": reception["id"], "plain": plain["id"]}


@pytest.fixture
def secrets_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LLM_VAR, LLM_KEY)
    monkeypatch.setenv(HEADER_VAR, HEADER_TOKEN)


# --- a fresh import --------------------------------------------------------------------------------------
def test_import_all_then_plan_shows_no_changes(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path, secrets_set: None
) -> None:
    config = tmp_path / "assistants"
    code, out, err = run(emulator, "import", "-d", str(config), "--all")
    assert code == 0, err
    assert (config / f"{SLUG}.yaml").is_file()
    assert (config / "sales-qualifier.yaml").is_file()
    written = [
        f"{SLUG}.yaml",
        f"prompts/{SLUG}.md",
        f"prompts/{SLUG}.structured-output.md",
        f"prompts/{SLUG}.sms.md",
        "sales-qualifier.yaml",
        "prompts/sales-qualifier.md",
    ]
    assert out.split("\n\n")[0].splitlines() == [f"created {config / name}" for name in written]
    code, out, err = run(emulator, "plan", "-d", str(config), "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes" in out


def test_imported_file_layout(emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    assert run(emulator, "import", "-d", str(config), "--all")[0] == 0
    text = (config / f"{SLUG}.yaml").read_text(encoding="utf-8")
    keys = [line.split(":")[0] for line in text.splitlines() if line[:1].isalpha()]
    assert keys[:6] == ["name", "id", "prompt", "voice", "first_sentence", "first_sentence_mode"]
    assert f"id: {seeded['reception']}" in text
    # long text lives in prompts/, written byte for byte (no newline added, no escaping)
    assert f"prompt: !file prompts/{SLUG}.md" in text
    assert (config / "prompts" / f"{SLUG}.md").read_bytes() == PROMPT.encode()
    assert (config / "prompts" / f"{SLUG}.structured-output.md").read_text(encoding="utf-8") == (
        RECEPTION["structured_output_prompt"]
    )
    assert (config / "prompts" / f"{SLUG}.sms.md").is_file()
    # a literal ${ in a YAML scalar is escaped
    assert "first_sentence: Bonjour $${first_name}, ici Zoë!" in text
    # defaults left out, top level and nested
    for absent in (
        "ivr_navigation_enabled",
        "stt_model",
        "llm_model:\n  type: dedicated",
        "speed: 1.0",
        "model: sonic-3",
    ):
        assert absent not in text
    for absent in ("body_template", "query_params", "source:", "needs_human_answer", "faq_1", "created_at"):
        assert absent not in text
    plain = (config / "sales-qualifier.yaml").read_text(encoding="utf-8")
    assert "speed" not in plain and "type:" not in plain and "first_sentence_mode" not in plain
    # the loader reads every file back without error
    loaded, _ = load_directory(config, variables={LLM_VAR: "x", HEADER_VAR: "y"})
    assert {a.name for a in loaded} == {RECEPTION["name"], PLAIN["name"]}


def test_secrets_become_placeholders_and_are_never_written(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "cfg"
    code, out, err = run(emulator, "import", "-d", str(config), "--all")
    assert code == 0
    for content in [*snapshot(config).values(), out.encode(), err.encode()]:
        assert b"TOPSECRET" not in content
    text = (config / f"{SLUG}.yaml").read_text(encoding="utf-8")
    assert f'api_key: "${{{LLM_VAR}}}"' in text
    assert f'value: "${{{HEADER_VAR}}}"' in text
    assert LLM_VAR in out and HEADER_VAR in out
    assert "Set these environment variables" in out


def test_ai_faq_suggestions_are_commented_out_and_announced(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path, secrets_set: None
) -> None:
    config = tmp_path / "cfg"
    code, _, err = run(emulator, "import", "-d", str(config), "--all")
    assert code == 0
    text = (config / f"{SLUG}.yaml").read_text(encoding="utf-8")
    assert '  # - question: "Do you open on Sundays? (say \\"yes\\")"\n  #   answer: ""\n' in text
    assert '# - question: "Do you take $${cards}?"' in text
    assert "2 FAQ item(s) suggested by Revox" in err
    # uncommenting and answering one makes it desired state
    answered = text.replace('  # - question: "Do you take $${cards}?"\n  #   answer: ""\n', "")
    answered = answered.replace(
        '  # - question: "Do you open on Sundays? (say \\"yes\\")"\n  #   answer: ""\n',
        '  - question: "Do you open on Sundays? (say \\"yes\\")"\n    answer: "No."\n',
    )
    (config / f"{SLUG}.yaml").write_text(answered, encoding="utf-8")
    loaded, _ = load_directory(config)
    faq = next(a for a in loaded if a.id == seeded["reception"]).data["faq_items"]
    assert {"question": 'Do you open on Sundays? (say "yes")', "answer": "No."} in faq
    assert len(faq) == 4


def test_only_suggestions_are_written_as_a_commented_key(emulator: EmulatorServer, tmp_path: Path) -> None:
    created = emulator.state.seed_assistant(PLAIN)
    emulator.state.add_faq_suggestion(created["id"], "Can I pay by card?")
    config = tmp_path / "cfg"
    assert run(emulator, "import", "-d", str(config), "--all")[0] == 0
    text = (config / "sales-qualifier.yaml").read_text(encoding="utf-8")
    assert '# faq_items:\n#   - question: "Can I pay by card?"\n#     answer: ""\n' in text
    assert run(emulator, "plan", "-d", str(config), "--detailed-exitcode")[0] == 0


# --- re-import -----------------------------------------------------------------------------------------
def test_reimport_after_remote_edit_changes_exactly_that_value_and_keeps_comments(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path, secrets_set: None
) -> None:
    config = tmp_path / "cfg"
    assert run(emulator, "import", "-d", str(config), "--all")[0] == 0
    path = config / f"{SLUG}.yaml"
    edited = path.read_text(encoding="utf-8").replace(
        "  speed: 1.1\n", "  # tuned after the pilot\n  speed: 1.1  # lively\n"
    )
    edited = edited.replace(
        "human_transfer_mode: warm\n", "# warm: the desk wants context\nhuman_transfer_mode: warm\n"
    )
    path.write_text(edited, encoding="utf-8")
    before = snapshot(config)

    emulator.state.assistants[seeded["reception"]]["voice"]["speed"] = 1.25
    code, out, err = run(emulator, "import", "-d", str(config), "--all", "--overwrite")
    assert code == 0, err
    assert out == f"updated {path}\nunchanged {config / 'sales-qualifier.yaml'}\n"
    after = path.read_text(encoding="utf-8")
    # the end-of-line comment keeps its column
    assert unified(edited, after) == ["-  speed: 1.1  # lively", "+  speed: 1.25 # lively"]
    assert {k: v for k, v in snapshot(config).items() if k != f"{SLUG}.yaml"} == {
        k: v for k, v in before.items() if k != f"{SLUG}.yaml"
    }
    assert run(emulator, "plan", "-d", str(config), "--detailed-exitcode")[0] == 0


def test_reimport_many_edits_minimal_diff_then_in_sync(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path, secrets_set: None
) -> None:
    config = tmp_path / "cfg"
    assert run(emulator, "import", "-d", str(config), "--all")[0] == 0
    path = config / f"{SLUG}.yaml"
    before = path.read_text(encoding="utf-8")
    record = emulator.state.assistants[seeded["reception"]]
    record["prompt"] = "A new prompt.\nWith ${braces}.\n"
    record["call_retry_config"]["calling_windows"][1]["calling_window_end_time"] = "21:00"
    record["faq_items"].append(
        {
            "id": "f9",
            "question": "Parking?",
            "answer": "Behind the building",
            "source": "human",
            "needs_human_answer": False,
        }
    )
    record["transfer_destinations"] = [d for d in record["transfer_destinations"] if d["label"] != "Billing"]
    record["ivr_navigation_enabled"] = True
    code, _, err = run(emulator, "import", "-d", str(config), "--all", "--overwrite")
    assert code == 0, err
    after = path.read_text(encoding="utf-8")
    assert sorted(unified(before, after)) == sorted(
        [
            "-      calling_window_end_time: 8pm",
            '+      calling_window_end_time: "21:00"',
            "-  - label: Billing",
            '-    phone_number: "+14155550187"',
            "+  - question: Parking?",
            "+    answer: Behind the building",
            "+ivr_navigation_enabled: true",
        ]
    ), unified(before, after)
    assert (config / "prompts" / f"{SLUG}.md").read_text(encoding="utf-8") == record["prompt"]
    assert run(emulator, "plan", "-d", str(config), "--detailed-exitcode")[0] == 0
    # a second re-import is a no-op
    snap = snapshot(config)
    code, out, _ = run(emulator, "import", "-d", str(config), "--all")
    assert code == 0 and "updated" not in out and "created" not in out
    assert snapshot(config) == snap


def test_reimport_without_overwrite_refuses_and_changes_nothing(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "cfg"
    assert run(emulator, "import", "-d", str(config), "--all")[0] == 0
    before = snapshot(config)
    emulator.state.assistants[seeded["reception"]]["prompt"] = "changed"
    emulator.state.assistants[seeded["plain"]]["first_sentence"] = "Hi!"
    emulator.state.seed_assistant({"name": "Brand new", "prompt": "new"})
    code, _, err = run(emulator, "import", "-d", str(config), "--all")
    assert code == 1
    assert "--overwrite" in err and "sales-qualifier.yaml" in err and f"{SLUG}.md" in err
    assert snapshot(config) == before  # not even the new assistant's file


def test_reimport_keeps_variable_references_and_unset_secrets(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cfg"
    assert run(emulator, "import", "-d", str(config), "--all")[0] == 0
    path = config / "sales-qualifier.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "prompt: !file prompts/sales-qualifier.md", "prompt: ${SALES_PROMPT:-You qualify leads.}"
    )
    path.write_text(text, encoding="utf-8")
    emulator.state.assistants[seeded["reception"]]["voice"]["speed"] = 0.9
    # the secret variables are not set: their references stay, nothing is written in their place
    code, out, err = run(emulator, "import", "-d", str(config), "--all", "--overwrite")
    assert code == 0, err
    assert path.read_text(encoding="utf-8") == text
    reception = (config / f"{SLUG}.yaml").read_text(encoding="utf-8")
    assert f'"${{{LLM_VAR}}}"' in reception and f'"${{{HEADER_VAR}}}"' in reception
    assert "TOPSECRET" not in reception
    assert LLM_VAR in out and HEADER_VAR in out  # still to be set before a plan
    # a set variable that no longer matches the remote is reported, never replaced by the value
    monkeypatch.setenv(LLM_VAR, "sk-old")
    monkeypatch.setenv(HEADER_VAR, HEADER_TOKEN)
    code, _, err = run(emulator, "import", "-d", str(config), "--all", "--overwrite")
    assert code == 0
    assert LLM_VAR in err and "update the variable" in err
    assert "TOPSECRET" not in (config / f"{SLUG}.yaml").read_text(encoding="utf-8")


def test_file_without_id_matching_by_name_is_updated_in_place(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    mine = config / "qualifier.yml"
    mine.write_text(
        "# my qualifier\nname: Sales qualifier\nprompt: You qualify leads.  # short on purpose\n",
        encoding="utf-8",
    )
    code, _, err = run(emulator, "import", "-d", str(config), "Sales qualifier", "--overwrite")
    assert code == 0, err
    assert not (config / "sales-qualifier.yaml").exists()
    assert mine.read_text(encoding="utf-8").startswith(
        "# my qualifier\nname: Sales qualifier\nprompt: You qualify leads.  # short on purpose\n"
    )
    assert "voice:" in mine.read_text(encoding="utf-8")


def test_file_pinned_through_a_variable_is_updated_in_place(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [sales] = [a for a in emulator.state.list_assistants() if a["name"] == "Sales qualifier"]
    monkeypatch.setenv("SALES_ID", sales["id"])
    config = tmp_path / "cfg"
    config.mkdir()
    mine = config / "mine.yaml"
    mine.write_text("id: ${SALES_ID}\nname: Sales qualifier\nprompt: old\n", encoding="utf-8")
    code, _, err = run(emulator, "import", "-d", str(config), "Sales qualifier", "--overwrite")
    assert code == 0, err
    assert sorted(p.name for p in config.glob("*.yaml")) == ["mine.yaml"]
    assert mine.read_text(encoding="utf-8").startswith("id: ${SALES_ID}\nname: Sales qualifier\n")


# --- names, selection, safety -----------------------------------------------------------------------------
def test_same_name_and_same_slug_get_distinct_files(emulator: EmulatorServer, tmp_path: Path) -> None:
    a = emulator.state.seed_assistant({"name": "Support", "prompt": "a"})
    b = emulator.state.seed_assistant({"name": "Support", "prompt": "b"})
    c = emulator.state.seed_assistant({"name": "support!", "prompt": "c"})
    config = tmp_path / "cfg"
    code, _, err = run(emulator, "import", "-d", str(config), "--all")
    assert code == 0
    files = sorted(p.name for p in config.glob("*.yaml"))
    assert files == ["support-2.yaml", "support-3.yaml", "support.yaml"]
    ids = {p.read_text(encoding="utf-8").split("id: ")[1].split("\n")[0] for p in config.glob("*.yaml")}
    assert ids == {a["id"], b["id"], c["id"]}
    prompts = {p.read_text(encoding="utf-8") for p in (config / "prompts").glob("*.md")}
    assert prompts == {"a", "b", "c"}
    assert '2 assistants are named "Support"' in err


def test_existing_unrelated_files_are_never_overwritten(emulator: EmulatorServer, tmp_path: Path) -> None:
    emulator.state.seed_assistant({"name": "Support", "prompt": "a"})
    config = tmp_path / "cfg"
    (config / "prompts").mkdir(parents=True)
    (config / "support.yaml").write_text("name: [broken\n", encoding="utf-8")
    (config / "prompts" / "support-2.md").write_text("someone else's", encoding="utf-8")
    before = snapshot(config)
    code, _, err = run(emulator, "import", "-d", str(config), "--all")
    assert code == 0
    assert "support.yaml is not readable YAML" in err
    after = snapshot(config)
    assert {k: after[k] for k in before} == before
    assert "support-3.yaml" in after and after["prompts/support-3.md"] == b"a"


def test_import_by_name_or_id(emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    code, _, _ = run(emulator, "import", "-d", str(config), seeded["reception"])
    assert code == 0
    assert sorted(p.name for p in config.glob("*.yaml")) == [f"{SLUG}.yaml"]
    code, _, _ = run(emulator, "import", "-d", str(config), "Sales qualifier")
    assert code == 0
    assert sorted(p.name for p in config.glob("*.yaml")) == [f"{SLUG}.yaml", "sales-qualifier.yaml"]


def test_unknown_name_is_an_error_and_writes_nothing(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "cfg"
    code, _, err = run(emulator, "import", "-d", str(config), "Sales qualifier", "Nope", "asst_missing")
    assert code == 1
    assert '"Nope"' in err and '"asst_missing"' in err
    assert "Traceback" not in err
    assert not config.exists()


def test_all_and_names_are_exclusive(emulator: EmulatorServer, tmp_path: Path) -> None:
    assert run(emulator, "import", "-d", str(tmp_path), "--all", "x")[0] == 1
    assert run(emulator, "import", "-d", str(tmp_path))[0] == 1


def test_with_defaults_writes_every_field_and_still_plans_clean(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path, secrets_set: None
) -> None:
    config = tmp_path / "cfg"
    assert run(emulator, "import", "-d", str(config), "--all", "--with-defaults")[0] == 0
    text = (config / "sales-qualifier.yaml").read_text(encoding="utf-8")
    for present in (
        "ivr_navigation_enabled: false",
        "stt_model: stt-rt-v5",
        "speed: 1.0",
        "max_retry_attempts: 3",
    ):
        assert present in text
    assert run(emulator, "plan", "-d", str(config), "--detailed-exitcode")[0] == 0


def test_unknown_remote_fields_are_skipped_with_one_warning(emulator: EmulatorServer, tmp_path: Path) -> None:
    emulator.state.seed_assistant({**PLAIN, "name": "A", "new_feature": 1})
    emulator.state.seed_assistant({**PLAIN, "name": "B", "new_feature": 2})
    config = tmp_path / "cfg"
    code, _, err = run(emulator, "import", "-d", str(config), "--all")
    assert code == 0
    assert err.count("new_feature") == 1
    assert "new_feature" not in (config / "a.yaml").read_text(encoding="utf-8")
    assert run(emulator, "plan", "-d", str(config), "--detailed-exitcode")[0] == 0


def test_writes_leave_no_temporary_files(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "cfg"
    assert run(emulator, "import", "-d", str(config), "--all")[0] == 0
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert all(str(p).startswith(str(config)) for p in tmp_path.rglob("*") if p.is_file())


def test_git_diff_of_reimport_is_one_line(
    emulator: EmulatorServer, seeded: dict[str, str], tmp_path: Path
) -> None:
    """What a reviewer sees: `git diff` after a dashboard edit and a re-import."""
    config = tmp_path / "cfg"
    assert run(emulator, "import", "-d", str(config), "--all")[0] == 0
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "import"], check=True)
    emulator.state.assistants[seeded["plain"]]["voice"]["speed"] = 1.15
    assert run(emulator, "import", "-d", str(config), "--all", "--overwrite")[0] == 0
    diff = subprocess.run(
        [*git, "diff", "-U0", "--no-color"], check=True, capture_output=True, text=True
    ).stdout
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == ["+  speed: 1.15"]


# --- pure helpers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Sales qualifier", "sales-qualifier"),
        ("Réception Zoë — Lakeside!", "reception-zoe-lakeside"),
        ("日本語", "assistant"),
        ("  --  ", "assistant"),
        ("A" * 100, "a" * 60),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_guess_indent() -> None:
    assert guess_indent("a:\n  b: 1\nc:\n  - x\n") == (2, 2)
    assert guess_indent("a:\n    b: 1\nc:\n- x\n") == (4, 0)


def test_suggestion_block_is_replaced_not_duplicated() -> None:
    text = "name: x\nfaq_items:\n  - question: a\n    answer: b\n"
    once = with_suggestions(text, ["q1"])
    assert with_suggestions(once, ["q1"]) == once
    assert with_suggestions(once, []) == text
    assert "q2" in with_suggestions(once, ["q2"]) and "q1" not in with_suggestions(once, ["q2"])


def test_reimport_of_hand_written_examples_changes_nothing(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository's example files, applied, then re-imported: every file stays byte-identical."""
    import shutil

    config = tmp_path / "assistants"
    shutil.copytree(Path(__file__).parent.parent / "assistants", config)
    monkeypatch.setenv("COLLECTIONS_LLM_API_KEY", "sk-collections-0123456789")  # custom-llm.yaml's key
    code, _, err = run(emulator, "apply", "-d", str(config), "--auto-approve")
    assert code == 0, err
    before = snapshot(config)
    code, out, err = run(emulator, "import", "-d", str(config), "--all")
    assert code == 0, err
    assert "created" not in out and "updated" not in out
    assert snapshot(config) == before
    # a dashboard edit then lands in the hand-written file as one changed line
    record = next(a for a in emulator.state.assistants.values() if a["name"] == "Sales qualifier")
    record["voice"]["speed"] = 1.2
    code, _, err = run(emulator, "import", "-d", str(config), "--all", "--overwrite")
    assert code == 0, err
    path = config / "sales-qualifier.yaml"
    assert unified(before["sales-qualifier.yaml"].decode(), path.read_text(encoding="utf-8")) == [
        "-  speed: 1.05",
        "+  speed: 1.2",
    ]

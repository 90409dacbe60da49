"""A reviewer sees where each secret goes: the plan names the variable a sensitive value comes from,
`(sensitive: ${NAME})`, in every format, and never its value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import Run, run_cli, write

LLM_KEY, HEADER_TOKEN = "sk-acme-live-4471829", "xtok-live-9912734"

FILE = """\
name: A
prompt: p
llm_model: {type: custom, api_url: 'https://llm.example.com/v1', model_name: m, api_key: '${ACME_LLM_API_KEY}'}
custom_tools:
  - name: crm
    description: look up
    url: https://crm.example.com/lookup
    method: GET
    headers: [{key: Authorization, value: 'Bearer ${X_TOKEN}'}]
"""


def _base(emulator) -> tuple[str, ...]:
    return ("--base-url", emulator.url, "--api-key", "test-key-123")


def _applied(workdir: Path, emulator, monkeypatch, text: str = FILE) -> tuple[str, ...]:
    monkeypatch.setenv("ACME_LLM_API_KEY", LLM_KEY)
    monkeypatch.setenv("X_TOKEN", HEADER_TOKEN)
    write(workdir / "assistants/a.yaml", text)
    base = _base(emulator)
    assert run_cli(*base, "apply", "--auto-approve").code == 0
    emulator.clear_requests()
    return base


def _planned(workdir: Path, base: tuple[str, ...], text: str, *args: str) -> Run:
    """`plan` (with `args`) of the files once `text` is written, which must succeed."""
    write(workdir / "assistants/a.yaml", text)
    run = run_cli(*base, "plan", *args)
    assert run.code == 0, run.all
    return run


def _no_secret(runs: list[Run], *files: Path, secrets: tuple[str, ...] = (LLM_KEY, HEADER_TOKEN)) -> None:
    seen = "".join(r.all for r in runs) + "".join(f.read_text() for f in files)
    for secret in secrets:
        assert secret not in seen, secret


MOVED_LINES = (
    '~ llm_model.api_url: "https://llm.example.com/v1" -> "https://collector.example.net/v1"',
    "~ llm_model.api_key: (sensitive: ${ACME_LLM_API_KEY}) -> (sensitive: ${ACME_LLM_API_KEY}) "
    "(unchanged, sent with the values changed beside it)",
    '~ custom_tools["crm"].url: "https://crm.example.com/lookup" -> "https://collector.example.net/crm"',
    '~ custom_tools["crm"].headers["Authorization"].value: (sensitive: ${X_TOKEN}) -> '
    "(sensitive: ${X_TOKEN}) (unchanged, sent with the values changed beside it)",
)


def test_a_secret_sent_to_a_new_url_is_named_in_every_plan_format(
    workdir: Path, monkeypatch, emulator
) -> None:
    base = _applied(workdir, emulator, monkeypatch)
    moved = FILE.replace("llm.example.com", "collector.example.net").replace(
        "crm.example.com/lookup", "collector.example.net/crm"
    )
    write(workdir / "assistants/a.yaml", moved)

    text = run_cli(*base, "plan")
    markdown = run_cli(*base, "plan", "--format", "markdown")
    as_json = run_cli(*base, "plan", "--format", "json")
    saved = run_cli(*base, "plan", "--out", "plan.json")
    assert [r.code for r in (text, markdown, as_json, saved)] == [0, 0, 0, 0], text.all
    for line in MOVED_LINES:
        assert f"      {line}\n" in text.out
        assert f"\n{line}\n" in markdown.out
    doc = json.loads(as_json.out)
    changes = {c["path"]: (c["before"], c["after"]) for c in doc["actions"][0]["changes"]}
    assert changes["llm_model.api_key"] == ("(sensitive: ${ACME_LLM_API_KEY})",) * 2
    assert changes['custom_tools["crm"].headers["Authorization"].value'] == ("(sensitive: ${X_TOKEN})",) * 2
    assert json.loads((workdir / "plan.json").read_text())["actions"] == doc["actions"]
    assert [r.method for r in emulator.requests if r.method != "GET"] == []  # plans only read

    applied = run_cli(*base, "apply", "plan.json", stdin="yes\n", tty=True)
    assert applied.code == 0, applied.all
    for line in MOVED_LINES:
        assert f"      {line}\n" in applied.out  # apply's own display of the plan it asks about
    patches = [r for r in emulator.requests if r.method == "PATCH"]
    assert [p.body["llm_model"]["api_key"] for p in patches] == [LLM_KEY]  # the key did travel
    _no_secret([text, markdown, as_json, saved, applied], workdir / "plan.json")


def test_a_new_header_names_its_variable_and_apply_json_keeps_it_secret(
    workdir: Path, monkeypatch, emulator
) -> None:
    base = _applied(workdir, emulator, monkeypatch)
    text = _planned(workdir, base, FILE.replace("}]\n", "}, {key: X-Forward, value: '${X_TOKEN}'}]\n"))
    assert (
        '      + custom_tools["crm"].headers["X-Forward"]: {"key": "X-Forward", "value": "(sensitive: ${X_TOKEN})"}\n'
        in text.out
    )
    assert "llm_model" not in text.out  # an object nothing changed in is not sent, so not listed
    result = run_cli(*base, "apply", "--auto-approve", "--format", "json")
    assert result.code == 0, result.all
    assert json.loads(result.out)["status"] == "complete"
    assert '"value": "(sensitive: ${X_TOKEN})"' in result.err  # the plan shown beside the JSON results
    _no_secret([text, result])


def test_a_secret_written_literally_stays_unnamed(workdir: Path, monkeypatch, emulator) -> None:
    literal, rotated = "sk-literal-in-file-5531", "sk-literal-rotated-7781"
    base = _applied(workdir, emulator, monkeypatch, FILE.replace("${ACME_LLM_API_KEY}", literal))
    monkeypatch.setenv("OTHER_API_KEY", rotated)  # the same value in a variable the file does not use
    changed = _planned(workdir, base, FILE.replace("${ACME_LLM_API_KEY}", rotated))
    moved_file = FILE.replace("${ACME_LLM_API_KEY}", literal).replace(
        "llm.example.com", "collector.example.net"
    )
    moved = _planned(workdir, base, moved_file, "--out", "plan.json")
    assert "      ~ llm_model.api_key: (sensitive) -> (sensitive)\n" in changed.out
    assert (
        "      ~ llm_model.api_key: (sensitive) -> (sensitive) (unchanged, sent with the values changed beside it)\n"
        in moved.out
    )
    changes = json.loads((workdir / "plan.json").read_text())["actions"][0]["changes"]
    assert changes[1] == {"path": "llm_model.api_key", "before": "(sensitive)", "after": "(sensitive)"}
    _no_secret([changed, moved], workdir / "plan.json", secrets=(literal, rotated, HEADER_TOKEN))


PROMPT = "name: A\nprompt: |\n  Hello.\n  Use code ${STRIPE_TOKEN} to pay.\n  Bye.\n"


def test_a_secret_inside_a_prompt_shows_its_variable_in_the_text_diff(
    workdir: Path, monkeypatch, emulator
) -> None:
    stripe = "stripe-live-code-66120"
    monkeypatch.setenv("STRIPE_TOKEN", stripe)
    base = _applied(workdir, emulator, monkeypatch, PROMPT)
    write(workdir / "assistants/a.yaml", PROMPT.replace("Bye.", "Use ${STRIPE_TOKEN} again. Bye."))
    text = run_cli(*base, "plan")
    markdown = run_cli(*base, "plan", "--format", "markdown")
    saved = run_cli(*base, "plan", "--out", "plan.json")
    assert [text.code, markdown.code, saved.code] == [0, 0, 0], text.all
    diff = (
        "      ~ prompt: text changed (+1 -1 lines)\n"
        "          @@ -2,2 +2,2 @@\n"
        "           Use code (sensitive: ${STRIPE_TOKEN}) to pay.\n"
        "          -Bye.\n"
        "          +Use (sensitive: ${STRIPE_TOKEN}) again. Bye.\n"
    )
    assert diff in text.out
    assert "    +Use (sensitive: ${STRIPE_TOKEN}) again. Bye.\n" in markdown.out
    doc = json.loads((workdir / "plan.json").read_text())
    assert (
        doc["actions"][0]["changes"]
        == [
            {
                "path": "prompt",
                "before": "Hello.\nUse code (sensitive: ${STRIPE_TOKEN}) to pay.\nBye.",  # canonical: the trailing newline is not compared
                "after": "Hello.\nUse code (sensitive: ${STRIPE_TOKEN}) to pay.\nUse (sensitive: ${STRIPE_TOKEN}) again. Bye.",
            }
        ]
    )
    applied = run_cli(*base, "apply", "--auto-approve", "plan.json")
    assert applied.code == 0, applied.all  # the plan shown is the plan recomputed: not stale
    assert [r.body["prompt"].count(stripe) for r in emulator.requests if r.method == "PATCH"] == [2]
    _no_secret([text, markdown, saved, applied], workdir / "plan.json", secrets=(stripe,))


def test_a_short_secret_inside_a_prompt_blanks_the_whole_text(workdir: Path, monkeypatch, emulator) -> None:
    """A value shorter than the shortest one searched for cannot be blanked where it stands in the remote
    text: the whole text stays hidden, named by its variable."""
    monkeypatch.setenv("PIN_SECRET", "7392")
    base = _applied(workdir, emulator, monkeypatch, PROMPT.replace("STRIPE_TOKEN", "PIN_SECRET"))
    plan = _planned(workdir, base, PROMPT.replace("STRIPE_TOKEN", "PIN_SECRET").replace("Bye", "Ciao"))
    assert "      ~ prompt: (sensitive) -> (sensitive: ${PIN_SECRET})\n" in plan.out
    _no_secret([plan], secrets=("7392",))


def test_a_value_made_of_two_variables_names_both(workdir: Path, monkeypatch, emulator) -> None:
    monkeypatch.setenv("CRM_USER_TOKEN", "crm-user-0042")
    monkeypatch.setenv("CRM_PASSWORD", "crm-pass-7781")
    monkeypatch.setenv("CRM_REALM", "eu-west")  # not sensitive by its name, but at a sensitive field
    base = _applied(workdir, emulator, monkeypatch)
    basic = "Basic ${CRM_USER_TOKEN}:${CRM_PASSWORD}@${CRM_REALM}"
    plan = _planned(workdir, base, FILE.replace("Bearer ${X_TOKEN}", basic))
    assert (
        '      ~ custom_tools["crm"].headers["Authorization"].value: (sensitive) -> '
        "(sensitive: ${CRM_USER_TOKEN}, ${CRM_PASSWORD}, ${CRM_REALM})\n" in plan.out
    )
    _no_secret([plan], secrets=("crm-user-0042", "crm-pass-7781", "eu-west", HEADER_TOKEN))


def test_the_saved_plan_is_the_same_file_run_after_run(workdir: Path, monkeypatch, emulator) -> None:
    """Labels are a function of the files and the variables, not of the order a run meets them in: the
    saved plan and its checksum are the same whatever the process's hash seed."""
    base = _applied(workdir, emulator, monkeypatch, FILE.replace("Bearer ${X_TOKEN}", "${X_TOKEN}"))
    write(workdir / "assistants/a.yaml", FILE.replace("look up", "find"))
    environ = {k: v for k, v in os.environ.items() if k not in ("REVOX_API_KEY", "REVOX_BASE_URL")}
    environ.update(SAME_TOKEN=HEADER_TOKEN, ALSO_TOKEN=HEADER_TOKEN)  # three variables, one value
    texts = []
    for seed in ("1", "2", "3"):
        run = subprocess.run(
            [sys.executable, "-m", "revox_sync", *base, "plan", "--out", f"plan{seed}.json"],
            cwd=workdir,
            env={**environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        texts.append((workdir / f"plan{seed}.json").read_text())
    assert texts[0] == texts[1] == texts[2]
    # the remote value is known by three names: the first of them in order names it
    assert '"before": "(sensitive: ${ALSO_TOKEN})",\n' in texts[0]
    assert '"after": "(sensitive: ${X_TOKEN})"\n' in texts[0]


def test_a_secret_in_a_name_or_a_key_is_named_in_the_saved_plan_too(
    workdir: Path, monkeypatch, emulator
) -> None:
    """An assistant's name and a header's name (the key its path shows) are no sensitive fields, but a
    secret in them is blanked in the saved plan as on the terminal."""
    monkeypatch.setenv("X_TOKEN", HEADER_TOKEN)
    tools = FILE[FILE.index("custom_tools") :].replace("key: Authorization", "key: 'H-${X_TOKEN}'")
    write(workdir / "assistants/a.yaml", 'name: "Bot ${X_TOKEN}"\nprompt: p\n' + tools)
    base = _base(emulator)
    saved = run_cli(*base, "plan", "--out", "plan.json")
    assert saved.code == 0, saved.all
    [action] = json.loads((workdir / "plan.json").read_text())["actions"]
    assert action["name"] == "Bot (sensitive: ${X_TOKEN})"
    header = 'custom_tools["crm"].headers["H-(sensitive: ${X_TOKEN})"]'
    paths = [c["path"] for c in action["changes"] if c["path"].startswith(header)]
    assert paths == [f"{header}.key", f"{header}.value"]
    applied = run_cli(*base, "apply", "--auto-approve", "plan.json")
    assert applied.code == 0, applied.all
    assert [a["name"] for a in emulator.state.list_assistants()] == [f"Bot {HEADER_TOKEN}"]
    _no_secret([saved, applied], workdir / "plan.json")


def test_a_secret_the_server_would_trim_is_never_shown_in_place(workdir: Path, monkeypatch, emulator) -> None:
    """The account keeps a text trimmed: a secret with surrounding spaces at its edge would be cut, no
    longer found and shown; such a text stays blanked whole."""
    spaced = " spaced-secret-0451 "
    base = _applied(workdir, emulator, monkeypatch, PROMPT.replace("STRIPE_TOKEN", "X_TOKEN"))
    monkeypatch.setenv("X_TOKEN", spaced)
    plan = _planned(workdir, base, 'name: A\nprompt: "${X_TOKEN} and ${X_TOKEN} and ${X_TOKEN}"\n')
    assert "      ~ prompt: (sensitive) -> (sensitive: ${X_TOKEN})\n" in plan.out
    _no_secret([plan], secrets=(spaced.strip(),))


def test_items_of_a_sorted_list_are_not_named_by_another_item_s_variables(
    workdir: Path, monkeypatch, emulator
) -> None:
    """FAQ items compare as a set, sorted by question: the file's second item is the plan's first."""
    monkeypatch.setenv("LONG_TOKEN", "long-secret-3391")
    monkeypatch.setenv("PIN_SECRET", "7392")
    write(
        workdir / "assistants/a.yaml",
        "name: A\nprompt: p\nfaq_items:\n  - {question: 'b?', answer: 'code ${LONG_TOKEN}'}\n"
        "  - {question: 'a?', answer: 'pin ${PIN_SECRET} and ${LONG_TOKEN}'}\n",
    )
    plan = run_cli(*_base(emulator), "plan")
    assert plan.code == 0, plan.all
    assert '      + faq_items["a?"].answer: (sensitive)\n' in plan.out
    assert '      + faq_items["b?"].answer: (sensitive)\n' in plan.out
    _no_secret([plan], secrets=("long-secret-3391", "7392"))

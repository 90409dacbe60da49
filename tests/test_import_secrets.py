"""`import` never writes a known secret: the real CLI against the emulator, every written file grepped.

A known secret is the value of a sensitive variable (KEY, TOKEN, SECRET or PASSWORD in its name) of this run,
from the environment, `--var` or `--var-file`, and the run's own API key. Wherever such a value sits in a
remote assistant, the file gets a `${NAME}` placeholder, and a following `plan` with the variables set shows
no changes.
"""

from __future__ import annotations

import os
from pathlib import Path

from emulator_fixtures import API_KEY
from helpers import Run, write
from ruamel.yaml import YAML

from revox_sync.emulator import EmulatorServer

LLM_KEY = "sk-live-ACME-0123456789"  # environment, ACME_LLM_API_KEY
HOOK_TOKEN = "hk-9f8e7d6c5b4a"  # --var
CRM_SECRET = "crm-S3cr3t-value-77"  # --var-file
PROMO = "summer-promo-2024"  # environment, PROMO_SECRET
PROMO_GOLD = "summer-promo-2024-gold"  # environment, PROMO_TOKEN_EXT: overlaps PROMO, longer
SHORT = "ab"  # environment, XY_TOKEN: too short to look for
SECRETS = (LLM_KEY, HOOK_TOKEN, CRM_SECRET, PROMO, PROMO_GOLD, API_KEY)

PROMPT = f"You answer about the lab.\nNever read out {LLM_KEY} or {HOOK_TOKEN}.\n"
VAULT = {
    "name": "Vault desk",
    "prompt": PROMPT,
    "first_sentence": f"Your code: {PROMO_GOLD}.",
    "end_of_call_sentence": f"Pay US${PROMO}",  # a `$` right before the secret: no placeholder can follow it
    "voicemail_message": f"Quote {API_KEY} when you call back.",
    "webhook_url": f"https://hooks.example.com/t/{HOOK_TOKEN}",
    "precall_lookup_url": f"https://crm.example.com/lookup?phone={{{{phone}}}}&token={HOOK_TOKEN}",
    "llm_model": {
        "type": "custom",
        "api_url": "https://llm.example.com/v1",
        "model_name": "m",
        "api_key": LLM_KEY,
    },
    "custom_tools": [
        {
            "name": "crm_lookup",
            "description": "Find the caller",
            "url": f"https://crm.example.com/api/{CRM_SECRET}/lookup",
            "method": "POST",
            "headers": [
                {"key": "Authorization", "value": f"Bearer {CRM_SECRET}"},
                {"key": "X-Api-Key", "value": CRM_SECRET},
            ],
            "query_params": [{"key": "auth", "value": CRM_SECRET}],
            "input_schema": [],
            "body_template": f'{{"token": "{CRM_SECRET}", "phone": "{{{{phone}}}}"}}',
        }
    ],
    "faq_items": [
        {
            "id": "faq_1",
            "question": "Any discount?",
            "answer": f"Use code {PROMO} at checkout.",
            "source": "human",
            "needs_human_answer": False,
        }
    ],
}
PROMO_BOT = {"name": f"Promo {PROMO}", "prompt": "Announce the offer."}

VOICE = "voice:\n  provider: cartesia\n  id: a0e99841-438c-4a64-b679-ae501e7d6091\n"  # the emulator's default
PLACEHOLDERS_TO_SET = {  # variables the run did not have, listed by the command, with what a user sets
    "REVOX_API_KEY": API_KEY,
    "REVOX_VAULT_DESK_CRM_LOOKUP_AUTHORIZATION": f"Bearer {CRM_SECRET}",
    "REVOX_VAULT_DESK_END_OF_CALL_SENTENCE": f"Pay US${PROMO}",
}


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVOX_") and k != "NO_COLOR"}
    env.update(ACME_LLM_API_KEY=LLM_KEY, PROMO_SECRET=PROMO, PROMO_TOKEN_EXT=PROMO_GOLD, XY_TOKEN=SHORT)
    return {**env, **extra}


def written(root: Path, *skip: Path) -> dict[str, bytes]:
    """Every file under `root` (but `skip`): its path relative to root and its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p not in skip
    }


def assert_no_secret(files: dict[str, bytes], *runs: Run) -> None:
    for secret in SECRETS:
        for name, content in files.items():
            assert secret not in name, name
            assert secret.encode() not in content, (name, secret)
        for r in runs:
            assert secret not in r.all, secret


def assert_in_sync(plan: Run) -> None:
    """`plan --detailed-exitcode` found the files and the remote assistants equal."""
    assert plan.code == 0, plan.all
    assert "No changes." in plan.out


def listed_variables(out: str) -> list[str]:
    """The variable names of the 'Set these ...' list that import prints."""
    lines = out.split("Set these environment variables", 1)[1].splitlines()[1:]
    return [ln.split()[0] for ln in lines if ln.startswith("  ")]


def raw(path: Path) -> dict:
    """A file as YAML data, without the loader's interpolation: what is literally written."""
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_import_writes_a_placeholder_wherever_a_known_secret_sits(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    vault = emulator.state.seed_assistant(VAULT)
    emulator.state.add_faq_suggestion(vault["id"], f"Is {PROMO} still valid?")
    emulator.state.add_faq_suggestion(vault["id"], f"Is US${PROMO} too much?")
    emulator.state.seed_assistant(PROMO_BOT)
    var_file = write(in_tmp / "vars.yaml", f"CRM_SECRET: {CRM_SECRET}\n")
    args = ("--var", f"HOOK_TOKEN={HOOK_TOKEN}", "--var-file", str(var_file))

    imported = cli(*args, "import", "--all", environ=environ())

    assert imported.code == 0, imported.all
    files = written(in_tmp, var_file)
    assert_no_secret(files, imported)
    assert sorted(files) == [
        "assistants/promo-promo-secret.yaml",
        "assistants/prompts/promo-promo-secret.md",  # the file name holds the variable's name, not its value
        "assistants/vault-desk.yaml",
    ]
    doc = raw(in_tmp / "assistants/vault-desk.yaml")
    assert doc["prompt"] == (
        "You answer about the lab.\nNever read out ${ACME_LLM_API_KEY} or ${HOOK_TOKEN}.\n"
    )  # inline: text read with !file is not interpolated; the 2-character XY_TOKEN shreds nothing
    assert doc["first_sentence"] == "Your code: ${PROMO_TOKEN_EXT}."
    assert doc["end_of_call_sentence"] == "${REVOX_VAULT_DESK_END_OF_CALL_SENTENCE}"
    assert doc["voicemail_message"] == "Quote ${REVOX_API_KEY} when you call back."
    assert doc["webhook_url"] == "https://hooks.example.com/t/${HOOK_TOKEN}"
    assert doc["precall_lookup_url"] == "https://crm.example.com/lookup?phone={{phone}}&token=${HOOK_TOKEN}"
    assert doc["llm_model"]["api_key"] == "${ACME_LLM_API_KEY}"
    [tool] = doc["custom_tools"]
    assert tool["url"] == "https://crm.example.com/api/${CRM_SECRET}/lookup"
    assert tool["headers"] == [
        {"key": "Authorization", "value": "${REVOX_VAULT_DESK_CRM_LOOKUP_AUTHORIZATION}"},
        {"key": "X-Api-Key", "value": "${CRM_SECRET}"},
    ]
    assert tool["query_params"] == [{"key": "auth", "value": "${CRM_SECRET}"}]
    assert tool["body_template"] == '{"token": "${CRM_SECRET}", "phone": "{{phone}}"}'
    assert doc["faq_items"] == [
        {"question": "Any discount?", "answer": "Use code ${PROMO_SECRET} at checkout."}
    ]
    text = (in_tmp / "assistants/vault-desk.yaml").read_text(encoding="utf-8")
    assert '  # - question: "Is ${PROMO_SECRET} still valid?"\n' in text
    # a comment, and no placeholder can follow a `$`: the secret is blanked
    assert '  # - question: "Is US$(sensitive) too much?"\n' in text
    promo = (in_tmp / "assistants/promo-promo-secret.yaml").read_text(encoding="utf-8")
    assert '\nname: "Promo ${PROMO_SECRET}"\n' in promo
    assert sorted(listed_variables(imported.out)) == sorted(
        [
            "ACME_LLM_API_KEY",
            "CRM_SECRET",
            "HOOK_TOKEN",
            "PROMO_SECRET",
            "PROMO_TOKEN_EXT",
            *PLACEHOLDERS_TO_SET,
        ]
    )
    assert (
        "warning: the value of XY_TOKEN is shorter than 6 characters: import cannot tell it from ordinary "
        "text and leaves it where it occurs; check the written files\n"
    ) in imported.err

    assert_in_sync(cli(*args, "plan", "--detailed-exitcode", environ=environ(**PLACEHOLDERS_TO_SET)))


def test_reimport_turns_plaintext_secrets_of_existing_files_into_placeholders(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    vault = emulator.state.seed_assistant(
        {"name": "Vault desk", "prompt": PROMPT, "webhook_url": VAULT["webhook_url"]}
    )
    # files as an older import wrote them: the prompt in a !file text, the URL in the YAML, both in plaintext
    md = write(in_tmp / "assistants/prompts/vault-desk.md", PROMPT)
    yaml_path = write(
        in_tmp / "assistants/vault-desk.yaml",
        f"name: Vault desk  # the front desk\nid: {vault['id']}\nprompt: !file prompts/vault-desk.md\n"
        f"{VOICE}webhook_url: {VAULT['webhook_url']}\n",
    )
    args = ("--var", f"HOOK_TOKEN={HOOK_TOKEN}")

    refused = cli(*args, "import", "--all", environ=environ())
    assert refused.code == 1
    assert "pass --overwrite" in refused.err

    emulator.state.assistants[vault["id"]]["first_sentence"] = f"Hello, {PROMO}!"
    imported = cli(*args, "import", "--all", "--overwrite", environ=environ())

    assert imported.code == 0, imported.all
    assert_no_secret(written(in_tmp, md), imported)
    assert md.read_text(encoding="utf-8") == PROMPT  # not the import's to delete: it says so
    assert yaml_path.read_text(encoding="utf-8") == (
        "name: Vault desk  # the front desk\n"
        f"id: {vault['id']}\n"
        "prompt: |\n"
        "  You answer about the lab.\n"
        "  Never read out ${ACME_LLM_API_KEY} or ${HOOK_TOKEN}.\n"
        f"{VOICE}"
        'first_sentence: "Hello, ${PROMO_SECRET}!"\n'
        'webhook_url: "https://hooks.example.com/t/${HOOK_TOKEN}"\n'
    )
    assert (
        "warning: assistants/prompts/vault-desk.md holds secrets (ACME_LLM_API_KEY, HOOK_TOKEN) and is no "
        "longer read: the prompt is now inline in assistants/vault-desk.yaml, with placeholders; delete the "
        "file, and remove it from the git history if it was committed\n"
    ) in imported.err
    assert sorted(listed_variables(imported.out)) == ["ACME_LLM_API_KEY", "HOOK_TOKEN", "PROMO_SECRET"]

    assert_in_sync(cli(*args, "plan", "--detailed-exitcode", environ=environ()))


def test_reimport_of_a_remote_edit_that_brings_a_secret_keeps_it_out(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    vault = emulator.state.seed_assistant({"name": "Vault desk", "prompt": "Hello.\n"})
    assert cli("import", "--all", environ=environ()).code == 0
    md = in_tmp / "assistants/prompts/vault-desk.md"
    assert md.read_text(encoding="utf-8") == "Hello.\n"
    record = emulator.state.assistants[vault["id"]]
    record["prompt"] = f"Hello.\nThe code is {PROMO}.\n"
    record["custom_tools"] = [dict(VAULT["custom_tools"][0], headers=[])]
    args = ("--var-file", str(write(in_tmp / "vars.yaml", f"CRM_SECRET: {CRM_SECRET}\n")))

    imported = cli(*args, "import", "--all", "--overwrite", environ=environ())

    assert imported.code == 0, imported.all
    assert_no_secret(written(in_tmp, in_tmp / "vars.yaml"), imported)
    assert md.read_text(encoding="utf-8") == "Hello.\n"  # left as it was, and the user is told
    assert (
        "assistants/prompts/vault-desk.md is no longer read: the prompt is now inline in "
        "assistants/vault-desk.yaml, with placeholders (text read with !file is not interpolated); "
        "delete the file\n"
    ) in imported.err
    doc = raw(in_tmp / "assistants/vault-desk.yaml")
    assert doc["prompt"] == "Hello.\nThe code is ${PROMO_SECRET}.\n"
    [tool] = doc["custom_tools"]
    assert (tool["url"], tool["query_params"]) == (
        "https://crm.example.com/api/${CRM_SECRET}/lookup",
        [{"key": "auth", "value": "${CRM_SECRET}"}],
    )
    assert_in_sync(cli(*args, "plan", "--detailed-exitcode", environ=environ()))


def test_reimport_refuses_to_rewrite_a_file_whose_comment_holds_a_secret(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    vault = emulator.state.seed_assistant({"name": "Vault desk", "prompt": "Hello."})
    text = (
        f"name: Vault desk\nid: {vault['id']}\nprompt: Hello.\n{VOICE}"
        f"# the hook is https://hooks.example.com/t/{HOOK_TOKEN}\n"
    )
    path = write(in_tmp / "assistants/vault-desk.yaml", text)
    emulator.state.assistants[vault["id"]]["first_sentence"] = "Hi!"

    refused = cli("--var", f"HOOK_TOKEN={HOOK_TOKEN}", "import", "--all", "--overwrite", environ=environ())

    assert refused.code == 1
    assert refused.err == (
        "error: refusing to write assistants/vault-desk.yaml: it would hold the value of HOOK_TOKEN in plain "
        "text (in a comment, or a variable's default?); write ${HOOK_TOKEN} there instead, then import again "
        "(nothing was written)\n"
    )
    assert path.read_text(encoding="utf-8") == text
    assert written(in_tmp) == {"assistants/vault-desk.yaml": text.encode()}


def test_a_remote_secret_at_a_sensitive_field_is_a_placeholder_wherever_else_it_occurs(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    """No variable holds these values: the run knows them only because the API returned them at a
    sensitive field. Everywhere else they occur (a prompt, a URL, a first sentence) they are secret too."""
    llm, header = "sk-old-remote-999888", "hv-remote-secret-4242"
    emulator.state.seed_assistant(
        {
            "name": "Rot",
            "prompt": f"Old key: {llm} (do not share)\n",
            "first_sentence": f"Hi Bearer {header}",
            "llm_model": {
                "type": "custom",
                "api_url": "https://llm.example.com/v1",
                "model_name": "m",
                "api_key": llm,
            },
            "custom_tools": [
                {
                    "name": "t",
                    "description": "d",
                    "url": f"https://x.example.com/hook?h={header}",
                    "method": "GET",
                    "headers": [{"key": "Authorization", "value": header}],
                }
            ],
        }
    )
    imported = cli("import", "--all", environ={})
    assert imported.code == 0, imported.all
    files = written(in_tmp / "assistants")
    for name, content in files.items():
        assert llm.encode() not in content and header.encode() not in content, name
    assert llm not in imported.all and header not in imported.all
    data = raw(in_tmp / "assistants" / "rot.yaml")
    assert data["llm_model"]["api_key"] == "${REVOX_ROT_LLM_API_KEY}"
    assert data["first_sentence"] == "Hi Bearer ${REVOX_ROT_T_AUTHORIZATION}"
    assert data["custom_tools"][0]["url"] == "https://x.example.com/hook?h=${REVOX_ROT_T_AUTHORIZATION}"
    assert data["prompt"] == "Old key: ${REVOX_ROT_LLM_API_KEY} (do not share)\n"
    plan = cli(
        "plan",
        "--detailed-exitcode",
        environ={"REVOX_ROT_LLM_API_KEY": llm, "REVOX_ROT_T_AUTHORIZATION": header},
    )
    assert_in_sync(plan)

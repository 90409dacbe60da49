"""No secret reaches stdout, stderr or a saved plan: the API key, sensitive fields, sensitive variables."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli, write

SECRET_VALUES = ("sk-live-0123456789", "notaurl-s3cr3t-token")


def test_validation_errors_do_not_quote_sensitive_values(workdir: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "notaurl-s3cr3t-token")
    write(workdir / "assistants/a.yaml", "name: A\nprompt: x\nwebhook_url: ${HOOK_TOKEN}\n")
    result = run_cli("validate")
    assert result.code == 1
    assert "assistants/a.yaml:3:14: webhook_url: '(sensitive)' is not an http(s) URL" in result.err
    assert "s3cr3t" not in result.all


def test_verbose_plan_and_apply_never_print_secrets(workdir: Path, monkeypatch, emulator) -> None:
    monkeypatch.setenv("ACME_LLM_API_KEY", "sk-live-0123456789")
    monkeypatch.setenv("HOOK_TOKEN", "https://hooks.example.com/notaurl-s3cr3t-token")
    write(
        workdir / "assistants/a.yaml",
        "name: A\nprompt: x\nwebhook_url: ${HOOK_TOKEN}\n"
        "llm_model: {type: custom, api_url: 'https://l.example.com', model_name: m, api_key: '${ACME_LLM_API_KEY}'}\n"
        "custom_tools:\n  - name: crm\n    description: look up\n    url: https://crm.example.com\n"
        "    method: GET\n    headers: [{key: Authorization, value: Bearer sk-live-0123456789}]\n",
    )
    key = "test-key-123"
    base = ("-v", "--base-url", emulator.url, "--api-key", key)
    outputs = [
        run_cli(*base, "plan", "--out", "plan.json"),
        run_cli(*base, "plan", "--format", "json"),
        run_cli(*base, "plan", "--format", "markdown"),
        run_cli(*base, "apply", "--auto-approve"),
    ]
    assert [r.code for r in outputs] == [0, 0, 0, 0], outputs[-1].all
    write(
        workdir / "assistants/a.yaml", (workdir / "assistants/a.yaml").read_text().replace("look up", "find")
    )
    outputs.append(run_cli(*base, "plan"))
    seen = "".join(r.all for r in outputs) + (workdir / "plan.json").read_text()
    assert "(sensitive)" in seen
    for secret in (*SECRET_VALUES, key):
        assert secret not in seen


def test_a_secret_inside_a_text_diff_is_blanked(workdir: Path, monkeypatch, emulator) -> None:
    monkeypatch.setenv("PROMO_SECRET", 'PROMO"se\\cret888')
    base = ("--base-url", emulator.url, "--api-key", "test-key-123")
    write(
        workdir / "assistants/a.yaml",
        "name: A\nprompt: |\n  Hello.\n  Give code ${PROMO_SECRET} to callers.\n",
    )
    assert run_cli(*base, "apply", "--auto-approve").code == 0
    write(workdir / "assistants/a.yaml", "name: A\nprompt: |\n  Hello.\n  Give no code.\n")
    plan = run_cli(*base, "plan", "--out", "plan.json")
    markdown = run_cli(*base, "plan", "--format", "markdown")
    as_json = run_cli(*base, "plan", "--format", "json")
    assert "-Give code (sensitive: ${PROMO_SECRET}) to callers." in plan.out
    seen = plan.all + markdown.all + as_json.all + (workdir / "plan.json").read_text()
    assert "cret888" not in seen
    assert run_cli(*base, "apply", "--auto-approve", "plan.json").code == 0  # the scrubbed plan is not stale


def test_saved_plan_cannot_test_guesses_of_a_secret(workdir: Path, monkeypatch, emulator) -> None:
    import json

    base = ("--base-url", emulator.url, "--api-key", "test-key-123")
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\nfirst_sentence: code ${PROMO_SECRET}\n")
    docs = []
    for value in ("SUMMER-2024", "WINTER-2025"):
        monkeypatch.setenv("PROMO_SECRET", value)
        assert run_cli(*base, "plan", "--out", "plan.json").code == 0
        docs.append(json.loads((workdir / "plan.json").read_text()))
    # the unkeyed fingerprint ignores secret values; the keyed one needs the API key to recompute
    assert docs[0]["config_fingerprint"] == docs[1]["config_fingerprint"]
    assert docs[0]["secrets_fingerprint"] != docs[1]["secrets_fingerprint"]
    monkeypatch.setenv("PROMO_SECRET", "SUMMER-2024")
    stale = run_cli(*base, "apply", "--auto-approve", "plan.json")
    assert stale.code == 1 and "the value of a sensitive variable changed" in stale.err


def test_a_secret_that_contains_another_is_blanked_whole(workdir: Path, monkeypatch, emulator) -> None:
    monkeypatch.setenv("PROMO_SECRET", "summer-promo-2024")
    monkeypatch.setenv("PROMO_TOKEN_EXT", "summer-promo-2024-gold")
    base = ("--base-url", emulator.url, "--api-key", "test-key-123")
    write(
        workdir / "assistants/a.yaml", "name: A\nprompt: |\n  Hello.\n  Give code ${PROMO_TOKEN_EXT} now.\n"
    )
    assert run_cli(*base, "apply", "--auto-approve").code == 0
    write(workdir / "assistants/a.yaml", "name: A\nprompt: |\n  Hello.\n")
    plan = run_cli(*base, "plan")
    assert plan.code == 0, plan.all
    assert "-Give code (sensitive: ${PROMO_TOKEN_EXT}) now." in plan.out  # the longer secret first
    assert "gold" not in plan.all


def test_scrub_replaces_the_longest_secret_first_whatever_the_order_given() -> None:
    from revox_sync.sensitive import scrub

    secrets = ["summer-promo-2024", "summer-promo-2024-gold", "ab"]  # "ab": too short to look for
    assert scrub({"t": ["a summer-promo-2024-gold about summer-promo-2024"]}, secrets) == {
        "t": ["a (sensitive) about (sensitive)"]
    }


def test_a_remote_secret_at_a_sensitive_field_never_prints_where_else_it_occurs(
    workdir: Path, monkeypatch, emulator
) -> None:
    """Key rotation: the account still holds the old key, also pasted into a prompt and a URL; the plan of
    the new one shows neither, in any format nor in the saved plan."""
    old_key, old_header = "sk-old-remote-999888", "hv-remote-secret-4242"
    emulator.state.seed_assistant(
        {
            "name": "A",
            "prompt": f"Old key: {old_key} (do not share)\nSecond line.\n",
            "llm_model": {
                "type": "custom",
                "api_url": "https://l.example.com",
                "model_name": "m",
                "api_key": old_key,
            },
            "custom_tools": [
                {
                    "name": "t",
                    "description": "d",
                    "url": f"https://x.example.com/hook?h={old_header}",
                    "method": "GET",
                    "headers": [{"key": "Authorization", "value": old_header}],
                }
            ],
        }
    )
    monkeypatch.setenv("NEW_LLM_KEY", "sk-new-rotated-111222")
    write(
        workdir / "assistants/a.yaml",
        "name: A\nprompt: New prompt.\n"
        "llm_model: {type: custom, api_url: 'https://l.example.com', model_name: m, api_key: '${NEW_LLM_KEY}'}\n"
        "custom_tools:\n  - name: t\n    description: d\n    url: https://x.example.com/hook\n"
        "    method: GET\n    headers: [{key: Authorization, value: hv-new-literal-5555}]\n",
    )
    base = ("--base-url", emulator.url, "--api-key", "test-key-123")
    runs = [run_cli(*base, "plan", *extra) for extra in ((), ("--format", "json"), ("--format", "markdown"))]
    runs.append(run_cli(*base, "plan", "--out", "plan.json"))
    assert [r.code for r in runs] == [0, 0, 0, 0]
    assert "-Old key: (sensitive) (do not share)" in runs[0].out
    shown = "".join(r.all for r in runs) + (workdir / "plan.json").read_text()
    for secret in (old_key, old_header, "sk-new-rotated-111222", "hv-new-literal-5555"):
        assert secret not in shown, secret


def test_a_local_saved_plan_holds_no_digest_anyone_can_recompute(workdir: Path, monkeypatch) -> None:
    """With --local there is no API key: the fingerprints are keyed with the local plan key instead of
    a constant, so a short secret cannot be found by hashing guesses."""
    import json

    from revox_sync.engine.plan import canonical_json, fingerprint

    monkeypatch.setenv("PIN_SECRET", "739201")
    write(workdir / "assistants/a.yaml", 'name: Pin bot\nprompt: "Your PIN is ${PIN_SECRET}."\n')
    assert run_cli("--local", "plan", "--out", "p.json").code == 0
    doc = json.loads((workdir / "p.json").read_text())
    data = {"name": "Pin bot", "prompt": "Your PIN is 739201."}
    guessable = [
        fingerprint(sorted([("assistant", "Pin bot", data)], key=canonical_json), key)
        for key in (b"revox-sync", b"")
    ]
    assert doc["secrets_fingerprint"] not in guessable
    assert "739201" not in (workdir / "p.json").read_text()

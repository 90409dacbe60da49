"""Saved plans under attack (issue 10, point 9 and part of 10): a forged, broken or foreign plan file is
refused before any write, with one line that names the file and the problem; the hint after `plan --out`
is a command that runs as printed."""

from __future__ import annotations

import hashlib
import hmac
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import API_KEY
from helpers import run_cli, write
from test_plan_apply import sales, writes  # noqa: F401  (fixture)

from revox_sync.emulator import EmulatorServer
from revox_sync.engine.plan import checksum, fingerprint

Sign = Callable[[dict[str, Any]], str]


def attacker_bytes(doc: dict[str, Any]) -> bytes:
    """What an attacker hashes: the plan without its checksum, as revox-sync 0.1 canonicalised it."""
    body = {k: v for k, v in doc.items() if k != "checksum"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def unkeyed_sha256(doc: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(attacker_bytes(doc)).hexdigest()


def hmac_with_a_guessed_key(doc: dict[str, Any]) -> str:
    return "hmac-sha256:" + hmac.new(b"guessed-key", attacker_bytes(doc), hashlib.sha256).hexdigest()


def forge(path: Path, edit: Callable[[dict[str, Any]], None], sign: Sign) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    doc["checksum"] = sign(doc)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def destroy_old_bot(old_id: str) -> Callable[[dict[str, Any]], None]:
    """The whole forgery: prune on, a delete no reviewer saw, and the rest made consistent with it."""

    def edit(doc: dict[str, Any]) -> None:
        doc["options"]["prune"] = True
        doc["actions"].append(
            {
                "kind": "assistant",
                "action": "delete",
                "name": "Old bot",
                "id": old_id,
                "file": None,
                "changes": [],
                "notes": [],
            }
        )
        doc["summary"]["destroy"] = 1
        doc["undeclared"] = []

    return edit


def set_prune(doc: dict[str, Any]) -> None:
    doc["options"]["prune"] = True


@pytest.fixture
def old_bot(emulator: EmulatorServer) -> dict[str, Any]:
    return emulator.state.seed_assistant({"name": "Old bot", "prompt": "old"})


NOT_KEYED = (
    "error: plan.json: the checksum is not keyed with this account's key (sha256:...): the file was "
    "edited, or saved by an older revox-sync. Nothing was changed; run `revox-sync plan --out` again.\n"
)
MISMATCH = (
    "error: plan.json: checksum mismatch: the plan file was edited after it was saved. "
    "Nothing was changed; run `revox-sync plan --out` again.\n"
)


@pytest.mark.usefixtures("sales")
@pytest.mark.parametrize(
    ("edit", "sign", "message"),
    [
        ("destroy", unkeyed_sha256, NOT_KEYED),
        ("prune", unkeyed_sha256, NOT_KEYED),
        ("destroy", hmac_with_a_guessed_key, MISMATCH),
        ("prune", hmac_with_a_guessed_key, MISMATCH),
    ],
)
def test_a_forged_plan_with_a_recomputed_checksum_changes_nothing(
    cli, emulator, old_bot, workdir, edit, sign, message
):
    assert cli("plan", "--out", "plan.json").code == 0
    original = (workdir / "plan.json").read_text(encoding="utf-8")
    forge(workdir / "plan.json", destroy_old_bot(old_bot["id"]) if edit == "destroy" else set_prune, sign)
    emulator.clear_requests()

    result = cli("apply", "--auto-approve", "plan.json")

    assert (result.code, result.out, result.err) == (1, "", message)
    assert emulator.requests == []  # refused before reading the account, let alone writing to it
    assert [a["name"] for a in emulator.state.list_assistants()] == ["Old bot"]

    (workdir / "plan.json").write_text(original, encoding="utf-8")
    unedited = cli("apply", "--auto-approve", "plan.json")
    assert unedited.code == 0, unedited.all
    assert sorted(a["name"] for a in emulator.state.list_assistants()) == ["Old bot", "Sales qualifier"]
    assert [m for m, _, _ in writes(emulator)] == ["POST"]


def resign(key: bytes) -> Sign:
    return lambda doc: checksum(doc, key)


@pytest.mark.usefixtures("sales")
def test_a_plan_signed_with_the_right_key_still_applies_only_what_it_shows(cli, emulator, old_bot, workdir):
    """Even with the key (a leaked CI secret, a bug), apply recomputes the plan and names what differs."""
    assert cli("plan", "--out", "plan.json").code == 0
    original = (workdir / "plan.json").read_text(encoding="utf-8")
    sign = resign(API_KEY.encode())

    def add_delete(doc: dict[str, Any]) -> None:
        destroy_old_bot(old_bot["id"])(doc)
        doc["options"]["prune"] = False

    def change_speed(doc: dict[str, Any]) -> None:
        [speed] = [c for c in doc["actions"][0]["changes"] if c["path"] == "voice.speed"]
        speed["after"] = 9

    summary = '{"add": 1, "change": 0, "destroy": %d}'
    cases = [
        (
            add_delete,
            f'delete assistant "Old bot" ({old_bot["id"]}) is in the saved plan but not in this run; summary differs '
            f'(saved {summary % 1}, now {summary % 0}); undeclared differs (saved [], now [{{"kind": "assistant", "name": "Old bot"}}])',
        ),
        (
            set_prune,
            f'delete assistant "Old bot" ({old_bot["id"]}) is in this run but not in the saved plan; summary differs '
            f'(saved {summary % 0}, now {summary % 1}); undeclared differs (saved [{{"kind": "assistant", "name": "Old bot"}}], now [])',
        ),
        (
            change_speed,
            'create assistant "Sales qualifier": voice.speed differs (saved null -> 9, now null -> 1.1)',
        ),
    ]
    for edit, message in cases:
        (workdir / "plan.json").write_text(original, encoding="utf-8")
        forge(workdir / "plan.json", edit, sign)
        prune = " --prune" if json.loads((workdir / "plan.json").read_text())["options"]["prune"] else ""
        emulator.clear_requests()
        result = cli("apply", "--auto-approve", "plan.json")
        assert (result.code, result.out) == (1, "")
        assert result.err == (
            f"error: plan.json does not match what apply would do now: {message}. "
            f"Nothing was changed; run `revox-sync --base-url {emulator.url} plan --out plan.json{prune}` again.\n"
        )
        assert writes(emulator) == []
    assert [a["name"] for a in emulator.state.list_assistants()] == ["Old bot"]


@pytest.mark.usefixtures("sales")
def test_a_plan_saved_under_one_key_is_refused_under_another(workdir):
    with EmulatorServer() as server:  # accepts any key: one URL, two accounts
        made = run_cli(
            "--base-url", server.url, "--api-key", "key-of-account-a", "plan", "--out", "plan.json"
        )
        assert made.code == 0, made.all
        result = run_cli(
            "--base-url", server.url, "--api-key", "key-of-account-b", "apply", "--auto-approve", "plan.json"
        )
        a, b = (fingerprint("account", k)[:8] for k in (b"key-of-account-a", b"key-of-account-b"))
        assert (result.code, result.out) == (1, "")
        assert result.err == (
            f"error: plan.json: it was made for {server.url} (key {a}), this run targets {server.url} "
            f"(key {b}). Nothing was changed.\n"
        )
        assert [r.method for r in server.requests] == ["GET"]  # the plan's one list request


def test_a_local_plan_is_keyed_by_a_secret_of_the_local_state(workdir):
    write(workdir / "assistants/a.yaml", "name: A\nprompt: a\n")
    assert run_cli("--local", "apply", "--auto-approve").code == 0
    write(workdir / "assistants/a.yaml", "name: A\nprompt: b\n")
    assert run_cli("--local", "plan", "--out", "plan.json").code == 0
    key_file = workdir / ".revox-local/plan.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    original = (workdir / "plan.json").read_text(encoding="utf-8")
    assert json.loads(original)["checksum"] == checksum(json.loads(original), key_file.read_bytes())

    forge(workdir / "plan.json", set_prune, unkeyed_sha256)
    result = run_cli("--local", "apply", "--auto-approve", "plan.json")
    assert (result.code, result.out) == (1, "")
    assert result.err.endswith(NOT_KEYED)

    (workdir / "plan.json").write_text(original, encoding="utf-8")
    assert run_cli("--local", "apply", "--auto-approve", "plan.json").code == 0
    assert run_cli("--local", "plan", "--detailed-exitcode").code == 0


# --- plan files that are not plans ------------------------------------------------------------------------
def valid_plan_with(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], bytes]:
    def build(doc: dict[str, Any]) -> bytes:
        edit(doc)
        doc["checksum"] = checksum(doc, API_KEY.encode())
        return json.dumps(doc).encode()

    return build


def non_ascii_checksum(doc: dict[str, Any]) -> bytes:
    doc["checksum"] = "hmac-sha256:\u00e9t\u00e9"
    return json.dumps(doc).encode()


def drop_path(doc: dict[str, Any]) -> None:
    del doc["actions"][0]["changes"][0]["path"]


def actions_as_text(doc: dict[str, Any]) -> None:
    doc["actions"] = "create everything"


BAD_FILES: list[tuple[str, bytes | Callable[[dict[str, Any]], bytes], str]] = [
    ("latin-1", b'{"name": "caf\xe9"}', "plan.json:1:14: not a saved plan: not UTF-8 text (byte 0xe9)"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00", "plan.json:1:1: not a saved plan: not UTF-8 text (byte 0x89)"),
    ("nul bytes", b"\x00\x00\x00", "plan.json:1:1: not a saved plan: Expecting value"),
    ("empty", b"", "plan.json:1:1: not a saved plan: Expecting value"),
    ("text", b"yes\nplease\n", "plan.json:1:1: not a saved plan: Expecting value"),
    (
        "truncated",
        b'{"format_version": 1,\n  "actions": [',
        "plan.json:2:15: not a saved plan: Expecting value",
    ),
    ("list", b"[1, 2]", "plan.json: not a saved plan: the top level is a list, not an object"),
    ("nested", b"[" * 100_000, "plan.json: not a saved plan: nested too deeply"),
    (
        "other format",
        b'{"format_version": 7}',
        "plan.json: saved by another version of revox-sync (format_version 7; this one reads 3). Nothing was changed; run `revox-sync plan --out` again.",
    ),
    (
        "missing keys",
        b'{"format_version": 3, "actions": []}',
        "plan.json: not a saved plan: summary: field required",
    ),
    (
        "no path",
        valid_plan_with(drop_path),
        "plan.json: not a saved plan: actions[0].changes[0].path: field required",
    ),
    (
        "non-ASCII checksum",
        non_ascii_checksum,
        "plan.json: checksum mismatch: the plan file was edited after it was saved. "
        "Nothing was changed; run `revox-sync plan --out` again.",
    ),
    (
        "wrong type",
        valid_plan_with(actions_as_text),
        "plan.json: not a saved plan: actions: input should be a valid list",
    ),
]


@pytest.mark.usefixtures("sales")
@pytest.mark.parametrize(("content", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_plan_file_that_is_not_a_plan_is_one_clear_line(cli, emulator, workdir, content, message):
    if callable(content):
        assert cli("plan", "--out", "plan.json").code == 0
        content = content(json.loads((workdir / "plan.json").read_text(encoding="utf-8")))
    (workdir / "plan.json").write_bytes(content)
    emulator.clear_requests()
    result = cli("apply", "--auto-approve", "plan.json")
    assert (result.code, result.out, result.err) == (1, "", f"error: {message}\n")
    assert emulator.requests == []


# --- the hint after `plan --out` ----------------------------------------------------------------------------
def test_the_apply_hint_repeats_the_directory_and_quotes_every_path(cli, emulator, workdir):
    write(workdir / "my assistants/a.yaml", "name: A\nprompt: a\n")
    result = cli("plan", "-d", "my assistants", "--out", "saved plans/it's.json")
    assert result.code == 0, result.all
    command = f"revox-sync --base-url {emulator.url} apply -d 'my assistants' 'saved plans/it'\"'\"'s.json'"
    checksum_ = json.loads((workdir / "saved plans/it's.json").read_text(encoding="utf-8"))["checksum"]
    assert result.err == (
        f"Saved the plan to saved plans/it's.json ({checksum_}). Apply it with: {command}\n"
    )
    program, *args = shlex.split(command)
    assert program == "revox-sync"
    applied = run_cli("--api-key", API_KEY, *args[:2], "apply", "--auto-approve", *args[3:])
    assert applied.code == 0, applied.all
    assert [a["name"] for a in emulator.state.list_assistants()] == ["A"]


def test_the_apply_hint_with_local_runs_as_printed(workdir):
    write(workdir / "my assistants/a.yaml", "name: A\nprompt: a\n")
    result = run_cli("--local", "plan", "-d", "my assistants", "--out", "plan.json")
    assert result.code == 0, result.all
    last = result.err.splitlines()[-1]
    assert last.endswith(" Apply it with: revox-sync --local apply -d 'my assistants' plan.json")
    _, *args = shlex.split(last.split("Apply it with: ")[1])
    applied = run_cli(*args[:2], "--auto-approve", *args[2:])
    assert applied.code == 0, applied.all

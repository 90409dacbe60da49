"""Sharing an account under attack: patterns that look like globs, numbers written as people write them,
backups that are not files, restores into names another object took since, and every secret grepped in
every output and backup. End to end: the real CLI, the emulator on a real socket, real files."""

# ruff: noqa: F811  (the `shared` fixture imported from test_sharing is redefined as test arguments)

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import API_KEY
from helpers import write
from test_sharing import NUMBER, backup_of, names, shared, writes  # noqa: F401  (shared: a fixture)
from test_voices import SAMPLE, VOICES_YAML

from revox_sync.emulator import EmulatorServer


def subprocess_of(emulator: EmulatorServer, workdir: Path, *args: str) -> dict[str, Any]:
    """How to run the real `revox-sync` in its own process against `emulator`, from `workdir`."""
    environ = {k: v for k, v in os.environ.items() if k not in ("REVOX_API_KEY", "REVOX_BASE_URL")}
    command = [sys.executable, "-m", "revox_sync", "--base-url", emulator.url, "--api-key", API_KEY, *args]
    return {"args": command, "cwd": workdir, "env": environ, "text": True}


def run_subprocess(emulator: EmulatorServer, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """With a deadline: a run that blocks fails the test."""
    return subprocess.run(**subprocess_of(emulator, workdir, *args), capture_output=True, timeout=30)


def start(emulator: EmulatorServer, workdir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        **subprocess_of(emulator, workdir, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


# --- patterns ---------------------------------------------------------------------------------------------
def test_a_pattern_matches_the_name_it_spells_even_when_that_looks_like_a_glob(cli, emulator, workdir):
    """`[test]` is a glob character class, so fnmatch alone would protect "Harbor t" and never the
    assistant actually named "Harbor [test]": protection must not silently miss what it names."""
    bracketed = emulator.state.seed_assistant({"name": "Harbor [test]", "prompt": "p"})
    write(workdir / "assistants/a.yaml", "name: Harbor [new]\nprompt: p\n")
    write(
        workdir / "revox-sync.yaml",
        "owns:\n  assistants: ['Harbor [new]', 'Harbor [test]']\nprotect:\n  assistants: ['Harbor [test]']\n",
    )
    assert cli("validate").code == 0  # owned: the file is no error
    emulator.clear_requests()
    result = cli("apply", "--auto-approve", "--prune", "--force")
    assert result.code == 1, result.all
    assert result.err.strip().splitlines()[0] == (
        f'revox-sync.yaml:4:16: assistant "Harbor [test]" ({bracketed["id"]}) is protected (protect.assistants: '
        "'Harbor [test]'): this plan would destroy it; nothing was changed (--force does not override "
        "protection: remove the pattern first if this is intended)"
    )
    assert writes(emulator) == []


def test_a_pattern_matches_a_name_however_its_accents_are_encoded(cli, emulator, workdir):
    """ "é" typed on a keyboard is one code point; pasted from some systems it is "e" and a combining accent:
    the same name to anyone reading it, so the same name to protect."""
    decomposed = emulator.state.seed_assistant({"name": "Cafe\u0301 desk", "prompt": "p"})
    write(workdir / "assistants/a.yaml", "name: Other\nprompt: p\n")
    write(workdir / "revox-sync.yaml", "protect:\n  assistants: ['Caf\u00e9 desk']\n")
    emulator.clear_requests()
    result = cli("apply", "--auto-approve", "--prune")
    assert result.code == 1, result.all
    assert result.err.startswith(
        f'revox-sync.yaml:2:16: assistant "Cafe\u0301 desk" ({decomposed["id"]}) is protected'
    )
    assert writes(emulator) == []


@pytest.mark.parametrize(
    ("pattern", "form"),
    [("+1 (555) 123-4567", "+15551234567"), ("15551234567", "+15551234567"), ("+1-555-123-456*", None)],
)
def test_a_number_pattern_not_spelled_as_the_api_spells_numbers_is_an_error(
    cli, emulator, workdir, pattern, form
):
    """The API lists numbers in E.164: a protected number written with spaces, dashes or no `+` would match
    nothing, and the number would go unprotected without a word."""
    emulator.state.add_phone_number(NUMBER)
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    write(workdir / "revox-sync.yaml", f"protect:\n  phone_numbers: ['{pattern}']\n")
    hint = f": write {form!r}" if form else ""
    for command in (("validate",), ("plan",)):
        result = cli(*command)
        assert result.code == 1, result.all
        assert result.err.strip().splitlines() == [
            f"revox-sync.yaml:2:19: protect.phone_numbers: {pattern!r} never matches a number: the API spells "
            f"numbers in E.164 ('+', country code, digits){hint}",
            "1 error.",
        ]
    assert emulator.requests == []  # refused before any request


def test_number_globs_in_e164_protect_what_they_match(cli, emulator, workdir, shared):
    number = emulator.state.add_phone_number(NUMBER, inbound_assistant_id=shared["HQ sales"]["id"])
    write(workdir / "revox-sync.yaml", "protect:\n  phone_numbers: ['+1555[0-9]23*']\n")
    write(
        workdir / "assistants/phone_numbers.yaml",
        f'phone_numbers:\n  "{NUMBER}": {{assistant: Harbor front desk}}\n',
    )
    result = cli("plan")
    assert result.code == 1, result.all
    assert (
        result.err.strip()
        .splitlines()[0]
        .startswith(f'revox-sync.yaml:2:19: phone number "{NUMBER}" ({number["id"]}) is protected ')
    )


def test_a_pattern_with_surrounding_whitespace_is_an_error(cli, workdir):
    """The API trims names, so " Main line" would protect nothing."""
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    write(workdir / "revox-sync.yaml", "protect:\n  assistants: [' Main line']\n")
    result = cli("validate")
    assert result.code == 1
    assert result.err.strip().splitlines()[0] == (
        "revox-sync.yaml:2:16: protect.assistants: ' Main line' never matches a name: names have no leading "
        "or trailing whitespace"
    )


def test_an_environment_owns_is_named_where_it_is_written(cli, emulator, workdir):
    write(workdir / "assistants/a.yaml", "name: Harbor sales\nprompt: p\n")
    write(workdir / "revox-sync.yaml", "environments:\n  prod:\n    owns: {assistants: ['X*']}\n")
    result = cli("--env", "prod", "validate")
    assert result.code == 1
    assert result.err.strip().splitlines()[0] == (
        'assistants/a.yaml:1:7: assistant "Harbor sales" is outside what this configuration owns: '
        "environments.prod.owns.assistants is 'X*' (in revox-sync.yaml)"
    )


def test_a_previous_name_every_row_of_a_fleet_shares_names_the_other_assistant(cli, emulator, workdir):
    """In a for_each fleet both assistants come from one file: "keep it in one file" would say nothing."""
    emulator.state.seed_assistant({"name": "Old Boston", "prompt": "p"})
    write(workdir / "assistants/templates/t.yaml", "prompt: p\n")
    write(
        workdir / "assistants/fleet.yaml",
        "extends: templates/t.yaml\nfor_each:\n  - {city: Boston}\n  - {city: Miami}\n"
        "name: New ${each.city}\nprevious_names: [Old Boston]\n",
    )
    result = cli("plan")
    assert result.code == 1
    assert result.err.strip().splitlines()[:2] == [
        "assistants/fleet.yaml:5:7: previous_names: 'Old Boston' is also a previous name of \"New Boston\" "
        "(assistants/fleet.yaml): keep it in one assistant, or pin the remote one with `id:`",
        "assistants/fleet.yaml:5:7: previous_names: 'Old Boston' is also a previous name of \"New Miami\" "
        "(assistants/fleet.yaml): keep it in one assistant, or pin the remote one with `id:`",
    ]


# --- backups that are not files ---------------------------------------------------------------------------
def test_a_backup_that_is_a_fifo_is_refused_without_blocking(emulator, workdir):
    os.mkfifo(workdir / "backup.json")
    result = run_subprocess(emulator, workdir, "restore", "backup.json", "--auto-approve")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == "error: cannot read backup backup.json: not a regular file"
    assert [r.method for r in emulator.requests] == []


def test_a_saved_restore_plan_that_is_a_fifo_is_refused_without_blocking(cli, emulator, workdir, shared):
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    path = backup_of(cli("apply", "--auto-approve"))
    os.mkfifo(workdir / "undo.json")
    emulator.clear_requests()
    result = run_subprocess(emulator, workdir, "restore", str(path), "undo.json", "--auto-approve")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == "error: cannot read plan file undo.json: not a regular file"
    assert writes(emulator) == []


def test_a_backup_of_a_kind_this_version_does_not_know_is_refused_before_any_request(cli, emulator, workdir):
    """A later revox-sync may back up a kind this one has never heard of: say so, not crash."""
    import json
    from datetime import datetime, timezone

    from revox_sync.engine import backup

    saved = backup.Saved("campaign", "cmp_1", "Spring", "update", {"id": "cmp_1", "name": "Spring"})
    doc = backup.document(
        [saved], [], key=API_KEY.encode(), target=None, secrets=(), now=datetime.now(timezone.utc)
    )
    write(workdir / "later.json", json.dumps(doc))
    result = cli("restore", "later.json", "--auto-approve")
    assert result.code == 1
    assert result.err.strip() == (
        "error: later.json: holds a campaign, which this version of revox-sync does not know: restore it "
        "with the version that made it. Nothing was changed."
    )
    assert emulator.requests == []


EDITED = "checksum mismatch: the backup was edited after it was made. Nothing was changed."


@pytest.mark.parametrize(
    ("field", "value", "refusal"),
    [
        ("objects", [], EDITED),
        ("created", [{"kind": "assistant", "name": "Harbor x"}], EDITED),
        ("sealed", "AAAA", EDITED),
        ("made_at", "2020-01-01T00:00:00Z", EDITED),
        ("target", "https://www.getrevox.com/api (key 00000000)", EDITED),
        ("checksum", "hmac-sha256:" + "0" * 64, EDITED),
        ("account", "00000000", "made for another account (key 00000000; this run uses key "),
        ("format_version", 3, "made by another version of revox-sync (format_version 3; this one reads 2)"),
        ("format", "revox-sync saved plan", "not a revox-sync backup"),
    ],
)
def test_a_backup_edited_in_any_field_is_refused_before_any_request(
    cli, emulator, workdir, shared, field, value, refusal
):
    import json

    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    path = backup_of(cli("apply", "--auto-approve"))
    doc = json.loads(path.read_text())
    doc[field] = value
    path.write_text(json.dumps(doc))
    emulator.clear_requests()
    result = cli("restore", str(path), "--auto-approve")
    assert result.code == 1, result.all
    assert result.err.startswith(f"error: {path}: {refusal}")
    assert len(result.err.strip().splitlines()) == 1
    assert emulator.requests == []


@pytest.mark.parametrize("cut", [0, 1, 100, -2])
def test_a_truncated_backup_is_refused(cli, emulator, workdir, shared, cut):
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    path = backup_of(cli("apply", "--auto-approve"))
    path.write_bytes(path.read_bytes()[:cut])
    emulator.clear_requests()
    result = cli("restore", str(path), "--auto-approve")
    assert result.code == 1
    assert result.err.strip() == f"error: {path}: not a revox-sync backup (not JSON)"
    assert emulator.requests == []


def test_saving_a_restore_plan_over_its_backup_is_refused(cli, emulator, workdir, shared):
    """`--out` on the backup itself would replace the one copy of what the apply overwrote."""
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    path = backup_of(cli("apply", "--auto-approve"))
    before = path.read_bytes()
    (workdir / "link.json").symlink_to(path.resolve())
    for out in (str(path), f"./{path}", "link.json"):
        result = cli("restore", str(path), "--out", out)
        assert result.code == 1, result.all
        assert result.err.strip() == f"error: --out {Path(out)} is the backup itself: choose another file"
    assert path.read_bytes() == before


# --- restoring into an account that moved on --------------------------------------------------------------
def test_restore_never_renames_an_assistant_into_a_name_another_one_took(cli, emulator, workdir, shared):
    """The apply renamed the backed-up assistant, and a new one took its old name since: putting the old
    name back would leave two assistants of one name, which no later plan can tell apart."""
    front = shared["Harbor front desk"]["id"]
    write(
        workdir / "assistants/front.yaml",
        "name: Harbor reception\nprevious_names: [Harbor front desk]\nprompt: changed\n",
    )
    path = backup_of(cli("apply", "--auto-approve"))
    newer = emulator.state.seed_assistant({"name": "Harbor front desk", "prompt": "new"})
    emulator.clear_requests()
    result = cli("restore", str(path), "--auto-approve")
    assert result.code == 1, result.all
    assert result.err.strip().splitlines() == [
        f'{path}: assistant "Harbor front desk" ({front}) is named "Harbor reception" since the backup, and '
        f"the account has another of its old name ({newer['id']}): restoring it would make two; rename or "
        "destroy that one first",
        "1 error.",
    ]
    assert writes(emulator) == []


def test_a_clone_made_again_does_not_stop_restoring_the_assistant_that_used_it(cli, emulator, workdir):
    """A destroyed clone is never created by restore, so a new clone of its name is no clash: the restore
    of the assistant destroyed with it goes ahead."""
    write(workdir / "assistants/samples/brand.wav", SAMPLE)
    write(workdir / "assistants/voices.yaml", VOICES_YAML)
    write(workdir / "assistants/desk.yaml", "name: Desk\nprompt: p\nvoice: {clone: Brand voice}\n")
    write(workdir / "assistants/keep.yaml", "name: Keep\nprompt: k\n")
    assert cli("apply", "--auto-approve").code == 0
    (workdir / "assistants/desk.yaml").unlink()
    write(workdir / "assistants/voices.yaml", "voices: {}\n")
    path = backup_of(cli("apply", "--auto-approve", "--prune"))
    write(workdir / "assistants/voices.yaml", VOICES_YAML)  # cloned again, as the restore note advises
    assert cli("apply", "--auto-approve").code == 0
    emulator.clear_requests()
    result = cli("restore", str(path), "--auto-approve")
    assert result.code == 0, result.all
    assert [(m, p) for m, p, _ in writes(emulator)] == [("POST", "/assistants")]
    assert names(emulator) == ["Desk", "Keep"]


def test_a_route_to_an_assistant_destroyed_since_is_an_error_at_the_backup(cli, emulator, workdir, shared):
    emulator.state.add_phone_number(NUMBER, inbound_assistant_id=shared["HQ sales"]["id"])
    write(
        workdir / "assistants/phone_numbers.yaml",
        f'phone_numbers:\n  "{NUMBER}": {{assistant: Harbor front desk}}\n',
    )
    path = backup_of(cli("apply", "--auto-approve"))
    emulator.state.delete_assistant(shared["HQ sales"]["id"])
    emulator.clear_requests()
    result = cli("restore", str(path), "--auto-approve")
    assert result.code == 1, result.all
    assert result.err.strip().splitlines() == [
        f"{path}: {NUMBER}: no assistant with id '{shared['HQ sales']['id']}' in this account",
        "1 error.",
    ]
    assert writes(emulator) == []


# --- what the backup holds --------------------------------------------------------------------------------
def test_a_dashboard_edit_made_while_apply_waits_for_yes_is_in_the_backup(cli, emulator, workdir, shared):
    """A person may read the plan for minutes; an edit made meanwhile is what the apply overwrites, so it is
    what the backup must hold, or restore brings back the older text and the edit is lost."""
    front = shared["Harbor front desk"]["id"]
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: from the file\n")

    class Person(io.StringIO):
        def readline(self, size: int | None = -1) -> str:
            emulator.state.update_assistant(front, {"prompt": "improved in the dashboard meanwhile"})
            return "yes\n"

    applied = cli("apply", stdin=Person(), tty=True)
    assert applied.code == 0, applied.all
    assert emulator.state.get_assistant(front)["prompt"] == "from the file"
    emulator.clear_requests()
    restored = cli("restore", str(backup_of(applied)), "--auto-approve")
    assert restored.code == 0, restored.all
    assert writes(emulator) == [
        ("PATCH", f"/assistants/{front}", {"prompt": "improved in the dashboard meanwhile"})
    ]


# --- interrupted and concurrent applies -------------------------------------------------------------------
def patches(emulator: EmulatorServer) -> int:
    return sum(1 for r in emulator.requests if r.method == "PATCH")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_an_apply_stopped_midway_is_undone_by_its_backup(cli, emulator, workdir, how):
    """Ctrl-C or kill -9 once the writes have begun: the backup was whole before the first of them, and
    restore puts back exactly what was changed, whatever the apply got to."""
    for i in range(8):
        emulator.state.seed_assistant({"name": f"Bot {i}", "prompt": "old"})
        write(workdir / f"assistants/b{i}.yaml", f"name: Bot {i}\nprompt: new\n")
    emulator.latency = 0.2
    proc = start(emulator, workdir, "apply", "--auto-approve", "--parallelism", "1")
    wait_for(lambda: patches(emulator) >= 2)
    proc.send_signal(how)
    proc.communicate(timeout=30)
    time.sleep(0.5)  # a write the killed process left in flight still lands
    emulator.latency = 0.0
    changed = sorted(a["name"] for a in emulator.state.list_assistants() if a["prompt"] == "new")
    assert 1 <= len(changed) < 8
    [path] = Path(".revox-sync/backups").iterdir()
    emulator.clear_requests()
    result = cli("restore", str(path), "--auto-approve")
    assert result.code == 0, result.all
    assert f"Plan: 0 to add, {len(changed)} to change, 0 to destroy." in result.out
    assert (
        "conflict" not in result.all
    )  # what the apply never got to write is no conflict: it is as backed up
    assert sorted(a["prompt"] for a in emulator.state.list_assistants()) == ["old"] * 8
    assert patches(emulator) == len(changed)


def test_two_applies_at_once_keep_a_backup_each(cli, emulator, workdir, shared):
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: changed\n")
    emulator.latency = 0.2  # both plan before either writes
    procs = [start(emulator, workdir, "apply", "--auto-approve") for _ in range(2)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    paths = sorted(Path(".revox-sync/backups").glob("*.json"))
    assert len(paths) == 2
    assert [oct(p.stat().st_mode & 0o777) for p in paths] == ["0o600", "0o600"]
    for path in paths:  # each whole, each opens
        assert cli("restore", str(path), "--out", f"{path.stem}.plan.json").code == 0


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# --- secrets, machine output, and the limits of a shared account ------------------------------------------
def test_no_secret_reaches_any_output_or_any_backup(cli, emulator, workdir, shared, monkeypatch):
    header, llm_key, token = "hdr-secret-value-4242", "sk-llm-secret-9191", "var-secret-token-3131"
    tool = {
        "name": "lookup",
        "description": "d",
        "url": "https://t.example.com",
        "method": "GET",
        "headers": [{"key": "Authorization", "value": header}],
        "query_params": [],
        "input_schema": [],
        "body_template": None,
    }
    llm = {"type": "custom", "api_url": "https://l.example.com", "model_name": "m", "api_key": llm_key}
    for name in ("Harbor front desk", "Harbor old bot"):
        emulator.state.update_assistant(
            str(shared[name]["id"]), {"custom_tools": [tool], "llm_model": llm, "prompt": f"Use {token}."}
        )
    monkeypatch.setenv("DESK_TOKEN", token)
    write(workdir / "assistants/front.yaml", "name: Harbor front desk\nprompt: Use ${DESK_TOKEN} now.\n")
    write(workdir / "revox-sync.yaml", "owns: {assistants: ['Harbor *']}\n")
    runs = [cli("plan", "--prune", "--format", fmt) for fmt in ("text", "json", "markdown")] + [
        cli("-v", "apply", "--auto-approve", "--prune")
    ]
    path = backup_of(runs[-1])
    runs.append(cli("restore", str(path), "--out", "undo.json"))
    runs.append(cli("-v", "restore", str(path), "undo.json", "--auto-approve", "--backup-dir", "again"))
    assert [r.code for r in runs] == [0] * 6, [r.all for r in runs]
    files = [path, Path("undo.json"), *Path("again").iterdir()]
    assert len(files) == 3
    seen = "".join(r.all for r in runs) + "".join(f.read_text() for f in files)
    for secret in (header, llm_key, token, API_KEY):
        assert secret not in seen
    # and yet the restore put every one of them back
    again = {a["name"]: a for a in emulator.state.list_assistants()}
    assert again["Harbor old bot"]["custom_tools"][0]["headers"][0]["value"] == header
    assert again["Harbor old bot"]["llm_model"]["api_key"] == llm_key
    assert again["Harbor front desk"]["prompt"] == f"Use {token}."


def test_the_safety_limit_counts_only_what_this_configuration_owns(cli, emulator, workdir):
    for i in range(10):
        emulator.state.seed_assistant({"name": f"Harbor {i}", "prompt": "p"})
        emulator.state.seed_assistant({"name": f"HQ {i}", "prompt": "p"})
    for i in range(4, 10):
        write(workdir / f"assistants/h{i}.yaml", f"name: Harbor {i}\nprompt: p\n")
    # 4 of 20 is within the limit, but this configuration owns 10, and 4 of those is not
    write(workdir / "revox-sync.yaml", "owns: {assistants: ['Harbor *']}\n")
    result = cli("apply", "--auto-approve", "--prune")
    assert result.code == 1
    assert result.err.strip() == (
        "error: safety limit: this would change or destroy 4 of 10 existing assistants (more than 30%); "
        "re-run with --force if that is intended"
    )
    assert writes(emulator) == []


def test_target_prune_and_protect_together(cli, emulator, workdir, shared):
    old = shared["Harbor old bot"]["id"]
    write(
        workdir / "revox-sync.yaml",
        "owns: {assistants: ['Harbor *']}\nprotect: {assistants: [Harbor old bot]}\n",
    )
    named = cli("apply", "--auto-approve", "--prune", "--force", "--target", "Harbor old bot")
    assert named.code == 1
    assert named.err.startswith(f'revox-sync.yaml:2:24: assistant "Harbor old bot" ({old}) is protected')
    # another target leaves the protected one out of the plan, and an unowned one is nothing to prune
    for target in ("Harbor front desk", "HQ sales"):
        other = cli("apply", "--auto-approve", "--prune", "--target", target)
        assert other.code == 0, other.all
        assert "No changes." in other.out
    assert writes(emulator) == []
    assert names(emulator) == ["HQ sales", "HQ support", "Harbor front desk", "Harbor old bot"]

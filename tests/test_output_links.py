"""Outputs never follow a link: a symlink committed at `plan --out`'s path is replaced by the plan (its target
untouched), and an output whose way passes a linked directory of the checkout (`--out`, the backups) is refused
before anything is written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY
from helpers import run_cli, write


def outside(tmp_path: Path) -> Path:
    """A file outside the project that a link committed in it points to."""
    target = write(tmp_path.parent / f"{tmp_path.name}-outside" / "victim.txt", "keep me\n")
    target.chmod(0o600)
    return target


def test_plan_out_at_a_link_replaces_the_link_and_leaves_its_target(
    workdir: Path, cli, tmp_path: Path
) -> None:
    write(workdir / "assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    target = outside(tmp_path)
    (workdir / "plan-staging.json").symlink_to(target)
    result = cli("plan", "--out", "plan-staging.json")
    assert result.code == 0, result.err
    assert "Saved the plan to plan-staging.json" in result.err
    saved = workdir / "plan-staging.json"
    assert not saved.is_symlink() and json.loads(saved.read_text())["summary"]["add"] == 1
    assert oct(saved.stat().st_mode & 0o777) == "0o644"  # not the 0600 of the link's target
    assert target.read_text() == "keep me\n" and oct(target.stat().st_mode & 0o777) == "0o600"
    assert API_KEY not in result.out + result.err + saved.read_text()


def test_plan_out_at_a_dangling_link_creates_nothing_where_it_points(
    workdir: Path, cli, tmp_path: Path
) -> None:
    write(workdir / "assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    nowhere = tmp_path.parent / f"{tmp_path.name}-nowhere.json"
    (workdir / "plan.json").symlink_to(nowhere)
    assert cli("plan", "--out", "plan.json").code == 0
    assert not nowhere.exists() and not (workdir / "plan.json").is_symlink()


def test_plan_out_through_a_linked_directory_is_refused(workdir: Path, cli, tmp_path: Path) -> None:
    write(workdir / "assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    target = outside(tmp_path)
    (workdir / "plans").symlink_to(target.parent, target_is_directory=True)
    result = cli("plan", "--out", "plans/staging.json")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: cannot save the plan to plans/staging.json: plans is a symbolic link, "
        "and an output never goes through one"
    )
    assert sorted(os.listdir(target.parent)) == ["victim.txt"]


def test_a_plan_that_cannot_be_saved_says_why_in_one_line(workdir: Path, cli) -> None:
    write(workdir / "assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    write(workdir / "taken", "a file, not a directory\n")
    result = cli("plan", "--out", str(workdir / "taken/plan.json"))
    assert result.code == 1
    assert (
        result.err.splitlines()[-1]
        == f"error: cannot save the plan to {workdir}/taken/plan.json: File exists"
    )
    assert "please report" not in result.err


def test_apply_refuses_a_backup_folder_behind_a_link_before_any_write(
    workdir: Path, cli, emulator, tmp_path: Path
) -> None:
    write(workdir / "assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    assert cli("apply", "--auto-approve").code == 0
    write(workdir / "assistants/support.yaml", "name: Support\nprompt: Help, briefly.\n")
    target = outside(tmp_path)
    (workdir / ".revox-sync").symlink_to(target.parent, target_is_directory=True)
    writes = len([r for r in emulator.requests if r.method != "GET"])
    result = cli("apply", "--auto-approve")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: cannot write the backup to .revox-sync/backups/: .revox-sync is a symbolic link, and an output "
        "never goes through one; nothing was changed (choose another folder with --backup-dir)"
    )
    assert len([r for r in emulator.requests if r.method != "GET"]) == writes
    assert sorted(os.listdir(target.parent)) == ["victim.txt"]  # no backups/, no .gitignore through the link
    assert cli("apply", "--auto-approve", "--backup-dir", "real-backups").code == 0
    (backup,) = (workdir / "real-backups").iterdir()
    assert API_KEY not in backup.read_text()


def test_the_local_state_folder_never_writes_through_a_link(workdir: Path, tmp_path: Path) -> None:
    """`.revox-local/` is the project's: a link committed at it, its lock or its journal creates nothing where
    it points (the snapshot is replaced by write_atomic like every other output)."""
    from revox_sync.emulator.store import Store

    write(workdir / "assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (workdir / ".revox-local").mkdir()
    (workdir / ".revox-local/state.json.lock").symlink_to(elsewhere / "lock")
    result = run_cli("--local", "plan")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: cannot start the local emulator: [Errno 40] Too many levels of symbolic links: "
        "'.revox-local/state.json.lock'"
    )
    (workdir / ".revox-local/state.json.lock").unlink()
    (workdir / ".revox-local").rename(workdir / "real-state")
    (workdir / ".revox-local").symlink_to(elsewhere, target_is_directory=True)
    result = run_cli("--local", "plan")
    assert (result.code, result.err.splitlines()[-1]) == (
        1,
        "error: cannot start the local emulator: [Errno 40] .revox-local is a symbolic link, and an output "
        "never goes through one",
    )
    store = Store(workdir / "other/state.json", hint="")
    (workdir / "other").mkdir()
    (workdir / "other/state.json.journal").symlink_to(elsewhere / "journal")
    with pytest.raises(OSError):
        store.append({"op": "put"})
    assert sorted(os.listdir(elsewhere)) == []

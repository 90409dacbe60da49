"""`--local` state in a hostile world: concurrent runs, `kill -9` mid-write, torn and corrupt files.

Real `python -m revox_sync` processes share one `.revox-local/` the way two terminals or two CI jobs on one
checkout would; every assertion reads what the next run (or a user) would read.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import run_cli, write

from revox_sync.emulator import EmulatorState

TIMEOUT = 120  # seconds: a bound for every child process, never an assertion on speed


def revox(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "revox_sync", "--local", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("REVOX_")},
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out + err


def write_assistants(directory: Path, names: list[str]) -> None:
    for name in names:
        write(directory / f"{name}.yaml", f"name: {name}\nprompt: You are {name}.\n")


def stored_names(state_dir: Path) -> list[str]:
    """The assistant names the next run will see, loaded as the next run loads them."""
    return sorted(a["name"] for a in EmulatorState.load(state_dir / "state.json").list_assistants())


def test_two_concurrent_local_applies_keep_every_write(in_tmp: Path) -> None:
    names_a = [f"a{i:02d}" for i in range(20)]
    names_b = [f"b{i:02d}" for i in range(20)]
    write_assistants(in_tmp / "dir_a", names_a)
    write_assistants(in_tmp / "dir_b", names_b)
    runs = [revox(in_tmp, "apply", "-d", d, "--auto-approve") for d in ("dir_a", "dir_b")]
    results = [finish(p) for p in runs]
    assert [code for code, _ in results] == [0, 0], results
    everything = sorted(names_a + names_b)
    assert (
        sorted(a["name"] for a in json.loads((in_tmp / ".revox-local/state.json").read_text())["assistants"])
        == everything
    )
    assert stored_names(in_tmp / ".revox-local") == everything


def test_kill_9_mid_apply_leaves_state_the_next_run_reads_and_completes(in_tmp: Path) -> None:
    names = [f"agent{i:03d}" for i in range(300)]
    write_assistants(in_tmp / "assistants", names)
    proc = revox(in_tmp, "apply", "--auto-approve")
    state_dir = in_tmp / ".revox-local"
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        files = (
            [p for p in state_dir.glob("state.json*") if p.suffix != ".lock"] if state_dir.exists() else []
        )
        if any(p.stat().st_size > 0 for p in files):
            break  # some write has landed: kill while the rest are going out
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    finish(proc)
    landed = stored_names(state_dir)
    assert landed == sorted(set(landed)) and set(landed) <= set(names)
    code, output = finish(revox(in_tmp, "apply", "--auto-approve"))
    assert code == 0, output
    assert stored_names(state_dir) == names  # each exactly once: nothing lost, nothing duplicated


def test_a_torn_journal_tail_is_dropped_and_later_writes_survive(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = EmulatorState.load(path)
    state.create_assistant({"name": "kept", "prompt": "p"})
    journal = path.with_name("state.json.journal")
    with journal.open("a", encoding="utf-8") as handle:  # a writer killed in the middle of its line
        handle.write('{"assistants": {"asst_x": {"id": "asst_x", "na')
    again = EmulatorState.load(path)
    assert [a["name"] for a in again.list_assistants()] == ["kept"]
    again.create_assistant({"name": "after", "prompt": "p"})
    assert stored_names(tmp_path) == ["after", "kept"]


def test_a_write_from_another_process_is_seen_by_a_running_one(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first, second = EmulatorState.load(path), EmulatorState.load(path)
    made = first.create_assistant({"name": "one", "prompt": "p"})
    second.update_assistant(made["id"], {"prompt": "changed by the second"})
    first.close()  # compacts into state.json
    assert second.get_assistant(made["id"])["prompt"] == "changed by the second"
    second.create_assistant({"name": "two", "prompt": "p"})
    second.close()
    assert sorted(a["name"] for a in json.loads(path.read_text())["assistants"]) == ["one", "two"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.lock"]


CORRUPT = '{\n  "version": 1,\n  "assistants": [\n    {"id": ,\n'


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (CORRUPT, ".revox-local/state.json:4:12", "not valid JSON: Expecting value"),
        ("[]\n", ".revox-local/state.json", "not an emulator state: expected an object, got a list"),
        (
            '{"assistants": [{"name": "x"}]}',
            ".revox-local/state.json",
            "not an emulator state: assistants[0] has no string 'id'",
        ),
        (b"\xff\xfe{}", ".revox-local/state.json", "not UTF-8 text"),
    ],
)
def test_a_corrupt_local_state_says_what_and_whose(
    in_tmp: Path, text: str | bytes, where: str, problem: str
) -> None:
    write_assistants(in_tmp / "assistants", ["A"])
    write(in_tmp / ".revox-local/state.json", text)
    result = run_cli("--local", "plan")
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        f"error: {where}: {problem} (the local emulator's state; delete .revox-local/ to start over)\n"
    )


def test_a_corrupt_journal_line_is_located(in_tmp: Path) -> None:
    write_assistants(in_tmp / "assistants", ["A"])
    write(in_tmp / ".revox-local/state.json", '{"version": 1, "assistants": []}')
    write(in_tmp / ".revox-local/state.json.journal", '{"assistants": {}}\nnot json\n{"assistants": {}}\n')
    result = run_cli("--local", "plan")
    assert result.code == 1
    assert result.err == (
        "error: .revox-local/state.json.journal:2:1: not valid JSON: Expecting value"
        " (the local emulator's state; delete .revox-local/ to start over)\n"
    )


def test_emulator_command_with_a_corrupt_state_file(in_tmp: Path) -> None:
    write(in_tmp / "saved.json", CORRUPT)
    result = run_cli("emulator", "--port", "0", "--state", "saved.json")
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        "error: saved.json:4:12: not valid JSON: Expecting value"
        " (the emulator's state file; fix it or delete it to start over)\n"
    )


def test_a_lock_held_by_a_stuck_process_fails_the_run_after_a_bound(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fcntl = pytest.importorskip("fcntl")
    monkeypatch.setattr("revox_sync.emulator.store.LOCK_WAIT_SECONDS", 0.2)
    write_assistants(in_tmp / "assistants", ["A"])
    lock = write(in_tmp / ".revox-local/state.json.lock", "")
    with lock.open("rb") as stuck:  # what a stopped (SIGSTOP) run in the middle of a request holds
        fcntl.flock(stuck, fcntl.LOCK_EX)
        result = run_cli("--local", "plan")
    assert result.code == 1
    assert result.err == (
        "error: .revox-local/state.json.lock: still locked by another process after 0.2 s"
        " (a stopped or hung revox-sync? end it, and the lock goes with it)\n"
    )
    after = run_cli("--local", "plan")  # released: the next run goes ahead
    assert (after.code, after.out.splitlines()[-1]) == (0, "Plan: 1 to add, 0 to change, 0 to destroy.")


def test_state_and_journal_are_readable_by_their_owner_only(workdir):
    """The local state holds resolved secrets: like a key file, nobody but its owner may read it."""
    write(workdir / "assistants/a.yaml", "name: A\nprompt: Hi.\n")
    result = run_cli("--local", "apply", "--auto-approve")
    assert result.code == 0, result.all
    state_dir = workdir / ".revox-local"
    for name in ("state.json", "state.json.journal"):
        if (state_dir / name).exists():
            assert (state_dir / name).stat().st_mode & 0o777 == 0o600, name
    assert (state_dir / "state.json").exists()

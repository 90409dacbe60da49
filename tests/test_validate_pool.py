"""validate on several processes reports exactly what one process reports: errors in every part, a name
declared in two parts, a template's mistake shared by rows in both, warnings, and the counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli, write

from revox_sync.kinds.assistant.load import POOL_MIN_FILES, workers_for


def project(root: Path) -> None:
    for i in range(12):
        write(root / f"assistants/a-{i:02d}.yaml", f"name: Agent {i}\nprompt: Hello {i}.\n")
    write(root / "assistants/a-03.yaml", "name: Agent 3\nprompt: 12\n")  # an error in the first part
    write(root / "assistants/a-10.yaml", "name: Agent 1\nprompt: Same name as a-01.\n")  # across parts
    write(root / "assistants/a-11.yaml", "name: Agent 11\ntransfer_phone_number: '+15550001111'\n")
    write(root / "assistants/templates/t.yaml", "voice: {provider: cartesia, id: v, speed: 9}\n")
    for part in ("b-00", "z-99"):  # a fleet in each part, both extending the broken template
        write(
            root / f"assistants/{part}.yaml",
            f"extends: templates/t.yaml\nfor_each:\n  - {{n: {part}x}}\n  - {{n: {part}y}}\nname: 'F ${{each.n}}'\n",
        )


@pytest.mark.parametrize("workers", ["2", "3"])
def test_a_pool_reports_what_one_process_reports(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    project(in_tmp)
    monkeypatch.setenv("REVOX_SYNC_WORKERS", "1")
    alone = run_cli("validate")
    monkeypatch.setenv("REVOX_SYNC_WORKERS", workers)
    pooled = run_cli("validate")
    assert (pooled.code, pooled.out, pooled.err) == (alone.code, alone.out, alone.err)
    assert alone.code == 1
    lines = alone.err.splitlines()
    assert "assistants/a-03.yaml:2:9: prompt: input should be a valid string" in lines
    assert (
        "assistants/a-10.yaml:1:7: duplicate name 'Agent 1': assistants/a-01.yaml:1 already declares it"
        in lines
    )
    assert any("transfer_phone_number" in line and "warning" in line for line in lines)
    speed = [line for line in lines if "voice.speed" in line]
    assert len(speed) == 1 and "(rows " in speed[0], speed  # one line for the four rows of two fleets


def test_valid_files_count_the_same_in_a_pool(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(POOL_MIN_FILES + 6):
        write(in_tmp / f"assistants/a-{i:03d}.yaml", f"name: Agent {i}\nprompt: Hello.\n")
    monkeypatch.setenv("REVOX_SYNC_WORKERS", "2")
    run = run_cli("validate")
    assert (run.code, run.out, run.err) == (0, f"{POOL_MIN_FILES + 6} assistant files valid.\n", "")


def test_the_pool_starts_only_past_the_crossover(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVOX_SYNC_WORKERS", raising=False)
    assert workers_for(POOL_MIN_FILES - 1) == 1
    assert 1 <= workers_for(10_000) <= (len(__import__("os").sched_getaffinity(0)))
    monkeypatch.setenv("REVOX_SYNC_WORKERS", "1")
    assert workers_for(10_000) == 1

"""`revox-sync emulator` as a user runs it: a real process, a real port, state kept across restarts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx


def serve(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "revox_sync", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/api)", line)
    assert match, line + proc.stderr.read() if proc.stderr else line
    return proc, match.group(1)


def test_emulator_serves_owned_numbers_and_keeps_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc, url = serve("--state", str(state), "--api-key", "k1", "--phone-number", "+14155550100")
    try:
        headers = {"Authorization": "Bearer k1"}
        assert httpx.get(f"{url}/assistants", headers={"Authorization": "Bearer nope"}).status_code == 401
        created = httpx.post(f"{url}/assistants", json={"name": "A", "prompt": "p"}, headers=headers)
        assert created.status_code in (200, 201)
        numbers = httpx.get(f"{url}/phone-numbers", headers=headers).json()["phone_numbers"]
        assert [n["phone_number"] for n in numbers] == ["+14155550100"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    proc, url = serve("--state", str(state), "--phone-number", "+14155550100")
    try:
        assert [a["name"] for a in httpx.get(f"{url}/assistants").json()["assistants"]] == ["A"]
        assert len(httpx.get(f"{url}/phone-numbers").json()["phone_numbers"]) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)

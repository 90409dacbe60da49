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


def test_the_readmes_emulator_section_works_as_written(tmp_path: Path) -> None:
    """Its serve line, its curl seeding and the import after it, and what it says of the state files."""
    import json
    import os
    import shlex
    import signal

    root = Path(__file__).resolve().parent.parent
    (section,) = re.findall(
        r"\n## The local emulator\n(.*?)\n## ", (root / "README.md").read_text(), flags=re.S
    )
    serve_block, seed_block = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    argv = shlex.split(serve_block)
    assert argv[:4] == ["revox-sync", "emulator", "--port", "8787"]  # serve() takes any free port instead
    state = tmp_path / argv[argv.index("--state") + 1]
    options = [str(state) if arg == state.name else arg for arg in argv[4:]]
    proc, url = serve(*options)
    try:
        (tmp_path / ".git").mkdir()
        script = seed_block.replace("URL=http://127.0.0.1:8787/api", f"URL={url}", 1)
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "PYTHONPATH": str(root),
            "HOME": str(tmp_path),
        }
        done = subprocess.run(
            ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert '"message"' not in done.stdout  # no error answer
        (assistant,) = httpx.get(f"{url}/assistants").json()["assistants"]
        assert (assistant["name"], assistant["prompt"]) == ("Support", "Edited in the dashboard.")
        assert "Ada" in [v["name"] for v in httpx.get(f"{url}/voices").json()["voices"] if v["isCloned"]]
        assert [n["phone_number"] for n in httpx.get(f"{url}/phone-numbers").json()["phone_numbers"]] == [
            "+15550100"
        ]
        assert "prompt: !file prompts/support.md" in (tmp_path / "assistants/support.yaml").read_text()
        assert (tmp_path / "assistants/prompts/support.md").read_text().strip() == "Edited in the dashboard."
        journal = state.with_name(state.name + ".journal")
        assert (
            not state.exists() and len(journal.read_text().splitlines()) == 4
        )  # number, create, update, clone
        assert set(json.loads(journal.read_text().splitlines()[2])) == {
            "assistants",
            "phone_numbers",
            "voices",
        }
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = proc.communicate(timeout=10)
    assert "emulator stopped" in err
    assert not journal.exists() and state.with_name(state.name + ".lock").exists()
    snapshot = json.loads(state.read_text())
    assert (
        sorted(snapshot) == ["assistants", "phone_numbers", "version", "voices"] and snapshot["version"] == 1
    )
    assert os.stat(state).st_mode & 0o777 == 0o600

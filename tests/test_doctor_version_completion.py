"""`--version` (-v: the libraries), `doctor` (no key, a wrong key, a good key, on the emulator over loopback)
and shell completion exercised in a real bash with COMP_WORDS / COMP_CWORD."""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY
from helpers import run_cli, write

from revox_sync import __version__

BIN = Path(sys.executable).parent


def test_version_plain_and_verbose_either_order() -> None:
    assert run_cli("--version").out == f"revox-sync {__version__}\n"
    expected = [
        f"revox-sync {__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"pydantic {version('pydantic')}",
        f"httpx {version('httpx')}",
        f"ruamel.yaml {version('ruamel.yaml')}",
        f"click {version('click')}",
    ]
    for args in (("-v", "--version"), ("--version", "-v")):
        result = run_cli(*args)
        assert (result.code, result.out.splitlines(), result.err) == (0, expected, "")


# --- doctor ----------------------------------------------------------------------------------------------
@pytest.fixture
def project(workdir: Path) -> Path:
    (workdir / ".git").mkdir()
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    return workdir


def _git_init(root: Path, ignore: str) -> None:
    shutil.rmtree(root / ".git")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    write(root / ".gitignore", ignore)


def test_doctor_with_no_key(project: Path) -> None:
    _git_init(project, ".revox-local/\n")
    result = run_cli("doctor", environ={"PATH": os.environ["PATH"]})
    assert result.code == 1
    assert result.out.splitlines() == [
        "- project file: no revox-sync.yaml (optional: it names environments)",
        "✓ config directory: assistants/ (1 YAML files)",
        "✗ API key (account): REVOX_API_KEY (or --api-key) is not set: export REVOX_API_KEY=... (a CI secret in CI)",
        "✓ git ignores .revox-local/: yes",
        f"✗ git ignores .revox-sync/: no: add `.revox-sync/` to {project / '.gitignore'}",
    ]
    assert result.err == "error: 2 of 5 checks failed.\n"


def test_doctor_with_a_wrong_key_names_the_variable_and_never_prints_the_key(project: Path, emulator) -> None:
    _git_init(project, ".revox-local/\n.revox-sync/\n")
    write(
        project / "revox-sync.yaml",
        f"environments:\n  staging:\n    api_key_env: REVOX_API_KEY_STAGING\n    base_url: {emulator.url}\n"
        f"  production:\n    api_key_env: REVOX_API_KEY_PRODUCTION\n    base_url: {emulator.url}\n",
    )
    wrong = "wrong-key-0123456789"
    result = run_cli(
        "doctor",
        environ={
            "PATH": os.environ["PATH"],
            "REVOX_API_KEY_STAGING": wrong,
            "REVOX_API_KEY_PRODUCTION": API_KEY,
        },
    )
    assert result.code == 1
    lines = result.out.splitlines()
    assert (
        lines[0]
        == f"✓ project file: {project / 'revox-sync.yaml'} is valid (environments: staging, production)"
    )
    assert lines[2:6] == [
        "✓ API key (environment staging): set (REVOX_API_KEY_STAGING)",
        f"✗ API (environment staging): {emulator.url} refused the key (401): check REVOX_API_KEY_STAGING: a key of this "
        "account, not revoked",
        "✓ API key (environment production): set (REVOX_API_KEY_PRODUCTION)",
        f"✓ API (environment production): {emulator.url} accepted the key (0 assistants)",
    ]
    assert wrong not in result.all and API_KEY not in result.all
    assert result.err == "error: 1 of 8 checks failed.\n"


def test_doctor_with_a_good_key_passes_and_makes_one_get(project: Path, emulator) -> None:
    _git_init(project, ".revox-local/\n.revox-sync/\n")
    emulator.state.seed_assistant({"name": "A", "prompt": "p"})
    emulator.clear_requests()
    result = run_cli(
        "--base-url", emulator.url, "--api-key", API_KEY, "doctor", environ={"PATH": os.environ["PATH"]}
    )
    assert result.code == 0, result.all
    assert f"✓ API (account): {emulator.url} accepted the key (1 assistants)" in result.out
    assert result.out.endswith("\nAll 5 checks passed.\n")
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", "/assistants")]


def test_doctor_with_an_unreachable_url(project: Path) -> None:
    result = run_cli(
        "--base-url",
        "http://127.0.0.1:9",
        "--api-key",
        "k" * 12,
        "doctor",
        environ={"PATH": os.environ["PATH"]},
    )
    assert result.code == 1
    [line] = [line for line in result.out.splitlines() if line.startswith("✗ API (account)")]
    assert line.startswith("✗ API (account): http://127.0.0.1:9: ")
    assert line.endswith(": check the base URL and the network")


def test_doctor_with_a_slow_server_keeps_to_the_timeout_given(project: Path, emulator) -> None:
    emulator.inject("GET", "^/assistants", delay=20.0, times=5)
    started = time.monotonic()
    result = run_cli(
        "--base-url",
        emulator.url,
        "--api-key",
        API_KEY,
        "--timeout",
        "1",
        "doctor",
        environ={"PATH": os.environ["PATH"]},
    )
    assert time.monotonic() - started < 10
    [line] = [line for line in result.out.splitlines() if line.startswith("✗ API (account)")]
    assert "(--timeout 1s)" in line and line.endswith(": check the base URL and the network")
    assert API_KEY not in result.all


def test_doctor_with_a_broken_project_file(project: Path) -> None:
    write(project / "revox-sync.yaml", "environments: [oops]\n")
    result = run_cli("doctor", environ={"PATH": os.environ["PATH"]})
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("✗ project file: revox-sync.yaml:1:") and lines[0].endswith(": fix the file")
    assert "Traceback" not in result.all


# --- completion, in a real bash --------------------------------------------------------------------------------
def _complete(cwd: Path, *words: str) -> list[str]:
    """What bash offers after `words` (the last one being completed), with the script the README installs."""
    array = " ".join(shlex.quote(w) for w in words)
    script = (
        'eval "$(_REVOX_SYNC_COMPLETE=bash_source revox-sync)"\n'
        f"COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}\n"
        "_revox_sync_completion revox-sync\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    bash = shutil.which("bash")
    assert bash is not None
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(cwd)}
    done = subprocess.run(
        [bash, "--norc", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_bash_completes_commands_targets_and_environments(project: Path) -> None:
    write(project / "assistants/b.yaml", "name: Sales qualifier\nid: asst_123\nprompt: p\n")
    write(project / "assistants/phone_numbers.yaml", 'phone_numbers:\n  "+15551234567": {assistant: A}\n')
    write(project / "revox-sync.yaml", "environments:\n  staging: {}\n  production: {}\n")
    assert _complete(project, "revox-sync", "f") == ["fmt"]
    assert _complete(project, "revox-sync", "d") == ["doctor"]
    assert _complete(project, "revox-sync", "plan", "--target", "") == [
        "+15551234567",
        "A",
        "'Sales qualifier'",
        "asst_123",
    ]
    assert _complete(project, "revox-sync", "apply", "--target", "Sa") == ["'Sales qualifier'"]
    assert _complete(project, "revox-sync", "--env", "") == ["production", "staging"]
    assert _complete(project, "revox-sync", "validate", "--env", "st") == ["staging"]


@pytest.mark.parametrize(
    "name", ["Sales qualifier", 'it\'s "quoted"', "$(touch pwned) `touch pwned` $HOME", "Bot *", "a;b|c&d"]
)
def test_bash_inserts_a_hostile_name_as_one_word_and_runs_nothing(project: Path, name: str) -> None:
    """bash puts a completion on the command line as it is: it comes quoted for the shell."""
    write(project / "assistants/b.yaml", f"name: {json.dumps(name)}\nprompt: p\n")
    write(project / "Bot 1", "a file a glob would find")
    (offered,) = _complete(project, "revox-sync", "plan", "--target", name[:3])
    words = subprocess.run(
        ["bash", "--norc", "-c", 'eval "set -- $0"; printf "%s\\n" "$#" "$1"', offered],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert words.stdout == f"1\n{name}\n"
    assert not (project / "pwned").exists()


def test_completion_of_a_broken_directory_offers_nothing_and_says_nothing(project: Path) -> None:
    write(project / "assistants/a.yaml", "name: [\n")
    write(project / "revox-sync.yaml", "environments: [\n")
    assert _complete(project, "revox-sync", "plan", "--target", "") == []
    assert _complete(project, "revox-sync", "--env", "") == []


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_are_generated(shell: str, tmp_path: Path) -> None:
    env = {**os.environ, "_REVOX_SYNC_COMPLETE": f"{shell}_source"}
    done = subprocess.run(
        [str(BIN / "revox-sync")], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0 and "_revox_sync_completion" in done.stdout

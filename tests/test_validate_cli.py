"""`revox-sync validate` as a user (or pre-commit) runs it: files in, messages and an exit code out."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write

from revox_sync.cli import main
from revox_sync.output import Environment

REPO = Path(__file__).resolve().parent.parent

VALID = """\
name: {name}
voice:
  provider: cartesia
  id: voice-1
  speed: 1.1
faq_items:
  - question: When are you open?
    answer: Nine to five.
"""


pytestmark = pytest.mark.usefixtures("in_tmp")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin=io.StringIO(), color=False)
    code = main(list(argv), env=env)
    return code, out.getvalue(), err.getvalue()


def test_valid_directory_default_path() -> None:
    write(Path("assistants/sales.yaml"), VALID.format(name="Sales"))
    write(Path("assistants/team/support.yml"), VALID.format(name="Support"))
    code, out, err = run("validate")
    assert (code, out, err) == (0, "2 assistant files valid.\n", "")


def test_errors_of_all_files_go_to_stderr_with_exit_1() -> None:
    write(Path("assistants/a.yaml"), "name: A\nvoice:\n  provider: cartesia\n  id: v\n  sped: 1.1\n")
    write(Path("assistants/b.yaml"), "name: A\nprompt: ${REVOX_TEST_UNSET_VARIABLE}\n")
    code, out, err = run("validate", "assistants")
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "assistants/a.yaml:5:3: unknown key 'sped' in voice; did you mean 'speed'?",
        "assistants/b.yaml:1:7: duplicate name 'A': assistants/a.yaml:1 already declares it",
        "assistants/b.yaml:2:9: environment variable REVOX_TEST_UNSET_VARIABLE is not set "
        "(and ${REVOX_TEST_UNSET_VARIABLE} has no default)",
        "3 errors.",
    ]


def test_variables_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    write(Path("assistants/a.yaml"), "name: ${REVOX_TEST_TEAM} bot\n")
    monkeypatch.setenv("REVOX_TEST_TEAM", "Sales")
    assert run("validate")[0] == 0
    monkeypatch.delenv("REVOX_TEST_TEAM")
    code, _, err = run("validate")
    assert code == 1
    assert "REVOX_TEST_TEAM is not set" in err


def test_warnings_are_printed_and_do_not_fail() -> None:
    write(Path("assistants/a.yaml"), "name: A\ntransfer_phone_number: '+14155550123'\n")
    code, out, err = run("validate")
    assert code == 0
    assert out == "1 assistant file valid.\n"
    assert err.startswith("assistants/a.yaml:2:1: warning: transfer_phone_number is deprecated")


def test_empty_directory_names_the_directory() -> None:
    Path("configs").mkdir()
    write(Path("configs/phone_numbers.yaml"), "- '+14155550123'\n")  # reserved: not an assistant file
    code, out, err = run("validate", "configs")
    assert code == 1
    assert out == ""
    assert "no assistant files" in err
    assert "configs" in err


def test_missing_path_is_an_error() -> None:
    code, _, err = run("validate", "nowhere")
    assert code == 1
    assert "nowhere: no such file or directory" in err


def test_explicit_files_as_pre_commit_passes_them() -> None:
    write(Path("assistants/a.yaml"), VALID.format(name="A"))
    write(Path("assistants/b.yaml"), VALID.format(name="B"))
    write(Path("assistants/phone_numbers.yaml"), "- '+14155550123'\n")
    code, out, _ = run("validate", "assistants/a.yaml", "assistants/phone_numbers.yaml")
    assert (code, out) == (0, "1 assistant file valid.\n")


def test_alias_bomb_fails_fast() -> None:
    lines = ["name: Bomb", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    write(Path("assistants/bomb.yaml"), "\n".join(lines) + "\n")
    code, _, err = run("validate")
    assert code == 1
    assert "too many nodes (alias expansion?)" in err


# --- end to end, in a real process ------------------------------------------------------------------------
def _subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLLECTIONS_LLM_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "revox_sync", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_subprocess_broken_file_exit_1_without_traceback(tmp_path: Path) -> None:
    write(tmp_path / "assistants/good.yaml", VALID.format(name="Good"))
    write(tmp_path / "assistants/broken.yaml", b"name: Broken\nprompt: [unclosed\nvoice: \xff\n")
    done = _subprocess("validate", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout == ""
    assert done.stderr.startswith("assistants/broken.yaml:3:8: not valid UTF-8\n")


def test_subprocess_repository_examples_validate_on_a_fresh_machine() -> None:
    done = _subprocess("validate", "assistants", cwd=REPO)
    assert (done.returncode, done.stdout, done.stderr) == (0, "3 assistant files valid.\n", "")

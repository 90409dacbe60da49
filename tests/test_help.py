"""`--help` (click writes it to the process's stdout) describes the options as they work now: the config directory's default, and where a saved plan
keeps the allow options (apply has no --out of its own)."""

from __future__ import annotations

import pytest

from tests.helpers import run_cli


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "render", "fmt", "doctor", "import"])
def test_the_config_directory_default_names_the_project_file(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(command, "--help").code == 0
    assert "config_dir of revox-sync.yaml, else" in " ".join(capsys.readouterr().out.split())


def test_apply_help_says_plan_out_keeps_the_allow_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("apply", "--help").code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--out's plan" not in text
    assert text.count("plan --out keeps it in the saved plan") == 2
    assert "--local implies it" in text


def test_emulator_help_names_its_state_files_and_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("emulator", "--help").code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "JSON state file, with FILE.journal and FILE.lock beside it (default: in memory, gone at Ctrl-C)"
        in text
    )


def test_plan_help_says_it_shows_the_policy_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("plan", "--help").code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "with the policy rules' findings on it; changes nothing (exit 0 with findings" in text

"""The hostile pass of issue 21: what an attacker with only YAML edits in a pull request, or a user at the
keyboard, tried against the merged work, and found. Each test is one finding, through the CLI or the action's
own steps."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from helpers import run_cli, write
from test_action import FakeGitHub, github, repo, run_step  # noqa: F401  (fixtures)
from test_apply_hostile import fleet, start_apply, wait_for
from test_sharing import backup_of
from test_trust import Internet, _project, _run, internet  # noqa: F401  (fixture)


# --- the key's destination ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://collector.localhost/api", "base_url host 'collector.localhost' is not allowed"),
        (
            "http://collector.localhost/api",
            "refusing plain http:// base URL 'http://collector.localhost/api'",
        ),
    ],
)
def test_a_name_under_localhost_is_not_loopback_for_the_key(
    workdir: Path,
    internet: Internet,  # noqa: F811
    url: str,
    message: str,
) -> None:
    """`*.localhost` is loopback only where the resolver says so: a CI runner's DNS may answer it with any
    address, so a file naming it must not get the key (nor plain http)."""
    _project(workdir, url)
    result = _run("--env", "staging", "plan")
    assert result.code == 1
    assert result.err.startswith(f"revox-sync.yaml:4:15: {message}") and result.err.endswith("\n1 error.\n")
    assert internet.lookups == [] and internet.sent == []


# --- Ctrl-C ---------------------------------------------------------------------------------------------------
def test_an_interrupted_restore_says_to_run_restore_again_not_apply(emulator, workdir: Path, cli) -> None:
    """`apply` again would write the files' values over what the restore had put back: the advice names the
    restore, and running it finishes the undo."""
    names = fleet(workdir)
    assert cli("apply", "--auto-approve").code == 0
    for name in names:
        write(workdir / f"assistants/{name.lower().replace(' ', '-')}.yaml", f"name: {name}\nprompt: Bye.\n")
    changed = cli("apply", "--auto-approve", "--force")
    assert changed.code == 0, changed.all
    backup = str(backup_of(changed))
    emulator.latency, _ = 0.3, emulator.clear_requests()
    proc = start_apply(
        emulator, workdir, "--parallelism", "1", command=("restore", backup, "--auto-approve", "--force")
    )
    wait_for(lambda: sum(1 for r in emulator.requests if r.method == "PATCH") >= 2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, out + err
    assert "apply again" not in err
    again = f"Run revox-sync --base-url {emulator.url} restore {backup} again: it will do only what is left."
    assert err.splitlines()[-1] == again
    emulator.latency = 0.0
    again = cli("restore", backup, "--auto-approve", "--force")
    assert again.code == 0, again.all
    assert {a["prompt"] for a in emulator.state.list_assistants()} == {"Hi."}


# --- workflow commands ------------------------------------------------------------------------------------------
def test_imports_list_of_variables_prints_a_dashboard_name_inert(emulator, workdir: Path, cli) -> None:
    """The list of variables to set names each assistant: a name from the dashboard holding `##[warning]` (a
    workflow command wherever it sits in a line) printed raw there, though every other line escapes it."""
    name = "Desk ##[warning]fake ::error::x"
    emulator.state.seed_assistant(
        {
            "name": name,
            "prompt": "Hi.",
            "llm_model": {
                "type": "custom",
                "api_url": "https://l.example/v1",
                "model_name": "m",
                "api_key": "sk-1",
            },
        }
    )
    result = cli("import", "--all")
    assert result.code == 0, result.all
    assert "##[" not in result.all
    assert result.out.splitlines()[-1].endswith(
        'llm_model.api_key of "Desk \\u0023#[warning]fake ::error::x"'
    )


# --- what revox-sync.yaml may read ------------------------------------------------------------------------------
OUTSIDE_VALUE = "postgres://deploy:db-pw-4711@db.internal/prod"


@pytest.fixture
def machine_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout at tmp/home/work/repo, and beside it a file of the machine's that no file of it may read."""
    secret = write(tmp_path / "home/deploy.yaml", f"DEPLOY_URL: '{OUTSIDE_VALUE}'\n")
    checkout = tmp_path / "home/work/checkout"
    (checkout / ".git").mkdir(parents=True)
    write(checkout / "assistants/a.yaml", "name: A\nprompt: 'Connect with ${DEPLOY_URL}.'\n")
    monkeypatch.chdir(checkout)
    return secret


@pytest.mark.parametrize("how", ["../../deploy.yaml", "absolute", "link.yaml"])
def test_a_variable_file_the_project_names_stays_inside_the_repository(machine_file: Path, how: str) -> None:
    """`var_files:` of revox-sync.yaml read any file of the runner (`..`, an absolute path, a committed link),
    and the plan, so the pull-request comment, showed its values."""
    if how == "link.yaml":
        Path("link.yaml").symlink_to(machine_file)
    named = str(machine_file) if how == "absolute" else how
    write("revox-sync.yaml", f"environments:\n  staging:\n    var_files: '{named}'\n")
    for args in (("--local", "--env", "staging", "plan"), ("validate", "--env", "staging")):
        result = run_cli(*args)
        assert result.code == 1, result.all
        assert OUTSIDE_VALUE not in result.all
        assert result.err.startswith(
            "revox-sync.yaml:3:16: var_files: a variable file of revox-sync.yaml must be inside its directory"
        )
    Path("revox-sync.yaml").unlink()
    assert run_cli("--local", "--var-file", str(machine_file), "plan").code == 0  # the operator's own choice


def test_the_config_directory_stays_inside_the_repository(machine_file: Path) -> None:
    """A `config_dir` above the checkout made `!file` (held inside the config directory) read the machine's
    files into a prompt."""
    write(machine_file.parent / "assistants/a.yaml", "name: A\nprompt: !file ../deploy.yaml\n")
    write("revox-sync.yaml", "config_dir: ../../assistants\n")
    result = run_cli("--local", "plan")
    assert result.code == 1 and OUTSIDE_VALUE not in result.all
    assert result.err.startswith(
        "revox-sync.yaml:1:13: config_dir: the config directory of revox-sync.yaml must be inside its directory"
    )


# --- the action runs no code of the checkout ---------------------------------------------------------------------
def test_the_comment_step_never_imports_a_package_the_pull_request_committed(
    repo: Path,  # noqa: F811
    github: FakeGitHub,  # noqa: F811
) -> None:
    """`python -m` puts the working directory, the checkout, first on the module path: a committed
    `revox_sync/pr_comment.py` ran with the job's GITHUB_TOKEN."""
    hook = "import os, pathlib\npathlib.Path('pwned').write_text(os.environ.get('GITHUB_TOKEN', ''))\n"
    write(repo / "revox_sync/__init__.py", "")
    write(repo / "revox_sync/pr_comment.py", hook)
    code, _, outputs, _ = run_step("run", repo, {"command": "plan", "environment": "staging"})
    assert code == 0
    event = write(repo / "event.json", json.dumps({"pull_request": {"number": 7}}))
    extra = {"GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": "acme/voice", "GITHUB_EVENT_PATH": str(event)}
    code, output, _, _ = run_step(
        "Comment the plan on the pull request",
        repo,
        {"environment": "staging"},
        extra,
        {"steps.run.outputs.comment-file": outputs["comment-file"]},
    )
    assert not (repo / "pwned").exists()
    assert code == 0, output
    assert [m for m, _ in github.requests if m != "GET"] == ["POST"]

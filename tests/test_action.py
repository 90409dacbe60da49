"""The GitHub Action (`action.yml`): valid against the published action schema, its shell steps run under a
real bash with fake inputs against the emulator on loopback, and the comment per environment found by its
marker and updated in place (on a stand-in for GitHub's REST API on loopback)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import API_KEY
from helpers import JsonHandler, write
from ruamel.yaml import YAML

from revox_sync.pr_comment import MAX_COMMENT_CHARS, comment_body, find_comment, marker

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "examples/ci/github-actions.yml"
BIN = Path(sys.executable).parent


def action() -> dict[str, Any]:
    return YAML(typ="safe").load(ACTION.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def step(name_or_id: str) -> dict[str, Any]:
    (found,) = [s for s in action()["runs"]["steps"] if name_or_id in (s.get("id"), s.get("name"))]
    return found


# --- the files ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schema", "path"), [("vendor.github-actions", ACTION), ("vendor.github-workflows", WORKFLOW)]
)
def test_valid_against_the_published_schemas(schema: str, path: Path) -> None:
    """SchemaStore's github-action.json and github-workflow.json, as check-jsonschema vendors them."""
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_action_fails_the_schema(tmp_path: Path) -> None:
    broken = write(tmp_path / "action.yml", ACTION.read_text().replace("using: composite", "using: compost"))
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    """zizmor offline (no GitHub here nor in CI), with the repository's zizmor.yml found beside the files."""
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_zizmor_finds_nothing_in_the_action_and_the_example_workflow() -> None:
    done = zizmor(ACTION, WORKFLOW)
    assert (done.returncode, json.loads(done.stdout)) == (0, []), done.stdout + done.stderr


def test_every_uses_is_pinned_to_a_commit_named_by_its_release() -> None:
    """zizmor's unpinned-uses, and the comment that says which release the commit is; the example's use of
    this project's own action is the one tag (zizmor.yml), as its release commit is known only once made."""
    text = ACTION.read_text() + WORKFLOW.read_text()
    uses = re.findall(r"^\s*(?:- )?uses: (.*)$", text, flags=re.M)
    pinned = [line for line in uses if not line.startswith("revox-sync/revox-sync@v0.1.0")]
    assert (len(uses), len(pinned)) == (11, 7)
    for line in pinned:
        assert re.fullmatch(r"[\w/.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+(: .*)?", line), line


def test_zizmor_fails_an_unpinned_checkout_that_keeps_its_credentials(tmp_path: Path) -> None:
    broken = write(
        tmp_path / "w.yml",
        WORKFLOW.read_text().replace(
            "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n"
            "          persist-credentials: false",
            "actions/checkout@v4\n        with:\n          fetch-depth: 1",
            1,
        ),
    )
    done = zizmor(broken)
    assert done.returncode != 0
    assert {f["ident"] for f in json.loads(done.stdout)} == {"unpinned-uses", "artipacked"}


def test_inputs_reach_scripts_only_through_env() -> None:
    """An input pasted into a script (`${{ inputs.x }}` inside `run:`) could inject shell code."""
    doc = action()
    assert doc["runs"]["using"] == "composite"
    assert set(doc["inputs"]) >= {"command", "environment", "config-dir", "version", "comment"}
    for s in doc["runs"]["steps"]:
        assert "${{" not in s.get("run", ""), s.get("name")
        if "run" in s:
            assert s["shell"] == "bash"
    workflow = YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))
    for job in workflow["jobs"].values():
        for s in job["steps"]:
            assert "${{" not in s.get("run", ""), s.get("name")


# --- the comment marker -------------------------------------------------------------------------------------
def test_marker_names_the_environment_and_cannot_close_the_comment() -> None:
    assert marker("staging") == "<!-- revox-sync plan: staging -->"
    assert marker("") == "<!-- revox-sync plan: default -->"
    assert marker("a-->b <x>") == "<!-- revox-sync plan: a-_>b__x_ -->".replace(">b", "_b")
    assert "-->" not in marker("x-->")[:-3]


def test_find_comment_takes_the_bots_comment_of_this_environment_only() -> None:
    comments = [
        {"id": 1, "user": {"login": "mallory"}, "body": marker("staging") + "\nfake"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": "quoting " + marker("staging")},
        {"id": 3, "user": {"login": "github-actions[bot]"}, "body": marker("production") + "\nplan"},
        {"id": 4, "user": {"login": "github-actions[bot]"}, "body": marker("staging") + "\nplan"},
        {"id": 5, "user": {"login": "github-actions[bot]"}, "body": marker("staging-eu") + "\nplan"},
    ]
    assert find_comment(comments, "staging") == 4
    assert find_comment(comments, "production") == 3
    assert find_comment(comments, "staging-eu") == 5
    assert find_comment(comments, "dev") is None
    assert find_comment(comments, "staging", author="mallory") == 1


def test_comment_body_fits_githubs_limit() -> None:
    body = comment_body("staging", "x" * 100_000)
    assert len(body) <= MAX_COMMENT_CHARS and body.startswith(marker("staging") + "\n")
    assert comment_body("staging", "plan") == marker("staging") + "\nplan"


# --- a stand-in for GitHub's issue-comment API on loopback ---------------------------------------------------
class FakeGitHub:
    def __init__(self) -> None:
        self.comments: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.tokens: set[str] = set()
        self.user: str | None = None  # the user of a personal token; None: the workflow's GITHUB_TOKEN
        fake = self

        class Handler(JsonHandler):
            def _body(self) -> Any:
                return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                fake.tokens.add(self.headers["Authorization"])
                if self.path == "/user":  # GITHUB_TOKEN may not read it
                    self._answer(*((200, {"login": fake.user}) if fake.user else (403, {"message": "no"})))
                    return
                page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))  # type: ignore[union-attr]
                self._answer(200, fake.comments[(page - 1) * 100 : page * 100])

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                comment = {
                    "id": 1000 + len(fake.comments),
                    "user": {"login": fake.user or "github-actions[bot]"},
                    **self._body(),
                }
                fake.comments.append(comment)
                self._answer(201, comment)

            def do_PATCH(self) -> None:
                fake.requests.append(("PATCH", self.path))
                ident = int(self.path.rsplit("/", 1)[1])
                (comment,) = [c for c in fake.comments if c["id"] == ident]
                comment.update(self._body())
                self._answer(200, comment)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    yield fake
    fake.server.shutdown()


# --- the steps, under bash --------------------------------------------------------------------------------------
@pytest.fixture
def repo(workdir: Path, emulator) -> Path:
    """A checkout: two environments on the emulator, one assistant to create."""
    (workdir / ".git").mkdir()
    write(
        workdir / "revox-sync.yaml",
        f"environments:\n  staging: {{api_key_env: REVOX_API_KEY_STAGING, base_url: '{emulator.url}'}}\n"
        f"  production: {{api_key_env: REVOX_API_KEY_PRODUCTION, base_url: '{emulator.url}'}}\n",
    )
    write(workdir / "assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    return workdir


def run_step(
    name: str,
    cwd: Path,
    inputs: dict[str, str],
    extra: dict[str, str] | None = None,
    context: dict[str, str] | None = None,
) -> tuple[int, str, dict[str, str], str]:
    """Run one step's script under bash as the runner would: its `env:` with the expressions filled in (the
    inputs: the defaults of action.yml, then `inputs`; any other, `context`'s value or empty, as GitHub does
    for what an event lacks); returns exit code, output, GITHUB_OUTPUT and the job summary."""
    doc = action()
    values = {f"inputs.{k}": str(v.get("default", "")) for k, v in doc["inputs"].items()}
    values |= {f"inputs.{k}": v for k, v in inputs.items()} | (context or {})
    values["inputs.github-token"] = "ghs_fake-token-0123456789"
    temp = cwd / "runner-temp"
    temp.mkdir(exist_ok=True)
    outputs, summary = temp / "output", temp / "summary"
    for f in (outputs, summary):
        f.write_text("")
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(cwd),
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "REVOX_API_KEY_STAGING": API_KEY,
        "REVOX_API_KEY_PRODUCTION": API_KEY,
        **(extra or {}),
    }
    for key, value in step(name).get("env", {}).items():
        env[key] = re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: values.get(m.group(1), ""), str(value))
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run(
        [bash, "--noprofile", "--norc", "-e", "-c", step(name)["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    got = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return done.returncode, done.stdout + done.stderr, got, summary.read_text()


def step_dir(outputs: dict[str, str], *names: str) -> Path:
    """The one directory under RUNNER_TEMP that holds every file the step named in `names` (outputs)."""
    (directory,) = {Path(outputs[name]).parent for name in names}
    assert directory.parent.name == "runner-temp" and directory.name.startswith("revox-sync-")
    return directory


def test_plan_step_writes_summary_saved_plan_and_comment_file(repo: Path, emulator) -> None:
    code, output, outputs, summary = run_step("run", repo, {"command": "plan", "environment": "staging"})
    assert code == 0, output
    assert outputs["exitcode"] == "2"  # changes; not a failure here
    work = step_dir(outputs, "plan-file", "comment-file")
    assert outputs == {
        "plan-file": f"{work}/plan-staging.json",
        "comment-file": f"{work}/comment.md",
        "exitcode": "2",
    }
    assert summary.startswith("## revox-sync plan (staging)\n\n")
    assert "Support" in summary and "1 to add" in summary
    assert json.loads((work / "plan-staging.json").read_text())["format_version"]
    comment = (work / "comment.md").read_text()
    assert comment.startswith("## staging\n\n")
    assert not (repo / "plan-staging.json").exists()  # nothing in the checkout
    assert API_KEY not in output + summary + comment
    assert not emulator.state.list_assistants()  # a plan writes nothing


def test_plan_step_with_detailed_exitcode_fails_on_changes(repo: Path) -> None:
    code, _, outputs, _ = run_step(
        "run", repo, {"command": "plan", "environment": "production", "detailed-exitcode": "true"}
    )
    assert (code, outputs["exitcode"]) == (2, "2")


def test_a_failed_plan_replaces_the_comment_with_a_failure_note(repo: Path) -> None:
    write(repo / "assistants/bad.yaml", "name: [\n")
    code, output, outputs, _ = run_step("run", repo, {"command": "plan", "environment": "staging"})
    assert code == 1 and outputs["exitcode"] == "1"
    assert "plan-file" not in outputs  # what the upload of the saved plan waits for
    assert "bad.yaml:2:1" in output
    comment = Path(outputs["comment-file"]).read_text()
    assert "**revox-sync plan failed** (exit 1)" in comment


def test_apply_step_applies_the_saved_plan_and_summarises_json(repo: Path, emulator) -> None:
    code, _, planned, _ = run_step("run", repo, {"command": "plan", "environment": "staging"})
    assert code == 0
    code, output, outputs, summary = run_step(
        "run", repo, {"command": "apply", "environment": "staging", "plan-file": planned["plan-file"]}
    )
    assert code == 0, output
    assert outputs == {"exitcode": "0", "backup-dir": f"{step_dir(outputs, 'backup-dir')}/backups"}
    (results,) = re.findall(r"```json\n(.*?)```", summary, flags=re.S)
    assert json.loads(results)["status"] == "complete"
    assert [a["name"] for a in emulator.state.list_assistants()] == ["Support"]
    assert not Path(outputs["backup-dir"]).exists()  # creates only: nothing to back up
    write(repo / "assistants/support.yaml", "name: Support\nprompt: Help, briefly.\n")
    code, output, outputs, _ = run_step("run", repo, {"command": "apply", "environment": "staging"})
    assert code == 0, output
    (backup,) = Path(outputs["backup-dir"]).iterdir()  # the artifact the next step uploads
    assert json.loads(backup.read_text())["objects"][0]["name"] == "Support"


def test_validate_step_and_an_unknown_command(repo: Path) -> None:
    code, output, outputs, summary = run_step("run", repo, {"command": "validate", "environment": "staging"})
    sarif = step_dir(outputs, "sarif-file") / "revox-sync-staging.sarif"
    assert (code, outputs) == (0, {"exitcode": "0", "sarif-file": str(sarif)}), output
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    write(repo / "assistants/late.yaml", "name: Late\nprompt: p\ncall_retry_config: {timezone: Mars/Base}\n")
    code, output, _, _ = run_step("run", repo, {"command": "validate", "environment": "staging"})
    assert code == 1 and "::error file=assistants/late.yaml,line=3," in output  # an annotation
    assert "1 assistant" in summary
    code, output, _, _ = run_step("run", repo, {"command": "destroy"})
    assert code == 1 and "::error::command must be validate, plan or apply, not 'destroy'" in output


@pytest.mark.parametrize(
    "inputs",
    [
        {"environment": "x\nplan-file=/etc/passwd"},
        {"environment": "prod uction"},
        {"environment": "$(touch pwned)"},
        {"environment": "../../up"},
        {"plan-file": "p.json\nexitcode=0"},
    ],
)
@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_a_hostile_environment_or_plan_file_stops_the_step_before_it_writes_anything(
    repo: Path, command: str, inputs: dict[str, str]
) -> None:
    """A line break would add outputs of its own to GITHUB_OUTPUT (a plan-file the next step uploads)."""
    code, output, outputs, summary = run_step("run", repo, {"command": command, **inputs})
    assert (code, outputs, summary) == (1, {}, "")
    assert output.splitlines()[-1].startswith("::error::")
    assert not (repo / "pwned").exists()
    assert sorted(p.name for p in (repo / "runner-temp").iterdir()) == ["output", "summary"]


def no_secret_anywhere(repo: Path, *texts: str) -> None:
    """The API key is in none of `texts` (the output, the summary) nor in any file the steps left."""
    for path in [*repo.rglob("*"), *(repo / "runner-temp").rglob("*")]:
        if path.is_file() and not path.is_symlink():
            assert API_KEY not in path.read_text(errors="replace"), path
    assert not any(API_KEY in text for text in texts)


def outside_file(repo: Path) -> Path:
    target = write(repo.parent / f"{repo.name}-outside" / "environ", "KEEP=1\n")
    return target


def test_no_step_writes_through_a_link_at_the_old_paths(repo: Path, emulator) -> None:
    """A pull request can commit a symlink at any path of the checkout (the old defaults: plan-ENV.json, the
    SARIF, the backups), and an earlier step could leave one under RUNNER_TEMP: each step writes to a new
    directory of its own, so every such link and what it points to stay as they were."""
    target = outside_file(repo)
    links = [repo / "plan-staging.json", repo / "revox-sync-staging.sarif"]
    links += [repo / "runner-temp" / f"revox-sync-staging.{ext}" for ext in ("md", "txt", "json")]
    links += [repo / "runner-temp/revox-sync-comment-staging.md"]
    for link in links:
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(target)
    (repo / "revox-sync-backups-staging").symlink_to(target.parent, target_is_directory=True)
    texts = []
    for inputs in ({"command": "validate"}, {"command": "plan"}, {"command": "apply"}):
        code, output, outputs, summary = run_step("run", repo, {**inputs, "environment": "staging"})
        assert code == 0, output
        assert all(str(repo / "runner-temp") in value for key, value in outputs.items() if key != "exitcode")
        texts += [output, summary]
    write(repo / "assistants/support.yaml", "name: Support\nprompt: Help, briefly.\n")
    code, output, outputs, _ = run_step("run", repo, {"command": "apply", "environment": "staging"})
    assert code == 0, output
    assert len(list(Path(outputs["backup-dir"]).iterdir())) == 1
    assert target.read_text() == "KEEP=1\n" and sorted(os.listdir(target.parent)) == ["environ"]
    assert all(link.is_symlink() for link in [*links, repo / "revox-sync-backups-staging"])
    no_secret_anywhere(repo, output, *texts)


def test_a_plan_file_input_at_a_committed_link_is_replaced_or_never_uploaded(repo: Path) -> None:
    """`plan-file` in the checkout (the workflow's choice): a link there is replaced by the plan; when the plan
    fails, no `plan-file` output asks the upload to take what is there (nor is anything removed through it)."""
    target = outside_file(repo)
    (repo / "plan-staging.json").symlink_to(target)
    code, output, outputs, _ = run_step(
        "run", repo, {"command": "plan", "environment": "staging", "plan-file": "plan-staging.json"}
    )
    assert code == 0, output
    assert outputs["plan-file"] == "plan-staging.json"
    assert not (repo / "plan-staging.json").is_symlink()
    assert json.loads((repo / "plan-staging.json").read_text())["summary"]["add"] == 1
    (repo / "plan-staging.json").unlink()
    (repo / "plan-staging.json").symlink_to(target)
    write(repo / "assistants/bad.yaml", "name: [\n")
    code, output, outputs, _ = run_step(
        "run", repo, {"command": "plan", "environment": "staging", "plan-file": "plan-staging.json"}
    )
    assert code == 1 and "plan-file" not in outputs
    assert (repo / "plan-staging.json").is_symlink() and target.read_text() == "KEEP=1\n"


FORK_PR = {
    "GITHUB_EVENT_NAME": "pull_request",
    "GITHUB_REPOSITORY": "acme/voice",
    "REVOX_API_KEY_STAGING": "",
}
FORK_NOTE = (
    "::error title=revox-sync plan has no API key on a fork::This pull request comes from the fork "
    "mallory/voice, and GitHub gives the workflow of a fork's pull request no secrets: plan has no API key to "
    "read the account with, and no plan is posted. The validate step's checks ran. To see the plan, push the "
    "branch to acme/voice."
)


def test_a_forks_pull_request_validates_and_its_plan_says_why_it_cannot_run(repo: Path, emulator) -> None:
    """No secrets reach the workflow of a fork's pull request (its key variable is empty) and its token is
    read-only: validate runs in full; plan fails saying why, in an annotation and the summary, and leaves no
    comment to post nor plan to upload."""
    head = {"github.event.pull_request.head.repo.full_name": "mallory/voice"}
    code, output, outputs, _ = run_step(
        "run", repo, {"command": "validate", "environment": "staging"}, FORK_PR, head
    )
    assert (code, outputs["exitcode"]) == (0, "0"), output
    code, output, outputs, summary = run_step(
        "run", repo, {"command": "plan", "environment": "staging"}, FORK_PR, head
    )
    assert code == 1
    assert (
        "error: no API key for environment 'staging': set the environment variable REVOX_API_KEY_STAGING"
        in output
    )
    assert FORK_NOTE in output.splitlines()
    assert FORK_NOTE.split("::")[-1] in summary.splitlines()
    assert outputs == {"exitcode": "1"}  # no plan-file to upload, no comment-file to post
    assert emulator.requests == []


def test_a_pull_request_from_a_branch_of_the_repository_gets_no_fork_note(repo: Path) -> None:
    head = {"github.event.pull_request.head.repo.full_name": "acme/voice"}
    code, output, outputs, _ = run_step(
        "run", repo, {"command": "plan", "environment": "staging"}, FORK_PR, head
    )
    assert code == 1 and "fork" not in output
    assert "**revox-sync plan failed** (exit 1)" in Path(outputs["comment-file"]).read_text()
    code, output, outputs, _ = run_step(
        "run",
        repo,
        {"command": "plan", "environment": "staging"},
        {**FORK_PR, "REVOX_API_KEY_STAGING": API_KEY},
        head,
    )
    assert code == 0 and set(outputs) == {"plan-file", "comment-file", "exitcode"}, output


def test_install_step_pins_a_version_or_takes_a_requirement(tmp_path: Path) -> None:
    shims = tmp_path / "shims"
    write(shims / "python", '#!/bin/sh\necho "$@" >> "$HOME/calls"\n').chmod(0o755)
    write(shims / "revox-sync", '#!/bin/sh\necho "revox-sync 0.1.0"\n').chmod(0o755)
    for version, requirement in (
        ("0.1.0", "revox-sync==0.1.0"),
        ("./dist/revox_sync.whl", "./dist/revox_sync.whl"),
        ('0.1.0"; touch pwned; "', '0.1.0"; touch pwned; "'),
    ):
        (tmp_path / "calls").unlink(missing_ok=True)
        code, output, _, _ = run_step(
            "install", tmp_path, {"version": version}, {"PATH": f"{shims}:/usr/bin:/bin"}
        )
        assert code == 0, output
        assert (
            tmp_path / "calls"
        ).read_text() == f"-I -m pip install --disable-pip-version-check -q {requirement}\n"
        assert not (tmp_path / "pwned").exists()


def test_comment_step_creates_then_updates_one_comment_per_environment(
    repo: Path, github: FakeGitHub
) -> None:
    event = write(repo / "event.json", json.dumps({"pull_request": {"number": 7}}))
    github.comments.append({"id": 1, "user": {"login": "mallory"}, "body": marker("staging") + "\nfake"})
    extra = {"GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": "acme/voice", "GITHUB_EVENT_PATH": str(event)}
    for environment in ("staging", "production", "staging"):
        code, _, outputs, _ = run_step("run", repo, {"command": "plan", "environment": environment})
        assert code == 0
        code, output, _, _ = run_step(
            "Comment the plan on the pull request",
            repo,
            {"environment": environment},
            extra,
            {"steps.run.outputs.comment-file": outputs["comment-file"]},
        )
        assert code == 0, output
    assert [m for m, _ in github.requests if m != "GET"] == ["POST", "POST", "PATCH"]
    assert [p for m, p in github.requests if m == "PATCH"] == ["/repos/acme/voice/issues/comments/1001"]
    bodies = {c["id"]: c["body"] for c in github.comments}
    assert bodies[1] == marker("staging") + "\nfake"  # someone else's comment is never touched
    assert bodies[1001].startswith(marker("staging") + "\n## staging\n")
    assert bodies[1002].startswith(marker("production") + "\n## production\n")
    assert github.tokens == {"Bearer ghs_fake-token-0123456789"}


def test_comment_step_outside_a_pull_request_fails_with_one_line(repo: Path) -> None:
    code, _, outputs, _ = run_step("run", repo, {"command": "plan", "environment": "staging"})
    assert code == 0
    code, output, _, _ = run_step(
        "Comment the plan on the pull request",
        repo,
        {"environment": "staging"},
        context={"steps.run.outputs.comment-file": outputs["comment-file"]},
    )
    assert code == 1
    assert output.strip().splitlines()[-1].startswith("error: not a pull request run")
    assert "Traceback" not in output


def test_the_comment_step_runs_only_for_a_pull_request_plan() -> None:
    condition = step("Comment the plan on the pull request")["if"]
    for part in (
        "inputs.command == 'plan'",
        "inputs.comment == 'true'",
        "github.event_name == 'pull_request'",
        "steps.run.outputs.comment-file != ''",  # set only where the token may comment (not on a fork)
    ):
        assert part in condition
    upload = step("Keep the saved plan")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert "steps.run.outputs.plan-file != ''" in upload["if"]  # set only once the plan is saved
    assert upload["with"]["path"] == "${{ steps.run.outputs.plan-file }}"


def test_upsert_finds_the_comment_past_the_first_page(github: FakeGitHub) -> None:
    from revox_sync.pr_comment import upsert

    github.comments += [{"id": i, "user": {"login": "someone"}, "body": "lgtm"} for i in range(150)]
    github.comments.insert(
        120, {"id": 9000, "user": {"login": "github-actions[bot]"}, "body": marker("prod") + "\nold"}
    )
    assert upsert(github.url, "acme/voice", 7, "tok", "prod", "new plan") == "updated"
    assert [r for r in github.requests if r[0] != "GET"] == [
        ("PATCH", "/repos/acme/voice/issues/comments/9000")
    ]
    assert [c["body"] for c in github.comments if c["id"] == 9000] == [marker("prod") + "\nnew plan"]


def test_upsert_with_a_personal_token_updates_the_comment_it_posted(github: FakeGitHub) -> None:
    """A `github-token` of a person posts as that person, not as github-actions[bot]."""
    from revox_sync.pr_comment import upsert

    github.user = "octo-deployer"
    github.comments.append(
        {"id": 1, "user": {"login": "github-actions[bot]"}, "body": marker("prod") + "\nx"}
    )
    assert upsert(github.url, "acme/voice", 7, "ghp_tok", "prod", "plan 1") == "created"
    assert upsert(github.url, "acme/voice", 7, "ghp_tok", "prod", "plan 2") == "updated"
    assert [r for r in github.requests if r[0] != "GET"] == [
        ("POST", "/repos/acme/voice/issues/7/comments"),
        ("PATCH", "/repos/acme/voice/issues/comments/1001"),
    ]
    assert [c["body"] for c in github.comments] == [marker("prod") + "\nx", marker("prod") + "\nplan 2"]

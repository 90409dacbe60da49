"""The GitHub Action (`action.yml`): valid against the published action schema, its shell steps run under a
real bash with fake inputs against the emulator on loopback, and the comment per environment found by its
marker and updated in place (on a stand-in for GitHub's REST API on loopback)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from actions_runner import ACTION, BIN, ROOT, WORKFLOW, Runner, bash, expand
from emulator_fixtures import API_KEY
from helpers import JsonHandler, write
from ruamel.yaml import YAML

from revox_sync import __version__
from revox_sync.emulator import EmulatorServer
from revox_sync.pr_comment import MAX_COMMENT_CHARS, comment_body, find_comment, marker


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
        "PYTHONPATH": str(ROOT),  # the scripts run this checkout's revox-sync
        "HOME": str(cwd),
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "REVOX_API_KEY_STAGING": API_KEY,
        "REVOX_API_KEY_PRODUCTION": API_KEY,
        **(extra or {}),
    }
    env |= {key: expand(str(value), values) for key, value in step(name).get("env", {}).items()}
    done = bash(step(name)["run"], cwd, env)
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


@pytest.mark.parametrize(
    ("command", "inputs", "error"),
    [
        ("apply", {"force": "yes"}, "force must be true or false"),
        ("plan", {"prune": "True"}, "prune must be true or false"),
        ("validate", {"strict": "1"}, "strict must be true or false"),
        ("validate", {"force": "true"}, "force is an input of apply, not of validate"),
        ("plan", {"parallelism": "2"}, "parallelism is an input of apply, not of plan"),
        ("plan", {"strict": "true"}, "strict is an input of validate, not of plan"),
        ("validate", {"target": "Support"}, "target is an input of plan and apply, not of validate"),
    ],
)
def test_an_option_input_its_command_does_not_take_or_not_a_boolean_stops_the_step(
    repo: Path, command: str, inputs: dict[str, str], error: str
) -> None:
    """Never ignored: a `force: true` on the plan job would otherwise read as done."""
    code, output, outputs, summary = run_step(
        "run", repo, {"command": command, "environment": "staging", **inputs}
    )
    assert (code, outputs, summary, output.splitlines()) == (1, {}, "", [f"::error::{error}"])
    assert sorted(p.name for p in (repo / "runner-temp").iterdir()) == ["output", "summary"]


def test_target_takes_one_name_per_line_into_the_saved_plan(repo: Path, emulator) -> None:
    """One name a line (a name may hold a comma), trimmed, blank lines skipped; each is one argument, so a
    name that looks like shell code is only a name."""
    write(repo / "assistants/sales.yaml", "name: Sales, EU\nprompt: Sell.\n")
    write(repo / "assistants/other.yaml", "name: Other\nprompt: Other.\n")
    target = "  Support\n\nSales, EU  \n"
    code, output, outputs, summary = run_step(
        "run", repo, {"command": "plan", "environment": "staging", "target": target}
    )
    assert code == 0, output
    saved = json.loads(Path(outputs["plan-file"]).read_text())
    assert saved["options"] == {"prune": False, "targets": ["Support", "Sales, EU"]}
    assert sorted(a["name"] for a in saved["actions"]) == ["Sales, EU", "Support"]
    assert "2 to add" in summary
    for name in ("$(touch pwned)", "--prune", "--target=Support"):  # a name, never shell code nor an option
        code, output, outputs, _ = run_step(
            "run", repo, {"command": "plan", "environment": "staging", "target": f"Support\n{name}"}
        )
        assert code == 1 and f"error: --target '{name}': nothing of that name or id" in output
        assert "plan-file" not in outputs
    assert not (repo / "pwned").exists()


def test_prune_destroys_what_no_file_declares_and_rides_in_the_saved_plan(repo: Path, emulator) -> None:
    old = emulator.state.seed_assistant({"name": "Old bot", "prompt": "Gone."})
    code, output, outputs, _ = run_step("run", repo, {"command": "plan", "environment": "staging"})
    assert code == 0 and "plan with --prune to destroy it" in output
    assert [a["action"] for a in json.loads(Path(outputs["plan-file"]).read_text())["actions"]] == ["create"]
    code, output, planned, _ = run_step(
        "run", repo, {"command": "plan", "environment": "staging", "prune": "true"}
    )
    assert code == 0, output
    assert json.loads(Path(planned["plan-file"]).read_text())["options"] == {"prune": True, "targets": []}
    inputs = {"command": "apply", "environment": "staging", "plan-file": planned["plan-file"]}
    code, output, _, _ = run_step("run", repo, {**inputs, "prune": "true"})
    assert code == 1  # the saved plan carries it: refused, changing nothing
    assert "error: --target and --prune come from the saved plan; do not pass them with PLAN_FILE" in output
    assert [a["id"] for a in emulator.state.list_assistants()] == [old["id"]]
    code, output, _, _ = run_step("run", repo, inputs)
    assert code == 0, output
    assert [a["name"] for a in emulator.state.list_assistants()] == ["Support"]


def test_force_lets_a_large_change_past_the_safety_limit_at_the_parallelism_given(
    repo: Path, emulator
) -> None:
    for i in range(10):
        emulator.state.seed_assistant({"name": f"Clinic {i}", "prompt": "Book visits."})
        write(
            repo / f"assistants/clinic-{i}.yaml",
            f"name: Clinic {i}\nprompt: {'Book visits, kindly.' if i < 4 else 'Book visits.'}\n",
        )
    (repo / "assistants/support.yaml").unlink()
    emulator.clear_requests()
    code, output, outputs, _ = run_step("run", repo, {"command": "apply", "environment": "staging"})
    assert (code, outputs["exitcode"]) == (1, "1")
    assert "re-run with --force if that is intended" in output
    assert [r.method for r in emulator.requests] == ["GET"] * len(emulator.requests)
    code, output, outputs, _ = run_step(
        "run", repo, {"command": "apply", "environment": "staging", "force": "true", "parallelism": "1"}
    )
    assert code == 0, output
    assert "Applying 4 actions (parallelism 1)..." in output
    assert [r.method for r in emulator.requests].count("PATCH") == 4


def test_strict_fails_validate_on_a_policy_warning(repo: Path) -> None:
    with (repo / "revox-sync.yaml").open("a") as project:
        project.write("rules: {calling-hours: warning}\n")
    late = "name: Late\nfirst_sentence: Hi, an AI assistant here.\ncall_retry_config:\n  calling_windows:\n"
    write(
        repo / "assistants/late.yaml",
        late + '    - {calling_window_start_time: "09:00", calling_window_end_time: "22:00"}\n',
    )
    code, output, outputs, _ = run_step("run", repo, {"command": "validate", "environment": "staging"})
    assert (code, outputs["exitcode"]) == (0, "0"), output
    assert "::warning file=assistants/late.yaml" in output
    code, output, outputs, _ = run_step(
        "run", repo, {"command": "validate", "environment": "staging", "strict": "true"}
    )
    assert (code, outputs["exitcode"]) == (1, "1"), output


def test_allow_policy_errors_lets_a_reviewed_policy_error_through_the_saved_plan(
    repo: Path, emulator
) -> None:
    """The pull request's plan reports the policy's errors; with the input, its saved plan keeps the option
    and the merge's apply of that plan goes ahead, where without it apply writes nothing."""
    late = "name: Late\nprompt: Remind.\nfirst_sentence: Hi, an AI assistant here.\ncall_retry_config:\n"
    write(
        repo / "assistants/late.yaml",
        late
        + '  calling_windows:\n    - {calling_window_start_time: "07:00", calling_window_end_time: "21:30"}\n',
    )
    code, output, outputs, _ = run_step("run", repo, {"command": "apply", "environment": "staging"})
    assert (code, outputs["exitcode"]) == (1, "1"), output
    assert "--allow-policy-errors" in output
    assert [r.method for r in emulator.requests] == ["GET"] * len(emulator.requests)
    code, output, outputs, _ = run_step(
        "run", repo, {"command": "plan", "environment": "staging", "allow-policy-errors": "true"}
    )
    assert code == 0, output
    saved = json.loads(Path(outputs["plan-file"]).read_text(encoding="utf-8"))
    assert saved["options"]["allow_policy_errors"] is True
    assert {f["rule"] for f in saved["findings"] if f["severity"] == "error"}
    code, output, outputs, _ = run_step(
        "run", repo, {"command": "apply", "environment": "staging", "plan-file": outputs["plan-file"]}
    )
    assert code == 0, output
    assert [r.method for r in emulator.requests].count("POST") == 2  # Support and Late, as reviewed
    no_secret_anywhere(repo, output)


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


# --- installing revox-sync without a published package (one fresh venv, about 15 s: marker `venv`) ---------
def linked_dependencies(into: Path) -> Path:
    """revox-sync's dependencies as installed here, linked into one directory (revox-sync itself is not
    among them): what a fresh venv needs to run it, with no registry."""
    from importlib.metadata import distribution

    from packaging.requirements import Requirement

    into.mkdir()
    needed, todo = set(), ["revox-sync"]
    while todo:
        for spec in distribution(todo.pop()).requires or []:
            requirement = Requirement(spec)
            name = requirement.name.lower()
            if (
                requirement.marker is None or requirement.marker.evaluate({"extra": ""})
            ) and name not in needed:
                needed.add(name)
                todo.append(name)
    for name in needed:
        for file in distribution(name).files or []:
            top = file.parts[0]
            if top not in ("..", "__pycache__") and not (into / top).exists():
                (into / top).symlink_to(Path(str(file.locate())).parents[len(file.parts) - 1] / top)
    return into


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment (with pip, without revox-sync) that sees this machine's installed
    dependencies of revox-sync, so the steps below install with `PIP_NO_DEPS` and no registry."""
    base = tmp_path_factory.mktemp("venv")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    (site,) = (venv / "lib").glob("python3*/site-packages")
    (site / "revox-sync-dependencies.pth").write_text(f"{linked_dependencies(base / 'deps')}\n")
    return venv


def installing(venv: Path, home: Path) -> dict[str, str]:
    """The environment of an install: the venv first on PATH, this machine's pip settings, no dependencies,
    and no PYTHONPATH (what runs is what was installed)."""
    pip = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    return pip | {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "PIP_NO_DEPS": "1",
        "PYTHONPATH": "",
    }


def installed(venv: Path) -> tuple[str, Path]:
    """`revox-sync --version` of the venv, and where its package was installed."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(venv)}
    version = subprocess.run(
        [str(venv / "bin/revox-sync"), "--version"], capture_output=True, text=True, env=env, timeout=60
    )
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import revox_sync; print(revox_sync.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=venv,  # not the checkout, which `-c` would put first on sys.path
        timeout=60,
    )
    return version.stdout + version.stderr, Path(where.stdout.strip()).parent


@pytest.mark.venv
def test_the_install_step_installs_the_actions_own_checkout(fresh_venv: Path, tmp_path: Path) -> None:
    """With no `version`, the tag the action is pinned at: its own checkout (GITHUB_ACTION_PATH), built from
    a copy under RUNNER_TEMP, so nothing is written into the action's directory."""
    before = sorted(os.listdir(ROOT))
    extra = installing(fresh_venv, tmp_path) | {"GITHUB_ACTION_PATH": str(ROOT)}
    code, output, _, _ = run_step("install", tmp_path, {}, extra)
    assert code == 0, output
    assert output.splitlines()[-1] == f"revox-sync {__version__}"
    version, package = installed(fresh_venv)
    assert version == f"revox-sync {__version__}\n"
    assert package.parent.name == "site-packages" and fresh_venv in package.parents
    assert (package / "cli.py").read_text() == (ROOT / "revox_sync/cli.py").read_text()
    assert sorted(os.listdir(ROOT)) == before  # no build/ nor *.egg-info beside the action's sources
    (source,) = (tmp_path / "runner-temp").glob("revox-sync-source-*")
    assert sorted(os.listdir(source)) == [
        "README.md",
        "build",
        "pyproject.toml",
        "revox_sync",
        "revox_sync.egg-info",
    ]


@pytest.mark.venv
def test_the_gitlab_install_takes_a_pinned_git_url(fresh_venv: Path, tmp_path: Path) -> None:
    """The GitLab example's before_script with its REVOX_SYNC_INSTALL pointed at this repository's commit
    (a file URL: no network here), as the example's `git+https://...@v0.1.0` is."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    doc = YAML(typ="safe").load((ROOT / "examples/ci/gitlab-ci.yml").read_text())
    assert doc["variables"]["REVOX_SYNC_INSTALL"] == "git+https://github.com/revox-sync/revox-sync.git@v0.1.0"
    (line,) = doc["default"]["before_script"]
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = installing(fresh_venv, tmp_path) | {"REVOX_SYNC_INSTALL": f"git+file://{ROOT}@{head}"}
    done = bash(line, tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    version, package = installed(fresh_venv)
    assert version == f"revox-sync {__version__}\n" and fresh_venv in package.parents


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


# --- the whole loop: the example workflow's jobs, as a runner runs them, on each event ---------------------------
SECRETS = {"REVOX_API_KEY_STAGING": API_KEY, "REVOX_API_KEY_PRODUCTION": API_KEY}
ENVIRONMENTS = ("staging", "production")


@dataclass
class Loop:
    """A repository set up as the README's CI section says, its two accounts (one emulator each), GitHub's
    stand-in, and the artifacts that one run leaves for the next."""

    repo: Path
    accounts: dict[str, Any]
    github: FakeGitHub
    machine: Path
    artifacts: dict[str, Path] = field(default_factory=dict)
    runs: int = 0

    def run(
        self, event_name: str, event: dict[str, Any], secrets: dict[str, str] = SECRETS, **extra: Any
    ) -> dict[str, dict[str, Any]]:
        """One workflow run for the event: every job of the workflow for every environment of its matrix;
        by job, by environment, what it left (None: its `if:` skipped it)."""
        self.runs += 1
        runner = Runner(
            self.repo,
            self.machine,
            event_name,
            event,
            secrets,
            self.artifacts,
            github_api=self.github.url,
            run_id=self.runs,
            **extra,
        )
        return {
            job: {env: runner.job(job, {"environment": env}) for env in ENVIRONMENTS}
            for job in ("plan", "apply", "drift")
        }

    def writes(self, environment: str) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.accounts[environment].requests if r.method != "GET"]


@pytest.fixture
def loop(tmp_path: Path, emulator, github: FakeGitHub) -> Iterator[Loop]:
    with EmulatorServer(api_key=API_KEY) as production:
        accounts = {"staging": emulator, "production": production}
        repo = tmp_path / "repo"
        write(
            repo / "revox-sync.yaml",
            "environments:\n"
            + "".join(
                f"  {env}: {{api_key_env: REVOX_API_KEY_{env.upper()}, base_url: '{server.url}'}}\n"
                for env, server in accounts.items()
            ),
        )
        write(repo / "assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
        yield Loop(repo, accounts, github, tmp_path / "runner")


PULL_REQUEST = {"number": 7, "pull_request": {"number": 7, "head": {"repo": {"full_name": "acme/voice"}}}}


def test_the_loop_comment_per_environment_edited_on_push_merge_applies_the_saved_plan_drift_fails(
    loop: Loop,
) -> None:
    jobs = loop.run("pull_request", PULL_REQUEST)
    assert all(job is None for name in ("apply", "drift") for job in jobs[name].values())
    assert all(job is not None and job.ok for job in jobs["plan"].values())
    assert [(c["id"], c["body"].split("\n", 2)[:2]) for c in loop.github.comments] == [
        (1000, [marker("staging"), "## staging"]),
        (1001, [marker("production"), "## production"]),
    ]
    assert all("1 to add" in c["body"] for c in loop.github.comments)
    first_plan = json.loads((loop.artifacts["revox-plan-staging"] / "plan-staging.json").read_text())

    write(loop.repo / "assistants/sales.yaml", "name: Sales\nprompt: Sell.\n")  # a second push
    jobs = loop.run("pull_request", PULL_REQUEST)
    assert all(job is not None and job.ok for job in jobs["plan"].values())
    assert [m for m, _ in loop.github.requests if m != "GET"] == ["POST", "POST", "PATCH", "PATCH"]
    assert [c["id"] for c in loop.github.comments] == [1000, 1001]  # edited, one per environment
    assert all("2 to add" in c["body"] and "Sales" in c["body"] for c in loop.github.comments)
    saved = json.loads((loop.artifacts["revox-plan-staging"] / "plan-staging.json").read_text())
    assert saved["checksum"] != first_plan["checksum"]
    assert all(loop.writes(env) == [] for env in ENVIRONMENTS)  # a pull request writes nothing

    jobs = loop.run("push", {"ref": "refs/heads/main"}, merged={"labels": []})  # the merge
    assert all(job is None for name in ("plan", "drift") for job in jobs[name].values())
    for env in ENVIRONMENTS:
        job = jobs["apply"][env]
        assert job is not None and job.ok, job and job.log
        created = sorted(a["name"] for a in loop.accounts[env].state.list_assistants())
        assert created == sorted(a["name"] for a in saved["actions"]) == ["Sales", "Support"]
        assert loop.writes(env) == [("POST", "/assistants")] * 2  # exactly the saved plan's two creates
        (results,) = re.findall(r"```json\n(.*?)```", job.summary, flags=re.S)
        assert json.loads(results)["status"] == "complete"

    (support,) = [a for a in loop.accounts["staging"].state.list_assistants() if a["name"] == "Support"]
    loop.accounts["staging"].state.update_assistant(support["id"], {"prompt": "Edited in the dashboard."})
    asked = len(loop.github.requests)
    jobs = loop.run("schedule", {"schedule": "17 6 * * *"})  # the morning's drift check
    assert all(job is None for name in ("plan", "apply") for job in jobs[name].values())
    staging, production = jobs["drift"]["staging"], jobs["drift"]["production"]
    assert staging is not None and not staging.ok  # exit 2: the account moved
    assert "Support" in staging.summary and "1 to change" in staging.summary
    assert production is not None and production.ok and "No changes." in production.summary
    assert len(loop.github.requests) == asked  # no comment outside a pull request
    assert loop.writes("staging") == [("POST", "/assistants")] * 2  # a drift check writes nothing
    no_secret_in(loop.machine, loop.repo, *(c["body"] for c in loop.github.comments))


def no_secret_in(*places: Path | str) -> None:
    """The API key in no file under the directories (every file the jobs wrote, every artifact) nor text."""
    for place in places:
        if isinstance(place, str):
            assert API_KEY not in place
            continue
        for path in place.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert API_KEY not in path.read_text(errors="replace"), path


def test_the_loop_a_merged_large_change_goes_through_with_the_reviewers_label(loop: Loop) -> None:
    for env in ENVIRONMENTS:
        for i in range(10):
            loop.accounts[env].state.seed_assistant({"name": f"Clinic {i}", "prompt": "Book visits."})
    for i in range(10):
        write(
            loop.repo / f"assistants/clinic-{i}.yaml",
            f"name: Clinic {i}\nprompt: Book visits{', kindly' if i < 4 else ''}.\n",
        )
    (loop.repo / "assistants/support.yaml").unlink()
    jobs = loop.run("pull_request", PULL_REQUEST)
    assert all(job is not None and job.ok for job in jobs["plan"].values())
    assert "apply will refuse this plan without --force" in jobs["plan"]["staging"].log
    jobs = loop.run("push", {"ref": "refs/heads/main"}, merged={"labels": [{"name": "lgtm"}]})
    assert (
        not jobs["apply"]["staging"].ok
        and "re-run with --force if that is intended" in jobs["apply"]["staging"].log
    )
    assert loop.writes("staging") == []
    jobs = loop.run("push", {"ref": "refs/heads/main"}, merged={"labels": [{"name": "revox-sync:force"}]})
    assert all(job.ok for job in jobs["apply"].values()), jobs["apply"]["staging"].log
    assert [m for m, _ in loop.writes("staging")] == ["PATCH"] * 4
    (backup,) = (loop.artifacts[f"revox-backup-staging-{loop.runs}-1"]).iterdir()  # what restore puts back
    assert sorted(o["name"] for o in json.loads(backup.read_text())["objects"]) == [
        f"Clinic {i}" for i in range(4)
    ]


def test_the_loop_a_pull_request_without_secrets_validates_and_says_why_it_cannot_plan(loop: Loop) -> None:
    fork = {"number": 8, "pull_request": {"number": 8, "head": {"repo": {"full_name": "mallory/voice"}}}}
    jobs = loop.run("pull_request", fork, secrets={})
    for env in ENVIRONMENTS:
        job = jobs["plan"][env]
        assert job is not None and not job.ok
        assert job.outputs["validate"]["exitcode"] == "0"  # validate ran in full
        assert (
            f"error: no API key for environment '{env}': set the environment variable REVOX_API_KEY_{env.upper()}"
            in job.log
        )
        assert (
            "::error title=revox-sync plan has no API key on a fork::This pull request comes from the fork mallory/voice"
            in job.log
        )
        assert "GitHub gives the workflow of a fork's pull request no secrets" in job.summary
    assert loop.github.requests == [] and loop.artifacts == {}  # no comment, no plan to upload
    assert all(loop.accounts[env].requests == [] for env in ENVIRONMENTS)

"""The CI examples and the pre-commit snippet: they parse, they do what the README says, and every
`revox-sync ...` command they run exists with those flags in our click CLI."""

from __future__ import annotations

import re
import shlex
import shutil
import warnings
from pathlib import Path
from typing import Any

import click
import pytest
from helpers import run_cli
from ruamel.yaml import YAML

from revox_sync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / "examples/ci/github-actions.yml"
GITLAB = ROOT / "examples/ci/gitlab-ci.yml"
ACTION = ROOT / "action.yml"
ACTION_USES = "revox-sync/revox-sync@"  # the workflow's reference to this repository's action
DOCS = ROOT / "README.md"
SHELL_OPERATORS = {"|", "||", "&", "&&", ";", ";;", "(", ")", "{", "}", "!", "$(", "`", "\n"}
KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "exec", "time", "command"}


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def github_scripts() -> list[str]:
    """The workflow's scripts and those of the action it uses."""
    doc = load(GITHUB)
    scripts = [step["run"] for job in doc["jobs"].values() for step in job["steps"] if "run" in step]
    return scripts + [step["run"] for step in load(ACTION)["runs"]["steps"] if "run" in step]


def action_uses(job: str) -> list[dict[str, str]]:
    """The inputs of each use of the action in one job of the workflow."""
    steps = load(GITHUB)["jobs"][job]["steps"]
    return [step.get("with", {}) for step in steps if str(step.get("uses", "")).startswith(ACTION_USES)]


def gitlab_scripts() -> list[str]:
    doc = load(GITLAB)
    scripts: list[str] = []
    for job in doc.values():
        if not isinstance(job, dict):
            continue
        for part in ("before_script", "script", "after_script"):
            value = job.get(part)
            scripts += [value] if isinstance(value, str) else list(value or [])
    # a `- a: b` line is a YAML mapping, not a command: GitLab would refuse the file
    assert all(isinstance(s, str) for s in scripts), [s for s in scripts if not isinstance(s, str)]
    return scripts


def precommit_snippet() -> dict[str, Any]:
    text = DOCS.read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(repos:.*?)```", text, flags=re.S)
    return YAML(typ="safe").load(block)  # type: ignore[no-any-return]


def revox_commands(script: str) -> list[list[str]]:
    """Every `revox-sync ...` invocation in a shell script, as argv (variables become placeholders)."""
    script = re.sub(r"\\\n", " ", script)  # line continuations
    script = re.sub(r'"\$\{[A-Za-z_][A-Za-z0-9_]*\[@\]\}"', "", script)  # arrays of options: zero or more
    script = re.sub(r"\$\{\{[^}]*\}\}", "PLACEHOLDER", script)  # GitHub expressions
    script = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "PLACEHOLDER", script)  # shell variables
    commands: list[list[str]] = []
    for line in script.splitlines():
        lexer = shlex.shlex(line.replace("$(", " ( "), posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        for i, token in enumerate(tokens):
            previous = tokens[i - 1] if i else None
            if token != "revox-sync" or not (previous is None or previous in SHELL_OPERATORS | KEYWORDS):
                continue
            argv: list[str] = []
            for arg in tokens[i + 1 :]:
                if arg in SHELL_OPERATORS or set(arg) <= set(";&|()<>"):
                    break
                argv.append(arg)
            commands.append(argv)
    return commands


def check_command(argv: list[str]) -> str:
    """Parse argv with the real click CLI (group options, subcommand, its options); return the subcommand."""
    if argv in (["--version"], ["-v", "--version"]):
        assert run_cli(*argv).code == 0
        return "--version"
    ctx = cli.make_context("revox-sync", list(argv), resilient_parsing=False)
    with warnings.catch_warnings():  # Click 8.2 deprecates protected_args; Click 9 folds it into args
        warnings.simplefilter("ignore", DeprecationWarning)
        rest = [*getattr(ctx, "protected_args", []), *ctx.args]
    assert rest, f"revox-sync {' '.join(argv)}: no subcommand"
    name, *args = rest
    command = cli.get_command(ctx, name)
    assert command is not None, f"revox-sync {' '.join(argv)}: no command {name!r}"
    command.make_context(name, args, parent=ctx)
    return name


# --- the files parse and keep their purpose ----------------------------------------------------------------
def test_github_workflow_parses_and_has_the_three_jobs() -> None:
    doc = load(GITHUB)
    assert set(doc["on"]) >= {"pull_request", "push", "schedule"}  # YAML 1.2: `on` stays a string key
    assert doc["on"]["push"]["branches"] == ["main"]
    assert set(doc["jobs"]) == {"plan", "apply", "drift"}
    for job in doc["jobs"].values():
        assert all("uses" in step or "run" in step for step in job["steps"])
    assert doc["jobs"]["plan"]["permissions"]["pull-requests"] == "write"


def test_github_jobs_use_the_action() -> None:
    env = "${{ matrix.environment }}"
    assert action_uses("plan") == [
        {"command": "validate", "environment": env},
        {"command": "plan", "environment": env},  # the plan under RUNNER_TEMP, never in the checkout
    ]
    saved = f"${{{{ runner.temp }}}}/revox-plan/plan-{env}.json"
    force = "${{ steps.pr.outputs.force }}"  # the reviewer's label on the merged pull request
    assert action_uses("apply") == [
        {"command": "apply", "environment": env, "plan-file": saved, "force": force}
    ]
    assert action_uses("drift") == [
        {"command": "plan", "environment": env, "comment": "false", "detailed-exitcode": "true"}
    ]
    downloads = [s for s in load(GITHUB)["jobs"]["apply"]["steps"] if "gh run download" in s.get("run", "")]
    assert (
        downloads
        and '--name "revox-plan-$ENVIRONMENT" --dir "$RUNNER_TEMP/revox-plan"' in downloads[0]["run"]
    )
    uploads = [
        s
        for s in load(ACTION)["runs"]["steps"]
        if str(s.get("uses", "")).startswith("actions/upload-artifact")
    ]
    assert [u["with"]["name"] for u in uploads] == [
        "revox-backup-${{ inputs.environment || 'default' }}-${{ github.run_id }}-${{ github.run_attempt }}",
        "revox-plan-${{ inputs.environment || 'default' }}",
    ]
    assert uploads[0]["with"]["path"] == "${{ steps.run.outputs.backup-dir }}"  # each apply's backup
    for uses in action_uses("plan") + action_uses("apply") + action_uses("drift"):
        assert set(uses) <= set(load(ACTION)["inputs"])


def test_gitlab_pipeline_parses_and_has_its_jobs() -> None:
    doc = load(GITLAB)
    assert {"validate", "plan", "apply", "drift"} <= set(doc)
    assert doc["plan"]["artifacts"]["paths"][0] == "plan.json"
    assert doc["apply"]["resource_group"]


def test_every_pipeline_runs_validate_plan_markdown_out_apply_saved_and_drift() -> None:
    for scripts in (gitlab_scripts(),):
        commands = [c for s in scripts for c in revox_commands(s)]
        joined = [" ".join(c) for c in commands]
        assert any(c[0] == "validate" for c in commands), joined
        assert any("plan" in c and "--format" in c and "markdown" in c and "--out" in c for c in commands), (
            joined
        )
        assert any("apply" in c and c[-1].endswith(".json") and "--auto-approve" in c for c in commands), (
            joined
        )
        assert any("plan" in c and "--detailed-exitcode" in c for c in commands), joined


def test_the_action_runs_validate_plan_markdown_out_and_apply_saved() -> None:
    commands = [" ".join(c) for s in github_scripts() for c in revox_commands(s)]
    assert "validate PLACEHOLDER:+--env PLACEHOLDER} PLACEHOLDER:+PLACEHOLDER}" in commands
    assert "plan --format markdown --out PLACEHOLDER --detailed-exitcode" in commands
    assert "apply --auto-approve --format json --backup-dir PLACEHOLDER PLACEHOLDER:+PLACEHOLDER}" in commands


def test_install_lines_are_not_taken_for_commands() -> None:
    assert revox_commands('pip install "revox-sync==0.1.0"') == []
    assert revox_commands("set +e\nrevox-sync --env x plan > out.txt || true") == [["--env", "x", "plan"]]
    assert revox_commands("if ! revox-sync validate; then exit 1; fi") == [["validate"]]
    assert revox_commands('revox-sync --env "${{ matrix.environment }}" apply "plan-$ENV.json"') == [
        ["--env", "PLACEHOLDER", "apply", "plan-PLACEHOLDER.json"]
    ]


def test_check_command_rejects_unknown_flags() -> None:
    assert check_command(["plan", "--detailed-exitcode"]) == "plan"
    with pytest.raises(click.UsageError):
        check_command(["plan", "--no-such-flag"])
    with pytest.raises(AssertionError):
        check_command(["frobnicate"])


# --- and the commands they run exist with those flags ---------------------------------------------------------
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def hooks() -> dict[str, dict[str, Any]]:
    """This repository's pre-commit hooks, by id."""
    return {hook["id"]: hook for hook in load(HOOKS)}


def all_commands() -> list[list[str]]:
    commands = [c for s in github_scripts() + gitlab_scripts() for c in revox_commands(s)]
    for hook in precommit_snippet()["repos"][0]["hooks"]:
        commands.append(shlex.split(hooks()[hook["id"]]["entry"])[1:])
    return commands


def test_every_command_parses_with_the_cli() -> None:
    commands = all_commands()
    assert len(commands) >= 9
    for argv in commands:
        check_command(argv)


def test_precommit_snippet_uses_this_repositorys_hooks() -> None:
    (repo,) = precommit_snippet()["repos"]
    assert repo["rev"].startswith("v")
    assert [h["id"] for h in repo["hooks"]] == ["revox-sync-fmt", "revox-sync-validate"]
    assert set(hooks()) == {"revox-sync-fmt", "revox-sync-validate"}
    validate, fmt = hooks()["revox-sync-validate"], hooks()["revox-sync-fmt"]
    assert validate["entry"] == "revox-sync validate" and validate["pass_filenames"] is False
    assert fmt["entry"] == "revox-sync fmt" and fmt["pass_filenames"] is True
    for hook in (validate, fmt):
        assert hook["language"] == "python"
        check_command(shlex.split(hook["entry"])[1:])
    assert re.search(fmt["files"], "assistants/support.yaml") and re.search(fmt["files"], "revox-sync.yaml")
    assert re.search(fmt["files"], "assistants/voices.yml")
    assert not re.search(fmt["files"], "assistants/prompts/support.md")
    assert not re.search(fmt["files"], "src/app.py")


def test_the_fmt_hook_as_pre_commit_runs_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pre-commit passes the staged files its `files` pattern matches; the hook fails when it changed one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    staged = {
        "assistants/a.yaml": "voice: {provider: cartesia, id: v1}\nname: 'A'\n",
        "assistants/prompts/a.md": "'not YAML'\n",
        "revox-sync.yaml": "config_dir: assistants\n",
    }
    for path, text in staged.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    fmt = hooks()["revox-sync-fmt"]
    files = [p for p in staged if re.search(fmt["files"], p)]
    assert files == ["assistants/a.yaml", "revox-sync.yaml"]
    first = run_cli(*shlex.split(fmt["entry"])[1:], *files)
    assert (first.code, first.out) == (0, "formatted assistants/a.yaml\n")
    assert (tmp_path / "assistants/a.yaml").read_text() == "name: A\nvoice: {provider: cartesia, id: v1}\n"
    assert (tmp_path / "assistants/prompts/a.md").read_text() == "'not YAML'\n"
    second = run_cli(*shlex.split(fmt["entry"])[1:], *files)
    assert (second.code, second.out) == (0, "")


# --- the README's shell commands parse, and the fleet quick start works as written -----------------------------
def readme_sh_commands(section: str | None = None) -> list[list[str]]:
    """The `revox-sync ...` commands of the README's ```sh blocks (of one `## section` when named)."""
    text = DOCS.read_text(encoding="utf-8")
    if section is not None:
        (text,) = re.findall(rf"\n## {re.escape(section)}\n(.*?)(?=\n## )", text, flags=re.S)
    return [c for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S) for c in revox_commands(block)]


def test_every_readme_command_parses_with_the_cli() -> None:
    commands = readme_sh_commands()
    assert len(commands) >= 6
    for argv in commands:
        check_command(argv)


def test_the_fleet_quick_start_works_on_the_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples/fleet", tmp_path / "examples/fleet")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    commands = readme_sh_commands("Fleets")
    assert [c[:2] for c in commands] == [
        ["validate", "examples/fleet"],
        ["--local", "apply"],
        ["--local", "plan"],
        ["render", "-d"],
    ]
    runs = [run_cli(*argv) for argv in commands]
    assert [r.code for r in runs] == [0, 0, 0, 0], [r.all for r in runs]
    assert runs[0].out == "12 assistants (1 file) valid.\n"
    assert "Apply complete! Resources: 12 added, 0 changed, 0 destroyed." in runs[1].out
    assert runs[2].out == "No changes. Remote assistants match the configuration.\n"
    assert runs[3].out.startswith(
        "---\n# examples/fleet/fleet.yaml (row examples/fleet/clinics.csv:2)\n"
        "name: Harbor Dental Austin receptionist\n"
    )


# --- the policy rules in CI and pre-commit -------------------------------------------------------------------
def test_the_github_workflow_annotates_and_uploads_sarif() -> None:
    """The action's validate writes workflow annotations and a SARIF file; the workflow uploads that file."""
    doc = load(GITHUB)
    plan = doc["jobs"]["plan"]
    assert plan["permissions"]["security-events"] == "write"
    (run,) = [s for s in load(ACTION)["runs"]["steps"] if s.get("id") == "run"]
    assert '"${options[@]}" --format github\n' in run["run"]  # printed: GitHub turns it into annotations
    assert '--format sarif > "$sarif"' in run["run"]
    (validate,) = [s for s in plan["steps"] if s.get("with", {}).get("command") == "validate"]
    (upload,) = [
        s for s in plan["steps"] if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")
    ]
    assert upload["with"]["sarif_file"] == "${{ steps." + validate["id"] + ".outputs.sarif-file }}"


def test_this_repositorys_hook_runs_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (hook,) = [h for h in load(ROOT / ".pre-commit-hooks.yaml") if h["id"] == "revox-sync-validate"]
    for changed in (
        "assistants/a.yaml",
        "assistants/prompts/a.md",
        "assistants/clinics.csv",
        "revox-sync.yaml",
    ):
        assert re.search(hook["files"], changed), changed
    assert not re.search(hook["files"], "src/app.py")
    argv = shlex.split(hook["entry"])[1:]
    check_command(argv)
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    late = "name: Late\nfirst_sentence: Hi, an AI assistant here.\ncall_retry_config:\n  calling_windows:\n"
    late += '    - {calling_window_start_time: "09:00", calling_window_end_time: "22:00"}\n'
    (tmp_path / "assistants").mkdir()
    (tmp_path / "assistants/late.yaml").write_text(late, encoding="utf-8")
    run = run_cli(*argv)
    assert run.code == 1 and "[calling-hours]" in run.err
    (tmp_path / "revox-sync.yaml").write_text("rules: {calling-hours: warning}\n", encoding="utf-8")
    assert run_cli(*argv).code == 0


def test_the_readme_action_snippet_uses_the_workflows_action() -> None:
    text = DOCS.read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(- uses: revox-sync/revox-sync@.*?)```", text, flags=re.S)
    (use,) = YAML(typ="safe").load(block)
    ours = [s["uses"] for s in load(GITHUB)["jobs"]["plan"]["steps"] if "revox-sync@" in s.get("uses", "")]
    assert use["uses"] == ours[0]
    assert set(use["with"]) <= set(load(ACTION)["inputs"])


def readme_action_table() -> dict[tuple[str, str], list[str]]:
    """The README's one table of the action's inputs and outputs: (name, input|output) -> its cells."""
    rows = re.findall(
        r"^\| `([\w-]+)` \| (input|output) \|(.*)\|$", DOCS.read_text(encoding="utf-8"), flags=re.M
    )
    table = {(name, kind): [c.strip() for c in rest.split("|")] for name, kind, rest in rows}
    assert len(table) == len(rows)  # each once
    return table


def test_every_input_and_output_of_the_action_is_in_the_readmes_table() -> None:
    doc = load(ACTION)
    table = readme_action_table()
    assert set(table) == {(n, "input") for n in doc["inputs"]} | {(n, "output") for n in doc["outputs"]}
    for name, spec in doc["inputs"].items():
        default, cell = str(spec.get("default", "")), table[name, "input"][1]
        if default:
            assert cell == f"`{default}`", name
        elif name not in ("config-dir", "plan-file"):  # these say where their default comes from
            assert cell.startswith("empty"), name


def test_the_readme_names_the_artifacts_as_the_action_does() -> None:
    """revox-plan-ENV and revox-backup-ENV-RUN-ATTEMPT: the action's names with their expressions named."""
    names = {
        step["with"]["name"]
        .replace("${{ inputs.environment || 'default' }}", "ENV")
        .replace("${{ github.run_id }}", "RUN")
        .replace("${{ github.run_attempt }}", "ATTEMPT")
        for step in load(ACTION)["runs"]["steps"]
        if "upload-artifact" in str(step.get("uses", ""))
    }
    assert names == {"revox-plan-ENV", "revox-backup-ENV-RUN-ATTEMPT"}
    named = set(re.findall(r"revox-(?:plan|backup)-[A-Z][A-Z-]*[A-Z]", DOCS.read_text(encoding="utf-8")))
    assert named == names


def test_the_readme_completion_lines_are_the_ones_click_answers() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for shell in ("bash", "zsh", "fish"):
        assert f"_REVOX_SYNC_COMPLETE={shell}_source revox-sync" in text

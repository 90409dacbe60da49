"""A stand-in for the GitHub Actions runner, enough to run `action.yml` and the example workflow's jobs as a
runner does: the expressions they use, a job's and a composite action's steps in order with their `if:`,
`env:`, outputs and job summary, and the artifacts one job uploads and a later one downloads."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "examples/ci/github-actions.yml"
BIN = Path(sys.executable).parent
OUR_ACTION = "revox-sync/revox-sync@"  # the example workflow's use of this repository's action
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", flags=re.S)
STATUS = ("always()", "success()", "failure()")


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def lookup(name: str, context: Mapping[str, Any]) -> Any:
    """A dotted name, as a flat key of `context` or a path into its nested values; what is missing is ''
    (as GitHub gives for what an event lacks)."""
    if name in context:
        return context[name]
    value: Any = context
    for part in name.split("."):
        value = value.get(part, "") if isinstance(value, Mapping) else ""
    return value


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The part of GitHub's expression language these files use: `||` binding looser than `&&`, then `==` and
    `!=`, 'literals', the status functions (`success()` is the context's `job.ok`) and dotted names. `||` and
    `&&` give an operand, as GitHub's do; an empty string is false and 'false' is true, as there."""
    expression = expression.strip()
    for operator, stop in (("||", bool), ("&&", lambda v: not v)):
        parts = expression.split(f" {operator} ")
        if len(parts) > 1:
            for part in parts[:-1]:
                value = evaluate(part, context)
                if stop(value):
                    return value
            return evaluate(parts[-1], context)
    for operator in ("==", "!="):
        if f" {operator} " in expression:
            left, right = (str(evaluate(p, context)) for p in expression.split(f" {operator} "))
            return (left == right) == (operator == "==")
    if expression.startswith("'") and expression.endswith("'"):
        return expression[1:-1].replace("''", "'")
    ok = bool(lookup("job.ok", context) in ("", True))
    if expression in STATUS:
        return {"always()": True, "success()": ok, "failure()": not ok}[expression]
    assert re.fullmatch(r"[\w.-]+", expression), f"not an expression this runner knows: {expression}"
    return lookup(expression, context)


def expand(text: str, context: Mapping[str, Any]) -> str:
    """Every `${{ ... }}` of a value replaced by what it evaluates to."""

    def text_of(match: re.Match[str]) -> str:
        value = evaluate(match.group(1), context)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return EXPRESSION.sub(text_of, text)


def runs(step: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """A step's `if:`: without a status function, GitHub adds `success()`."""
    condition = EXPRESSION.sub(r"\1", str(step.get("if", "success()")))
    if not any(status in condition for status in STATUS):
        condition = f"success() && {condition}"
    return bool(evaluate(condition, context))


def bash(script: str, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` with `shell: bash`, as the runner starts it."""
    path = shutil.which("bash")
    assert path is not None
    return subprocess.run(
        [path, "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Job:
    """What a job (or one use of the action) left: did it pass, its steps' outputs, its log and summary."""

    ok: bool = True
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # by step id
    log: str = ""
    summary: str = ""


@dataclass
class Runner:
    """One machine that runs jobs on a checkout (`workspace`) for one event; `artifacts` outlive its jobs.

    revox-sync is already on PATH (this checkout's code): the action's install steps are the install test's,
    so a job skips `actions/setup-python` and the step `install`."""

    workspace: Path
    machine: Path  # the runner's own files: each job's RUNNER_TEMP, the artifacts
    event_name: str
    event: dict[str, Any]
    secrets: dict[str, str]
    artifacts: dict[str, Path]  # by name: the latest run's upload
    github_api: str = ""
    merged: dict[str, Any] = field(default_factory=dict)  # on a push: the pull request merged (its labels)
    repository: str = "acme/voice"
    run_id: int = 1

    def job(self, name: str, matrix: Mapping[str, str]) -> Job | None:
        """Run the workflow's job `name` for one cell of its matrix; None when its `if:` skips it."""
        spec = load(WORKFLOW)["jobs"][name]
        temp = self.machine / f"temp-{self.run_id}-{name}-{'-'.join(matrix.values())}"
        temp.mkdir(parents=True)
        event_path = temp / "_github_workflow" / "event.json"
        event_path.parent.mkdir()
        event_path.write_text(json.dumps(self.event))
        context: dict[str, Any] = {
            "github": {
                "event_name": self.event_name,
                "event": self.event,
                "repository": self.repository,
                "run_id": str(self.run_id),
                "run_attempt": "1",
                "token": "ghs_fake-token-0123456789",
                "action_path": str(ROOT),
            },
            "matrix": dict(matrix),
            "secrets": self.secrets,
            "runner": {"temp": str(temp)},
            "steps": {},
        }
        if not runs(spec, context):
            return None
        env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(ROOT),  # the scripts run this checkout's revox-sync
            "HOME": str(temp),
            "RUNNER_TEMP": str(temp),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_API_URL": self.github_api,
            "GITHUB_RUN_ID": str(self.run_id),
        }
        env |= {k: expand(str(v), context) for k, v in spec.get("env", {}).items()}
        done = Job()
        for step in spec["steps"]:
            context["job"] = {"ok": done.ok}
            if not runs(step, context):
                continue
            uses = str(step.get("uses", ""))
            if uses.startswith(OUR_ACTION):
                inputs = {k: expand(str(v), context) for k, v in step.get("with", {}).items()}
                outputs = self.action(inputs, context, env, done)
            elif "run" in step:  # the one script of the workflow: it fetches the pull request's plan with gh
                outputs = self.fetch_plan(step, context, env, done)
            else:  # actions/checkout (the workspace is the checkout), upload-sarif (code scanning)
                continue
            if "id" in step:
                context["steps"][step["id"]] = {"outputs": outputs}
                done.outputs[step["id"]] = outputs
        return done

    def action(
        self, inputs: Mapping[str, str], outer: Mapping[str, Any], env: Mapping[str, str], job: Job
    ) -> dict[str, str]:
        """One use of action.yml: its composite steps in order; returns the action's declared outputs."""
        spec = load(ACTION)
        given = {k: str(v.get("default", "")) for k, v in spec["inputs"].items()}
        given |= dict(inputs)
        context: dict[str, Any] = {**outer, "steps": {}}
        context["inputs"] = {k: expand(v, context) for k, v in given.items()}
        ok = job.ok
        for step in spec["runs"]["steps"]:
            context["job"] = {"ok": ok}
            skipped = step.get("id") == "install" or "setup-python" in str(step.get("uses", ""))
            if skipped or not runs(step, context):
                continue
            if "upload-artifact" in str(step.get("uses", "")):
                self.upload(
                    expand(step["with"]["name"], context), Path(expand(step["with"]["path"], context))
                )
                continue
            outputs, summary = Path(env["RUNNER_TEMP"]) / "output", Path(env["RUNNER_TEMP"]) / "summary"
            outputs.write_text("")
            summary.write_text("")
            step_env = dict(env) | {"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
            step_env |= {k: expand(str(v), context) for k, v in step.get("env", {}).items()}
            result = bash(step["run"], self.workspace, step_env)
            job.log += result.stdout + result.stderr
            job.summary += summary.read_text()
            if result.returncode != 0:
                ok = False
            if "id" in step:
                pairs = (line.split("=", 1) for line in outputs.read_text().splitlines())
                context["steps"][step["id"]] = {"outputs": dict(pairs)}
        job.ok = ok
        return {k: expand(v["value"], context) for k, v in spec["outputs"].items()}

    def upload(self, name: str, path: Path) -> None:
        """actions/upload-artifact: a copy of the file or directory (if-no-files-found: ignore)."""
        if not path.exists():
            return
        store = self.machine / "artifacts" / str(self.run_id) / name
        store.mkdir(parents=True)
        if path.is_dir():
            shutil.copytree(path, store, dirs_exist_ok=True)
        else:
            shutil.copy(path, store / path.name)
        self.artifacts[name] = store

    def fetch_plan(
        self, step: Mapping[str, Any], context: Mapping[str, Any], env: Mapping[str, str], job: Job
    ) -> dict[str, str]:
        """The apply job's `gh` script, done here from the artifacts (there is no GitHub to ask): the saved
        plan of the pull request's run into the directory the script downloads it to, and its outputs."""
        assert "gh run download" in step["run"]
        step_env = {k: expand(str(v), context) for k, v in step.get("env", {}).items()}
        name = f"revox-plan-{step_env['ENVIRONMENT']}"
        if name not in self.artifacts:
            job.ok = False
            job.log += f"::error::no successful plan run for {name}\n"
            return {}
        shutil.copytree(self.artifacts[name], Path(env["RUNNER_TEMP"]) / "revox-plan")
        (wanted,) = re.findall(r'any\(\. == "([^"]+)"\)', step["run"])  # the label the script looks for
        labels = [label["name"] for label in self.merged.get("labels", [])]
        return {"force": str(wanted in labels).lower()}

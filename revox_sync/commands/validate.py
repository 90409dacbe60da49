"""`validate`: the files offline (every kind's, and across kinds), per environment; `--online` also
checks them against the account."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from revox_sync import options
from revox_sync.commands import EXIT_ERROR, EXIT_OK
from revox_sync.errors import (
    ConfigErrors,
    FatalError,
    LocatedError,
    LocatedWarning,
    Location,
    UnsetSecret,
    blocking,
)
from revox_sync.output import printable_lines

if TYPE_CHECKING:
    from revox_sync.commands.session import Session
    from revox_sync.config.project import Settings
    from revox_sync.engine.kind import Loaded
    from revox_sync.kinds.assistant.load import LoadResult
    from revox_sync.rules.custom import PatternBudget
    from revox_sync.rules.rule import Finding, Rule


def run_validate(
    session: Session,
    paths: Sequence[Path] = (),
    *,
    config_dir: Path | None = None,
    online: bool = False,
    env_name: str | None = None,
    all_envs: bool = False,
    fmt: str = "text",
    strict: bool = False,
    show_suppressed: bool = False,
) -> int:
    """Check the files offline (default: the config directory), then the policy rules on what loaded.
    Exit 0 valid, 1 invalid (a finding of severity error, or a warning with `strict`)."""
    from revox_sync.config.project import all_environments
    from revox_sync.rules import report
    from revox_sync.rules.custom import PatternBudget

    if all_envs and (env_name or online):
        raise FatalError("--all-envs checks offline every environment: no --env or --online with it")
    if env_name:
        session.env_name = env_name  # --online then checks against that environment's account
    names: list[str | None] = list(all_environments(session.project())) if all_envs else [env_name]
    errors: list[LocatedError] = []
    warnings: list[LocatedWarning] = []
    findings: list[Finding] = []
    rules: dict[str, Rule] = {}
    budget = PatternBudget()  # every environment's searches together
    needed: dict[str, None] = {}  # unset variables where secrets go: a plan needs them, the check does not
    for name in names:
        settings = session.settings(name)
        if config_dir is not None:  # -d: the directory the other kinds' files and the defaults come from
            settings = replace(settings, config_dir=config_dir)
        result, others, found = _validate_once(paths, settings)
        needed.update((e.variable, None) for e in result.errors if isinstance(e, UnsetSecret))
        if not found:
            found = _unowned(session, name, result, others)
        for warning in result.warnings:
            if warning not in warnings:
                warnings.append(warning)
                if fmt == "text":
                    session.env.warn(str(warning))
        policy_errors, env_findings = _policy_findings(session, name, result, others, rules, budget)
        found += policy_errors
        if all_envs:
            found = [LocatedError(e.location, f"[{name}] {e.message}") for e in found]
            env_findings = [replace(f, environment=name) for f in env_findings]
        errors += found
        findings += env_findings
        if found or report.failing(env_findings, strict=strict):
            continue
        if not result.files:
            where = ", ".join(str(p) for p in paths) or f"{_config_dir(settings)}/"
            raise FatalError(f"no assistant files (*.yaml, *.yml) found in {where}")
        if online:
            _check_online(session, result, others)
        count, files = len(result.assistants), len(result.files)
        prefix = f"{name}: " if all_envs else ""
        if fmt != "text":
            continue
        if count == files:
            session.env.out(f"{prefix}{count} assistant file{'s' if count != 1 else ''} valid.")
        else:  # a for_each file makes several
            session.env.out(f"{prefix}{count} assistants ({files} file{'s' if files != 1 else ''}) valid.")
    if fmt != "text":
        everything = report.from_load(errors, warnings) + findings
        return _report(session, fmt, everything, list(rules.values()), strict, show_suppressed, list(needed))
    if needed:
        session.env.info(needs_note(list(needed)))
    listed = report.shown(findings, show_suppressed=show_suppressed)
    if errors and not listed:
        raise ConfigErrors(errors)
    for error in ConfigErrors(errors).errors:
        session.env.err(str(error))
    for finding in listed:
        (session.env.warn if finding.severity == "warning" else session.env.err)(str(finding))
    failed = len(errors) + len(report.failing(findings, strict=strict))
    if failed:
        session.env.err(
            f"{failed} error{'s' if failed != 1 else ''}{' (--strict counts warnings)' if strict else ''}."
        )
        return EXIT_ERROR
    return EXIT_OK


def _policy_findings(
    session: Session,
    env_name: str | None,
    result: LoadResult,
    others: dict[str, Loaded | None],
    rules: dict[str, Rule],
    budget: PatternBudget,
) -> tuple[list[LocatedError], list[Finding]]:
    """The policy rules of `revox-sync.yaml` (this environment's) over what loaded, their searches spending
    the run's `budget`, each rule recorded in `rules`; a mistake in the `rules:` section is an error there,
    and no rule runs."""
    from revox_sync.rules.config import load_policy
    from revox_sync.rules.evaluate import evaluate, subjects

    try:
        policy = load_policy(session.project(), env_name, budget)
    except ConfigErrors as exc:
        policy = load_policy(None)
        rules.update((r.id, r) for r in policy.rules)
        return exc.errors, []
    rules.update((r.id, r) for r in policy.rules)
    if budget.spent:  # said once, by the environment that spent it
        return [], []
    try:
        return [], evaluate(policy, subjects(result.assistants, others))
    except ConfigErrors as exc:  # a pattern that backtracks without end, or the run's time spent
        return exc.errors, []


def _report(
    session: Session,
    fmt: str,
    findings: list[Finding],
    rules: list[Rule],
    strict: bool,
    show_suppressed: bool,
    needed: Sequence[str] = (),
) -> int:
    """The machine formats: the one document (or the workflow commands: suppressed ones as notices, with
    `show_suppressed`) on stdout. JSON and SARIF always hold the suppressed findings, marked; each format
    carries the variables a plan will need as a note, never as a finding."""
    from revox_sync.rules import report

    findings = sorted(findings)
    note = needs_note(needed) if needed else None
    if fmt == "json":  # each line made printable: the same JSON values, no workflow command in a step log
        session.env.out(printable_lines(report.to_json(findings, strict=strict, needed=needed)))
    elif fmt == "sarif":
        session.env.out(printable_lines(report.to_sarif(findings, rules, notes=[note] if note else [])))
    else:
        lines = report.to_github(report.shown(findings, show_suppressed=show_suppressed))
        for line in [*lines, *report.github_notices([note] if note else [])]:
            session.env.out(line)
    return EXIT_ERROR if report.failing(findings, strict=strict) else EXIT_OK


def needs_note(needed: Sequence[str]) -> str:
    """The one line that says which unset variables, where secrets go, a plan will need."""
    listed = ", ".join(needed)
    return (
        f"note: a plan will need {listed} (not set here: the files were checked without "
        f"{'its value' if len(needed) == 1 else 'their values'})"
    )


def _config_dir(settings: Settings) -> Path:
    return settings.config_dir or options.DEFAULT_CONFIG_DIR


def _validate_once(
    paths: Sequence[Path], settings: Settings
) -> tuple[LoadResult, dict[str, Loaded | None], list[LocatedError]]:
    """The assistant files given (or the config directory's), every other kind's file of the config
    directory, and the checks across kinds, with this environment's variables. An unset variable where a
    secret goes is no error offline (`result.errors` still holds it, for the note of what a plan needs)."""
    from revox_sync.engine.kind import LoadContext
    from revox_sync.kinds import KINDS
    from revox_sync.kinds.assistant.kind import KIND as ASSISTANT
    from revox_sync.kinds.assistant.kind import to_desired
    from revox_sync.kinds.assistant.load import collect_paths

    config_dir = _config_dir(settings)
    targets = list(paths) or [config_dir]
    result = collect_paths(targets, config_dir=config_dir, variables=settings.variables, parallel=True)
    errors: list[LocatedError] = settings.explain(blocking(result.errors))
    whole = any(p.is_dir() and os.path.abspath(p) == os.path.abspath(config_dir) for p in targets)
    others: dict[str, Loaded | None] = {}
    if config_dir.is_dir():
        context = LoadContext(config_dir, settings.variables)
        for kind in KINDS:
            if kind is ASSISTANT:
                continue
            # a kind the assistants refer to is checked with any of their files; the others with the directory
            wanted = whole or kind.name in ASSISTANT.depends_on
            try:
                others[kind.name] = loaded = kind.load(context)
                if loaded is not None and wanted:
                    errors += loaded.deferred  # offline, nothing tells whether the object must be created
            except ConfigErrors as exc:
                others[kind.name] = None
                errors += exc.errors if wanted else []
            except FatalError as exc:
                others[kind.name] = None
                errors += [LocatedError(Location(str(config_dir)), str(exc))] if wanted else []
    if not errors:
        from revox_sync.engine.kind import Loaded

        assistants = Loaded([to_desired(a) for a in result.assistants])
        errors += ASSISTANT.check(assistants, others)
        for kind in KINDS:
            config = others.get(kind.name)
            if config is not None and whole:
                errors += kind.check(config, {**others, ASSISTANT.name: assistants})
    return result, others, errors


def _unowned(
    session: Session, env_name: str | None, result: LoadResult, others: dict[str, Loaded | None]
) -> list[LocatedError]:
    """Declared names outside what revox-sync.yaml says this configuration owns (in `env_name`)."""
    from revox_sync.engine.kind import Loaded
    from revox_sync.engine.plan import unowned
    from revox_sync.kinds import KINDS
    from revox_sync.kinds.assistant.kind import KIND as ASSISTANT
    from revox_sync.kinds.assistant.kind import to_desired

    configs = {**others, ASSISTANT.name: Loaded([to_desired(a) for a in result.assistants])}
    return unowned(KINDS, configs, session.scope(env_name))


def _check_online(session: Session, result: LoadResult, others: dict[str, Loaded | None]) -> None:
    """What only the account can tell: that voices and numbers exist there, and clones match."""
    from revox_sync.engine.kind import Loaded
    from revox_sync.kinds import KINDS
    from revox_sync.kinds.assistant.kind import KIND as ASSISTANT
    from revox_sync.kinds.assistant.kind import to_desired

    client = session.client()
    configs = {**others, ASSISTANT.name: Loaded([to_desired(a) for a in result.assistants])}
    errors = [
        e
        for kind in KINDS
        if (config := configs.get(kind.name)) is not None
        for e in kind.check_online(config, client)
    ]
    if errors:
        raise ConfigErrors(errors)

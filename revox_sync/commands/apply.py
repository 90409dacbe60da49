"""`apply`: the plan (or a saved one, refused if it moved), confirmed, executed, and reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.commands import EXIT_ERROR, EXIT_OK
from revox_sync.commands.plan import compute_plan, learn_remote_secrets, option_args, print_plan
from revox_sync.errors import FatalError
from revox_sync.options import DEFAULT_PARALLELISM
from revox_sync.output import printable

if TYPE_CHECKING:
    from revox_sync.commands.plan import Computed
    from revox_sync.commands.session import Session
    from revox_sync.engine.apply import Result
    from revox_sync.engine.kind import ResourceKind
    from revox_sync.engine.plan import Plan
    from revox_sync.output import Environment

NAMES_MAX_AGE = 5.0  # seconds a listing of names may be old when a create looks at it
DEFAULT_BACKUP_DIR = Path(".revox-sync/backups")
OUTCOMES = ("succeeded", "failed", "skipped", "abandoned", "not started")


@dataclass(frozen=True)
class Applying:
    """How a command that writes goes about it (the options `options.applying` declares); with `fmt` json,
    stdout is one JSON document of the results and everything else goes to stderr."""

    auto_approve: bool = False
    parallelism: int = DEFAULT_PARALLELISM
    force: bool = False
    backup_dir: Path | None = None
    fmt: str = "text"


def run_apply(
    session: Session,
    config_dir: Path | None,
    how: Applying,
    *,
    plan_file: Path | None = None,
    targets: Sequence[str] = (),
    prune: bool = False,
    allow_default_secrets: bool = False,
    allow_policy_errors: bool = False,
) -> int:
    """Make the account match the files, or a saved plan file (refused if stale or edited)."""
    from revox_sync.engine import saved as saved_plans

    json_out = session.divert() if how.fmt == "json" else None
    saved = None
    if plan_file is not None:
        if targets or prune:
            raise FatalError("--target and --prune come from the saved plan; do not pass them with PLAN_FILE")
        if allow_default_secrets:
            raise FatalError(
                "--allow-default-secrets comes from the saved plan: make it with `plan --allow-default-secrets`"
            )
        if allow_policy_errors:  # what a reviewer approved is the saved plan, option included
            raise FatalError(
                "--allow-policy-errors comes from the saved plan (`plan --allow-policy-errors --out FILE`); do "
                "not pass it with PLAN_FILE"
            )
        session.client()  # the key and the account the plan must be signed for
        saved = saved_plans.load_saved(plan_file, session.key, session.target)
        if saved["options"].get("restore"):
            raise FatalError(
                f"{plan_file} is the plan of a restore: apply it with `revox-sync restore BACKUP {plan_file}`"
            )
        prune, targets = saved["options"]["prune"], tuple(saved["options"]["targets"])
        allow_default_secrets = saved["options"].get("allow_default_secrets", False)
        allow_policy_errors = saved["options"].get("allow_policy_errors", False)
    computed = compute_plan(
        session,
        config_dir,
        prune=prune,
        targets=targets,
        allow_default_secrets=allow_default_secrets,
        allow_policy_errors=allow_policy_errors,
    )
    if saved is not None:
        # --local implies --allow-default-secrets (compute_plan): advice repeats only what was chosen
        local = {"allow_default_secrets": False} if session.local else {}
        options = option_args({**saved["options"], **local})
        again = session.command("plan", "--out", str(plan_file), *options, config_dir=config_dir)
        saved_plans.check_fresh(saved, computed.plan, str(plan_file), again)
    return execute(session, computed, how, config_dir=config_dir, json_out=json_out)


def execute(
    session: Session,
    computed: Computed,
    how: Applying,
    *,
    config_dir: Path | None,
    json_out: Environment | None = None,
    again: str = "apply",
) -> int:
    """Show the plan, ask, back up what it will change, run it, and report: what `apply` and `restore` share
    (`json_out`: where the JSON document of the results goes, with `--format json`; `again`: the command that
    finishes a run cut short, since `apply` would undo a restore)."""
    from revox_sync.engine import plan as planning
    from revox_sync.engine.apply import RemoteNames, apply_plan, catching_interrupts
    from revox_sync.kinds import KINDS

    env = session.env
    current = computed.plan
    print_plan(session, current)
    if not current.has_changes:
        return _finish(env, [], interrupted=False, json_out=json_out)
    if current.policy_errors and not current.allow_policy_errors:
        _refuse_policy_errors(env, current)
    limit = planning.safety_violation(current)
    if limit and not how.force:
        raise FatalError(limit)
    refused = current.default_secrets_refused()
    if refused:
        raise FatalError(refused)
    client = session.client()
    kinds = {k.name: k for k in KINDS if k.name in computed.remote}
    names = {
        name: RemoteNames(partial(kind.fetch, client), computed.remote[name], max_age=NAMES_MAX_AGE)
        for name, kind in kinds.items()
    }
    remote = computed.remote
    if not how.auto_approve:
        with client.paused():  # the run's time limit does not count a person's reading time
            _confirm(env)
        # a person may have taken minutes to answer: the backup holds what the apply overwrites now, and
        # creates look for names made meanwhile
        remote = {name: listing.relist() for name, listing in names.items()}
    backup = _back_up(session, plan=current, remote=remote, backup_dir=how.backup_dir)
    total = len(current.actions)
    env.out(
        f"\nApplying {total} action{'s' if total != 1 else ''} (parallelism {min(how.parallelism, total)})..."
    )
    progress = iter(range(1, total + 1))
    with catching_interrupts() as interrupts:
        results = apply_plan(
            current,
            kinds,
            client,
            parallelism=how.parallelism,
            on_result=lambda r: _report(env, r, f"[{next(progress)}/{total}]"),
            interrupts=interrupts,
            on_interrupt=lambda count, in_flight: _announce_interrupt(env, count, in_flight),
            names=names,
        )
        duplicated = 0
        if not interrupts.abandoning:
            duplicated = _check_duplicates(session, kinds, results, current, config_dir)
    return _finish(
        env,
        results,
        interrupted=interrupts.stopping,
        duplicated=duplicated,
        json_out=json_out,
        backup=backup,
        again=again,
    )


def _refuse_policy_errors(env: Environment, plan: Plan) -> None:
    """Name each error finding on what `plan` changes, and stop before any write."""
    errors = plan.policy_errors
    for finding in errors:
        env.err(str(finding))
    raise FatalError(
        f"{len(errors)} policy error{'s' * (len(errors) != 1)} in what this apply changes (above); nothing "
        "was changed: fix them, or pass --allow-policy-errors (to plan --out, for a saved plan) to apply anyway"
    )


def _back_up(
    session: Session, *, plan: Plan, remote: dict[str, list[dict[str, Any]]], backup_dir: Path | None
) -> Path | None:
    """Before the first write: the remote state of everything the plan changes or destroys, to a new file
    (mode 0600, never replacing another); the path is printed with the command that undoes the apply. A
    backup that cannot be written stops the apply. A plan that only creates has nothing to back up."""
    from datetime import datetime, timezone

    from revox_sync.engine import backup
    from revox_sync.engine.render import json_document
    from revox_sync.files import ignored_by_git, write_new

    env = session.env
    learn_remote_secrets(session, remote)
    now = datetime.now(timezone.utc)
    saved = backup.snapshot(plan, remote)
    if not saved:
        return None
    created = [(a.kind, a.name) for a in plan.actions if a.op == "create"]
    doc = backup.document(
        saved, created, key=session.key, target=session.target, secrets=env.secrets, now=now
    )
    directory = backup_dir if backup_dir is not None else DEFAULT_BACKUP_DIR
    if backup_dir is None:
        ignored_by_git(directory.parent, "revox-sync backups")
    try:
        path = write_new(directory, backup.file_name(now, session.key), json_document(doc) + "\n", mode=0o600)
    except OSError as exc:
        raise FatalError(
            f"cannot write the backup to {directory}/: {exc.strerror or exc}; nothing was changed "
            "(choose another folder with --backup-dir)"
        ) from None
    count = len(saved)
    env.info(
        f"Backed up {count} object{'s' if count != 1 else ''} this apply changes or destroys to {path}; "
        f"undo with: {session.command('restore', str(path))}"
    )
    return path


def _check_duplicates(
    session: Session,
    kinds: dict[str, ResourceKind],
    results: Sequence[Result],
    plan: Plan,
    config_dir: Path | None,
) -> int:
    """After the creates, the names this run created that now exist twice (a concurrent apply), reported
    with how to remove them; how many. A failure to look is said, and never hides what was done."""
    from revox_sync.engine.apply import find_duplicates

    found = 0
    for name, kind in kinds.items():
        created = [
            r.action.name for r in results if r.ok and r.action.op == "create" and r.action.kind == name
        ]
        if not created:
            continue
        try:
            duplicates = find_duplicates(partial(kind.fetch, session.client()), created)
        except FatalError as exc:
            session.env.warn(f"warning: could not look for duplicates of what this run created: {exc}")
            continue
        _report_duplicates(session, name, duplicates, plan, config_dir)
        found += len(duplicates)
    return found


def _confirm(env: Environment) -> None:
    if not env.interactive:
        raise FatalError("refusing to apply without confirmation: no terminal; pass --auto-approve")
    env.stdout.write(
        "\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: "
    )
    env.stdout.flush()
    answer = env.stdin.readline().strip()
    if answer != "yes":
        raise FatalError("apply cancelled (the answer was not 'yes'); nothing was changed")


def _announce_interrupt(env: Environment, count: int, in_flight: int) -> None:
    if count == 1:
        env.err(
            f"\nInterrupt received: no new writes start; waiting for the {in_flight} in flight to finish "
            "(interrupt again to abandon them)."
        )
    else:
        env.err(
            f"\nSecond interrupt: abandoning the {in_flight} writes in flight; their outcome is unknown "
            "until the next plan."
        )


def _report(env: Environment, result: Result, counter: str) -> None:
    action = result.action
    ident = f" ({result.id})" if result.id else ""
    if result.ok:
        line = f'  {counter} ✓ {result.verb} {action.kind} "{action.name}"{ident} in {result.seconds:.1f}s'
        color = "green"
    elif result.skipped:
        line, color = (
            f'  {counter} - {action.op} {action.kind} "{action.name}" skipped: {result.error}',
            "yellow",
        )
    else:
        line, color = (
            f'  {counter} ✗ {action.op} {action.kind} "{action.name}"{ident} failed: {result.error}',
            "red",
        )
    env.out(env.style(printable(line), color))
    for field in result.not_stored:
        env.warn(f'    warning: {action.kind} "{action.name}": the server did not store {field}')
    if result.notice:
        env.warn(f'    note: {action.kind} "{action.name}": {result.notice}')


def _finish(
    env: Environment,
    results: Sequence[Result],
    *,
    interrupted: bool,
    duplicated: int = 0,
    json_out: Environment | None = None,
    backup: Path | None = None,
    again: str = "apply",
) -> int:
    """The closing lines of an apply: what succeeded, failed, was skipped, abandoned or never started; and
    with `json_out`, the results as one JSON document there (naming the backup the run made)."""
    if json_out is not None:
        from revox_sync.engine.render import json_document
        from revox_sync.engine.results import results_document

        doc = results_document(results, interrupted=interrupted, duplicated=duplicated)
        json_out.out(json_document({**doc, "backup": str(backup) if backup is not None else None}))
    if not results:
        return EXIT_OK
    done = [r for r in results if r.ok]
    counts = ", ".join(
        f"{sum(1 for r in done if r.action.op == op)} {word}"
        for op, word in (("create", "added"), ("update", "changed"), ("delete", "destroyed"))
    )
    if duplicated and len(done) == len(results):
        env.error(f"apply done ({counts}), but {duplicated} name(s) it created now exist twice (see above).")
        return EXIT_ERROR
    if len(done) == len(results):
        env.out("")
        env.out(env.style(f"Apply complete! Resources: {counts}.", "green", "bold"))
        return EXIT_OK
    verb = "interrupted" if interrupted else "incomplete"
    env.error(f"apply {verb}: {len(done)} of {len(results)} actions succeeded ({counts}).")
    details = {
        "failed": ": {}",
        "skipped": ": {}",
        "abandoned": " (in flight when abandoned: outcome unknown)",
    }
    for shown in OUTCOMES:
        for r in results:
            if r.outcome == shown:
                label = f'{r.action.op} {r.action.kind} "{r.action.name}"'
                env.err(f"  {shown + ':':<10} {label}{details.get(shown, '').format(r.error)}")
    failed = any(r.outcome == "failed" for r in results)
    env.err(f"{'Fix the cause and run' if failed else 'Run'} {again} again: it will do only what is left.")
    return EXIT_ERROR


def _report_duplicates(
    session: Session,
    kind: str,
    duplicates: Sequence[tuple[str, list[dict[str, Any]]]],
    plan: Plan,
    config_dir: Path | None,
) -> None:
    """Name what a concurrent apply duplicated, and how to remove it (this run cannot know which to keep):
    pin the oldest of each name, then one command removes the others."""
    if not duplicates:
        return
    env = session.env
    files = {a.name: a.file for a in plan.actions if a.kind == kind}
    extra_ids: list[str] = []
    for name, same in duplicates:
        kept, *extra = sorted(
            same, key=lambda r: (str(r.get("created_at") or r.get("createdAt")), str(r["id"]))
        )
        extra_ids += [str(r["id"]) for r in extra]
        ids = ", ".join(str(r["id"]) for r in (kept, *extra))
        env.error(
            f'{len(same)} remote {kind}s are now named "{name}" ({ids}): another apply ran at the same '
            f"time. Keep the oldest: add `id: {kept['id']}` to {files.get(name) or 'its file'}"
        )
    targets = [w for i in extra_ids for w in ("--target", i)]
    force = ["--force"] if len(extra_ids) > 1 else []  # many at once trip the safety limit
    env.err(
        f"Then remove the others: {session.command('apply', '--prune', *force, *targets, config_dir=config_dir)}"
    )

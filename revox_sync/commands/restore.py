"""`restore BACKUP`: plan putting every object of a backup back as it was, then apply it like `apply` does
(confirmation, saved plans, safety limit, protection, and a backup of its own before the first write)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from revox_sync.commands import EXIT_OK
from revox_sync.errors import ConfigErrors, FatalError, LocatedError, Location
from revox_sync.names import same_name

if TYPE_CHECKING:
    from revox_sync.commands.apply import Applying
    from revox_sync.commands.plan import Computed
    from revox_sync.commands.session import Session
    from revox_sync.engine.backup import Backup, Saved


def run_restore(
    session: Session,
    backup_file: Path,
    how: Applying,
    plan_file: Path | None = None,
    *,
    out_file: Path | None = None,
) -> int:
    """Restore `backup_file`; with `out_file` only save the plan, with `plan_file` apply a saved one."""
    from revox_sync.commands.apply import execute
    from revox_sync.engine import saved as saved_plans
    from revox_sync.engine.backup import read_backup
    from revox_sync.files import read_regular

    if out_file is not None and plan_file is not None:
        raise FatalError("give PLAN_FILE to apply a saved restore, or --out to save one, not both")
    if out_file is not None and _same_file(out_file, backup_file):
        raise FatalError(f"--out {out_file} is the backup itself: choose another file")
    json_out = session.divert() if how.fmt == "json" and out_file is None else None
    session.client()  # the key that opens the backup
    try:
        data = read_regular(backup_file)
    except OSError as exc:
        raise FatalError(f"cannot read backup {backup_file}: {exc.strerror or exc}") from None
    backup = read_backup(data, str(backup_file), session.key)
    _check_kinds(backup, str(backup_file))
    saved = None
    if plan_file is not None:
        saved = saved_plans.load_saved(plan_file, session.key, session.target)
        if saved["options"].get("restore") != backup.checksum:
            raise FatalError(f"{plan_file} is not a plan of restoring {backup_file}: nothing was changed")
    computed = restore_plan(session, backup, str(backup_file))
    if saved is not None:
        saved_plans.check_fresh(saved, computed.plan, str(plan_file))
    if out_file is not None:
        from revox_sync.commands.plan import print_plan, save_plan

        print_plan(session, computed.plan)
        save_plan(session, computed.plan, out_file, ("restore", str(backup_file), str(out_file)))
        return EXIT_OK
    return execute(session, computed, how, config_dir=None, json_out=json_out)


def restore_plan(session: Session, backup: Backup, source: str) -> Computed:
    """The plan that puts the backup's objects back: updates of the fields that differ, a create for one
    the account lost (named in a note with its old id), a number routed back."""
    from revox_sync.commands.plan import Computed, learn_remote_secrets
    from revox_sync.engine.change import Desired
    from revox_sync.engine.kind import Loaded
    from revox_sync.engine.plan import build_plan
    from revox_sync.kinds import KINDS
    from revox_sync.sensitive import secret_values

    env, client = session.env, session.client()
    for s in backup.objects:
        env.add_secrets(secret_values(s.state))
    remote = {k.name: k.fetch(client) for k in KINDS}
    learn_remote_secrets(session, remote)
    now = {(kind, str(r.get("id"))): str(r.get("name")) for kind, objects in remote.items() for r in objects}
    gone = {(s.kind, s.id): s.name for s in backup.objects if (s.kind, s.id) not in now}
    where = Location(source)
    restorers = {k.name: k for k in KINDS}
    restored = [(s, *restorers[s.kind].restorable(s.state, gone, where)) for s in backup.objects]
    # a name put back (by a create, or a rename undone) that another object took since would make two
    taken = [
        LocatedError(where, _taken(s, now.get((s.kind, s.id)), str(r["id"])))
        for s, d, _ in restored
        if d is not None and not same_name(now.get((s.kind, s.id), ""), d.name)
        for r in remote.get(s.kind, ())
        if same_name(str(r.get("name")), d.name) and str(r.get("id")) != s.id
    ]
    if taken:
        raise ConfigErrors(taken)
    desired: dict[str, list[Desired]] = {k.name: [] for k in KINDS}
    for s, d, note in restored:
        if note:
            env.warn(f"note: {note}")
        if d is not None:
            desired[s.kind].append(dataclasses.replace(d, file=source))
    loaded: dict[str, Loaded | None] = {name: Loaded(items) for name, items in desired.items()}
    plan = build_plan(KINDS, loaded, remote, key=session.key, scope=session.scope())
    ids = {(kind, name): ident for (kind, ident), name in gone.items()}
    actions = tuple(
        dataclasses.replace(
            a,
            notes=(
                *a.notes,
                f"destroyed since the backup (was {ids[(a.kind, a.name)]}): created again with a new id; a file "
                "that pins the old id must pin the new one",
            ),
        )
        if a.op == "create" and (a.kind, a.name) in ids
        else a
        for a in plan.actions
    )
    for kind, name in backup.created:
        env.info(
            f'note: the apply this backup was made before also created {kind.replace("_", " ")} "{name}"; restore leaves it'
        )
    plan = dataclasses.replace(
        dataclasses.replace(plan, actions=actions).redacted(env.secrets),
        undeclared=(),
        target=session.target,
        key=session.key,
        restore=backup.checksum,
    )
    return Computed(plan, loaded, remote)


def _same_file(a: Path, b: Path) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def _check_kinds(backup: Backup, source: str) -> None:
    """A later revox-sync may back up a kind this one does not know: refused by name, before any request."""
    from revox_sync.kinds import KINDS
    from revox_sync.output import clip, printable

    known = {k.name for k in KINDS}
    for s in backup.objects:
        if s.kind not in known:
            raise FatalError(
                printable(
                    f"{source}: holds a {clip(s.kind, 40)}, which this version of revox-sync does not know: "
                    "restore it with the version that made it. Nothing was changed."
                )
            )


def _taken(saved: Saved, name_now: str | None, other: str) -> str:
    what = f'{saved.kind.replace("_", " ")} "{saved.name}" ({saved.id})'
    since = "is gone" if name_now is None else f'is named "{name_now}" since the backup'
    of = "of that name" if name_now is None else "of its old name"
    return (
        f"{what} {since}, and the account has another {of} ({other}): restoring it would make two; rename "
        "or destroy that one first"
    )

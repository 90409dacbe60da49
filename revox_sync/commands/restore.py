"""`restore BACKUP`: plan putting every object of a backup back as it was, then apply it like `apply` does
(confirmation, saved plans, safety limit, protection, and a backup of its own before the first write)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.commands import EXIT_OK
from revox_sync.errors import ConfigErrors, FatalError, LocatedError, Location
from revox_sync.names import same_name

if TYPE_CHECKING:
    from revox_sync.commands.apply import Applying
    from revox_sync.commands.plan import Computed
    from revox_sync.commands.session import Session
    from revox_sync.engine.backup import Backup, Saved
    from revox_sync.engine.change import FieldChange
    from revox_sync.engine.kind import ResourceKind


def run_restore(
    session: Session,
    backup_file: Path,
    how: Applying,
    plan_file: Path | None = None,
    *,
    out_file: Path | None = None,
    force_conflicts: bool = False,
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
        force_conflicts = force_conflicts or saved["options"].get("force_conflicts") is True
    computed = restore_plan(session, backup, str(backup_file), force_conflicts=force_conflicts)
    if saved is not None:
        from revox_sync.commands.plan import option_args

        options = option_args({**saved["options"], "force_conflicts": force_conflicts})
        again = session.command("restore", str(backup_file), "--out", str(plan_file), *options)
        saved_plans.check_fresh(saved, computed.plan, str(plan_file), again)
    if out_file is not None:
        from revox_sync.commands.plan import print_plan, save_plan

        print_plan(session, computed.plan)
        save_plan(session, computed.plan, out_file, ("restore", str(backup_file), str(out_file)))
        return EXIT_OK
    again = session.command("restore", str(backup_file), *(["--force-conflicts"] if force_conflicts else []))
    return execute(session, computed, how, config_dir=None, json_out=json_out, again=again)


def restore_plan(session: Session, backup: Backup, source: str, *, force_conflicts: bool = False) -> Computed:
    """The plan that undoes the backed-up apply: each field it changed goes back where the account still
    holds what it wrote (one changed since is a conflict, reported and left unless `force_conflicts`); an
    object it destroyed is created again (a note names its old id). What this configuration does not own is
    left, and `protect` refuses as in any plan."""
    from revox_sync.commands.plan import learn_remote_secrets
    from revox_sync.engine.backup import Unknown
    from revox_sync.engine.render import format_value
    from revox_sync.kinds import KINDS
    from revox_sync.sensitive import secret_values

    env, client = session.env, session.client()
    env.add_secrets(backup.secrets)
    for s in backup.objects:
        env.add_secrets(secret_values(s.state))
        env.add_secrets(secret_values(s.wrote or {}))
    remote = {k.name: k.fetch(client) for k in KINDS}
    learn_remote_secrets(session, remote)
    scope, kinds = session.scope(), {k.name: k for k in KINDS}
    now = {(kind, str(r.get("id"))): r for kind, objects in remote.items() for r in objects}
    by_name: dict[tuple[str, str], list[str]] = {}
    for (kind, ident), r in now.items():
        by_name.setdefault((kind, str(r.get("name"))), []).append(ident)
    ids = Unknown({key: same[0] for key, same in by_name.items() if len(same) == 1})
    restoring: list[tuple[Saved, frozenset[str] | None, str]] = []  # object, fields (None: all), name now
    conflicts: list[list[str]] = []  # the lines of each field (or object) changed since the apply
    for s in backup.objects:
        current = now.get((s.kind, s.id))
        name = str(current.get("name") or s.name) if current is not None else s.name
        label = f'{s.kind.replace("_", " ")} "{name}" ({s.id})'
        if not (scope.owned(s.kind, name) and scope.owned(s.kind, s.name)):
            env.info(
                f"note: {label} is outside what this configuration owns ({scope.not_owned(s.kind)}): restore leaves it"
            )
        elif current is None and s.op == "update" and not force_conflicts:
            conflicts.append([f"{label} was destroyed since the apply changed it: left destroyed"])
        elif current is None:
            restoring.append((s, None, name))  # created again, whole
        elif s.op == "update" and s.wrote:
            moved = {} if force_conflicts else _moved(kinds[s.kind], s, current, ids)
            conflicts += [
                [
                    f"{label}: {c.path} changed since the apply (it wrote {format_value(c, c.after)}, the "
                    f"account holds {format_value(c, c.before)}): left as it is"
                    for c in changes
                ]
                for changes in moved.values()
            ]
            restoring.append((s, frozenset(s.wrote) - moved.keys(), name))
        # an object the apply was to destroy and did not: it wrote nothing there
    for line in (line for lines in conflicts for line in lines):
        env.warn(f"conflict: {line}")
    if conflicts:
        one = len(conflicts) == 1
        env.warn(
            f"{len(conflicts)} conflict{'' if one else 's'} left as {'it is' if one else 'they are'}: restore "
            f"--force-conflicts puts {'it' if one else 'them'} back too"
        )
    gone = {(s.kind, s.id): s.name for s in backup.objects if (s.kind, s.id) not in now}
    computed = _restoring(session, kinds, remote, restoring, gone, Location(source))
    for kind, name in backup.created:
        env.info(
            f'note: the apply this backup was made before also created {kind.replace("_", " ")} "{name}"; restore leaves it'
        )
    plan = dataclasses.replace(
        computed.plan.redacted(env.secrets),
        undeclared=(),
        target=session.target,
        key=session.key,
        restore=backup.checksum,
        force_conflicts=force_conflicts,
    )
    return dataclasses.replace(computed, plan=plan)


def _moved(
    kind: ResourceKind, saved: Saved, current: dict[str, Any], ids: Mapping[tuple[str, str], str]
) -> dict[str, list[FieldChange]]:
    """The fields the apply wrote that the account holds neither as the apply wrote them nor as the backup
    holds them (someone changed them since), with the changes from what the apply wrote to what is there.
    An id the apply was to create is the one of that name now."""
    from revox_sync.engine.apply import fill

    wrote = fill(saved.wrote, ids)
    before = kind.as_written(saved.state)
    since = kind.differs(wrote, current)[0]
    back = kind.differs({f: before[f] for f in since if f in before}, current)[0]
    return {f: kind.differs({f: wrote[f]}, current)[1] for f in since if f in back}


def _restoring(
    session: Session,
    kinds: Mapping[str, ResourceKind],
    remote: dict[str, list[dict[str, Any]]],
    restoring: list[tuple[Saved, frozenset[str] | None, str]],
    gone: Mapping[tuple[str, str], str],
    where: Location,
) -> Computed:
    """The plan of putting back those fields of those objects (a create for one the account lost), refused
    when a name it puts back is another object's now."""
    from revox_sync.commands.plan import Computed
    from revox_sync.engine.change import Desired
    from revox_sync.engine.kind import Loaded
    from revox_sync.engine.plan import build_plan

    env = session.env
    now = {(kind, str(r.get("id"))): str(r.get("name")) for kind, objects in remote.items() for r in objects}
    desired: dict[str, list[Desired]] = {name: [] for name in kinds}
    taken = []
    for s, fields, name in restoring:
        d, note = (
            kinds[s.kind].restorable(s.state, gone, where, fields) if fields != frozenset() else (None, None)
        )
        if note:
            env.warn(f"note: {note}")
        if d is None:
            continue
        if fields is not None and "name" not in fields:
            d = dataclasses.replace(d, name=name)  # pinned by id, it keeps the name it has now
        # a name put back (by a create, or a rename undone) that another object took since would make two
        taken += [
            LocatedError(where, _taken(s, now.get((s.kind, s.id)), str(r["id"])))
            for r in remote.get(s.kind, ())
            if not same_name(now.get((s.kind, s.id), ""), d.name)
            and same_name(str(r.get("name")), d.name)
            and str(r.get("id")) != s.id
        ]
        desired[s.kind].append(dataclasses.replace(d, file=where.path))
    if taken:
        raise ConfigErrors(taken)
    loaded: dict[str, Loaded | None] = {name: Loaded(items) for name, items in desired.items()}
    plan = build_plan(list(kinds.values()), loaded, remote, key=session.key, scope=session.scope())
    again = {(kind, name): ident for (kind, ident), name in gone.items()}
    actions = tuple(
        dataclasses.replace(
            a,
            notes=(
                *a.notes,
                f"destroyed since the backup (was {again[(a.kind, a.name)]}): created again with a new id; a file "
                "that pins the old id must pin the new one",
            ),
        )
        if a.op == "create" and (a.kind, a.name) in again
        else a
        for a in plan.actions
    )
    return Computed(dataclasses.replace(plan, actions=actions), loaded, remote)


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

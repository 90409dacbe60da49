"""The `import` command: choose the remote assistants, plan every file, check them all, then write them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.config.discovery import display_path
from revox_sync.engine.scope import EVERYTHING, Scope
from revox_sync.errors import FatalError
from revox_sync.files import staged_writes
from revox_sync.importer.create import Importer
from revox_sync.importer.fleet import HINT, Report, generated, report
from revox_sync.importer.layout import existing_files, inside, pair_files
from revox_sync.importer.outcome import Outcome, Record, Write
from revox_sync.importer.placeholders import Known, strings
from revox_sync.importer.reimport import FileUpdate
from revox_sync.importer.voices import Clones, declare
from revox_sync.kinds.assistant.fields import MATCHING_FIELDS
from revox_sync.kinds.assistant.kind import KIND as ASSISTANTS
from revox_sync.kinds.assistant.shape import ASSISTANT_FIELDS
from revox_sync.names import name_key, same_name
from revox_sync.output import listed, printable, quoted
from revox_sync.sensitive import MIN_SECRET_LENGTH

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient
    from revox_sync.output import Environment


def run_import(
    client: RevoxClient,
    env: Environment,
    config_dir: Path,
    *,
    names: list[str],
    overwrite: bool,
    with_defaults: bool,
    variables: Mapping[str, str] | None = None,
    api_key: str | None = None,
    record: Record | None = None,
    scope: Scope = EVERYTHING,
) -> int:
    """Write one YAML file per selected live assistant under `config_dir`; see the package docstring.

    `variables` resolve `${VAR}` in existing files as `plan` would (default: the process environment); the
    values of the sensitive ones, and `api_key` (the run's own), are never written. `record` collects what
    was done, for a JSON report. Only what `scope` owns is written: a file outside `owns` would be an error
    of the configuration it was written into."""
    record = Record() if record is None else record
    config_dir = Path(config_dir)
    if config_dir.exists() and not config_dir.is_dir():
        raise FatalError(f"{config_dir} is not a directory")
    remote = client.list_assistants()
    chosen, skipped = _owned(_select(remote, names), scope, explicit=bool(names))
    clones = Clones(client.list_voices(), scope)
    if skipped:
        env.info(_skipped(skipped, scope))
        record.skipped = [{"name": str(r.get("name")), "id": str(r.get("id"))} for r in skipped]
    if not chosen and not clones.declarable:
        env.info(f"no assistants {'to import' if skipped else 'in this account'}: nothing to import")
        return 0
    importer = Importer(
        env,
        config_dir,
        overwrite=overwrite,
        with_defaults=with_defaults,
        variables=variables,
        api_key=api_key,
        clones=clones,
    )
    importer.known.adopt(chosen)
    _warn_short_secrets(env, importer, chosen)
    existing = existing_files(config_dir, importer.variables)
    for e in existing:
        if not e.readable:
            env.warn(f"warning: {display_path(e.path)} is not readable YAML: skipped (and left untouched)")
    existing = generated(existing, config_dir, importer.variables)
    outcomes: list[Outcome] = []
    reports: list[Report] = []
    for r, match in pair_files(chosen, remote, existing, importer.paths):
        if match is not None and match.generated is not None:
            reports.append(report(match, r, remote, clones))
        else:
            outcomes.append(FileUpdate(importer, r, match).run() if match is not None else importer.create(r))

    if importer.unknown_keys:
        env.warn(
            "warning: fields this version does not know were not imported: "
            + ", ".join(sorted(importer.unknown_keys))
        )
    for warning in clones.warnings(every=not names):
        env.warn(warning)
    voices, samples = declare(config_dir, clones, every=not names)
    extra = [] if voices is None else [voices]
    _check_writes([*(w for o in outcomes for w in o.writes), *extra], config_dir, overwrite, importer.known)
    changes = [*(w for o in outcomes for w in o.writes if w.changed), *extra]
    with staged_writes([(w.path, w.text) for w in changes]) as put:
        for outcome in outcomes:
            for write in outcome.writes:
                if write.changed:
                    _write(env, write, record, put)
                elif write.path == outcome.yaml_path:
                    env.out(f"unchanged {display_path(write.path)}")
                    record.files.append({"path": display_path(write.path), "status": "unchanged"})
        for write in extra:
            _write(env, write, record, put)
    for sample in samples:
        env.info(sample)
    for said in sorted(reports):
        record.generated.append(
            {"file": said.file, "line": said.line, "drifted": said.drifted, "message": said.text}
        )
    for line in dict.fromkeys(r.text for r in sorted(reports)):  # two remotes of one name: said once
        env.out(line)
    if any(r.drifted for r in reports):
        env.out(HINT)
    _report(env, outcomes, record)
    return 0


def _warn_short_secrets(env: Environment, importer: Importer, chosen: list[dict[str, Any]]) -> None:
    """A secret too short to tell from ordinary text is not replaced: say so where it occurs."""
    if not importer.known.short:
        return
    # what the files hold of them: not the server's ids and timestamps, where two letters always turn up
    managed = [
        {k: v for k, v in r.items() if k in ASSISTANT_FIELDS and k not in MATCHING_FIELDS} for r in chosen
    ]
    texts = list(strings(managed))
    for variable, value in importer.known.short.items():
        if any(value in text for text in texts):
            env.warn(
                f"warning: the value of {variable} is shorter than {MIN_SECRET_LENGTH} characters: import "
                "cannot tell it from ordinary text and leaves it where it occurs; check the written files"
            )


def _write(env: Environment, write: Write, record: Record, put: Callable[[Path], None]) -> None:
    put(write.path)
    status, shown = "updated" if write.existed else "created", display_path(write.path)
    env.out(f"{status} {shown}")
    record.files.append({"path": shown, "status": status})


def _check_writes(writes: list[Write], config_dir: Path, overwrite: bool, known: Known) -> None:
    """Everything that would be written stays inside the config directory, holds no known secret (one left
    in a comment or a variable's default, say), and nothing existing is overwritten without --overwrite;
    checked for all files before the first write."""
    root = Path(os.path.abspath(config_dir))
    seen: dict[str, str] = {}
    blocked: list[str] = []
    for write in writes:
        target = Path(os.path.abspath(write.path))
        if not inside(target, root):
            raise FatalError(f"refusing to write {write.path}: outside the config directory {config_dir}")
        key = str(target)
        if key in seen and seen[key] != write.text:
            raise FatalError(
                f"{display_path(write.path)} is shared by assistants whose remote texts differ; "
                "give each its own file"
            )
        seen[key] = write.text
        # the path inside the config directory only: a secret may well be part of the directory's own path
        leaked = known.found(f"{os.path.relpath(target, root)}\n{write.text}") if write.changed else []
        if leaked:
            raise FatalError(
                f"refusing to write {display_path(write.path)}: it would hold the value of "
                f"{', '.join(leaked)} in plain text (in a comment, or a variable's default?); write "
                f"${{{leaked[0]}}} there instead, then import again (nothing was written)"
            )
        if write.existed and write.changed and not write.adds_only:
            blocked.append(display_path(write.path))
    if blocked and not overwrite:
        raise FatalError(
            "these files differ from the remote assistants (or hold a secret in plain text) and would be "
            "overwritten: " + ", ".join(blocked) + "; pass --overwrite to update them (nothing was written)"
        )


def _report(env: Environment, outcomes: list[Outcome], record: Record) -> None:
    names: dict[str, list[str]] = {}  # name_key -> files: names alike but for their Unicode form are one
    spelt: dict[str, str] = {}
    for outcome in outcomes:
        if outcome.suggestions:
            env.info(
                f"{display_path(outcome.yaml_path)}: {len(outcome.suggestions)} FAQ item(s) suggested by Revox "
                "await an answer; they are written as comments under faq_items: uncomment and answer them "
                "to keep them"
            )
        key = name_key(str(outcome.remote.get("name")))
        spelt.setdefault(key, str(outcome.remote.get("name")))
        names.setdefault(key, []).append(display_path(outcome.yaml_path))
    for key, files in names.items():
        if len(files) > 1:
            env.warn(
                f"warning: {len(files)} assistants are named {json.dumps(spelt[key], ensure_ascii=False)} "
                f"({', '.join(files)}): names must be unique in the config directory, rename all but one "
                "in its file (the pinned id makes that a rename)"
            )
    for outcome in outcomes:
        for note in outcome.notes:
            env.warn(note)
    places = record.variables
    for secret in (s for o in outcomes for s in o.secrets):
        if secret.where not in places.setdefault(secret.variable, []):
            places[secret.variable].append(secret.where)
    if places:
        env.out("")
        env.out(
            "Set these environment variables (or pass them with --var / --var-file) before `revox-sync plan` "
            "(their values are not written):"
        )
        width = max(len(v) for v in places)
        for variable, where in places.items():
            env.out(printable(f"  {variable.ljust(width)}  {'; '.join(where)}"))  # `where` names an assistant


def _select(remote: list[dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """The assistants named (in any Unicode form) or whose id is given; all of them without `names`."""
    if not names:
        return remote
    chosen: list[dict[str, Any]] = []
    missing: list[str] = []
    for wanted in names:
        hits = [r for r in remote if r.get("id") == wanted or same_name(str(r.get("name")), wanted)]
        if not hits:
            missing.append(wanted)
        for hit in hits:
            if all(hit is not c for c in chosen):
                chosen.append(hit)
    if missing:
        shown = ", ".join(json.dumps(m, ensure_ascii=False) for m in missing)
        raise FatalError(f"no assistant with the name or id {shown} in this account; nothing was written")
    return chosen


def _owned(
    chosen: list[dict[str, Any]], scope: Scope, *, explicit: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the assistants `scope` owns, the others); one asked for by name or id outside `owns` is an error."""
    kept: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for r in chosen:
        (kept if scope.owned(ASSISTANTS.name, str(r.get("name"))) else skipped).append(r)
    if explicit and skipped:
        raise FatalError(
            f"assistant {quoted(skipped[0].get('name'))} is outside what this configuration owns: "
            f"{scope.not_owned(ASSISTANTS.name)}; nothing was written"
        )
    return kept, skipped


def _skipped(skipped: list[dict[str, Any]], scope: Scope) -> str:
    count = len(skipped)
    return (
        f"skipped {count} assistant{'s' if count > 1 else ''} outside what this configuration owns: "
        f"{listed([str(r.get('name')) for r in skipped])}; {scope.not_owned(ASSISTANTS.name)}"
    )

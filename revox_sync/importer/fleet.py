"""Assistants that a file generates (it has `for_each`, or `extends` a template): import reports them, with
the file and row they come from and the fields in which the remote drifted from them, and never writes them.

Writing the remote values back could only go into the shared template, the fleet file or its row, changing
every other assistant made from them, or into a file of its own, which would declare the assistant twice."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from revox_sync.config.discovery import display_path
from revox_sync.errors import FatalError
from revox_sync.importer.layout import Existing
from revox_sync.importer.voices import Clones
from revox_sync.kinds.assistant import normalize
from revox_sync.kinds.assistant.load import LoadedAssistant, collect_paths

HINT = (
    "import never writes a file that generates assistants: to keep the remote values, edit the template, "
    "the file or its row; to push the file's values back, run `revox-sync plan`, then `revox-sync apply`"
)


def generated(existing: list[Existing], config_dir: Path, variables: Mapping[str, str]) -> list[Existing]:
    """`existing` with each file that generates assistants replaced by one entry per assistant, loaded as
    `plan` loads it. Such a file that does not load is refused: import could not tell its assistants from
    the account's others, and would write a second file for each."""
    out: list[Existing] = []
    for e in existing:
        if not e.fleet:
            out.append(e)
            continue
        result = collect_paths([e.path], config_dir=config_dir, variables=variables)
        if result.errors:
            raise FatalError(
                f"cannot import: {display_path(e.path)} generates assistants, but it does not load, so import "
                "cannot tell them from the account's others; fix it first (nothing was written):\n"
                + "\n".join(str(error) for error in result.errors)
            )
        out.extend(replace(e, id=a.id, name=a.name, generated=a) for a in result.assistants)
    return out


class Report(NamedTuple):
    """What to say of one generated assistant; reports sort in the order of the files and their rows."""

    file: str
    line: int
    column: int
    text: str
    drifted: bool


def report(entry: Existing, remote: dict[str, Any], every: list[dict[str, Any]], clones: Clones) -> Report:
    """Which file (and row) generates `remote`, and in which fields the remote differs from it."""
    loaded = entry.generated
    assert loaded is not None
    at = loaded.row.location if loaded.row is not None else None
    if at is not None:
        origin = f"row {at}"
    else:
        assert entry.extends is not None  # without a row it extends a template, or it would not have loaded
        origin = f"extends {display_path(entry.extends)}"
    where = (str(entry.path), at.line if at else 0, at.col if at else 0)
    head = (
        f"not imported {json.dumps(remote.get('name'), ensure_ascii=False)}: "
        f"{display_path(entry.path)} generates it ({origin})"
    )
    if loaded.id is None:
        same = [str(r.get("id")) for r in every if r.get("name") == loaded.name]
        if len(same) > 1:
            ids = ", ".join(same)
            return Report(
                *where,
                f"{head}, but {len(same)} remote assistants have that name ({ids}): pin one with `id:`",
                False,
            )
    fields = drifted(loaded, clones.by_name(remote, like=loaded.data.get("voice")))
    if fields:
        return Report(*where, f"{head}, drifted: {', '.join(fields)}", True)
    return Report(*where, f"{head}, in sync", False)


def drifted(loaded: LoadedAssistant, remote: dict[str, Any]) -> list[str]:
    """The top-level fields the file manages whose remote value differs, compared as `plan` compares them."""
    fields = [f for f in loaded.data if f != "id"]
    changed, _ = normalize.diff_assistant(
        normalize.canonical_assistant(loaded.data, fields),
        normalize.canonical_assistant(remote, fields),
        loaded.sensitive,
    )
    return changed

"""`import`: live assistants (and the cloned voices they use) to files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from revox_sync.commands.session import Session


def run_import(
    session: Session,
    config_dir: Path | None,
    names: Sequence[str],
    *,
    overwrite: bool = False,
    with_defaults: bool = False,
    fmt: str = "text",
) -> int:
    """Import; with `fmt` json, stdout is one JSON document of what was written, the rest goes to stderr."""
    from revox_sync.commands.plan import gc_paused
    from revox_sync.importer import run_import as write_files
    from revox_sync.importer.outcome import Record

    json_out = session.divert() if fmt == "json" else None
    record = Record()
    client = session.client()  # sets the key in use: its value is a secret import must not write
    with gc_paused():
        code = int(
            write_files(
                client,
                session.env,
                session.config_dir(config_dir),
                names=list(names),
                overwrite=overwrite,
                with_defaults=with_defaults,
                variables=session.settings().variables,
                api_key=session.api_key_used,
                record=record,
                scope=session.scope(),
            )
        )
    if json_out is not None:
        from revox_sync.engine.render import json_document

        json_out.out(json_document(record.to_dict()))
    return code

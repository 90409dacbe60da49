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
) -> int:
    from revox_sync.importer import run_import as write_files

    client = session.client()  # sets the key in use: its value is a secret import must not write
    return int(
        write_files(
            client,
            session.env,
            session.config_dir(config_dir),
            names=list(names),
            overwrite=overwrite,
            with_defaults=with_defaults,
            variables=session.settings().variables,
            api_key=session.api_key_used,
        )
    )

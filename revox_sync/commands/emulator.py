"""`emulator` and `schema`: the commands that need no account."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from revox_sync.commands import EXIT_OK
from revox_sync.errors import FatalError

if TYPE_CHECKING:
    from revox_sync.commands.session import Session


def run_schema(session: Session) -> int:
    """Print the JSON Schema of an assistant file, for editors."""
    from revox_sync.kinds.assistant.schema import json_schema

    session.env.out(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def run_emulator(
    host: str, port: int, state_file: Path | None, api_key: str | None, phone_numbers: Sequence[str]
) -> int:
    """Serve the local Revox API emulator on loopback until interrupted."""
    from revox_sync.emulator import serve

    try:
        serve(host=host, port=port, state_file=state_file, api_key=api_key, phone_numbers=phone_numbers)
    except (ValueError, OSError) as exc:
        raise FatalError(f"cannot serve the emulator on {host}:{port}: {exc}") from None
    return EXIT_OK

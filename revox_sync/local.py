"""`--local`: an embedded emulator on an ephemeral loopback port, its state kept in `.revox-local/`.

Every write is saved before it is answered and every request catches up on what other runs wrote, under a
file lock, so consecutive and concurrent `--local` runs behave like clients of one server. The emulator
needs no API key. Imports stay inside the function so that importing this module costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from revox_sync.emulator import EmulatorServer

LOCAL_STATE_DIR = Path(".revox-local")
STATE_FILE_NAME = "state.json"


def start_local(state_dir: Path = LOCAL_STATE_DIR) -> EmulatorServer:
    """A started emulator with its state at `state_dir/state.json`; stop it with `.stop()`."""
    from revox_sync.emulator import EmulatorServer
    from revox_sync.emulator.state import EmulatorState

    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    ignore = state_dir / ".gitignore"
    if not ignore.exists():  # the state holds resolved secrets: keep it out of the user's commits
        ignore.write_text("# revox-sync --local state: never commit it\n*\n", encoding="utf-8")
    state = EmulatorState.load(
        state_dir / STATE_FILE_NAME, hint=f"the local emulator's state; delete {state_dir}/ to start over"
    )
    return EmulatorServer(state, api_key=None, host="127.0.0.1", port=0).start()

"""`--local`: an embedded emulator on an ephemeral loopback port, its state kept in `.revox-local/`.

Every write is saved before it is answered and every request catches up on what other runs wrote, under a
file lock, so consecutive and concurrent `--local` runs behave like clients of one server. The emulator
needs no API key. Imports stay inside the function so that importing this module costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from revox_sync.errors import FatalError

if TYPE_CHECKING:
    from revox_sync.emulator import EmulatorServer

LOCAL_STATE_DIR = Path(".revox-local")
STATE_FILE_NAME = "state.json"
PLAN_KEY_FILE_NAME = "plan.key"


def start_local(state_dir: Path = LOCAL_STATE_DIR) -> EmulatorServer:
    """A started emulator with its state at `state_dir/state.json`; stop it with `.stop()`."""
    from revox_sync.emulator import EmulatorServer
    from revox_sync.emulator.state import EmulatorState

    state_dir = Path(state_dir)
    from revox_sync.files import ignored_by_git, refuse_linked_directories

    refuse_linked_directories(
        state_dir / STATE_FILE_NAME
    )  # it holds resolved secrets: never where a link says
    state_dir.mkdir(parents=True, exist_ok=True)
    ignored_by_git(state_dir, "revox-sync --local state (it holds resolved secrets)")
    state = EmulatorState.load(
        state_dir / STATE_FILE_NAME, hint=f"the local emulator's state; delete {state_dir}/ to start over"
    )
    return EmulatorServer(state, api_key=None, host="127.0.0.1", port=0).start()


def plan_key(state_dir: Path = LOCAL_STATE_DIR) -> bytes:
    """The secret that keys saved `--local` plans, made once per state directory and readable by its owner
    only: with no API key, it is what stops an edited local plan from passing its checksum."""
    import os
    import secrets
    import tempfile

    path = Path(state_dir) / PLAN_KEY_FILE_NAME
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".plan.key.", dir=path.parent)  # mode 0600
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(secrets.token_hex(32).encode())
                os.link(tmp, path)  # whole or absent, and never replaces a key another run made meanwhile
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        key = path.read_bytes()
    except OSError as exc:
        raise FatalError(f"cannot use the local plan key {path}: {exc.strerror or exc}") from None
    if not key:
        raise FatalError(f"the local plan key {path} is empty: delete it and plan again")
    return key

"""The local Revox API emulator: `EmulatorServer` (HTTP on loopback) over `EmulatorState` (the data).

See `server.py` for why it is built on the standard library's `ThreadingHTTPServer`, the error-body shape
and fault injection; `state.py` for the data; `store.py` for how it is kept on disk and shared between
processes; `wire.py` for request validation.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from revox_sync.emulator.server import EmulatorServer, RecordedRequest
from revox_sync.emulator.state import EmulatorState

__all__ = ["EmulatorServer", "EmulatorState", "RecordedRequest", "serve"]


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    state_file: Path | None = None,
    api_key: str | None = None,
    phone_numbers: Sequence[str] = (),
) -> None:
    """Serve the emulator until Ctrl-C (the `revox-sync emulator` command); prints the base URL.

    `phone_numbers` are made owned by the account (once: a restart with the same state keeps them)."""
    server = EmulatorServer(state_file=state_file, api_key=api_key, host=host, port=port)
    owned = {n["phone_number"] for n in server.state.list_phone_numbers()}
    for number in phone_numbers:
        if number not in owned:
            server.state.add_phone_number(number)
    server.start()
    where = f", state in {state_file}" if state_file else " (in memory)"
    print(f"Revox API emulator listening on {server.url}{where}", flush=True)
    print(f"Use it with: revox-sync --base-url {server.url} ...  (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nemulator stopped", file=sys.stderr, flush=True)
    finally:
        server.stop()

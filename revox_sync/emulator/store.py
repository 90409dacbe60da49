"""Where an emulator's state lives on disk: a JSON snapshot, a journal of writes since it, and a lock file.

Why a journal: rewriting the whole snapshot after every write made an apply of N assistants cost O(N²)
(five minutes for 2,000). A write now appends one line (the records it changed, whole) and fsyncs; the
journal is folded into the snapshot when it outgrows it and when the emulator stops.

Why a lock: several processes may serve one state (two `--local` runs in one checkout). Every request takes
an exclusive `flock` on `NAME.lock`, catches up on what others wrote (a full reload only after another
process compacted, otherwise just the journal's new lines), does its work and appends its line, so the
processes behave like one server: no write is lost. The kernel drops the lock of a killed process.

Why it survives `kill -9` at any moment: the snapshot is only ever replaced atomically, a journal line that
a killed writer left half-written is dropped (it was never acknowledged), and replaying a journal over the
snapshot it was folded into changes nothing (each line holds final records), so a crash between writing a
snapshot and removing the journal is harmless.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from revox_sync.errors import FatalError, LocatedError, Location
from revox_sync.files import write_atomic

try:
    import fcntl
except ImportError:  # no flock (Windows): one process per state file is then the user's business
    fcntl = None  # type: ignore[assignment]

LOCK_WAIT_SECONDS = 30.0  # a request holds the lock for milliseconds; longer means a stuck process
COMPACT_MIN_BYTES = 1 << 20
PRIVATE = 0o600  # the state holds resolved secrets: its owner alone reads it
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # a link committed in the state folder is never written through


class StateError(FatalError):
    """The state on disk cannot be used; the server answers 500 with this message, the CLI prints it."""


class StateFileError(LocatedError, StateError):
    """A state file that is not an emulator state: where, what, and whose file it is."""

    def __init__(self, location: Location, problem: str, hint: str) -> None:
        super().__init__(location, f"{problem} ({hint})")


_Identity = tuple[int, int, int]  # inode, mtime (ns), size: a replaced or rewritten file changes it


def _identity(path: Path) -> _Identity | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _records(value: Any, name: str, where: str) -> list[dict[str, Any]]:
    """`value` as a list of records with string ids, or the reason it is not one."""
    if not isinstance(value, list):
        raise ValueError(f"{where}{name} is not a list")
    for i, record in enumerate(value):
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise ValueError(f"{where}{name}[{i}] has no string 'id'")
    return value


def _type_name(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), "null"
    )


class Store:
    """The snapshot at `path`, its journal `path.journal` and its lock `path.lock`."""

    def __init__(self, path: Path, hint: str) -> None:
        self.path = Path(path)
        self.journal = self.path.with_name(self.path.name + ".journal")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.hint = hint
        self._lock_fd: int | None = None
        self._seen: tuple[_Identity | None, int | None] | None = None  # snapshot, journal inode
        self._offset = 0  # bytes of the journal already applied
        self._lines = 0  # lines of the journal already applied, to number the next ones

    def _error(self, path: Path, problem: str, line: int = 0, col: int = 0) -> StateFileError:
        return StateFileError(Location(str(path), line, col), problem, self.hint)

    # -- the lock -------------------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the inter-process lock (bounded wait); callers serialise their own threads first."""
        if fcntl is None:
            yield
            return
        if self._lock_fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | NOFOLLOW, 0o644)
        fd = self._lock_fd
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StateError(
                        f"{self.lock_path}: still locked by another process after {LOCK_WAIT_SECONDS:g} s"
                        " (a stopped or hung revox-sync? end it, and the lock goes with it)"
                    ) from None
                time.sleep(0.002)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def forget(self) -> None:
        """Reread everything at the next catch-up (after a write that may not have reached the disk)."""
        self._seen = None

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- reading (under the lock) ---------------------------------------------------------------------

    def catch_up(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """What changed on disk since the last call: a snapshot to start over from (None: keep what you
        have), then the journal entries to apply on top, in order."""
        snapshot_id = _identity(self.path)
        journal_id = _identity(self.journal)
        journal_ino = journal_id[0] if journal_id else None
        size = journal_id[2] if journal_id else 0
        snapshot = None
        if self._seen != (snapshot_id, journal_ino) or size < self._offset:
            snapshot = self._read_snapshot() if snapshot_id else {}
            self._offset = self._lines = 0
        entries = self._read_journal(size) if size > self._offset else []
        self._seen = (snapshot_id, journal_ino)
        return snapshot, entries

    def _read_snapshot(self) -> dict[str, Any]:
        raw = self.path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self._error(self.path, "not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self._error(self.path, f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
        except (RecursionError, ValueError) as exc:  # nested too deeply, an integer too long
            raise self._error(self.path, f"not an emulator state: {_unreadable(exc)}") from None
        try:
            if not isinstance(data, dict):
                raise ValueError(f"expected an object, got {_type_name(data)}")
            _records(data.get("assistants", []), "assistants", "")
            _records(data.get("phone_numbers", []), "phone_numbers", "")
            if not isinstance(data.get("voices", []), list):
                raise ValueError("voices is not a list")
        except ValueError as exc:
            raise self._error(self.path, f"not an emulator state: {exc}") from None
        return data

    def _read_journal(self, size: int) -> list[dict[str, Any]]:
        with self.journal.open("rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read(size - self._offset)
        complete = chunk[: chunk.rfind(b"\n") + 1]
        if len(complete) < len(chunk):  # a writer killed mid-line: never acknowledged, drop it
            os.truncate(self.journal, self._offset + len(complete))
        entries = [self._entry(line, self._lines + n) for n, line in enumerate(complete.splitlines(), 1)]
        self._lines += len(entries)
        self._offset += len(complete)
        return entries

    def _entry(self, line: bytes, number: int) -> dict[str, Any]:
        try:
            entry = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._error(self.journal, "not UTF-8 text", number, 1) from None
        except json.JSONDecodeError as exc:
            raise self._error(self.journal, f"not valid JSON: {exc.msg}", number, exc.colno) from None
        except (RecursionError, ValueError) as exc:
            raise self._error(
                self.journal, f"not an emulator journal entry: {_unreadable(exc)}", number, 1
            ) from None
        if not isinstance(entry, dict) or not all(
            isinstance(changed, dict) and all(r is None or isinstance(r, dict) for r in changed.values())
            for changed in (entry.get(table, {}) for table in ("assistants", "phone_numbers", "voices"))
        ):
            raise self._error(self.journal, "not an emulator journal entry", number, 1)
        return entry

    # -- writing (under the lock, caught up) ----------------------------------------------------------

    def append(self, entry: dict[str, Any]) -> bool:
        """Journal one write durably; true when the journal has outgrown the snapshot (time to compact)."""
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8")
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW, PRIVATE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            st = os.fstat(fd)
        finally:
            os.close(fd)
        self._offset, self._lines = st.st_size, self._lines + 1
        self._seen = (self._seen[0] if self._seen else None, st.st_ino)
        snapshot = self._seen[0]
        return st.st_size > max(COMPACT_MIN_BYTES, snapshot[2] if snapshot else 0)

    def compact(self, data: dict[str, Any]) -> None:
        """Replace the snapshot with `data` (the whole caught-up state) and drop the journal it contains."""
        write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True), mode=PRIVATE)
        self.journal.unlink(missing_ok=True)
        self._seen = (_identity(self.path), None)
        self._offset = self._lines = 0

    @property
    def has_journal(self) -> bool:
        return self._seen is not None and self._seen[1] is not None


def _unreadable(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)

"""Writing files so that a crash never leaves half a file behind."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def write_atomic(path: Path, text: str, *, mode: int | None = None, exclusive: bool = False) -> None:
    """Write `text` to `path` via a temporary file in the same directory and an atomic rename; `mode`
    (say 0o600 for a file that holds secrets) wins over the mode the file had. `exclusive`: never replace
    a file (FileExistsError), by linking instead of renaming."""
    _put_in_place(_staged(path, text, mode), path, exclusive)


@contextmanager
def staged_writes(writes: Sequence[tuple[Path, str]], threads: int = 8) -> Iterator[Callable[[Path], None]]:
    """`write_atomic` of each of `writes`, its temporary file written and synced to disk on one of `threads`
    threads ahead of time (waiting for the disk is most of a write), and put in place when the caller calls
    the function given with its path, in the order of `writes`: what failed raises there, as it would have
    one write after the other. Temporary files never put in place are removed on the way out."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=max(1, min(threads, len(writes))))
    futures = [pool.submit(_staged, path, text, None) for path, text in writes]
    placed = 0

    def put(path: Path) -> None:
        nonlocal placed
        assert writes[placed][0] == path, "writes are put in place in the order they were staged"
        tmp = futures[placed].result()
        placed += 1
        _put_in_place(tmp, path, False)

    try:
        yield put
    finally:
        from revox_sync.engine.apply import catching_interrupts

        with catching_interrupts() as late:  # a second Ctrl-C must not leave the rest of them behind
            pool.shutdown(cancel_futures=True)
            for future in futures[placed:]:
                if not future.cancelled() and future.exception() is None:
                    Path(future.result()).unlink(missing_ok=True)
        if late.count:
            raise KeyboardInterrupt


def _staged(path: Path, text: str, mode: int | None) -> str:
    """A temporary file beside `path` holding `text`, on disk, with the mode `path` is to have."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_kept(path) if mode is None else mode)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _mode_kept(path: Path) -> int:
    """The mode of the regular file at `path`, else 0o644: a link there is replaced, and its target's mode is
    none of the new file's business."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return 0o644
    return stat.S_IMODE(found.st_mode) if stat.S_ISREG(found.st_mode) else 0o644


def refuse_linked_directories(path: Path) -> None:
    """OSError when a directory on the way to the output `path` is a symbolic link. Checked for a path relative
    to the current directory (the checkout, where a pull request can commit a link), not for an absolute one
    (the operator's own); a link at `path` itself is for the writer to replace, never to write through."""
    if path.is_absolute():
        return
    for directory in reversed(path.parents[:-1]):
        if directory.is_symlink():
            raise OSError(
                errno.ELOOP, f"{directory} is a symbolic link, and an output never goes through one"
            )


def _put_in_place(tmp: str, path: Path, exclusive: bool) -> None:
    """The temporary file `tmp` renamed to `path` (linked, when `exclusive`, so an existing file stays)."""
    try:
        if exclusive:
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_new(directory: Path, name: str, text: str, *, mode: int) -> Path:
    """A new file in `directory` named `name` (or `name` with -2, -3 ... before its suffix when taken),
    written atomically: two runs at once never overwrite each other's, nor a link there (a link at `directory`
    or on its way is refused)."""
    refuse_linked_directories(directory / name)
    stem, dot, suffix = name.rpartition(".")
    for n in range(1, 1000):
        path = directory / (name if n == 1 else f"{stem}-{n}{dot}{suffix}")
        try:
            write_atomic(path, text, mode=mode, exclusive=True)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{directory}: too many backups named {name}")


def read_regular(path: Path) -> bytes:
    """A file's bytes; OSError ("not a regular file") for a FIFO, which would block for ever, or a device,
    which may never end. Opened without blocking and checked on the open file, so nothing can swap it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return handle.read()


def ignored_by_git(directory: Path, what: str) -> None:
    """Make `directory` ignore itself in git (a `.gitignore` of `*` inside it), as pytest's cache does: it
    holds account state or secrets that must never be committed. Best effort: a folder that cannot be
    written is reported by whatever writes there next."""
    ignore = directory / ".gitignore"
    if ignore.exists():
        return
    with contextlib.suppress(OSError):
        refuse_linked_directories(ignore)
        write_atomic(ignore, f"# {what}: never commit it\n*\n")

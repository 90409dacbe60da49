"""What the benchmarks share: one process run as a user runs it (start-up included), its wall time and peak
memory, and runs that take turns so that a machine busy for a while slows every variant alike."""

from __future__ import annotations

import compileall
import functools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@functools.cache
def byte_compile(package_root: Path) -> None:
    """Compile `package_root`'s revox_sync as installing it does (pip writes the bytecode): without it, a run
    under PYTHONDONTWRITEBYTECODE compiles every module it imports again, a cost no installed copy pays."""
    compileall.compile_dir(package_root / "revox_sync", quiet=1)


def env(package_root: Path = REPO) -> dict[str, str]:
    """The environment of a run of the revox_sync found in `package_root` (another checkout, to compare),
    byte-compiled."""
    byte_compile(package_root)
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_root), environ.get("PYTHONPATH")]))
    environ["NO_COLOR"] = "1"
    return environ


@dataclass(frozen=True)
class Ran:
    seconds: float
    peak_bytes: int  # the process's maximum resident set size
    cpu: float  # user + system seconds, the process and the ones it started
    code: int
    stdout: str
    stderr: str


def run(
    argv: Sequence[str], *, cwd: Path, package_root: Path = REPO, environ: Mapping[str, str] | None = None
) -> Ran:
    """One process, its wall time and its own peak memory (`wait4` reports the child's rusage alone)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(environ) if environ is not None else env(package_root),
            stdout=out,
            stderr=err,
            text=True,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return Ran(seconds, usage.ru_maxrss * 1024, cpu, process.returncode, out.read(), err.read())


def revox(*args: str) -> list[str]:
    return [sys.executable, "-m", "revox_sync", *args]


def best_of(
    repeat: int, variants: Mapping[str, Callable[[], Ran]], expect: Callable[[str, Ran], None]
) -> dict[str, Ran]:
    """Each variant `repeat` times, taking turns (the order reversed every other round); the fastest run of
    each (and the least peak memory seen), checked by `expect`."""
    found: dict[str, list[Ran]] = {name: [] for name in variants}
    for i in range(repeat):
        for name in sorted(variants, reverse=i % 2 == 1):
            ran = variants[name]()
            expect(name, ran)
            found[name].append(ran)
    return {
        name: Ran(
            min(r.seconds for r in runs),
            min(r.peak_bytes for r in runs),
            min(r.cpu for r in runs),
            runs[-1].code,
            runs[-1].stdout,
            runs[-1].stderr,
        )
        for name, runs in found.items()
    }

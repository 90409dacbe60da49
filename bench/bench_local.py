"""`--local apply` of N new assistants, beside the same apply against an in-memory emulator.

The in-memory apply does the same requests with no persistence at all, so the ratio is what keeping
`.revox-local/` durable and safe for concurrent runs costs. A no-change `--local plan` of the same N (load the
state, list, diff) is printed too, as the floor of any `--local` command at that size.

    python bench/bench_local.py [--n 2000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from revox_sync.emulator import EmulatorServer


def write_files(root: Path, n: int) -> None:
    (root / ".git").mkdir()
    (root / "assistants").mkdir()
    for i in range(n):
        text = f"name: Agent {i:04d}\nprompt: You are agent {i}. Be brief and polite.\n"
        (root / "assistants" / f"agent-{i:04d}.yaml").write_text(text, encoding="utf-8")


def timed_run(root: Path, args: Sequence[str], expect: tuple[int, ...] = (0,)) -> float:
    """Seconds one `revox-sync` process takes from `root`, start-up included, as a user runs it."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "revox_sync", *args], cwd=root, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    assert done.returncode in expect, done.stderr
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as local_tmp, tempfile.TemporaryDirectory() as memory_tmp:
        local_root, memory_root = Path(local_tmp), Path(memory_tmp)
        write_files(local_root, args.n)
        write_files(memory_root, args.n)
        with EmulatorServer() as server:
            memory = timed_run(
                memory_root, ["--base-url", server.url, "--api-key", "k", "apply", "--auto-approve"]
            )
        local = timed_run(local_root, ["--local", "apply", "--auto-approve"])
        plan = timed_run(local_root, ["--local", "plan", "--detailed-exitcode"])
        state = sum(p.stat().st_size for p in (local_root / ".revox-local").iterdir())
        print(f"apply of {args.n} new assistants (small files):")
        print(f"    --local apply            {local:7.2f} s   (state {state / 1e6:.1f} MB)")
        print(f"    in-memory emulator apply {memory:7.2f} s")
        print(f"    ratio                    {local / memory:7.2f}x the in-memory apply")
        print(f"    --local plan, no change  {plan:7.2f} s")


if __name__ == "__main__":
    main()

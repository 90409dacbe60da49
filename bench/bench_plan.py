"""plan and apply at scale, each figure printed beside its baseline.

(a) `revox-sync plan` of 1000 assistants (10 KB prompt, 20 FAQ items each) against the emulator with 5 ms
    latency per request: wall time and request count, beside a naive per-assistant GET-and-compare baseline
    that loads the same files.
(b) apply of 200 changed assistants with 50 ms injected latency, at each --parallelism, beside the bound
    ceil(200 / parallelism) x 50 ms.
(c) bytes sent by apply's minimal PATCH bodies, beside full-object PATCH bodies.

    python bench/bench_plan.py [--n 1000] [--changed 200] [--latency 0.05] [--parallelism 4 16]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

from revox_sync.cli import main as cli_main
from revox_sync.client import RevoxClient
from revox_sync.emulator import EmulatorServer
from revox_sync.engine.apply import apply_plan
from revox_sync.engine.change import Desired
from revox_sync.engine.kind import Loaded
from revox_sync.engine.plan import build_plan
from revox_sync.kinds import KINDS
from revox_sync.kinds.assistant.fields import SERVER_OWNED_FIELDS
from revox_sync.kinds.assistant.load import load_directory
from revox_sync.kinds.assistant.normalize import canonical_assistant
from revox_sync.output import Environment

PROMPT_LINE = "You are a helpful, concise voice agent for Acme. Confirm the caller's details politely.\n"


def assistant(i: int) -> dict:
    return {
        "name": f"Agent {i:04d}",
        "prompt": (f"# Agent {i}\n" + PROMPT_LINE * 120)[:10_000],
        "voice": {"provider": "cartesia", "id": "a0e99841-438c-4a64-b679-ae501e7d6091", "speed": 1.1},
        "max_call_duration_secs": 300,
        "faq_items": [{"question": f"Question {q} for {i}?", "answer": f"Answer {q}."} for q in range(20)],
    }


def write_files(root: Path, n: int) -> None:
    (root / "assistants").mkdir()
    for i in range(n):
        data = assistant(i)
        (root / "assistants" / f"agent-{i:04d}.yaml").write_text(json.dumps(data), encoding="utf-8")


def run_plan(root: Path, url: str) -> tuple[float, int]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin_isatty=False, stdout_isatty=False, color=False)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        started = time.perf_counter()
        code = cli_main(["--base-url", url, "--api-key", "bench-key", "plan", "--detailed-exitcode"], env)
        elapsed = time.perf_counter() - started
    finally:
        os.chdir(cwd)
    assert code in (0, 2), err.getvalue()
    return elapsed, code


def naive_plan(root: Path, url: str) -> tuple[float, int]:
    """Baseline: load the same files, list ids, then GET each assistant and compare it with its file."""
    with RevoxClient(None, url) as client:
        started = time.perf_counter()
        loaded, _ = load_directory(root / "assistants")
        by_name = {a["name"]: a["id"] for a in client.list_assistants()}
        differing = 0
        for item in loaded:
            remote = client.get_assistant(by_name[item.name])
            fields = list(item.data)
            if canonical_assistant(item.data, fields) != canonical_assistant(remote, fields):
                differing += 1
        assert differing == 0
        return time.perf_counter() - started, client.request_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--plan-latency", type=float, default=0.005)
    parser.add_argument("--parallelism", type=int, nargs="+", default=[4, 16])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, EmulatorServer() as server:
        root = Path(tmp)
        files = [assistant(i) for i in range(args.n)]
        for data in files:
            server.state.create_assistant(data)
        write_files(root, args.n)

        server.clear_requests()
        server.latency = args.plan_latency
        elapsed, code = run_plan(root, server.url)
        requests = len(server.requests)
        assert code == 0, "a freshly seeded account must plan no changes"
        naive_elapsed, naive_requests = naive_plan(root, server.url)
        server.latency = 0
        print(
            f"(a) plan of {args.n} assistants (10 KB prompt, 20 FAQ items each), "
            f"{args.plan_latency * 1000:.0f} ms latency per request:"
        )
        print(f"    revox-sync plan      {elapsed:6.2f} s   {requests:5d} request(s)")
        print(f"    naive GET-and-compare {naive_elapsed:5.2f} s   {naive_requests:5d} requests")
        print(
            f"    ratio                {naive_elapsed / elapsed:6.1f}x faster, {naive_requests / requests:.0f}x fewer requests"
        )

    # (b) and (c): against an emulator in its own process, so that its work does not take this one's time
    with emulator_process(files, args.latency) as url, RevoxClient(None, url) as client:
        by_id: dict[str, dict] = {}
        plan = None
        for round_, parallelism in enumerate(args.parallelism):
            speed = 1.2 + 0.1 * round_  # a new speed each round: the same amount of work
            desired = [
                Desired(
                    "assistant",
                    d["name"],
                    d | ({"voice": d["voice"] | {"speed": speed}} if i < args.changed else {}),
                )
                for i, d in enumerate(files)
            ]
            remote = client.list_assistants()
            by_id = {r["id"]: r for r in remote}
            plan = build_plan(KINDS, {"assistant": Loaded(desired)}, {"assistant": remote})
            assert plan.count("update") == args.changed
            started, cpu = time.perf_counter(), time.process_time()
            results = apply_plan(plan, {k.name: k for k in KINDS}, client, parallelism=parallelism)
            applied, cpu = time.perf_counter() - started, time.process_time() - cpu
            assert all(r.ok for r in results)
            bound = math.ceil(args.changed / parallelism) * args.latency
            print(
                f"(b) apply of {args.changed} changed assistants, {args.latency * 1000:.0f} ms latency, "
                f"parallelism {parallelism}:"
            )
            print(f"    revox-sync apply     {applied:6.2f} s   (its own CPU {cpu:.2f} s)")
            print(
                f"    latency bound        {bound:6.2f} s   (ceil({args.changed}/{parallelism}) x "
                f"{args.latency * 1000:.0f} ms)"
            )
            print(f"    ratio                {applied / bound:6.2f}x the bound (goal: within 1.1x)")

    assert plan is not None
    sent = sum(len(json.dumps(a.body).encode()) for a in plan.actions)
    managed = [k for k in by_id[next(iter(by_id))] if k not in SERVER_OWNED_FIELDS and k != "id"]
    full = sum(  # a full-object PATCH sends every writable field of the assistant
        len(json.dumps({k: by_id[a.id][k] for k in managed} | a.body).encode()) for a in plan.actions if a.id
    )
    print("(c) bytes sent in PATCH bodies (of the last round):")
    print(f"    minimal PATCH        {sent:9d} B")
    print(f"    full-object PATCH    {full:9d} B")
    print(f"    ratio                {full / sent:6.0f}x fewer bytes")


def _serve(files: list[dict], latency: float, conn: Connection) -> None:
    with EmulatorServer() as server:
        for data in files:
            server.state.create_assistant(data)
        server.latency = latency
        conn.send(server.url)
        conn.recv()  # until the parent is done


@contextmanager
def emulator_process(files: list[dict], latency: float) -> Iterator[str]:
    """An emulator holding `files` in a process of its own, answering after `latency`: its base URL."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(files, latency, theirs), daemon=True)
    process.start()
    try:
        yield ours.recv()
    finally:
        ours.send("stop")
        process.join(10)


if __name__ == "__main__":
    main()

"""How much parallelism buys apply: N PATCHes one by one vs. through a shared client from 8 threads.

Runs against the local emulator with 50 ms of added latency per request (a realistic round trip to the
Revox API), so the figures measure the client's concurrency, not the emulator's speed.

    python bench/bench_client.py [--n 40] [--parallelism 8] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import math
import time
from concurrent.futures import ThreadPoolExecutor

from revox_sync.client import RevoxClient
from revox_sync.emulator import EmulatorServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    n, parallelism, latency = args.n, args.parallelism, args.latency

    with EmulatorServer() as server, RevoxClient(None, server.url) as client:
        ids = [client.create_assistant({"name": f"bench-{i}", "prompt": "p"})["id"] for i in range(n)]
        client.list_assistants()  # warm the connection pool
        server.latency = latency

        before = client.request_count
        started = time.perf_counter()
        for i, assistant_id in enumerate(ids):
            client.update_assistant(assistant_id, {"prompt": f"sequential {i}"})
        sequential = time.perf_counter() - started
        sequential_requests = client.request_count - before

        before = client.request_count
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=parallelism) as pool:
            list(
                pool.map(
                    lambda job: client.update_assistant(job[1], {"prompt": f"parallel {job[0]}"}),
                    enumerate(ids),
                )
            )
        parallel = time.perf_counter() - started
        parallel_requests = client.request_count - before

    ideal_sequential = n * latency
    ideal_parallel = math.ceil(n / parallelism) * latency
    print(f"{n} PATCH /assistants/{{id}} against the emulator, {latency * 1000:.0f} ms latency per request")
    print(f"{'':<22}{'wall time':>11}{'requests':>10}{'ideal bound':>13}")
    print(f"{'sequential':<22}{sequential:>10.2f}s{sequential_requests:>10}{ideal_sequential:>12.2f}s")
    print(
        f"{f'parallel ({parallelism} threads)':<22}{parallel:>10.2f}s{parallel_requests:>10}{ideal_parallel:>12.2f}s"
    )
    print(f"speed-up: {sequential / parallel:.1f}x (ideal {ideal_sequential / ideal_parallel:.1f}x)")


if __name__ == "__main__":
    main()

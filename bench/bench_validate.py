"""How fast is `revox-sync validate`? Pre-commit runs it on every commit, so it must stay quick.

    python bench/bench_validate.py [--files 500] [--repeat 3]

Generates realistic assistant files (a ~10 KB prompt and 20 FAQ items each) in a temporary directory and
prints, side by side with baselines:

1. `revox-sync validate DIR` on all of them, next to `check-jsonschema` validating the same files against the
   schema `revox-sync schema` exports (a generic validator doing less: no positions, no cross-file rules);
2. one small file end to end, process start included, next to `python -c pass`;
3. the five slowest imports of that single-file run (`python -X importtime`).

Timings are the best of `--repeat` runs. Nothing here is asserted: benchmarks are never timed tests.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = [
    "customer",
    "order",
    "delivery",
    "invoice",
    "account",
    "schedule",
    "appointment",
    "confirm",
    "politely",
    "question",
    "answer",
    "callback",
    "budget",
    "company",
    "email",
    "store",
    "inventory",
    "report",
    "weekly",
    "monthly",
    "support",
    "transfer",
    "billing",
    "refund",
    "policy",
    "warranty",
    "location",
    "hours",
    "agent",
    "summary",
    "prospect",
    "demo",
    "pricing",
    "discount",
    "contract",
]


def prompt_text(rng: random.Random, size: int = 10_000) -> str:
    lines: list[str] = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines)


def assistant_yaml(index: int, rng: random.Random) -> str:
    prompt = "\n".join("  " + line for line in prompt_text(rng).splitlines())
    faq = "".join(
        f'  - question: "{" ".join(rng.choice(WORDS) for _ in range(6)).capitalize()} #{n}?"\n'
        f"    answer: {' '.join(rng.choice(WORDS) for _ in range(20)).capitalize()}.\n"
        for n in range(20)
    )
    return (
        f"name: Assistant {index:04d}\n"
        "type: standalone\n"
        "first_sentence_mode: static\n"
        f"first_sentence: Hello, this is assistant {index}. How can I help?\n"
        "max_call_duration_secs: 600\n"
        "voice:\n"
        "  provider: cartesia\n"
        f"  id: voice-{index % 7}\n"
        "  speed: 1.05\n"
        "llm_model:\n"
        "  type: dedicated-instance\n"
        "  name: gpt-4.1\n"
        "call_retry_config:\n"
        "  max_retry_attempts: 3\n"
        "  call_twice_in_a_row: false\n"
        "  allowed_days: [monday, tuesday, wednesday, thursday, friday]\n"
        "  calling_windows:\n"
        '    - calling_window_start_time: "09:00"\n'
        '      calling_window_end_time: "17:30"\n'
        "      retry_delay_seconds: 7200\n"
        "structured_output_config:\n"
        "  - {name: email, type: string, required: true}\n"
        "  - {name: budget, type: enum, required: false, enum_options: [low, medium, high]}\n"
        "transfer_destinations:\n"
        '  - {label: Front desk, phone_number: "+14155550142"}\n'
        "human_transfer_mode: warm\n"
        f"prompt: |\n{prompt}\n"
        f"faq_items:\n{faq}"
    )


def env() -> dict[str, str]:
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environ.get("PYTHONPATH")]))
    environ["NO_COLOR"] = "1"
    return environ


def timed(
    argv: list[str], *, repeat: int, cwd: Path, stdout: object = subprocess.DEVNULL
) -> tuple[float, int]:
    """Best wall time of `repeat` runs, and the last exit code."""
    best = float("inf")
    code = 0
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env(), stdout=stdout, stderr=subprocess.PIPE, text=True)
        best = min(best, time.perf_counter() - started)
        code = done.returncode
        if code != 0:
            print(f"  ! {' '.join(argv[:4])}... exited {code}: {done.stderr.strip()[:400]}")
            break
    return best, code


def import_top(argv: list[str], cwd: Path, n: int = 5) -> list[tuple[int, int, str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], cwd=cwd, env=env(), capture_output=True, text=True
    )
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        rows.append((int(self_us), int(cumulative_us), name.rstrip()))
    return sorted(rows, reverse=True)[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    python = sys.executable
    check_jsonschema = shutil.which("check-jsonschema") or str(Path(python).with_name("check-jsonschema"))

    with tempfile.TemporaryDirectory(prefix="revox-bench-") as tmp:
        work = Path(tmp)
        config = work / "assistants"
        config.mkdir()
        rng = random.Random(42)
        files = []
        for i in range(args.files):
            path = config / f"assistant-{i:04d}.yaml"
            path.write_text(assistant_yaml(i, rng), encoding="utf-8")
            files.append(path)
        size = sum(p.stat().st_size for p in files)
        print(f"{args.files} assistant files, {size / 1e6:.1f} MB (best of {args.repeat} runs)\n")

        ours, code = timed(
            [python, "-m", "revox_sync", "validate", str(config)], repeat=args.repeat, cwd=work
        )
        print(f"  revox-sync validate DIR           {ours:7.3f} s   exit {code}")

        schema = work / "schema.json"
        with open(schema, "w", encoding="utf-8") as handle:
            done = subprocess.run([python, "-m", "revox_sync", "schema"], cwd=work, env=env(), stdout=handle)
        if done.returncode != 0 or not Path(check_jsonschema).exists():
            print("  check-jsonschema                  (skipped: no schema command or no check-jsonschema)")
        else:
            theirs, code = timed(
                [check_jsonschema, "--schemafile", str(schema), *map(str, files)],
                repeat=args.repeat,
                cwd=work,
            )
            print(f"  check-jsonschema --schemafile     {theirs:7.3f} s   exit {code}")
            print(f"  ratio revox-sync / check-jsonschema  {ours / theirs:.2f}")

        one = work / "one"
        one.mkdir()
        (one / "small.yaml").write_text("name: Small\nvoice: {provider: cartesia, id: v, speed: 1.1}\n")
        single = [python, "-m", "revox_sync", "validate", str(one)]
        repeat = max(args.repeat, 5)
        baseline, _ = timed([python, "-c", "pass"], repeat=repeat, cwd=work)
        small, code = timed(single, repeat=repeat, cwd=work)
        print(f"\none small file, process start included (best of {repeat})")
        print(f"  python -c pass                    {baseline:7.3f} s")
        print(
            f"  revox-sync validate one-file DIR  {small:7.3f} s   exit {code}   (+{small - baseline:.3f} s)"
        )

        print("\nslowest imports of that run (python -X importtime, self time)")
        print(f"  {'self ms':>8} {'cumul. ms':>10}  module")
        for self_us, cumulative_us, name in import_top(single[1:], work):
            print(f"  {self_us / 1000:8.1f} {cumulative_us / 1000:10.1f}  {name.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast is `revox-sync validate`? Pre-commit runs it on every commit, so it must stay quick.

    python bench/bench_validate.py [--files 500] [--repeat 3] [--compare DIR] [--crossover]

Generates realistic assistant files (a ~10 KB prompt and 20 FAQ items each) in a temporary directory and
prints, side by side with baselines, every process timed from its start as pre-commit runs it:

1. `revox-sync validate DIR` on all of them, next to `check-jsonschema` validating the same files against the
   schema `revox-sync schema` exports (a generic validator doing less: no positions, no cross-file rules),
   with the CPU time over the wall time (above 1: more than one core was used);
2. one small file, next to check-jsonschema on that file and `python -c pass`;
3. with `--crossover`, N files with the process pool off and on, to show where it starts to pay;
4. the five slowest imports of the one-file run (`python -X importtime`).

`--compare DIR` also runs the revox_sync of another checkout in the same rounds. Runs take turns and the
best of `--repeat` is shown. Nothing here is asserted: benchmarks are never timed tests.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import REPO, Ran, best_of, env, revox, run

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
        f"first_sentence: Hello, this is assistant {index}, an AI voice. How can I help?\n"
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
        f"prompt: |\n{prompt}\n  If they ask not to be called again, promise it and end the call.\n"
        f"faq_items:\n{faq}"
    )


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


def write_files(config: Path, n: int) -> list[Path]:
    config.mkdir()
    rng = random.Random(42)
    files = []
    for i in range(n):
        path = config / f"assistant-{i:04d}.yaml"
        path.write_text(assistant_yaml(i, rng), encoding="utf-8")
        files.append(path)
    return files


def table(title: str, found: dict[str, Ran], baseline: str) -> None:
    print(title)
    for name, ran in found.items():
        print(f"  {name:<40}{ran.seconds:7.3f} s   {ran.seconds / found[baseline].seconds:6.2f}x {baseline}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", type=Path, help="another checkout whose revox_sync runs beside this one")
    parser.add_argument("--crossover", action="store_true", help="also time 1 to 256 files, pool on and off")
    args = parser.parse_args()
    python = sys.executable
    check_jsonschema = shutil.which("check-jsonschema") or str(Path(python).with_name("check-jsonschema"))
    builds = {"this": REPO} | ({"compared": args.compare.resolve()} if args.compare else {})

    def ok(name: str, ran: Ran) -> None:
        if ran.code != 0:
            sys.exit(f"{name} exited {ran.code}: {ran.stderr.strip()[:400]}")

    with tempfile.TemporaryDirectory(prefix="revox-bench-") as tmp:
        work = Path(tmp)
        (work / ".git").mkdir()  # no project file above is looked for
        config = work / "assistants"
        files = write_files(config, args.files)
        size = sum(p.stat().st_size for p in files)
        schema = work / "schema.json"
        schema.write_text(run(revox("schema"), cwd=work).stdout, encoding="utf-8")
        print(f"{args.files} assistant files, {size / 1e6:.1f} MB; best of {args.repeat}, taking turns\n")

        def validate(root: Path, *paths: Path, environ: dict[str, str] | None = None) -> Callable[[], Ran]:
            argv = revox("validate", *map(str, paths))
            return lambda: run(argv, cwd=work, package_root=root, environ=environ)

        def theirs(*paths: Path) -> Callable[[], Ran]:
            argv = [check_jsonschema, "--schemafile", str(schema), *map(str, paths)]
            return lambda: run(argv, cwd=work)

        variants = {
            f"revox-sync validate DIR ({name})": validate(root, config) for name, root in builds.items()
        }
        variants["check-jsonschema --schemafile FILES"] = theirs(*files)
        found = best_of(args.repeat, variants, ok)
        table(f"validate of {args.files} files", found, "check-jsonschema --schemafile FILES")
        for name, ran in found.items():
            if name.startswith("revox-sync"):
                print(f"  {name:<40}cpu/wall {ran.cpu / ran.seconds:.2f}")

        one = work / "one"
        one.mkdir()
        small = one / "small.yaml"
        small.write_text("name: Small\nvoice: {provider: cartesia, id: v, speed: 1.1}\n", encoding="utf-8")
        variants = {
            f"revox-sync validate one-file DIR ({name})": validate(root, one) for name, root in builds.items()
        }
        variants["check-jsonschema on that file"] = theirs(small)
        variants["python -c pass"] = lambda: run([python, "-c", "pass"], cwd=work)
        found = best_of(max(args.repeat, 5), variants, ok)
        table("\none small file, process start included", found, "check-jsonschema on that file")

        if args.crossover:
            cores = str(len(os.sched_getaffinity(0)))
            print(f"\nthe process pool's crossover: validate of N files in 1 process and in {cores}")
            print("(REVOX_SYNC_WORKERS; without it, the pool starts at POOL_MIN_FILES files)")
            for n in (16, 32, 64, 128, 256, args.files):
                subset = work / f"subset-{n}"
                subset.mkdir()
                for path in files[:n]:
                    (subset / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
                variants = {
                    w: validate(REPO, subset, environ=env() | {"REVOX_SYNC_WORKERS": w}) for w in ("1", cores)
                }
                found = best_of(args.repeat, variants, ok)
                one, pool = found["1"].seconds, found[cores].seconds
                print(
                    f"  {n:4d} files   1 process {one:6.3f} s   {cores} processes {pool:6.3f} s   {pool / one:.2f}x"
                )

        print("\nslowest imports of the one-file run (python -X importtime, self time)")
        print(f"  {'self ms':>8} {'cumul. ms':>10}  module")
        for self_us, cumulative_us, name in import_top(revox("validate", str(one))[1:], work):
            print(f"  {self_us / 1000:8.1f} {cumulative_us / 1000:10.1f}  {name.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

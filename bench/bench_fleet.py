"""Is a fleet as fast as the files it stands for? The goal: no slower than the plain files.

    python bench/bench_fleet.py [--n 1000] [--repeat 3]

Writes a fleet (a template with a ~10 KB prompt, a CSV of `--n` rows, one `for_each` file) and, from its
`render` output, `--n` plain files of the same resolved content; seeds an in-process emulator with those
assistants (an apply of the plain files); then times `validate`, `render` and `plan` (no changes) on both, in process, side by side: the
best of `--repeat` runs each, with the ratio fleet / plain. Nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from pathlib import Path

from revox_sync.cli import main as cli_main
from revox_sync.emulator import EmulatorServer
from revox_sync.output import Environment

PARAGRAPH = (
    "You are Maya, the receptionist of Harbor Dental ${each.city}. Book, move or cancel check-ups, cleanings "
    "and emergency visits; answer questions about hours, directions, parking, insurance and prices; confirm "
    "the caller's full name, date of birth and phone number before booking; never give medical advice; if a\n"
    "person you call back asks not to be called again, promise it.\n"
)
TEMPLATE = """\
prompt: |
{prompt}voice: {{provider: cartesia, id: a0e99841-438c-4a64-b679-ae501e7d6091, speed: 1.1}}
max_call_duration_secs: 600
call_retry_config:
  max_retry_attempts: 2
  allowed_days: [monday, tuesday, wednesday, thursday, friday]
  timezone: America/Chicago
"""
FLEET = """\
extends: templates/receptionist.yaml
for_each: !file clinics.csv
name: "Harbor Dental ${each.city} receptionist"
first_sentence: "Thank you for calling Harbor Dental ${each.city}, this is Maya, the virtual assistant."
transfer_destinations:
  - {label: Front desk, phone_number: "${each.front_desk}"}
call_retry_config:
  timezone: "${each.timezone}"
"""
TIMEZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]


def cli(root: Path, *args: str) -> str:
    """One in-process run from `root`, its stdout; it must succeed with no changes."""
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin_isatty=False, stdout_isatty=False, color=False)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        code = cli_main(list(args), env)
    finally:
        os.chdir(cwd)
    assert code == 0, err.getvalue()[:2000]
    return out.getvalue()


def write_fleet(root: Path, n: int) -> None:
    # every line of the block scalar indented (the paragraph holds a line break of its own)
    lines = PARAGRAPH.splitlines(keepends=True) * (10_000 // len(PARAGRAPH) + 1)
    prompt = "".join("  " + line for line in lines)
    (root / "fleet/templates").mkdir(parents=True)
    (root / "fleet/templates/receptionist.yaml").write_text(TEMPLATE.format(prompt=prompt), encoding="utf-8")
    rows = "".join(f"City {i:04d},+1512555{i:04d},{TIMEZONES[i % 4]}\n" for i in range(n))
    (root / "fleet/clinics.csv").write_text("city,front_desk,timezone\n" + rows, encoding="utf-8")
    (root / "fleet/fleet.yaml").write_text(FLEET, encoding="utf-8")


def write_plain(root: Path) -> None:
    """The fleet's rendered documents, one plain file each."""
    (root / "plain").mkdir()
    documents = [d for d in cli(root, "render", "-d", "fleet").split("---\n") if d.strip()]
    for i, document in enumerate(documents):
        (root / f"plain/clinic-{i:04d}.yaml").write_text(document, encoding="utf-8")


def best(repeat: int, root: Path, runs: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """The best time of each run; they take turns, first one then the other, so that a machine busy for a
    while slows both alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(repeat):
        for name in sorted(runs, reverse=i % 2 == 1):
            started = time.perf_counter()
            cli(root, *runs[name])
            times[name].append(time.perf_counter() - started)
    return {name: min(found) for name, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(api_key="bench-key") as server:
        root = Path(tmp)
        (root / ".git").mkdir()  # no project file above is looked for
        write_fleet(root, args.n)
        write_plain(root)
        api = ("--base-url", server.url, "--api-key", "bench-key")
        cli(root, *api, "apply", "-d", "plain", "--auto-approve", "--parallelism", "8")  # seed the account
        prompt_kb = (
            len(json.loads(cli(root, "render", "-d", "fleet", "--format", "json"))[0]["prompt"]) / 1000
        )
        commands = {
            "validate": lambda d: ("validate", d),
            "render": lambda d: ("render", "-d", d),
            "render --format json": lambda d: ("render", "-d", d, "--format", "json"),
            "plan": lambda d: (*api, "plan", "-d", d, "--detailed-exitcode"),
        }
        for make in commands.values():  # warm up: imports and caches are paid once, before any timing
            cli(root, *make("plain"))
        print(
            f"fleet of {args.n} assistants (one template, {prompt_kb:.1f} KB prompt, a CSV of {args.n} rows) "
            f"vs {args.n} plain files of the same content; best of {args.repeat}:"
        )
        print(f"    {'command':<22}{'fleet':>9}{'plain':>9}   fleet / plain")
        for name, make in commands.items():
            found = best(args.repeat, root, {d: make(d) for d in ("fleet", "plain")})
            fleet, plain = found["fleet"], found["plain"]
            print(f"    {name:<22}{fleet:8.2f}s{plain:8.2f}s   {fleet / plain:.2f}x")


if __name__ == "__main__":
    main()

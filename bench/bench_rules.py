"""What do the policy rules cost `validate`? The goal: every rule on within 1.2x of every rule off.

    python bench/bench_rules.py [--files 500] [--repeat 5]

Writes `--files` outbound assistant files (bench_validate's: a ~10 KB prompt, 20 FAQ items, a
call_retry_config; every 25th with a window that a suppression comment excuses, so suppressions are read)
into two projects that differ only in revox-sync.yaml: one turns on every built-in rule, every state profile
and a custom rule of each condition; the other turns every rule off. Then times `validate` of each, in
process, taking turns so that a busy machine slows both alike: the best of `--repeat` runs, and the ratio.
Nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_validate import assistant_yaml

from revox_sync.cli import main as cli_main
from revox_sync.output import Environment
from revox_sync.rules.builtin import BUILTIN, PROFILES

EVERY_RULE_ON = f"""\
rules:
  profiles: [{", ".join(PROFILES)}]
  retry-cap: {{severity: error, max_per_day: 3}}
  voicemail-business: {{business: [Acme]}}
  opt-out: error
  custom:
    - {{id: needs-prompt, path: prompt, required: true}}
    - {{id: no-test-voices, path: voice.id, forbid: "^test-"}}
    - {{id: e164-desks, path: "transfer_destinations[].phone_number", match: "^\\\\+1"}}
    - {{id: calm-voices, path: voice.speed, min: 0.9, max: 1.2}}
    - {{id: known-models, path: llm_model.name, one_of: [gpt-4.1]}}
  overrides:
    - names: ["Assistant 9*"]
      rules: {{fixed-timezone: error}}
"""
EVERY_RULE_OFF = "rules:\n" + "".join(f"  {r.id}: off\n" for r in BUILTIN)
EARLY = '    - calling_window_start_time: "09:00"\n'
EXCUSED = '    - calling_window_start_time: "07:30"  # revox-sync: ignore[calling-hours, state-calling-hours] asked for early calls\n'


def validate(root: Path) -> str:
    """One in-process `validate` from `root`; it must pass."""
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin_isatty=False, stdout_isatty=False, color=False)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        code = cli_main(["validate"], env)
    finally:
        os.chdir(cwd)
    assert code == 0, err.getvalue()[:2000]
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="revox-bench-rules-") as tmp:
        on, off = Path(tmp, "on"), Path(tmp, "off")
        rng = random.Random(42)
        for i in range(args.files):
            text = assistant_yaml(i, rng)
            if i % 25 == 0:
                text = text.replace(EARLY, EXCUSED)
            path = on / "assistants" / f"assistant-{i:04d}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        shutil.copytree(on, off)
        for root, project in ((on, EVERY_RULE_ON), (off, EVERY_RULE_OFF)):
            (root / ".git").mkdir()
            (root / "revox-sync.yaml").write_text(project, encoding="utf-8")
            print(f"  {root.name:>3}: {validate(root).strip()}")  # warm up, and check it passes

        times: dict[Path, list[float]] = {on: [], off: []}
        for turn in range(args.repeat):
            for root in (on, off) if turn % 2 == 0 else (off, on):
                started = time.perf_counter()
                validate(root)
                times[root].append(time.perf_counter() - started)
        best_on, best_off = min(times[on]), min(times[off])
        print(f"validate of {args.files} files, best of {args.repeat}, runs taking turns:")
        print(f"    every rule off   {best_off:7.3f} s")
        print(f"    every rule on    {best_on:7.3f} s")
        print(f"    on / off         {best_on / best_off:7.2f}x   (goal: at most 1.20x)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()

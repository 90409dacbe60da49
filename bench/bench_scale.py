"""Fleet-scale speed: `plan` and `import --all` of N assistants, each beside the floor measured in the same run.

    python bench/bench_scale.py [--n 1000] [--big] [--repeat 3] [--compare DIR]

The files are bench_validate's (~16 KB each: a 10 KB prompt, 20 FAQ items); an in-process emulator holds the
same assistants, so `plan` finds no change. Every figure is one process, start-up included, as a user runs it:

- floor: PyYAML's C loader parsing the same files, plus `json.loads` of the same GET /assistants;
- `revox-sync plan`: wall time and peak memory, beside the input bytes, and how much the peak grew past the
  constant (the peak of a plan of 10) for each input byte;
- `revox-sync import --all` into an empty directory, beside the `plan` of what it wrote.

`--big` adds the plan of N = 10,000. `--compare DIR` also runs the revox_sync of another checkout (say, a `git worktree`
of the commit before a change) in the same rounds, so before and after are measured side by side, and checks
that both save the very same plan. Runs take turns; the best of `--repeat` is shown. Nothing is asserted on
time.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml
from bench_validate import assistant_yaml
from common import REPO, Ran, best_of, revox, run

from revox_sync.emulator import EmulatorServer

FLOOR = """\
import json, os, sys, urllib.request
import yaml
root, url = sys.argv[1], sys.argv[2]
for folder, _, names in os.walk(root):
    for name in names:
        if name.endswith(".yaml"):
            with open(os.path.join(folder, name), "rb") as handle:
                yaml.load(handle.read(), Loader=yaml.CSafeLoader)
with urllib.request.urlopen(url + "/assistants") as answer:
    json.loads(answer.read())
"""

MIB = 1024 * 1024


def write_files(root: Path, n: int) -> list[dict]:
    """N assistant files under `root`, and their data as PyYAML reads it (what the account is seeded with)."""
    root.mkdir()
    rng = random.Random(42)
    data = []
    for i in range(n):
        text = assistant_yaml(i, rng)
        (root / f"assistant-{i:05d}.yaml").write_text(text, encoding="utf-8")
        data.append(yaml.load(text, Loader=yaml.CSafeLoader))
    return data


def serve_listing_as_bytes(server: EmulatorServer) -> None:
    """GET /assistants answered from bytes encoded once: the emulator's own copying and encoding of a listing
    of thousands (seconds at 10,000) is the server's time, which neither the floor nor revox-sync should carry."""
    listing = json.dumps({"assistants": server.state.list_assistants()}).encode("utf-8")
    server.inject("GET", r"^/assistants$", status=200, body=listing, times=sys.maxsize)


def _files(tree: Path) -> dict[str, str]:
    return {str(p.relative_to(tree)): p.read_text(encoding="utf-8") for p in tree.rglob("*") if p.is_file()}


def expect(codes: tuple[int, ...]) -> Callable[[str, Ran], None]:
    def check(name: str, ran: Ran) -> None:
        if ran.code not in codes:
            sys.exit(f"{name} exited {ran.code}: {ran.stderr.strip()[-2000:]}")

    return check


def one_size(
    n: int, repeat: int, builds: dict[str, Path], work: Path, only: str | None, constant: dict[str, int]
) -> dict[str, int]:
    """The figures of N assistants; returns each build's peak memory (the constant, at a small N)."""
    files = work / f"assistants-{n}"
    with EmulatorServer() as server:
        for data in write_files(files, n):
            server.state.create_assistant(data)
        serve_listing_as_bytes(server)
        size = sum(p.stat().st_size for p in files.iterdir())
        api = ("--base-url", server.url, "--api-key", "bench-key")

        def plan(root: Path, directory: Path) -> Callable[[], Ran]:
            return lambda: run(
                revox(*api, "plan", "-d", str(directory), "--detailed-exitcode"), cwd=work, package_root=root
            )

        variants = {"floor": lambda: run([sys.executable, "-c", FLOOR, str(files), server.url], cwd=work)}
        variants |= {f"plan ({name})": plan(root, files) for name, root in builds.items()}
        found = best_of(repeat, variants, expect((0,)))
        floor = found["floor"]
        print(
            f"\nN = {n:,} assistants, {size / MIB:.1f} MiB of YAML ({size / n / 1000:.1f} KB each), best of {repeat}:"
        )
        print(f"    {'':<26}{'wall':>8}{'x floor':>9}{'peak':>10}{'peak / input':>14}{'growth / input':>16}")
        for name, ran in found.items():
            build = name[name.find("(") + 1 : -1] if "(" in name else ""
            grown = f"{(ran.peak_bytes - constant[build]) / size:15.2f}x" if build in constant else ""
            print(
                f"    {name:<26}{ran.seconds:7.2f}s{ran.seconds / floor.seconds:8.2f}x"
                f"{ran.peak_bytes / MIB:8.0f}MiB{ran.peak_bytes / size:13.2f}x{grown}"
            )
        peaks = {name: found[f"plan ({name})"].peak_bytes for name in builds}

        saved = {}
        for name, root in builds.items():
            out = work / f"plan-{name}.json"
            run(revox(*api, "plan", "-d", str(files), "--out", str(out)), cwd=work, package_root=root)
            saved[name] = out.read_text(encoding="utf-8")
        if len(builds) > 1:
            same = len(set(saved.values())) == 1
            print(f"    saved plans of every build identical: {'yes' if same else 'NO'}")
        print(f"    config fingerprint {json.loads(next(iter(saved.values())))['config_fingerprint']}")
        if only == "plan":
            return peaks

        counter = iter(range(1_000_000))

        def imported(name: str, root: Path) -> Callable[[], Ran]:
            def go() -> Ran:
                target = work / f"imported-{name}-{next(counter)}"
                ran = run(revox(*api, "import", "--all", "-d", str(target)), cwd=work, package_root=root)
                shutil.rmtree(target, ignore_errors=True)
                return ran

            return go

        trees = {}
        for name, root in builds.items():
            trees[name] = work / f"imported-by-{name}"
            run(revox(*api, "import", "--all", "-d", str(trees[name])), cwd=work, package_root=root)
        last = trees["this"]
        if len(builds) > 1:
            same = len({tuple(sorted(_files(tree).items())) for tree in trees.values()}) == 1
            print(f"    files imported by every build identical: {'yes' if same else 'NO'}")
        variants = {f"import --all ({name})": imported(name, root) for name, root in builds.items()}
        variants |= {f"plan after it ({name})": plan(root, last) for name, root in builds.items()}
        found = best_of(repeat, variants, expect((0,)))
        print(f"    {'':<26}{'wall':>8}{'x its plan':>12}")
        for name in builds:
            mine, after = found[f"import --all ({name})"], found[f"plan after it ({name})"]
            print(
                f"    {f'import --all ({name})':<26}{mine.seconds:7.2f}s{mine.seconds / after.seconds:11.2f}x"
            )
            print(f"    {f'plan after it ({name})':<26}{after.seconds:7.2f}s")
        return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--big", action="store_true", help="also plan N = 10,000 (a few minutes)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["plan"], help="skip import --all")
    parser.add_argument("--compare", type=Path, help="another checkout whose revox_sync runs beside this one")
    args = parser.parse_args()
    builds = {"this": REPO} | ({"compared": args.compare.resolve()} if args.compare else {})
    with tempfile.TemporaryDirectory(prefix="revox-scale-") as tmp:
        work = Path(tmp)
        (work / ".git").mkdir()  # no project file above is looked for
        # growth / input: (peak - the peak at N = 10, the constant) / input bytes; the goal is at most 2x
        constant = one_size(10, args.repeat, builds, work, "plan", {})
        one_size(args.n, args.repeat, builds, work, args.only, constant)
        if args.big:  # the import's figure is the one at --n; at 10,000 the plan's
            one_size(10_000, args.repeat, builds, work, "plan", constant)


if __name__ == "__main__":
    main()

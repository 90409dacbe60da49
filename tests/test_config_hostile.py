"""A config directory built to mislead or crash the reader: links, unreadable folders, nesting bombs.

Every case runs the real CLI against the emulator on a real socket, on real files. The ones that could crash
the interpreter (a segfault in the C parser) or hang (a symlink cycle) run it in a subprocess with a timeout,
so that a regression fails the test instead of killing pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY
from helpers import write

from revox_sync.emulator import EmulatorServer

REPO = Path(__file__).resolve().parent.parent

# Drops the two capabilities that let root read any directory (the rest of a script follows): a directory
# with mode 000 is then unreadable even when the suite runs as root, as it does in containers.
_DROP_DAC = """
import ctypes, sys

class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

class Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

libc = ctypes.CDLL(None, use_errno=True)
header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
if libc.capget(ctypes.byref(header), data) == 0:
    keep = ~((1 << 1) | (1 << 2)) & 0xFFFFFFFF  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    data[0].effective &= keep
    data[0].permitted &= keep
    libc.capset(ctypes.byref(header), data)
"""
_CAP_MEMORY = "import resource, sys\nresource.setrlimit(resource.RLIMIT_AS, ({0}, {0}))\n"
_RUN_CLI = "import runpy; sys.argv[0] = 'revox-sync'; runpy.run_module('revox_sync', run_name='__main__')"


def revox(
    *args: str,
    cwd: Path,
    emulator: EmulatorServer | None = None,
    unprivileged: bool = False,
    memory: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m revox_sync ARGS` in a real process (bounded), against `emulator` when given; `memory` caps
    its address space (bytes), so that a bomb fails with MemoryError instead of swapping the machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVOX_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    server = ["--base-url", emulator.url, "--api-key", API_KEY] if emulator is not None else []
    prelude = (_DROP_DAC if unprivileged else "") + (_CAP_MEMORY.format(memory) if memory else "")
    start = [sys.executable, "-c", prelude + _RUN_CLI] if prelude else [sys.executable, "-m", "revox_sync"]
    return subprocess.run(
        [*start, *server, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def seed(emulator: EmulatorServer, *names: str) -> None:
    """Remote assistants that match `assistant_file(name)` exactly: a correct plan has nothing to do."""
    for name in names:
        emulator.state.seed_assistant({"name": name, "prompt": f"I am {name}."})
    emulator.clear_requests()


def assistant_file(path: Path, name: str) -> Path:
    return write(path, f"name: {name}\nprompt: I am {name}.\n")


def methods(emulator: EmulatorServer) -> list[str]:
    return [r.method for r in emulator.requests]


# --- point 3: symbolic links and unreadable folders ---------------------------------------------------------
def test_symlinked_subdirectory_inside_is_followed(cli, emulator, workdir):
    assistant_file(workdir / "assistants/a.yaml", "A")
    assistant_file(workdir / "assistants/.drafts/team/b.yaml", "B")  # hidden: reached only through the link
    os.symlink(".drafts/team", workdir / "assistants/team")
    seed(emulator, "A", "B")

    validate = cli("validate")
    assert (validate.code, validate.out, validate.err) == (0, "2 assistant files valid.\n", "")
    plan = cli("plan", "--prune", "--detailed-exitcode")
    assert plan.code == 0, plan.all
    assert "No changes. Remote assistants match the configuration." in plan.out
    assert methods(emulator) == ["GET"]


def test_symlink_to_a_folder_that_is_walked_anyway_loads_each_file_once(cli, emulator, workdir):
    assistant_file(workdir / "assistants/releases/v2/b.yaml", "B")
    os.symlink("releases/v2", workdir / "assistants/current")
    os.symlink("releases/v2/b.yaml", workdir / "assistants/b-link.yml")
    seed(emulator, "B")

    validate = cli("validate")
    assert (validate.code, validate.out, validate.err) == (0, "1 assistant file valid.\n", "")
    plan = cli("plan", "--prune", "--detailed-exitcode")
    assert plan.code == 0, plan.all
    assert methods(emulator) == ["GET"]


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_symlink_leading_outside_is_an_error_before_any_request(cli, emulator, workdir, kind):
    assistant_file(workdir / "assistants/a.yaml", "A")
    assistant_file(workdir / "shared/team/b.yaml", "B")
    link, target = ("team", "../shared/team") if kind == "directory" else ("b.yaml", "../shared/team/b.yaml")
    os.symlink(target, workdir / "assistants" / link)
    seed(emulator, "A", "B")
    expected = (
        f"assistants/{link}: symbolic link to {target} leads outside the config directory "
        f"(to {target.removeprefix('../')})\n1 error.\n"
    )

    validate = cli("validate")
    assert (validate.code, validate.out, validate.err) == (1, "", expected)
    plan = cli("plan", "--prune")
    assert (plan.code, plan.out, plan.err) == (1, "", expected)
    apply = cli("apply", "--prune", "--auto-approve")
    assert (apply.code, apply.out, apply.err) == (1, "", expected)
    named = cli("validate", f"assistants/{link}")  # as pre-commit passes it
    assert (named.code, named.out, named.err) == (1, "", expected)
    assert emulator.requests == []
    assert {a["name"] for a in emulator.state.list_assistants()} == {"A", "B"}


def test_a_file_named_through_a_linked_folder_leading_outside_is_an_error(cli, workdir):
    assistant_file(workdir / "assistants/a.yaml", "A")
    assistant_file(workdir / "shared/team/b.yaml", "B")
    os.symlink("../shared/team", workdir / "assistants/team")
    named = cli("validate", "assistants/a.yaml", "assistants/team/b.yaml")  # as pre-commit passes them
    assert (named.code, named.out, named.err) == (
        1,
        "",
        "assistants/team/b.yaml: resolves through a symbolic link outside the config directory "
        "(to shared/team/b.yaml)\n1 error.\n",
    )


def test_dangling_symlink_is_an_error_before_any_request(cli, emulator, workdir):
    assistant_file(workdir / "assistants/a.yaml", "A")
    os.symlink("../gone/team", workdir / "assistants/team")
    seed(emulator, "A", "B")
    expected = "assistants/team: cannot read: symbolic link to ../gone/team points to nothing\n1 error.\n"

    validate = cli("validate")
    assert (validate.code, validate.err) == (1, expected)
    plan = cli("plan", "--prune")
    assert (plan.code, plan.out, plan.err) == (1, "", expected)
    assert emulator.requests == []


def test_symlink_cycles_are_errors_not_hangs(emulator, workdir):
    assistant_file(workdir / "assistants/team/a.yaml", "A")
    os.symlink("..", workdir / "assistants/team/up")  # back to an ancestor
    os.symlink("ping", workdir / "assistants/pong")  # two links that point at each other
    os.symlink("pong", workdir / "assistants/ping")
    seed(emulator, "A")
    expected = (
        "assistants/ping: cannot read: Too many levels of symbolic links (symbolic link to pong)\n"
        "assistants/pong: cannot read: Too many levels of symbolic links (symbolic link to ping)\n"
        "assistants/team/up: symbolic link to .. loops back to assistants (a cycle)\n"
        "3 errors.\n"
    )

    validate = revox("validate", cwd=workdir)
    assert (validate.returncode, validate.stdout, validate.stderr) == (1, "", expected)
    plan = revox("plan", "--prune", cwd=workdir, emulator=emulator)
    assert (plan.returncode, plan.stdout, plan.stderr) == (1, "", expected)
    assert emulator.requests == []


@pytest.fixture
def unreadable(workdir: Path) -> Iterator[Path]:
    """`assistants/team/` with mode 000, checked to be unreadable for the process that `revox(unprivileged)`
    starts (a root test run keeps root's uid but loses the capabilities that bypass permission bits)."""
    team = workdir / "assistants/team"
    assistant_file(team / "b.yaml", "B")
    team.chmod(0)
    probe = subprocess.run(
        [sys.executable, "-c", _DROP_DAC + "import os; os.listdir('assistants/team')"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "PermissionError" not in probe.stderr:
        team.chmod(0o755)
        pytest.skip(f"cannot make a directory unreadable here: {probe.stderr.strip()[-200:] or 'listed it'}")
    yield team
    team.chmod(0o755)  # so that pytest can remove it


def test_unreadable_subdirectory_is_an_error_before_any_request(emulator, workdir, unreadable):
    assistant_file(workdir / "assistants/a.yaml", "A")
    seed(emulator, "A", "B")
    expected = "assistants/team: cannot read: Permission denied\n1 error.\n"

    validate = revox("validate", cwd=workdir, unprivileged=True)
    assert (validate.returncode, validate.stdout, validate.stderr) == (1, "", expected)
    plan = revox("plan", "--prune", cwd=workdir, emulator=emulator, unprivileged=True)
    assert (plan.returncode, plan.stdout, plan.stderr) == (1, "", expected)
    assert emulator.requests == []
    assert {a["name"] for a in emulator.state.list_assistants()} == {"A", "B"}


ROUTES = "phone_numbers:\n  '+15551234567': {assistant: A, label: Main}\n"


def test_symlinked_phone_numbers_file_inside_is_followed(cli, emulator, workdir):
    assistant_file(workdir / "assistants/a.yaml", "A")
    write(workdir / "assistants/.routing/phone_numbers.yaml", ROUTES)
    os.symlink(".routing/phone_numbers.yaml", workdir / "assistants/phone_numbers.yaml")
    seed(emulator, "A")
    emulator.state.add_phone_number("+15551234567", label="Old")

    plan = cli("plan")
    assert (plan.code, plan.err) == (0, "")
    assert plan.out == (
        '  ~ phone_number "+15551234567": inbound_assistant null -> "A"\n'
        '  ~ phone_number "+15551234567": label "Old" -> "Main"\n'
        "\nPlan: 0 to add, 1 to change, 0 to destroy.\n"
    )


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (
            "../routing.yaml",
            "symbolic link to ../routing.yaml leads outside the config directory (to routing.yaml)",
        ),
        ("gone.yaml", "cannot read: symbolic link to gone.yaml points to nothing"),
    ],
)
def test_phone_numbers_link_outside_or_dangling_is_an_error(cli, emulator, workdir, target, problem):
    assistant_file(workdir / "assistants/a.yaml", "A")
    write(workdir / "routing.yaml", ROUTES)
    os.symlink(target, workdir / "assistants/phone_numbers.yaml")
    seed(emulator, "A")
    expected = f"assistants/phone_numbers.yaml: {problem}\n1 error.\n"

    validate = cli("validate")
    assert (validate.code, validate.out, validate.err) == (1, "", expected)
    plan = cli("plan")
    assert (plan.code, plan.out, plan.err) == (1, "", expected)
    assert emulator.requests == []


# --- point 7: nesting bombs ---------------------------------------------------------------------------------
# ~200 KB each; today's C parser overflows its stack (SIGSEGV) on them from about 26 000 levels.
BOMBS = {
    "block sequences": "- " * 100_000 + "x\n",
    "block mappings": "? " * 100_000 + "x\n",
    "block and flow": "- ? " * 30_000 + "[" * 900 + "x" + "]" * 900 + "\n",
}
DEEP = "nesting deeper than 64 levels"


@pytest.mark.parametrize("bomb", BOMBS)
@pytest.mark.parametrize("command", [["validate"], ["plan"], ["apply", "--auto-approve"]])
def test_nesting_bomb_in_an_assistant_file_is_a_located_error(emulator, workdir, bomb, command):
    assistant_file(workdir / "assistants/a.yaml", "A")
    write(workdir / "assistants/bomb.yaml", "name: Bomb\nfaq_items:\n  " + BOMBS[bomb])
    done = revox(*command, cwd=workdir, emulator=emulator)
    # the 65th collection starts 63 indicators of two characters after the first one, at column 3
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        f"assistants/bomb.yaml:3:129: {DEEP}\n1 error.\n",
    )
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("file", "args"),
    [
        ("revox-sync.yaml", ["validate"]),
        ("env/staging.yaml", ["--env", "staging", "validate"]),  # a var file the project file lists
        ("vars.yaml", ["--var-file", "vars.yaml", "plan"]),
        ("assistants/phone_numbers.yaml", ["validate"]),
        ("assistants/phone_numbers.yaml", ["plan"]),
    ],
)
def test_nesting_bomb_in_every_other_yaml_file_is_a_located_error(emulator, workdir, file, args):
    assistant_file(workdir / "assistants/a.yaml", "A")
    (workdir / ".git").mkdir()
    if file != "revox-sync.yaml":
        write(workdir / "revox-sync.yaml", "environments:\n  staging:\n    var_files: [env/staging.yaml]\n")
    write(workdir / file, BOMBS["block sequences"])
    done = revox(*args, cwd=workdir, emulator=emulator)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"{file}:1:129: {DEEP}\n1 error.\n")
    assert emulator.requests == []


def test_a_file_include_is_text_so_a_bomb_there_is_just_a_prompt(workdir):
    write(workdir / "assistants/prompts/bomb.md", BOMBS["block sequences"])
    write(workdir / "assistants/a.yaml", "name: A\nprompt: !file prompts/bomb.md\n")
    done = revox("validate", cwd=workdir)
    assert (done.returncode, done.stdout, done.stderr) == (0, "1 assistant file valid.\n", "")


# --- fleet bombs: rows × references × cell sizes, bounded before a row is filled --------------------------
REFS = " ".join(["${each.x}"] * 1000)
NUMBERS = "[" + ", ".join(["0"] * 1000) + "]"
FLEET_BOMBS = {  # rows of the CSV, the fleet file, the error; each would need gigabytes, the cap is 1 GiB
    "an assistant over a file's text": (  # 3.9 MB of rows, 44 KB of template: 130 MB an assistant
        [f"r{i},{'x' * 130_000}" for i in range(30)],
        f'name: "${{each.n}}"\nprompt: "{REFS}"\nfirst_sentence: {"a" * 34_000}\n',
        "the assistant of row assistants/rows.csv:2 has more than 50000000 characters, the limit of one file "
        "(130035001)",
    ),
    "a fleet over its text": (  # 40 MB an assistant, 1.2 GB the fleet
        [f"r{i},{'x' * 40_000}" for i in range(30)],
        f'name: "${{each.n}}"\nprompt: "{REFS}"\n',
        "the assistants up to row assistants/rows.csv:4 have more than 100000000 characters, the limit of a "
        "fleet file (120003003)",
    ),
    "a fleet over its nodes": (  # 200 000 rows of 1 000 nodes (and 2 cells)
        [f"r{i},x" for i in range(200_000)],
        f'name: "${{each.n}}"\nprompt: p\ntags: {NUMBERS}\n',
        "the assistants up to row assistants/rows.csv:993 have more than 1000000 nodes, the limit of a fleet "
        "file (1000928)",
    ),
}


@pytest.mark.parametrize("bomb", FLEET_BOMBS)
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_fleet_bomb_is_an_error_at_its_for_each_not_memory_error(emulator, workdir, bomb, command):
    rows, fleet, problem = FLEET_BOMBS[bomb]
    write(workdir / "assistants/rows.csv", "n,x\n" + "\n".join(rows) + "\n")
    write(workdir / "assistants/fleet.yaml", "for_each: !file rows.csv\n" + fleet)
    done = revox(command, cwd=workdir, emulator=emulator, memory=1 << 30)
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        f"assistants/fleet.yaml:1:11: for_each: {problem}\n1 error.\n",
    )
    assert emulator.requests == []


def test_inline_rows_of_an_alias_are_bounded_too(emulator, workdir):
    rows = "".join(f"  - {{n: r{i}, x: *big}}\n" for i in range(40))  # 40 rows of 1 MB: 40 MB for the reader
    write(
        workdir / "assistants/fleet.yaml",
        f'x-big: &big "{"y" * 1_000_000}"\nfor_each:\n{rows}name: "${{each.n}}"\nprompt: "{REFS}"\n',
    )
    done = revox("plan", cwd=workdir, emulator=emulator, memory=1 << 30)
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        "assistants/fleet.yaml:3:3: for_each: the assistant of row assistants/fleet.yaml:3:5 has more than "
        "50000000 characters, the limit of one file (1001001001)\n1 error.\n",
    )
    assert emulator.requests == []


MANY = "[" + ", ".join(["0"] * 60_000) + "]"


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        ("name: Big\n", "1:10: extends: the assistant merged with its templates has"),
        (
            "for_each: [{n: A}]\nname: ${each.n}\n",
            "2:11: for_each: the assistant of row assistants/big.yaml:2:12 has",
        ),
    ],
)
def test_an_assistant_merged_from_templates_obeys_the_node_limit_of_one_file(
    cli, emulator, workdir, head, problem
):
    write(workdir / "assistants/templates/big.yaml", f"prompt: p\ntags: {MANY}\n")
    write(workdir / "assistants/big.yaml", f"extends: templates/big.yaml\n{head}labels: {MANY}\n")
    expected = (
        f"assistants/big.yaml:{problem} more than 100000 nodes, the limit of one file (120009)\n1 error.\n"
    )
    for command in ("validate", "plan"):
        done = cli(command)
        assert (done.code, done.out, done.err) == (1, "", expected)
    assert emulator.requests == []


# --- binary and non-UTF-8 project, variable and routing files ------------------------------------------------
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"A: caf\xe9\n", "1:7: not valid UTF-8"),  # Latin-1
        (b"\x89PNG\r\n\x1a\n\x00\x00", "1:1: not valid UTF-8"),
        (b"A: \x00\x01\n", "1:4: invalid character U+0000 (control characters are not allowed)"),
    ],
)
@pytest.mark.parametrize(
    ("file", "args"),
    [
        ("revox-sync.yaml", ["validate"]),
        ("env/staging.yaml", ["--env", "staging", "validate"]),
        ("vars.yaml", ["--var-file", "vars.yaml", "validate"]),
        ("assistants/phone_numbers.yaml", ["plan"]),
    ],
)
def test_binary_or_non_utf8_yaml_is_a_located_error(cli, emulator, in_tmp, file, args, content, problem):
    assistant_file(in_tmp / "assistants/a.yaml", "A")
    if file != "revox-sync.yaml":
        write(in_tmp / "revox-sync.yaml", "environments:\n  staging:\n    var_files: [env/staging.yaml]\n")
    write(in_tmp / file, content)
    result = cli(*args)
    assert (result.code, result.out, result.err) == (1, "", f"{file}:{problem}\n1 error.\n")
    assert emulator.requests == []

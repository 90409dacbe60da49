"""`import` stays inside its lines: an assistant never gets a file the config directory reserves for
something else (`voices.yaml`, `phone_numbers.yaml`, `revox-sync.yaml`, `templates/`), and an assistant
outside `owns` is never written, and said so. The real CLI against the emulator, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY
from helpers import write
from test_voices import SAMPLE

from revox_sync.emulator import EmulatorServer

NO_CHANGES = "No changes. Remote assistants match the configuration.\n"
RESERVED = {
    "voices.yaml": "voices: {}\n",
    "phone_numbers.yaml": "phone_numbers: {}\n",
    "revox-sync.yaml": "rules: {ai-disclosure: off}\n",
    "templates/voices.yaml": "prompt: from a template\n",
}


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def seed(emulator: EmulatorServer, *names: str) -> None:
    for name in names:
        emulator.state.seed_assistant({"name": name, "prompt": f"You are {name}."})


def on_a_clone(emulator: EmulatorServer, name: str, clone: str) -> dict[str, object]:
    """An assistant `name` that speaks with the account's cloned voice `clone` (returned)."""
    voice = emulator.state.seed_voice(clone, "en")
    voice_ref = {"provider": "cartesia", "id": voice["id"], "model": "sonic-3"}
    emulator.state.seed_assistant({"name": name, "prompt": "p", "voice": voice_ref})
    return voice


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "reserved-files-there"])
def test_an_assistant_never_gets_a_reserved_file(cli, emulator, workdir, existing):
    """Named like what the directory reserves: each gets a file of its own beside them, and those stay as
    they were (absent, or byte for byte)."""
    config = workdir / "assistants"
    if existing:
        for path, text in RESERVED.items():
            write(config / path, text)
    before = snapshot(config)
    seed(emulator, "voices", "Voices", "phone_numbers", "phone numbers", "revox-sync", "templates/voices")
    imported = cli("import", "--all")
    assert imported.code == 0, imported.all
    after = snapshot(config)
    assert {p: after[p] for p in before} == before
    written = sorted(p for p in after if p not in before and p.endswith(".yaml"))
    assert written == [
        "phone-numbers-2.yaml",
        "phone-numbers.yaml",
        "revox-sync-2.yaml",
        "templates-voices.yaml",
        "voices-2.yaml",
        "voices-3.yaml",
    ]
    for path in ("voices.yaml", "phone_numbers.yaml", "revox-sync.yaml"):
        assert (path in after) == existing
    validated = cli("validate")
    assert validated.code == 0, validated.all
    assert validated.out == "6 assistant files valid.\n"
    assert cli("plan").out == NO_CHANGES


def test_a_clone_and_an_assistant_named_voices_each_get_their_own_file(cli, emulator, workdir):
    on_a_clone(emulator, "voices", "Brand voice")
    imported = cli("import", "--all")
    assert imported.code == 0, imported.all
    config = workdir / "assistants"
    assert (
        (config / "voices.yaml")
        .read_text(encoding="utf-8")
        .endswith("voices:\n  Brand voice:\n    language: en\n    sample: samples/brand-voice.wav\n")
    )
    assert "name: voices\n" in (config / "voices-2.yaml").read_text(encoding="utf-8")
    write(config / "samples/brand-voice.wav", SAMPLE)
    assert cli("validate").code == 0
    assert cli("plan").out == NO_CHANGES


OWNS = 'owns:\n  assistants: ["Harbor *"]\n'
HOSTILE = "HQ\nnext line \x1b[31mred"  # a line break and a terminal escape, set in the dashboard


def test_import_all_writes_only_what_owns_covers_and_says_what_it_skipped(cli, emulator, workdir):
    write(workdir / "revox-sync.yaml", OWNS)
    seed(emulator, "Harbor front desk", "HQ sales", HOSTILE)
    imported = cli("import", "--all")
    assert imported.code == 0, imported.all
    assert sorted(snapshot(workdir / "assistants")) == [
        "harbor-front-desk.yaml",
        "prompts/harbor-front-desk.md",
    ]
    assert imported.err == (
        'skipped 2 assistants outside what this configuration owns: "HQ sales", "HQ\\nnext line \\u001b[31mred"; '
        "owns.assistants is 'Harbor *' (in revox-sync.yaml)\n"
    )
    assert cli("validate").code == 0
    assert cli("plan").out == NO_CHANGES


def test_import_json_lists_the_skipped_assistants_and_no_secret(cli, emulator, workdir):
    """A name that holds the API key (pasted by mistake) is skipped like any other, and printed blanked."""
    write(workdir / "revox-sync.yaml", OWNS)
    seed(emulator, "Harbor front desk")
    hq = emulator.state.seed_assistant({"name": "HQ sales", "prompt": "p"})
    leaky = emulator.state.seed_assistant({"name": f"HQ {API_KEY}", "prompt": "p"})
    imported = cli("import", "--all", "--format", "json")
    assert imported.code == 0, imported.all
    assert json.loads(imported.out)["skipped"] == [
        {"name": "HQ sales", "id": hq["id"]},
        {"name": "HQ (sensitive)", "id": leaky["id"]},
    ]
    assert imported.err.splitlines()[0] == (
        'skipped 2 assistants outside what this configuration owns: "HQ sales", "HQ (sensitive)"; '
        "owns.assistants is 'Harbor *' (in revox-sync.yaml)"
    )
    assert API_KEY not in imported.all
    assert all(API_KEY.encode() not in data for data in snapshot(workdir).values())


def test_import_by_name_of_an_assistant_outside_owns_is_an_error_and_writes_nothing(cli, emulator, workdir):
    write(workdir / "revox-sync.yaml", OWNS)
    seed(emulator, "Harbor front desk", "HQ sales")
    imported = cli("import", "Harbor front desk", "HQ sales")
    assert imported.code == 1, imported.all
    assert imported.err == (
        'error: assistant "HQ sales" is outside what this configuration owns: owns.assistants is '
        "'Harbor *' (in revox-sync.yaml); nothing was written\n"
    )
    assert snapshot(workdir / "assistants") == {}


def test_a_clone_outside_owns_is_not_declared_and_its_assistant_keeps_the_voice_id(cli, emulator, workdir):
    """`owns` lists no voices, so voices.yaml may declare none: the assistant refers to its clone by id."""
    write(workdir / "revox-sync.yaml", OWNS)
    voice = on_a_clone(emulator, "Harbor desk", "HQ voice")
    imported = cli("import", "--all")
    assert imported.code == 0, imported.all
    config = workdir / "assistants"
    assert not (config / "voices.yaml").exists()
    assert f"id: {voice['id']}\n" in (config / "harbor-desk.yaml").read_text(encoding="utf-8")
    assert cli("validate").code == 0
    assert cli("plan").out == NO_CHANGES

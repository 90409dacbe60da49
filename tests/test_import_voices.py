"""`import` and cloned voices: assistants that use a clone of the account get `voice: {clone: NAME}`, and
`voices.yaml` declares each such clone with a placeholder sample path, since the API cannot return a sample.
The real CLI against the emulator over loopback, real files in a tmp dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write

from revox_sync.emulator import EmulatorServer
from revox_sync.emulator.state import DEFAULT_VOICE_ID

HEADER = "# Imported from Revox by `revox-sync import`. Edit here, then run `revox-sync plan`.\n"
VOICES_HEADER = (
    "# Cloned voices of the account, imported by `revox-sync import`. The API cannot return a sample:\n"
    "# put each voice's audio at its sample path before `revox-sync validate`.\n"
)


def note(name: str, sample: str) -> str:
    """The line import prints for each voices.yaml entry it adds."""
    return (
        f'assistants/voices.yaml: voice "{name}": the API cannot return the sample of a cloned voice; put '
        f"its audio at {sample} (`revox-sync validate` fails until it is there)\n"
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


@pytest.fixture
def brand(emulator: EmulatorServer) -> dict[str, str]:
    """A clone used by "Brand desk", a clone nobody uses, and "Front desk" on a catalogue voice."""
    voice = emulator.state.seed_voice("Brand voice", "en")
    spare = emulator.state.seed_voice("Spare voice", "fr")
    desk = emulator.state.seed_assistant(
        {
            "name": "Brand desk",
            "prompt": "You speak for the brand.",
            "voice": {"provider": "cartesia", "id": voice["id"], "speed": 1.05, "model": "sonic-3"},
        }
    )
    front = emulator.state.seed_assistant({"name": "Front desk", "prompt": "You greet."})
    return {"voice": voice["id"], "spare": spare["id"], "desk": desk["id"], "front": front["id"]}


def desk_file(desk_id: str, voice: str = "  clone: Brand voice\n  speed: 1.05\n") -> str:
    return f"{HEADER}name: Brand desk\nid: {desk_id}\nprompt: !file prompts/brand-desk.md\n\nvoice:\n{voice}"


def test_import_all_refers_to_clones_by_name_and_declares_every_clone(
    cli, emulator: EmulatorServer, brand: dict[str, str], in_tmp: Path
) -> None:
    emulator.clear_requests()
    run = cli("import", "-d", "assistants", "--all")
    assert run.code == 0, run.all
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", "/assistants"), ("GET", "/voices")]
    config = in_tmp / "assistants"
    assert (config / "brand-desk.yaml").read_text(encoding="utf-8") == desk_file(brand["desk"])
    front = (config / "front-desk.yaml").read_text(encoding="utf-8")
    assert f"voice:\n  provider: cartesia\n  id: {DEFAULT_VOICE_ID}\n" in front
    assert (config / "voices.yaml").read_text(encoding="utf-8") == (
        f"{VOICES_HEADER}voices:\n"
        "  Brand voice:\n    language: en\n    sample: samples/brand-voice.wav\n"
        "  Spare voice:\n    language: fr\n    sample: samples/spare-voice.wav\n"
    )
    assert not (config / "samples").exists()
    assert run.out.split("\n\n")[0].splitlines() == [
        "created assistants/brand-desk.yaml",
        "created assistants/prompts/brand-desk.md",
        "created assistants/front-desk.yaml",
        "created assistants/prompts/front-desk.md",
        "created assistants/voices.yaml",
    ]
    assert run.err == note("Brand voice", "assistants/samples/brand-voice.wav") + note(
        "Spare voice", "assistants/samples/spare-voice.wav"
    )


def test_import_by_name_declares_only_the_clones_its_assistants_use(
    cli, brand: dict[str, str], in_tmp: Path
) -> None:
    run = cli("import", "-d", "assistants", "Brand desk")
    assert run.code == 0, run.all
    assert (in_tmp / "assistants" / "voices.yaml").read_text(encoding="utf-8") == (
        f"{VOICES_HEADER}voices:\n  Brand voice:\n    language: en\n    sample: samples/brand-voice.wav\n"
    )
    assert run.err == note("Brand voice", "assistants/samples/brand-voice.wav")
    # an assistant on a catalogue voice needs no voices.yaml
    other = in_tmp / "other"
    assert cli("import", "-d", "other", "Front desk").code == 0
    assert sorted(snapshot(other)) == ["front-desk.yaml", "prompts/front-desk.md"]


def test_existing_voices_file_keeps_its_entries_comments_and_order_and_gains_the_missing_ones(
    cli, brand: dict[str, str], in_tmp: Path
) -> None:
    entries = (
        "# our voices\n"
        "voices:\n"
        "  Old voice:  # retired soon\n"
        "    language: de\n"
        "    sample: audio/old.mp3\n"
        "\n"
        "  Brand voice:\n"
        "    language: en\n"
        "    sample: audio/brand-final.wav  # the studio take\n"
    )
    voices = write(in_tmp / "assistants" / "voices.yaml", entries + "# end\n")
    write(in_tmp / "assistants" / "samples" / "spare-voice.wav", b"someone else's audio")
    run = cli("import", "-d", "assistants", "--all")  # adding entries overwrites nothing: no --overwrite
    assert run.code == 0, run.all
    assert voices.read_text(encoding="utf-8") == (
        entries + "  Spare voice:\n    language: fr\n    sample: samples/spare-voice-2.wav\n# end\n"
    )
    assert run.out == (
        "created assistants/brand-desk.yaml\ncreated assistants/prompts/brand-desk.md\n"
        "created assistants/front-desk.yaml\ncreated assistants/prompts/front-desk.md\n"
        "updated assistants/voices.yaml\n"
    )
    assert run.err == note("Spare voice", "assistants/samples/spare-voice-2.wav")
    # a second import has nothing to add
    again = cli("import", "-d", "assistants", "--all")
    assert again.code == 0, again.all
    assert again.out == "unchanged assistants/brand-desk.yaml\nunchanged assistants/front-desk.yaml\n"
    assert again.err == ""


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "voices: [a\n",
            "2:1: did not find expected ',' or ']' (while parsing a flow sequence started at line 1, column 9)",
        ),
        ("voices:\n  - Brand voice\n", "2:3: voices must be a mapping of names, e.g. 'Brand voice:'"),
        ("- voices\n", "1:1: the top level must be a mapping with the key 'voices'"),
    ],
)
def test_a_malformed_voices_file_is_refused_and_nothing_is_written(
    cli, brand: dict[str, str], in_tmp: Path, text: str, where: str
) -> None:
    write(in_tmp / "assistants" / "voices.yaml", text)
    before = snapshot(in_tmp / "assistants")
    run = cli("import", "-d", "assistants", "--all")
    assert run.code == 1
    assert run.out == ""
    assert run.err == f"error: assistants/voices.yaml:{where}; fix it first (nothing was written)\n"
    assert snapshot(in_tmp / "assistants") == before


def test_two_clones_with_one_name_keep_provider_and_id_with_a_warning(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    first = emulator.state.seed_voice("Brand voice", "en")
    emulator.state.seed_voice("Brand voice", "fr")
    desk = emulator.state.seed_assistant(
        {"name": "Brand desk", "prompt": "p", "voice": {"provider": "cartesia", "id": first["id"]}}
    )
    run = cli("import", "-d", "assistants", "--all")
    assert run.code == 0, run.all
    text = (in_tmp / "assistants" / "brand-desk.yaml").read_text(encoding="utf-8")
    assert text == desk_file(desk["id"], f"  provider: cartesia\n  id: {first['id']}\n")
    assert not (in_tmp / "assistants" / "voices.yaml").exists()
    assert run.err == (
        'warning: 2 cloned voices of the account are named "Brand voice": assistants keep their voice '
        "by provider and id, and voices.yaml does not declare it; rename one in the account to refer to "
        "it by name\n"
    )


def test_reimport_keeps_the_clone_reference_and_changes_only_what_changed(
    cli, emulator: EmulatorServer, brand: dict[str, str], in_tmp: Path
) -> None:
    assert cli("import", "-d", "assistants", "--all").code == 0
    config = in_tmp / "assistants"
    before = snapshot(config)
    unchanged = cli("import", "-d", "assistants", "--all")
    assert unchanged.code == 0, unchanged.all
    assert unchanged.out == "unchanged assistants/brand-desk.yaml\nunchanged assistants/front-desk.yaml\n"
    assert snapshot(config) == before
    emulator.state.assistants[brand["desk"]]["voice"]["speed"] = 1.2
    run = cli("import", "-d", "assistants", "--all", "--overwrite")
    assert run.code == 0, run.all
    assert (config / "brand-desk.yaml").read_text(encoding="utf-8") == desk_file(
        brand["desk"], "  clone: Brand voice\n  speed: 1.2\n"
    )
    assert run.out == "updated assistants/brand-desk.yaml\nunchanged assistants/front-desk.yaml\n"


def test_reimport_follows_the_remote_voice_between_catalogue_and_clone(
    cli, emulator: EmulatorServer, brand: dict[str, str], in_tmp: Path
) -> None:
    assert cli("import", "-d", "assistants", "--all").code == 0
    config = in_tmp / "assistants"
    record = emulator.state.assistants
    record[brand["desk"]]["voice"] = {"provider": "cartesia", "id": DEFAULT_VOICE_ID, "speed": 1.05}
    record[brand["front"]]["voice"] = {"provider": "cartesia", "id": brand["spare"], "speed": 1.0}
    run = cli("import", "-d", "assistants", "--all", "--overwrite")
    assert run.code == 0, run.all
    assert (config / "brand-desk.yaml").read_text(encoding="utf-8") == desk_file(
        brand["desk"], f"  provider: cartesia\n  id: {DEFAULT_VOICE_ID}\n  speed: 1.05\n"
    )
    front = (config / "front-desk.yaml").read_text(encoding="utf-8")
    assert "voice:\n  clone: Spare voice\n" in front and "provider" not in front


def test_a_file_that_pins_the_clone_by_id_keeps_its_id(
    cli, emulator: EmulatorServer, brand: dict[str, str], in_tmp: Path
) -> None:
    mine = write(
        in_tmp / "assistants" / "desk.yaml",
        f"name: Brand desk\nid: {brand['desk']}\nprompt: You speak for the brand.\n"
        f"voice:\n  provider: cartesia\n  id: {brand['voice']}\n  speed: 1.05\n",
    )
    before = mine.read_text(encoding="utf-8")
    run = cli("import", "-d", "assistants", "Brand desk")
    assert run.code == 0, run.all
    assert mine.read_text(encoding="utf-8") == before
    assert not (in_tmp / "assistants" / "voices.yaml").exists()


def test_import_then_plan_with_the_samples_in_place_shows_no_changes(
    cli, brand: dict[str, str], in_tmp: Path
) -> None:
    assert cli("import", "-d", "assistants", "--all").code == 0
    assert (in_tmp / "assistants" / "brand-desk.yaml").read_text(encoding="utf-8") == desk_file(brand["desk"])
    for name in ("brand-voice", "spare-voice"):
        write(in_tmp / "assistants" / "samples" / f"{name}.wav", b"RIFF\x24\x00\x00\x00WAVEfmt sample")
    run = cli("plan", "-d", "assistants", "--detailed-exitcode")
    assert run.code == 0, run.all
    assert "No changes." in run.out


def test_a_clone_named_with_a_known_secret_is_refused_and_nothing_is_written(
    cli, emulator: EmulatorServer, in_tmp: Path
) -> None:
    secret = "sk-live-VOICE-0123456789"
    voice = emulator.state.seed_voice(f"Promo {secret}", "en")
    emulator.state.seed_assistant(
        {"name": "Promo desk", "prompt": "p", "voice": {"provider": "cartesia", "id": voice["id"]}}
    )
    run = cli("import", "-d", "assistants", "--all", environ={"PROMO_API_KEY": secret})
    assert run.code == 1
    assert run.err == (
        "error: refusing to write assistants/voices.yaml: it would hold the value of PROMO_API_KEY in plain "
        "text (in a comment, or a variable's default?); write ${PROMO_API_KEY} there instead, then import "
        "again (nothing was written)\n"
    )
    assert not (in_tmp / "assistants").exists()

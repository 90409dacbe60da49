"""Cloned voices, the third kind, end to end (issue 11): `voices.yaml` at the root of the config directory,
assistants that refer to a clone by name (`voice: {clone: NAME}`), plan, apply, prune, validate, saved plans
and `--target`. The real CLI against the emulator over loopback, real files in a tmp dir; every body sent
is judged by the official SDK at teardown."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import wave
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY
from helpers import write

from revox_sync.emulator import EmulatorServer
from revox_sync.emulator.state import VOICES
from revox_sync.engine.plan import checksum


def wav_sample(frames: int = 160) -> bytes:
    """A real (tiny) WAV file: 10 ms of 16 kHz mono silence."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * frames)
    return out.getvalue()


SAMPLE = wav_sample()
AUDIO = base64.b64encode(SAMPLE).decode("ascii")
SIZE = f"{len(SAMPLE):,}"
VOICES_YAML = "voices:\n  Brand voice:\n    language: en\n    sample: samples/brand.wav\n"
DESK = "name: Brand desk\nprompt: You speak for the brand.\nvoice:\n  clone: Brand voice\n  speed: 1.05\n"
NO_CHANGES = "No changes. Remote assistants match the configuration.\n"

CREATE_VOICE = (
    '  + voice "Brand voice" will be created\n'
    '      + language: "en"\n'
    f'      + sample: "assistants/samples/brand.wav (audio/wav, {SIZE} bytes)"\n'
)
CREATE_DESK = (
    '  + assistant "Brand desk" will be created\n'
    '      + name: "Brand desk"\n'
    '      + prompt: "You speak for the brand."\n'
    '      + voice.provider: "cartesia"\n'
    '      + voice.id: "(known after apply)"\n'
    '      + voice.model: "sonic-3"\n'
    "      + voice.speed: 1.05\n"
    "      + voice.volume: 1\n"
)
CLONE_BODY = {"name": "Brand voice", "language": "en", "contentType": "audio/wav", "audio": AUDIO}


def clone_then_desk(voice_id: str) -> list[tuple[str, str, object]]:
    """The writes of creating the project: the clone first, then the assistant with its new id (no `clone`)."""
    desk = {
        "name": "Brand desk",
        "prompt": "You speak for the brand.",
        "voice": {"provider": "cartesia", "id": voice_id, "speed": 1.05},
    }
    return [("POST", "/voices/clone", CLONE_BODY), ("POST", "/assistants", desk)]


def writes(emulator: EmulatorServer) -> list[tuple[str, str, object]]:
    return [(r.method, r.path, r.body) for r in emulator.requests if r.method != "GET"]


def timeless(text: str) -> str:
    """Apply's report with each write's duration shown as 0.0s (a slow machine takes longer)."""
    return re.sub(r" in \d+\.\ds$", " in 0.0s", text, flags=re.M)


def clones(emulator: EmulatorServer) -> dict[str, dict[str, object]]:
    """The account's cloned voices by name."""
    return {str(v["name"]): v for v in emulator.state.list_voices() if v["isCloned"]}


@pytest.fixture
def project(workdir: Path) -> Path:
    """voices.yaml declaring "Brand voice" (a real WAV sample) and "Brand desk", which speaks with it."""
    write(workdir / "assistants/samples/brand.wav", SAMPLE)
    write(workdir / "assistants/voices.yaml", VOICES_YAML)
    write(workdir / "assistants/desk.yaml", DESK)
    return workdir


def converged(cli, emulator: EmulatorServer) -> dict[str, str]:
    """Apply the project, then forget the requests: returns the ids of the clone and of the assistant."""
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.all
    emulator.clear_requests()
    [desk] = emulator.state.list_assistants()
    return {"voice": str(clones(emulator)["Brand voice"]["id"]), "desk": str(desk["id"])}


# --- 1. a voice and the assistant that uses it, in one apply ---------------------------------------------


def test_voice_and_assistant_created_in_one_apply_then_no_changes(cli, emulator, project):
    plan = cli("plan")
    assert (plan.code, plan.err) == (0, "")
    assert plan.out == CREATE_VOICE + CREATE_DESK + "\nPlan: 2 to add, 0 to change, 0 to destroy.\n"
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", "/voices"), ("GET", "/assistants")]
    emulator.clear_requests()

    result = cli("apply", "--auto-approve")
    assert (result.code, result.err) == (0, ""), result.all
    voice_id = str(clones(emulator)["Brand voice"]["id"])
    [desk] = emulator.state.list_assistants()
    assert timeless(result.out) == (
        CREATE_VOICE
        + CREATE_DESK
        + "\nPlan: 2 to add, 0 to change, 0 to destroy.\n"
        + "\nApplying 2 actions (parallelism 2)...\n"
        + f'  [1/2] ✓ created voice "Brand voice" ({voice_id}) in 0.0s\n'
        + f'  [2/2] ✓ created assistant "Brand desk" ({desk["id"]}) in 0.0s\n'
        + "\nApply complete! Resources: 2 added, 0 changed, 0 destroyed.\n"
    )
    # the clone first; the assistant's body carries the new id, and no `clone` key
    assert writes(emulator) == clone_then_desk(voice_id)
    assert desk["voice"]["id"] == voice_id
    assert clones(emulator)["Brand voice"]["language"] == "en"

    emulator.clear_requests()
    again = cli("plan", "--detailed-exitcode")
    assert (again.code, again.out, again.err) == (0, NO_CHANGES, "")
    assert writes(emulator) == []


# --- 2. a failed clone skips what needs it; a rerun finishes ------------------------------------------------


def test_voice_create_failure_skips_its_assistants_and_a_rerun_finishes(cli, emulator, project):
    write(project / "assistants/front.yaml", "name: Front desk\nprompt: You greet.\n")  # needs no clone
    emulator.inject("POST", "^/voices/clone$", status=400)
    result = cli("apply", "--auto-approve")
    assert result.code == 1, result.all
    [front] = emulator.state.list_assistants()
    report = timeless(result.out).split("\n\n")[-1]
    assert report == (
        "Applying 3 actions (parallelism 3)...\n"
        '  [1/3] ✗ create voice "Brand voice" failed: the API rejected POST /voices/clone (400): Injected fault\n'
        '  [2/3] - create assistant "Brand desk" skipped: voice "Brand voice" was not created\n'
        f'  [3/3] ✓ created assistant "Front desk" ({front["id"]}) in 0.0s\n'
    )
    assert result.err == (
        "error: apply incomplete: 1 of 3 actions succeeded (1 added, 0 changed, 0 destroyed).\n"
        '  succeeded: create assistant "Front desk"\n'
        '  failed:    create voice "Brand voice": the API rejected POST /voices/clone (400): Injected fault\n'
        '  skipped:   create assistant "Brand desk": voice "Brand voice" was not created\n'
        "Fix the cause and run apply again: it will do only what is left.\n"
    )
    assert writes(emulator) == [
        ("POST", "/voices/clone", CLONE_BODY),
        ("POST", "/assistants", {"name": "Front desk", "prompt": "You greet."}),
    ]
    assert clones(emulator) == {}

    emulator.clear_requests()
    rerun = cli("apply", "--auto-approve")
    assert (rerun.code, rerun.err) == (0, ""), rerun.all
    voice_id = str(clones(emulator)["Brand voice"]["id"])
    assert writes(emulator) == clone_then_desk(voice_id)
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.\n" in rerun.out
    clean = cli("plan", "--detailed-exitcode")
    assert (clean.code, clean.out) == (0, NO_CHANGES)


# --- 3. prune ---------------------------------------------------------------------------------------------


def test_prune_destroys_undeclared_clones_last_and_never_a_catalogue_voice(cli, emulator, project):
    old = emulator.state.seed_voice("Old voice")
    used = emulator.state.seed_voice("Bot voice", "fr")
    bot = emulator.state.seed_assistant(
        {"name": "Old bot", "prompt": "old", "voice": {"provider": "cartesia", "id": used["id"]}}
    )
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert plan.out.endswith(
        "\nPlan: 2 to add, 0 to change, 0 to destroy.\n\n"
        """Note: 1 remote assistant is not declared in any file ("Old bot") and left alone; """
        "declare it (pin its `id:`) to manage it, or plan with --prune to destroy it.\n"
        """Note: 2 remote voices are not declared in any file ("Bot voice", "Old voice") and left """
        "alone; declare them (pin their `id:`) to manage them, or plan with --prune to destroy them.\n"
    )

    emulator.clear_requests()
    result = cli("apply", "--auto-approve", "--prune")
    assert result.code == 0 and result.err.startswith("Backed up 3 objects this apply"), result.all
    assert result.err.count("\n") == 1  # that line alone
    voice_id = str(clones(emulator)["Brand voice"]["id"])
    assert result.out.startswith(
        CREATE_VOICE
        + CREATE_DESK
        + f'  - assistant "Old bot" ({bot["id"]}) will be destroyed\n'
        + f'  - voice "Bot voice" ({used["id"]}) will be destroyed\n'
        + f'  - voice "Old voice" ({old["id"]}) will be destroyed\n'
        + "\nPlan: 2 to add, 0 to change, 3 to destroy.\n"
    )
    # creates top-down, then deletes bottom-up: the assistant before the voices (those two in parallel)
    done = writes(emulator)
    assert done[:3] == [
        ("POST", "/voices/clone", CLONE_BODY),
        (
            "POST",
            "/assistants",
            {
                "name": "Brand desk",
                "prompt": "You speak for the brand.",
                "voice": {"provider": "cartesia", "id": voice_id, "speed": 1.05},
            },
        ),
        ("DELETE", f"/assistants/{bot['id']}", None),
    ]
    assert sorted(done[3:], key=str) == sorted(
        [("DELETE", f"/voices/{old['id']}", None), ("DELETE", f"/voices/{used['id']}", None)], key=str
    )
    # the catalogue is left whole, though no file declares its voices
    assert [v for v in emulator.state.list_voices() if not v["isCloned"]] == VOICES
    assert list(clones(emulator)) == ["Brand voice"]
    clean = cli("plan", "--prune", "--detailed-exitcode")
    assert (clean.code, clean.out) == (0, NO_CHANGES)


def test_prune_refuses_a_clone_remote_assistants_still_use(cli, emulator, project):
    converged(cli, emulator)
    old = emulator.state.seed_voice("Old voice")
    # a step of a flow is never pruned on its own, so it keeps using the clone
    emulator.state.seed_assistant(
        {
            "name": "Booking step",
            "type": "sub-assistant",
            "prompt": "Book.",
            "voice": {"provider": "cartesia", "id": old["id"]},
        }
    )
    # declared, and its voice left as the account has it (unmanaged)
    emulator.state.seed_assistant(
        {"name": "Reception", "prompt": "Hello.", "voice": {"provider": "cartesia", "id": old["id"]}}
    )
    write(project / "assistants/reception.yaml", "name: Reception\nprompt: Hello.\n")
    expected = (
        f'assistants/voices.yaml: cannot destroy cloned voice "Old voice" ({old["id"]}): assistants still use '
        'it: "Booking step", "Reception"; point them at another voice first\n'
        "1 error.\n"
    )
    emulator.clear_requests()
    for command in (("plan", "--prune"), ("apply", "--auto-approve", "--prune")):
        result = cli(*command)
        assert (result.code, result.out, result.err) == (1, "", expected)
    assert writes(emulator) == []
    assert "Old voice" in clones(emulator)


def assert_in_use_refused(cli, emulator, voice, user: str, *args: str) -> None:
    """The run refuses to destroy `voice`, naming the assistant that still uses it, and writes nothing."""
    emulator.clear_requests()
    result = cli(*args)
    assert (result.code, result.out) == (1, ""), result.all
    assert result.err == (
        f'assistants/voices.yaml: cannot destroy cloned voice "Old voice" ({voice["id"]}): assistants still use '
        f'it: "{user}"; point them at another voice first\n'
        "1 error.\n"
    )
    assert writes(emulator) == []


def test_prune_refuses_a_clone_in_use_when_declared_with_its_id(cli, emulator, project):
    converged(cli, emulator)
    old = emulator.state.seed_voice("Old voice")
    emulator.state.seed_assistant({"name": "Reception", "prompt": "Hello."})
    write(
        project / "assistants/reception.yaml",
        f"name: Reception\nprompt: Hello.\nvoice:\n  provider: cartesia\n  id: {old['id']}\n",
    )
    assert_in_use_refused(cli, emulator, old, "Reception", "apply", "--auto-approve", "--prune")


def test_prune_with_a_target_refuses_a_clone_whose_user_is_left_out(cli, emulator, project):
    """`--target` keeps the voice's delete and drops that of the assistant using it: the voice is still in
    use, so the plan must refuse it as it does without `--target` (the API would answer 409)."""
    converged(cli, emulator)
    old = emulator.state.seed_voice("Old voice")
    emulator.state.seed_assistant(
        {"name": "Old bot", "prompt": "old", "voice": {"provider": "cartesia", "id": old["id"]}}
    )
    assert_in_use_refused(
        cli, emulator, old, "Old bot", "apply", "--auto-approve", "--prune", "--target", "Old voice"
    )


def test_without_voices_yaml_no_voice_is_ever_pruned(cli, emulator, workdir):
    old = emulator.state.seed_voice("Old voice")
    write(workdir / "assistants/front.yaml", "name: Front desk\nprompt: You greet.\n")
    plan = cli("plan", "--prune")
    assert plan.code == 0, plan.all
    assert plan.out == (
        '  + assistant "Front desk" will be created\n'
        '      + name: "Front desk"\n'
        '      + prompt: "You greet."\n'
        "\nPlan: 1 to add, 0 to change, 0 to destroy.\n"
    )
    result = cli("apply", "--auto-approve", "--prune")
    assert result.code == 0, result.all
    assert all(r.path != "/voices" for r in emulator.requests)  # unmanaged: not even listed
    assert writes(emulator) == [("POST", "/assistants", {"name": "Front desk", "prompt": "You greet."})]
    assert clones(emulator)["Old voice"]["id"] == old["id"]


# --- 4. a new clone, the assistant moved to it, the old one pruned: one apply -------------------------


def test_move_to_a_new_clone_and_prune_the_old_one_in_one_apply(cli, emulator, project):
    old = emulator.state.seed_voice("Brand voice 2024")
    desk = emulator.state.seed_assistant(
        {
            "name": "Brand desk",
            "prompt": "You speak for the brand.",
            "voice": {"provider": "cartesia", "id": old["id"], "speed": 1.05},
        }
    )
    plan = cli("plan", "--prune")
    assert plan.code == 0, plan.all
    assert plan.out == (
        CREATE_VOICE
        + f'  ~ assistant "Brand desk" ({desk["id"]}) will be updated in-place\n'
        + f'      ~ voice.id: "{old["id"]}" -> "(known after apply)"\n'
        + f'  - voice "Brand voice 2024" ({old["id"]}) will be destroyed\n'
        + "\nPlan: 1 to add, 1 to change, 1 to destroy.\n"
    )
    emulator.clear_requests()
    result = cli("apply", "--auto-approve", "--prune")
    assert result.code == 0 and result.err.startswith("Backed up 2 objects this apply"), result.all
    assert result.err.count("\n") == 1  # that line alone
    new_id = str(clones(emulator)["Brand voice"]["id"])
    assert writes(emulator) == [
        ("POST", "/voices/clone", CLONE_BODY),
        (
            "PATCH",
            f"/assistants/{desk['id']}",
            {"voice": {"provider": "cartesia", "id": new_id, "speed": 1.05}},
        ),
        ("DELETE", f"/voices/{old['id']}", None),
    ]
    assert list(clones(emulator)) == ["Brand voice"]
    clean = cli("plan", "--prune", "--detailed-exitcode")
    assert (clean.code, clean.out) == (0, NO_CHANGES)


def test_a_failed_move_keeps_the_clone_the_assistant_still_uses(cli, emulator, project):
    """The old clone goes only once its assistant moved off it; a rerun finishes."""
    old = emulator.state.seed_voice("Brand voice 2024")
    desk = emulator.state.seed_assistant(
        {
            "name": "Brand desk",
            "prompt": "You speak for the brand.",
            "voice": {"provider": "cartesia", "id": old["id"]},
        }
    )
    emulator.inject("PATCH", "^/assistants/", status=400)
    result = cli("apply", "--auto-approve", "--prune")
    assert result.code == 1
    assert (
        f'  skipped:   delete voice "Brand voice 2024": assistant "Brand desk" ({desk["id"]}) still refers to '
        "it (its update did not succeed)"
    ) in result.err.splitlines()
    assert not any(method == "DELETE" for method, _, _ in writes(emulator))
    assert cli("apply", "--auto-approve", "--prune").code == 0
    assert list(clones(emulator)) == ["Brand voice"]


# --- 5. validate, offline --------------------------------------------------------------------------------


def validated(cli, emulator: EmulatorServer, *args: str) -> tuple[int, str, str]:
    result = cli("validate", *args)
    assert emulator.requests == []  # offline
    return result.code, result.out, result.err


def test_validate_accepts_the_project(cli, emulator, project):
    assert validated(cli, emulator) == (0, "1 assistant file valid.\n", "")


def test_validate_unknown_clone_name_is_located(cli, emulator, project):
    write(project / "assistants/a.yaml", "name: A\nprompt: x\nvoice:\n  clone: Nope\n")
    assert validated(cli, emulator) == (
        1,
        "",
        "assistants/a.yaml:4:10: voice.clone: no voice named 'Nope' in voices.yaml\n1 error.\n",
    )


def test_validate_clone_without_voices_yaml_is_located(cli, emulator, project):
    os.remove(project / "assistants/voices.yaml")
    assert validated(cli, emulator) == (
        1,
        "",
        "assistants/desk.yaml:4:10: voice.clone: no voice named 'Brand voice' in voices.yaml (there is none)\n"
        "1 error.\n",
    )


def test_validate_one_file_checks_its_clone_against_voices_yaml(cli, emulator, project):
    """Validating one assistant file still reads voices.yaml: a clone it declares is found there, and a
    voices.yaml that fails to load is reported as what it is, not as missing ("there is none")."""
    assert validated(cli, emulator, "assistants/desk.yaml") == (0, "1 assistant file valid.\n", "")
    os.remove(project / "assistants/samples/brand.wav")
    assert validated(cli, emulator, "assistants/desk.yaml") == (
        1,
        "",
        "assistants/voices.yaml:4:13: voice 'Brand voice': sample 'samples/brand.wav': cannot read: "
        "No such file or directory\n1 error.\n",
    )


def test_validate_clone_and_id_exclude_each_other(cli, emulator, project):
    write(
        project / "assistants/desk.yaml",
        "name: Brand desk\nprompt: x\nvoice:\n  clone: Brand voice\n  id: a0e99841-438c-4a64-b679-ae501e7d6091\n",
    )
    assert validated(cli, emulator) == (
        1,
        "",
        "assistants/desk.yaml:4:10: voice: give clone (a voice of voices.yaml) or id, not both\n1 error.\n",
    )


def test_validate_a_symlinked_sample_that_leads_outside(cli, emulator, project):
    write(project / "elsewhere/brand.wav", SAMPLE)
    os.remove(project / "assistants/samples/brand.wav")
    os.symlink(project / "elsewhere/brand.wav", project / "assistants/samples/brand.wav")
    assert validated(cli, emulator) == (
        1,
        "",
        "assistants/voices.yaml:4:13: voice 'Brand voice': sample 'samples/brand.wav' is outside the config "
        "directory assistants/\n1 error.\n",
    )


def test_validate_sample_size_limit_is_7_5_mib(cli, emulator, project):
    sample = project / "assistants/samples/brand.wav"
    os.truncate(sample, 7_864_320 + 1)  # sparse: nothing is written
    assert validated(cli, emulator) == (
        1,
        "",
        "assistants/voices.yaml:4:13: voice 'Brand voice': sample 'samples/brand.wav' is 7,864,321 bytes; "
        "the API takes at most 7,864,320\n1 error.\n",
    )
    os.truncate(sample, 7_864_320)
    assert validated(cli, emulator) == (0, "1 assistant file valid.\n", "")


LANGS = "en, fr, es, de, it, pt, ru, zh"


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        pytest.param(
            "    language: en\n    sample: samples/missing.wav\n",
            "4:13: voice 'Brand voice': sample 'samples/missing.wav': cannot read: No such file or directory",
            id="missing-sample",
        ),
        pytest.param(
            "    language: en\n    sample: ../x.wav\n",
            "4:13: voice 'Brand voice': sample '../x.wav' is outside the config directory assistants/",
            id="outside",
        ),
        pytest.param(
            "    language: en\n    sample: samples/brand.flac\n",
            "4:13: voice 'Brand voice': sample 'samples/brand.flac': unknown audio type "
            "(use one of .m4a, .mp3, .mp4, .ogg, .wav, .webm)",
            id="extension",
        ),
        pytest.param(
            "    language: eng\n    sample: samples/brand.wav\n",
            f"3:15: voice 'Brand voice': language must be one of {LANGS}; did you mean 'en'?",
            id="language",
        ),
        pytest.param(
            "    language: EN\n    sample: samples/brand.wav\n",
            f"3:15: voice 'Brand voice': language must be one of {LANGS}; did you mean 'en'?",
            id="language-case",
        ),
        pytest.param(
            "    language: en\n    sample: samples/brand.wav\n    samples: more.wav\n",
            "5:5: unknown key 'samples' in voice 'Brand voice'; did you mean 'sample'?",
            id="unknown-key",
        ),
        pytest.param(
            "    sample: samples/brand.wav\n",
            "2:3: voice 'Brand voice': language is required",
            id="no-language",
        ),
        pytest.param(
            "    language: en\n    sample: samples/empty.wav\n",
            "4:13: voice 'Brand voice': sample 'samples/empty.wav' is empty",
            id="empty",
        ),
    ],
)
def test_validate_voices_yaml_errors_are_located(cli, emulator, project, entry, error):
    write(project / "x.wav", SAMPLE)  # exists, beside the config directory
    write(project / "assistants/samples/brand.flac", SAMPLE)
    write(project / "assistants/samples/empty.wav", b"")
    write(project / "assistants/voices.yaml", "voices:\n  Brand voice:\n" + entry)
    assert validated(cli, emulator) == (1, "", f"assistants/voices.yaml:{error}\n1 error.\n")
    # plan stops on the same error before any write; before any request, but for a missing sample, which
    # only a clone needs: plan asks the account first whether the voice must be cloned
    plan = cli("plan")
    assert (plan.code, plan.out, plan.err) == (1, "", f"assistants/voices.yaml:{error}\n1 error.\n")
    reads = ["GET", "GET"] if "No such file" in error else []
    assert [r.method for r in emulator.requests] == reads


# --- 6. validate --online ----------------------------------------------------------------------------------


def test_validate_online_a_clone_of_another_language_is_an_error(cli, emulator, project):
    voice = emulator.state.seed_voice("Brand voice", "fr")
    result = cli("validate", "--online")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"assistants/voices.yaml:2:3: voice 'Brand voice': the account's clone ({voice['id']}) speaks 'fr'; "
        "a clone cannot change: give the voice a new name to clone it again\n1 error.\n"
    )
    assert writes(emulator) == []


def test_validate_online_a_matching_clone_passes(cli, emulator, project):
    emulator.state.seed_voice("Brand voice", "en")
    result = cli("validate", "--online")
    assert (result.code, result.out, result.err) == (0, "1 assistant file valid.\n", "")
    assert {(r.method, r.path) for r in emulator.requests} == {("GET", "/voices"), ("GET", "/phone-numbers")}
    # and the plan uses that clone: nothing to create
    [voice] = clones(emulator).values()
    plan = cli("plan")
    assert plan.code == 0, plan.all
    assert plan.out == CREATE_DESK.replace('"(known after apply)"', f'"{voice["id"]}"') + (
        "\nPlan: 1 to add, 0 to change, 0 to destroy.\n"
    )


# --- 7. saved plans -------------------------------------------------------------------------------------------


def test_saved_plan_of_format_version_1_is_refused_changing_nothing(cli, emulator, project):
    assert cli("plan", "--out", "plan.json").code == 0
    v2 = json.loads((project / "plan.json").read_text(encoding="utf-8"))
    # the shape 0.1.0 wrote: no `kind`, `action` held the operation, one table of remote fingerprints
    v1 = {
        "format_version": 1,
        "summary": v2["summary"],
        "target": v2["target"],
        "actions": [{k: v for k, v in a.items() if k != "kind"} for a in v2["actions"]],
        "options": v2["options"],
        "undeclared": [],
        "config_fingerprint": v2["config_fingerprint"],
        "secrets_fingerprint": v2["secrets_fingerprint"],
        "remote_fingerprints": {},
    }
    v1["checksum"] = checksum(v1, API_KEY.encode())  # signed with the right key: only its version is wrong
    write(project / "plan.json", json.dumps(v1, indent=2))
    emulator.clear_requests()
    result = cli("apply", "--auto-approve", "plan.json")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: plan.json: saved by another version of revox-sync (format_version 1; this one reads 3). "
        "Nothing was changed; run `revox-sync plan --out` again.\n"
    )
    assert emulator.requests == []
    assert clones(emulator) == {} and emulator.state.list_assistants() == []


def test_saved_plan_applies_and_a_changed_sample_makes_it_stale(cli, emulator, project):
    assert cli("plan", "--out", "plan.json").code == 0
    write(project / "assistants/samples/brand.wav", wav_sample(320))
    emulator.clear_requests()
    stale = cli("apply", "--auto-approve", "plan.json")
    assert (stale.code, stale.out) == (1, "")
    assert stale.err == (
        "error: plan is stale: the configuration files changed: assistants/voices.yaml. Nothing was changed; "
        f"run `revox-sync --base-url {emulator.url} plan --out plan.json` again.\n"
    )
    assert writes(emulator) == []

    write(project / "assistants/samples/brand.wav", SAMPLE)
    result = cli("apply", "--auto-approve", "plan.json")
    assert result.code == 0, result.all
    assert [(m, p) for m, p, _ in writes(emulator)] == [("POST", "/voices/clone"), ("POST", "/assistants")]


# --- 8. --target ----------------------------------------------------------------------------------------------


def test_target_a_voice_plans_only_the_voice(cli, emulator, project):
    plan = cli("plan", "--target", "Brand voice")
    assert (plan.code, plan.err) == (0, "")
    assert plan.out == CREATE_VOICE + "\nPlan: 1 to add, 0 to change, 0 to destroy.\n"
    result = cli("apply", "--auto-approve", "--target", "Brand voice")
    assert result.code == 0, result.all
    assert writes(emulator) == [("POST", "/voices/clone", CLONE_BODY)]
    assert emulator.state.list_assistants() == []
    # the clone now exists: the assistant alone can be targeted
    voice_id = str(clones(emulator)["Brand voice"]["id"])
    desk = cli("plan", "--target", "Brand desk")
    assert desk.out == CREATE_DESK.replace('"(known after apply)"', f'"{voice_id}"') + (
        "\nPlan: 1 to add, 0 to change, 0 to destroy.\n"
    )


def test_target_an_assistant_whose_clone_is_not_created_yet(cli, emulator, project):
    expected = (
        'assistants/desk.yaml:1:7: assistant "Brand desk" needs voice "Brand voice", which does not exist yet '
        "and this plan does not create it (add it to --target, or plan without --target)\n1 error.\n"
    )
    for command in (("plan",), ("apply", "--auto-approve")):
        result = cli(*command, "--target", "Brand desk")
        assert (result.code, result.out, result.err) == (1, "", expected)
    assert writes(emulator) == []
    both = cli("apply", "--auto-approve", "--target", "Brand desk", "--target", "Brand voice")
    assert both.code == 0, both.all
    assert [(m, p) for m, p, _ in writes(emulator)] == [("POST", "/voices/clone"), ("POST", "/assistants")]


# --- 9. the audio never leaves the request ---------------------------------------------------------------


def test_the_audio_is_never_shown_nor_saved(cli, emulator, project):
    """A sample is sent, base64, in the clone request only: never in any output or saved plan (it can be
    megabytes)."""
    shown = ""
    for fmt in ("text", "json", "markdown"):
        plan = cli("plan", "--format", fmt)
        assert plan.code == 0, plan.all
        shown += plan.all
    document = json.loads(cli("plan", "--format", "json").out)
    [voice_action, _] = document["actions"]
    assert voice_action == {
        "kind": "voice",
        "action": "create",
        "name": "Brand voice",
        "id": None,
        "file": "assistants/voices.yaml",
        "changes": [
            {"path": "language", "before": None, "after": "en"},
            {
                "path": "sample",
                "before": None,
                "after": f"assistants/samples/brand.wav (audio/wav, {SIZE} bytes)",
            },
        ],
        "notes": [],
    }
    saved = cli("plan", "--out", "plan.json")
    assert saved.code == 0, saved.all
    applied = cli("-v", "apply", "--auto-approve", "plan.json")
    assert applied.code == 0, applied.all
    shown += saved.all + applied.all + (project / "plan.json").read_text(encoding="utf-8")
    assert [r.body for r in emulator.requests if r.path == "/voices/clone"] == [CLONE_BODY]
    assert AUDIO not in shown
    assert AUDIO[:16] not in shown


def test_a_missing_sample_matters_only_when_the_voice_must_be_cloned(cli, emulator, project):
    """After an import the sample cannot be had: plan and apply work for a voice the account has;
    validate (offline, it cannot tell) and a clone that must be created report it."""
    converged(cli, emulator)
    (project / "assistants/samples/brand.wav").unlink()
    assert cli("plan", "--detailed-exitcode").code == 0
    missing = "assistants/voices.yaml:4:13: voice 'Brand voice': sample 'samples/brand.wav': cannot read: No such file or directory"
    checked = cli("validate")
    assert (checked.code, checked.err) == (1, f"{missing}\n1 error.\n")
    emulator.state.delete_assistant(emulator.state.list_assistants()[0]["id"])
    emulator.state.delete_voice(str(clones(emulator)["Brand voice"]["id"]))
    planned = cli("plan")
    assert (planned.code, planned.err) == (1, f"{missing}\n1 error.\n")


def test_a_misspelt_clone_gets_a_did_you_mean_and_json_marks_an_id_not_known_yet(cli, emulator, project):
    write(project / "assistants/desk.yaml", DESK.replace("clone: Brand voice", "clone: Brand vioce"))
    checked = cli("validate")
    assert checked.code == 1
    assert (
        "voice.clone: no voice named 'Brand vioce' in voices.yaml; did you mean 'Brand voice'?" in checked.err
    )
    write(project / "assistants/desk.yaml", DESK)
    doc = json.loads(cli("plan", "--format", "json").out)
    [desk] = [a for a in doc["actions"] if a["kind"] == "assistant"]
    [voice_id] = [c for c in desk["changes"] if c["path"] == "voice.id"]
    assert voice_id == {
        "path": "voice.id",
        "before": None,
        "after": "(known after apply)",
        "after_unknown": True,
    }

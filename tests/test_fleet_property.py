"""Property: for generated templates, extending files and rows, `render` is the expansion written out by hand
here (an independent merge), and the rendered files plan exactly as the fleet does (the real CLI, a fresh
emulator on loopback and fresh files per example)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulator_fixtures import API_KEY
from helpers import NOT_ABOUT_POLICY, Run, run_cli, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revox_sync.emulator import EmulatorServer

VOICE_ID = "a0e99841-438c-4a64-b679-ae501e7d6091"
TEXT = st.text(alphabet="abcdefgh XYZ.,!?'-\n", min_size=1, max_size=40)
WITH_CITY = st.sampled_from(["Hello from ${each.city}.", "${each.city}: how can I help?", "Hi"])
RETRY = st.fixed_dictionaries(
    {},
    optional={
        "max_retry_attempts": st.integers(1, 5),
        "timezone": st.sampled_from(["America/Chicago", "Europe/Paris", "Asia/Tokyo"]),
        "call_twice_in_a_row": st.booleans(),
        "allowed_days": st.lists(st.sampled_from(["monday", "friday", "sunday"]), unique=True, max_size=3),
    },
)
SPEED = st.integers(60, 150).map(lambda n: n / 100)
TEMPLATE = st.fixed_dictionaries(
    {
        "prompt": TEXT,
        "voice": st.fixed_dictionaries({"provider": st.just("cartesia"), "id": st.just(VOICE_ID)}),
    },
    optional={
        "max_call_duration_secs": st.integers(1, 3600),
        "call_retry_config": RETRY,
        "first_sentence": WITH_CITY,
    },
).flatmap(lambda t: SPEED.map(lambda s: {**t, "voice": {**t["voice"], "speed": s}}))
OVERRIDE = st.fixed_dictionaries(
    {"name": st.sampled_from(["${each.city} receptionist", "Harbor Dental ${each.city}"])},
    optional={
        "prompt": TEXT,
        "voice": st.fixed_dictionaries({"speed": SPEED}),
        "max_call_duration_secs": st.integers(1, 3600),
        "call_retry_config": RETRY,
        "first_sentence": WITH_CITY | st.none(),
    },
)
CITIES = st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=4), min_size=1, max_size=8, unique=True)


def merged(base: Any, over: Any) -> Any:
    """The merge rule as the README states it: mappings key by key, anything else (null too) replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: merged(base[k], v) if k in base else v for k, v in over.items()}}
    return over


def filled(value: Any, city: str) -> Any:
    if isinstance(value, dict):
        return {k: filled(v, city) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, city) for v in value]
    return value.replace("${each.city}", city) if isinstance(value, str) else value


def yaml_of(data: dict[str, Any], head: str = "") -> str:
    """A YAML file of `data` (JSON values are YAML flow values), after `head`."""
    return head + "".join(f"{key}: {json.dumps(value)}\n" for key, value in data.items())


@contextmanager
def inside(directory: Path) -> Iterator[None]:
    """Run from `directory` (a fresh project: its `.git` stops the search for a project file)."""
    (directory / ".git").mkdir()
    before = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)


def ok(run: Run) -> str:
    assert (run.code, run.err) == (0, ""), run.all
    return run.out


def plan_actions(url: str, directory: str) -> list[dict[str, Any]]:
    """The JSON plan's actions, less the file each came from, each change by its path: `render` writes
    `name` first, so a create's changes may come in another order than the fleet file's keys."""
    run = run_cli("--base-url", url, "--api-key", API_KEY, "plan", "-d", directory, "--format", "json")
    assert run.code == 0, run.all
    return [
        {**{k: v for k, v in a.items() if k != "file"}, "changes": {c["path"]: c for c in a["changes"]}}
        for a in json.loads(run.out)["actions"]
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=TEMPLATE, override=OVERRIDE, cities=CITIES, from_csv=st.booleans())
def test_render_is_the_expansion_and_plans_as_the_fleet(
    template: dict[str, Any], override: dict[str, Any], cities: list[str], from_csv: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp, inside(Path(tmp)), EmulatorServer(api_key=API_KEY) as server:
        write("revox-sync.yaml", NOT_ABOUT_POLICY)
        write("assistants/templates/receptionist.yaml", yaml_of(template))
        if from_csv:
            write("assistants/clinics.csv", "city\n" + "".join(f"{c}\n" for c in cities))
            rows = "for_each: !file clinics.csv\n"
        else:
            rows = f"for_each: {json.dumps([{'city': c} for c in cities])}\n"
        write("assistants/fleet.yaml", yaml_of(override, "extends: templates/receptionist.yaml\n" + rows))

        expected = [filled(merged(template, override), city) for city in cities]
        assert json.loads(ok(run_cli("render", "--format", "json"))) == expected

        documents = [d for d in ok(run_cli("render")).split("---\n") if d.strip()]
        for i, document in enumerate(documents):
            write(f"plain/assistant-{i}.yaml", document)
        assert json.loads(ok(run_cli("render", "-d", "plain", "--format", "json"))) == expected
        assert plan_actions(server.url, "plain") == plan_actions(server.url, "assistants")
        applied = run_cli("--base-url", server.url, "--api-key", API_KEY, "apply", "--auto-approve")
        assert applied.code == 0, applied.all
        again = run_cli(
            "--base-url", server.url, "--api-key", API_KEY, "plan", "-d", "plain", "--detailed-exitcode"
        )
        assert again.code == 0, again.all

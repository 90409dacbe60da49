"""Fixtures shared by every test: a real emulator on loopback, a real CLI run, real files in tmp dirs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY, client, emulator, sdk_contract  # noqa: F401  (fixtures)
from helpers import Run, run_cli
from hypothesis import settings

RunCli = Callable[..., Run]

# In CI the property tests draw the same examples every run, so a landing never depends on luck; locally
# each run explores new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the tmp dir (messages show paths relative to it); its `.git` stops project-file discovery."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir(exist_ok=True)
    return tmp_path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh project directory as the current directory, with an empty `assistants/`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assistants").mkdir()
    for name in ("REVOX_API_KEY", "REVOX_BASE_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def cli(emulator, sdk_contract) -> Iterator[RunCli]:  # noqa: F811
    """Run revox-sync against the emulator: `cli("plan")` -> Run; every body sent must fit the SDK."""

    def run(*args: str, **kwargs: object) -> Run:
        return run_cli("--base-url", emulator.url, "--api-key", API_KEY, *args, **kwargs)  # type: ignore[arg-type]

    yield run

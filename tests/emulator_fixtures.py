"""Shared pytest fixtures: a started emulator on a loopback port and a client wired to it.

Import them from `tests/conftest.py`:  `from tests.emulator_fixtures import emulator, client, API_KEY`
(or `from emulator_fixtures import ...` when tests/ is on sys.path).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from revox_sync.client import RevoxClient
from revox_sync.emulator import EmulatorServer

API_KEY = "test-key-123"


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A started emulator requiring `Authorization: Bearer test-key-123`; stopped after the test."""
    with EmulatorServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[RevoxClient]:
    """A RevoxClient against `emulator`, with tiny backoff so retry tests run fast."""
    with RevoxClient(API_KEY, emulator.url, backoff_base=0.01, max_retry_seconds=5.0, timeout=5.0) as c:
        yield c

"""Shared pytest fixtures: a started emulator on a loopback port and a client wired to it.

Import them from `tests/conftest.py`:
`from tests.emulator_fixtures import API_KEY, client, emulator, sdk, sdk_contract`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
    """A RevoxClient against `emulator`, with tiny backoff and looks so retry tests run fast."""
    with RevoxClient(
        API_KEY, emulator.url, backoff_base=0.01, max_retry_seconds=5.0, timeout=5.0, recheck_interval=0.01
    ) as c:
        yield c


@pytest.fixture
def sdk(emulator: EmulatorServer) -> Iterator[Any]:
    """The official SDK (revox 0.5.0) against `emulator`, validating every answer strictly, never retrying."""
    revox = pytest.importorskip("revox")
    with revox.Revox(
        api_key=API_KEY, base_url=emulator.url, _strict_response_validation=True, max_retries=0
    ) as sdk_client:
        yield sdk_client


# -- the official SDK as the judge of what revox-sync sends ----------------------------------------------


def sdk_type_errors(value: object, tp: object, path: str = "") -> list[str]:
    """Every way `value` fails the SDK TypedDict type `tp` (unknown keys, missing keys, wrong types)."""
    import collections.abc
    import typing

    import typing_extensions

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    where = path or "body"
    if tp is typing.Any or tp is object:
        return []
    if tp is type(None):
        return [] if value is None else [f"{where}: expected null"]
    if origin is typing.Union:
        options = [sdk_type_errors(value, arg, path) for arg in args]
        if any(not errs for errs in options):
            return []
        return min(options, key=len)
    if origin is typing.Literal:
        return [] if value in args else [f"{where}: {value!r} is not one of {list(args)}"]
    if typing_extensions.is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        hints = typing.get_type_hints(tp)
        # The SDK's modules use `from __future__ import annotations`, so `__required_keys__` is empty:
        # find `Required[...]` in the annotations themselves.
        extras = typing.get_type_hints(tp, include_extras=True)
        required = [k for k, h in extras.items() if typing.get_origin(h) is typing_extensions.Required]
        errors = [f"{where}: unknown key {k!r}" for k in value if k not in hints]
        errors += [f"{where}: missing required key {k!r}" for k in required if k not in value]
        for key, item in value.items():
            if key in hints:
                errors += sdk_type_errors(item, hints[key], f"{path}.{key}" if path else key)
        return errors
    if origin in (list, collections.abc.Iterable, collections.abc.Sequence) or (
        origin is not None and getattr(origin, "__name__", "") == "SequenceNotStr"
    ):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [e for i, item in enumerate(value) for e in sdk_type_errors(item, args[0], f"{where}[{i}]")]
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
    if tp is int:
        return (
            []
            if isinstance(value, int) and not isinstance(value, bool)
            else [f"{where}: expected an integer"]
        )
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected a number"]
    if tp is str:
        return [] if isinstance(value, str) else [f"{where}: expected a string"]
    raise TypeError(f"sdk_type_errors: unsupported type {tp!r} at {where}")


# Fields the seed documents and SDK 0.5.0 no longer lists; the contract says they are sent as written.
SEED_ONLY_FIELDS = frozenset({"transfer_phone_number"})
# Top-level fields the seed (PATCH page) documents as Optional while the SDK's params do not take null; the
# seed wins on meaning, so `field: null` (clear / reset to default) is a valid write for these.
SEED_NULLABLE_FIELDS = frozenset(
    {
        "call_retry_config",
        "end_of_call_sentence",
        "faq_items",
        "first_sentence",
        "first_sentence_delay_ms",
        "first_sentence_mode",
        "ivr_navigation_enabled",
        "llm_model",
        "max_call_duration_secs",
        "structured_output_config",
        "voice",
        "webhook_url",
    }
)


def sdk_request_errors(method: str, path: str, body: object) -> list[str]:
    """What is wrong with a request body according to the SDK's params TypedDicts (empty when fine)."""
    import re

    from revox.types import (
        AssistantCreateParams,
        AssistantUpdateParams,
        PhoneNumberUpdateParams,
        VoiceCloneParams,
    )

    if method == "POST" and path == "/voices/clone" and isinstance(body, dict):
        # VoiceCloneParams names the MIME type `content_type`; the SDK sends it as `contentType` (its alias).
        errors = []
        if "content_type" in body:
            errors.append("body: unknown key 'content_type' (the wire key is 'contentType')")
        typed = {
            "content_type" if k == "contentType" else k: v for k, v in body.items() if k != "content_type"
        }
        for error in sdk_type_errors(typed, VoiceCloneParams):
            where, _, what = error.partition(": ")
            where = "contentType" if where == "content_type" else where
            errors.append(f"{where}: " + what.replace("key 'content_type'", "key 'contentType'"))
        return [f"{method} {path}: {e}" for e in errors]
    if method == "POST" and path == "/assistants":
        tp: object = AssistantCreateParams
    elif method == "PATCH" and re.fullmatch(r"/assistants/[^/]+", path):
        tp = AssistantUpdateParams
    elif method == "PATCH" and re.fullmatch(r"/phone-numbers/[^/]+", path):
        tp = PhoneNumberUpdateParams
    else:
        return [] if body is None else [f"{method} {path}: unexpected body"]
    if isinstance(body, dict):
        body = {
            k: v
            for k, v in body.items()
            if k not in SEED_ONLY_FIELDS and not (v is None and k in SEED_NULLABLE_FIELDS)
        }
    return [f"{method} {path}: {e}" for e in sdk_type_errors(body, tp)]


@pytest.fixture
def sdk_contract(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The `emulator`, plus a check at teardown that every request body it received fits the SDK's params."""
    yield emulator
    errors = [e for r in emulator.requests for e in sdk_request_errors(r.method, r.path, r.body)]
    assert not errors, "request bodies the official SDK would not accept:\n" + "\n".join(errors)

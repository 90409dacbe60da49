"""Property: any valid assistant, once applied, plans no changes; one field edited is one PATCH of that field.

Runs the real pipeline (spec check, normalize, diff, plan, apply, client) against the emulator on a socket.
"""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff
from helpers import apply_all, plan_assistants
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revox_sync.client import RevoxClient
from revox_sync.emulator import EmulatorServer
from revox_sync.engine.change import Desired
from revox_sync.kinds.assistant.checks import check_assistant
from revox_sync.kinds.assistant.normalize import canonical_assistant

WORDS = (
    st.text(alphabet=st.sampled_from("abcdefghij klmnoé—ü"), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
TEXT = st.lists(WORDS, min_size=1, max_size=4).map("\n".join)
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
OUTCOMES = ["not_interested", "interested", "completed", "requested_callback_later", "none"]


def _time(hour: int, twelve: bool) -> str:
    if not twelve:
        return f"{hour:02d}:00"
    return f"{hour % 12 or 12}{'am' if hour < 12 else 'pm'}"


@st.composite
def voices(draw: st.DrawFn) -> dict[str, Any]:
    provider = draw(st.sampled_from(["cartesia", "elevenlabs", "gradium"]))
    low, high = {"cartesia": (0.6, 1.5), "elevenlabs": (0.7, 1.2), "gradium": (0.6, 1.5)}[provider]
    voice: dict[str, Any] = {"provider": provider, "id": draw(st.sampled_from(["v-1", "v-2"]))}
    if draw(st.booleans()):
        voice["speed"] = draw(st.integers(int(low * 10), int(high * 10))) / 10
    if provider == "cartesia" and draw(st.booleans()):
        voice["model"] = draw(st.sampled_from(["sonic-3", "sonic-3.5"]))
    return voice


@st.composite
def retry_configs(draw: st.DrawFn) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if draw(st.booleans()):
        config["allowed_days"] = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))
    if draw(st.booleans()):
        start = draw(st.integers(6, 11))
        config["calling_windows"] = [
            {
                "calling_window_start_time": _time(start, draw(st.booleans())),
                "calling_window_end_time": _time(draw(st.integers(13, 20)), draw(st.booleans())),
                "retry_delay_seconds": draw(st.integers(60, 7200)),
            }
        ]
    if draw(st.booleans()):
        config["max_retry_attempts"] = draw(st.integers(1, 5))
    return config


LLMS = st.one_of(
    st.just({"type": "dedicated-instance", "name": "gpt-4.1"}),
    st.builds(
        lambda m: {"type": "openrouter", "openrouter_model_id": m, "openrouter_provider": "openai"},
        st.sampled_from(["openai/gpt-4.1", "meta/llama"]),
    ),
    st.just(
        {"type": "custom", "api_url": "https://llm.example.com/v1", "model_name": "m", "api_key": "sk-1"}
    ),
)
FAQS = st.lists(
    st.builds(lambda q, a: {"question": q, "answer": a}, WORDS, WORDS),
    max_size=4,
    unique_by=lambda f: f["question"],
)
TOOLS = st.lists(
    st.builds(
        lambda name, method, header: {
            "name": name,
            "description": "Look the caller up",
            "url": "https://crm.example.com/{{phone}}",
            "method": method,
            **({"headers": [{"key": "Authorization", "value": header}]} if header else {}),
        },
        st.sampled_from(["crm_lookup", "check_stock"]),
        st.sampled_from(["GET", "POST"]),
        st.one_of(st.none(), st.just("Bearer t0k")),
    ),
    max_size=2,
    unique_by=lambda t: t["name"],
)
OPTIONAL_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "custom_tools": TOOLS,
    "stt_context": st.builds(
        lambda terms: {"terms": terms, "general": [{"key": "company", "value": "Acme"}]},
        st.lists(WORDS, max_size=3, unique=True),
    ),
    "voice": voices(),
    "call_retry_config": retry_configs(),
    "llm_model": LLMS,
    "faq_items": FAQS,
    "first_sentence": WORDS,
    "max_call_duration_secs": st.integers(30, 3600),
    "first_sentence_delay_ms": st.integers(0, 2000),
    "thinking_sound_probability": st.sampled_from([0, 0.25, 1]),
    "ivr_navigation_enabled": st.booleans(),
    "after_call_sms_outcomes": st.lists(st.sampled_from(OUTCOMES), unique=True, max_size=3),
    "transfer_destinations": st.lists(
        st.builds(lambda i: {"label": f"Desk {i}", "phone_number": f"+1415555{i:04d}"}, st.integers(0, 99)),
        max_size=2,
        unique_by=lambda d: d["label"],
    ),
    "structured_output_config": st.lists(
        st.builds(
            lambda n, r: {"name": n, "required": r, "type": "string"},
            st.sampled_from(["email", "company"]),
            st.booleans(),
        ),
        max_size=2,
        unique_by=lambda s: s["name"],
    ),
}


@st.composite
def assistants(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Bot " + draw(WORDS), "prompt": draw(TEXT)}
    for field in draw(st.lists(st.sampled_from(sorted(OPTIONAL_FIELDS)), unique=True)):
        data[field] = draw(OPTIONAL_FIELDS[field])
    return data


def _plan(client: RevoxClient, data: dict[str, Any]):
    spec, issues = check_assistant(data)
    assert spec is not None, issues
    desired = Desired("assistant", data["name"], data)
    return plan_assistants([desired], client.list_assistants())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=assistants(), edit=st.data())
def test_applied_assistant_converges_and_one_edit_is_one_patch(
    data: dict[str, Any], edit: st.DataObject
) -> None:
    with EmulatorServer() as emulator, RevoxClient(None, emulator.url) as client:
        results = apply_all(_plan(client, data), client)
        assert all(r.ok and not r.not_stored for r in results), results
        assert not _plan(client, data).has_changes

        field = edit.draw(st.sampled_from(sorted(OPTIONAL_FIELDS)), label="field")
        value = edit.draw(OPTIONAL_FIELDS[field], label="value")
        edited = {**data, field: value}
        [remote] = client.list_assistants()
        # DeepDiff, an independent referee, says whether the edit differs from what the server holds.
        expect_change = bool(
            DeepDiff(canonical_assistant(edited, [field]), canonical_assistant(remote, [field]))
        )
        emulator.clear_requests()
        plan = _plan(client, edited)
        if not expect_change:
            assert not plan.has_changes
            return
        [action] = plan.actions
        assert action.op == "update" and list(action.body) == [field]
        apply_all(plan, client)
        writes = [r for r in emulator.requests if r.method != "GET"]
        assert [(r.method, list(r.body)) for r in writes] == [("PATCH", [field])]
        assert not _plan(client, edited).has_changes

"""The pure middle: normalize, diff, plan, render, apply's bookkeeping. No network, no files."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import apply_all, plan_assistants
from hypothesis import given
from hypothesis import strategies as st
from test_convergence_property import OPTIONAL_FIELDS

from revox_sync.client import UpdateResult
from revox_sync.engine.change import ABSENT, Desired
from revox_sync.engine.plan import public_value, safety_violation
from revox_sync.engine.render import JsonRenderer, MarkdownRenderer, TextRenderer
from revox_sync.engine.saved import check_fresh, read_saved
from revox_sync.errors import ApiError, ConfigErrors, FatalError, StalePlanError
from revox_sync.kinds.assistant.normalize import (
    RULES,
    canonical,
    canonical_assistant,
    complete,
    diff_assistant,
)


def remote(name: str, ident: str, **fields: Any) -> dict[str, Any]:
    return {"id": ident, "name": name, "prompt": "p", **fields}


# --- normalize --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "a", "b"),
    [
        (
            "call_retry_config",
            {"calling_windows": [{"calling_window_start_time": "9am", "calling_window_end_time": "6:30PM"}]},
            {
                "calling_windows": [
                    {
                        "calling_window_start_time": "09:00",
                        "calling_window_end_time": "18:30",
                        "retry_delay_seconds": 7200,
                    }
                ],
                "allowed_days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "call_twice_in_a_row": False,
                "max_retry_attempts": 3,
                "timezone": None,
            },
        ),
        ("max_call_duration_secs", 300, 300.0),
        ("after_call_sms_outcomes", ["completed", "interested"], ["interested", "completed"]),
        ("after_call_sms_outcomes", None, []),
        (
            "voice",
            {"provider": "cartesia", "id": "v"},
            {"provider": "cartesia", "id": "v", "speed": 1, "model": "sonic-3"},
        ),
        (
            "faq_items",
            [{"question": "Q", "answer": "A"}],
            [
                {
                    "question": "Q",
                    "answer": "A",
                    "id": "faq_1",
                    "source": "human",
                    "needs_human_answer": False,
                },
                {"question": "S", "answer": "", "source": "ai", "needs_human_answer": True},
            ],
        ),
    ],
)
def test_equivalent_forms_compare_equal(field: str, a: Any, b: Any) -> None:
    assert canonical(field, a) == canonical(field, b)


def test_rules_table_names_real_fields() -> None:
    from revox_sync.kinds.assistant.spec import AssistantSpec

    for path in RULES:
        assert path.split(".")[0].split("[")[0] in AssistantSpec.model_fields, path


def test_complete_keeps_what_the_user_wrote_and_fills_defaults() -> None:
    body = complete("call_retry_config", {"calling_windows": [{"calling_window_start_time": "9am"}]})
    assert body["calling_windows"][0]["calling_window_start_time"] == "9am"
    assert body["allowed_days"] == ["monday", "tuesday", "wednesday", "thursday", "friday"]
    assert body["call_twice_in_a_row"] is False


@given(st.sampled_from(sorted(OPTIONAL_FIELDS)).flatmap(lambda f: st.tuples(st.just(f), OPTIONAL_FIELDS[f])))
def test_canonical_is_idempotent_and_complete_preserves_meaning(field_value: tuple[str, Any]) -> None:
    field, value = field_value
    once = canonical(field, value)
    assert canonical(field, once) == once
    assert canonical(field, complete(field, value)) == once


# --- diff -------------------------------------------------------------------------------------------------
def test_keyed_insertion_is_one_added_item() -> None:
    before = {"faq_items": [{"question": f"Q{i}", "answer": "a"} for i in range(3)]}
    after = {"faq_items": [{"question": "NEW", "answer": "n"}, *before["faq_items"]]}
    fields, changes = diff_assistant(
        canonical_assistant(after, ["faq_items"]), canonical_assistant(before, ["faq_items"])
    )
    assert fields == ["faq_items"]
    assert [(c.path, c.before) for c in changes] == [('faq_items["NEW"]', ABSENT)]


def test_order_of_an_ordered_keyed_list_is_a_change() -> None:
    a = [
        {"label": "Sales", "phone_number": "+14155550001"},
        {"label": "Support", "phone_number": "+14155550002"},
    ]
    fields, changes = diff_assistant({"transfer_destinations": a[::-1]}, {"transfer_destinations": a})
    assert fields == ["transfer_destinations"]
    assert [c.path for c in changes] == ["transfer_destinations (order)"]


def test_secrets_are_redacted_inside_objects() -> None:
    tool = {"name": "crm", "description": "d", "url": "https://x", "method": "GET"}
    after = {"custom_tools": [tool | {"headers": [{"key": "Authorization", "value": "Bearer s3cret"}]}]}
    _, changes = diff_assistant(canonical_assistant(after, ["custom_tools"]), {})
    assert "s3cret" not in json.dumps([public_value(c, c.after) for c in changes])
    assert 'custom_tools["crm"].headers["Authorization"].value' in [c.path for c in changes if c.sensitive]
    _, changes = diff_assistant({"webhook_url": "https://h/abc"}, {"webhook_url": None}, [("webhook_url",)])
    assert changes[0].sensitive


def test_text_changes_are_line_diffs() -> None:
    _, [change] = diff_assistant({"prompt": "a\nb\nc\n"}, {"prompt": "a\nB\nc\n"})
    assert change.is_text and change.line_counts() == (1, 1)
    assert change.text_diff()[1:] == [" a", "-B", "+b", " c"]


# --- plan -------------------------------------------------------------------------------------------------
def test_safety_limit_thresholds() -> None:
    updates = [Desired("assistant", f"B{i}", {"name": f"B{i}", "prompt": "new"}) for i in range(4)]
    for existing, touched, refused in [(9, 4, False), (10, 3, False), (10, 4, True)]:
        plan = plan_assistants(updates[:touched], [remote(f"B{i}", f"a{i}") for i in range(existing)])
        assert (safety_violation(plan) is not None) is refused


def test_prune_counts_toward_the_safety_limit() -> None:
    keep = [Desired("assistant", f"B{i}", {"name": f"B{i}", "prompt": "p"}) for i in range(6)]
    plan = plan_assistants(keep, [remote(f"B{i}", f"a{i}") for i in range(10)], prune=True)
    assert plan.summary == {"add": 0, "change": 0, "destroy": 4}
    assert safety_violation(plan)


def test_create_needs_a_prompt() -> None:
    with pytest.raises(ConfigErrors, match="'prompt' is required to create"):
        plan_assistants([Desired("assistant", "New", {"name": "New"})], [])


def test_saved_plan_checksum_and_staleness() -> None:
    desired = [Desired("assistant", "A", {"name": "A", "prompt": "new"})]
    plan = plan_assistants(desired, [remote("A", "a1")])
    doc = read_saved(json.dumps(plan.to_dict()), "plan.json")
    check_fresh(doc, plan_assistants(desired, [remote("A", "a1")]))
    with pytest.raises(StalePlanError, match='remote assistant\\(s\\) changed: "A" \\(a1\\)'):
        check_fresh(doc, plan_assistants(desired, [remote("A", "a1", first_sentence="x")]))
    with pytest.raises(StalePlanError, match='"B" \\(a2\\) \\(new\\)'):
        check_fresh(doc, plan_assistants(desired, [remote("A", "a1"), remote("B", "a2")]))
    doc["summary"]["change"] = 0
    with pytest.raises(FatalError, match="checksum mismatch"):
        read_saved(json.dumps(doc), "plan.json")


# --- render -----------------------------------------------------------------------------------------------
def test_renderers_read_the_same_plan() -> None:
    desired = [
        Desired(
            "assistant", "A|B", {"name": "A|B", "prompt": "p", "voice": {"provider": "cartesia", "id": "v"}}
        ),
        Desired("assistant", "New", {"name": "New", "prompt": "line 1\nline 2\n"}),
    ]
    plan = plan_assistants(desired, [remote("A|B", "a1"), remote("Gone", "a9")], prune=True)
    text = TextRenderer().render(plan)
    assert '  ~ assistant "A|B" (a1) will be updated in-place' in text
    assert "      ~ voice: null -> " in text and '  - assistant "Gone" (a9) will be destroyed' in text
    assert "      + prompt: text (2 lines)" in text
    assert text.endswith("Plan: 1 to add, 1 to change, 1 to destroy.")
    assert "| ~ | assistant | `A\\|B` | `a1` | update | `voice` |" in MarkdownRenderer().render(plan)
    doc = json.loads(JsonRenderer().render(plan))
    assert [a["action"] for a in doc["actions"]] == ["create", "update", "delete"]


# --- apply, against a fake client with the real client's interface ----------------------------------------
class FakeClient:
    """Stores what it is sent, except where told to alter or fail, like a server with its own mind."""

    def __init__(self, alter: dict[str, Any] | None = None, fail: set[str] | None = None) -> None:
        self.alter, self.fail, self.sent = alter or {}, fail or set(), []

    def update_assistant(self, ident: str, body: dict[str, Any]) -> UpdateResult:
        self.sent.append((ident, body))
        if ident in self.fail:
            raise ApiError("the API rejected PATCH (400): nope", status_code=400)
        if ident == "boom":
            raise RuntimeError("bug")
        return UpdateResult({"id": ident, **body, **self.alter}, None)


def test_apply_reports_fields_not_stored_as_sent_and_keeps_going() -> None:
    desired = [
        Desired("assistant", n, {"name": n, "prompt": "new", "max_call_duration_secs": 300}) for n in "ABC"
    ]
    remotes = [remote("A", "a"), remote("B", "bad"), remote("C", "boom")]
    client = FakeClient(alter={"max_call_duration_secs": 600.0}, fail={"bad"})
    results = apply_all(plan_assistants(desired, remotes), client, 2)  # type: ignore[arg-type]
    by_name = {r.action.name: r for r in results}
    assert by_name["A"].ok
    assert by_name["A"].not_stored == ["max_call_duration_secs (sent 300, stored 600)"]
    assert not by_name["B"].ok and "nope" in (by_name["B"].error or "")
    assert not by_name["C"].ok and "RuntimeError" in (by_name["C"].error or "")
    assert len(client.sent) == 3


def test_prune_never_destroys_a_sub_assistant() -> None:
    keep = [Desired("assistant", "Flow", {"name": "Flow", "prompt": "p"})]
    remotes = [remote("Flow", "a1"), remote("Step 1", "a2", type="sub-assistant"), remote("Stray", "a3")]
    plan = plan_assistants(keep, remotes, prune=True)
    assert [(a.op, a.id) for a in plan.actions] == [("delete", "a3")]


def test_one_run_reports_every_problem_of_a_file() -> None:
    from revox_sync.kinds.assistant.checks import check_assistant

    data = {
        "name": "x",
        "voice": {"provider": "cartesia", "id": "v", "speed": 1.9},
        "first_sentence_mode": "bogus",
        "call_retry_config": {"calling_windows": [{"calling_window_start_time": "abc"}]},
    }
    spec, issues = check_assistant(data)
    assert spec is None
    assert [i.loc for i in issues] == [
        ("voice", "speed"),
        ("first_sentence_mode",),
        ("call_retry_config", "calling_windows", 0, "calling_window_start_time"),
    ]


def test_a_secret_in_a_sorted_list_hides_the_whole_list() -> None:
    data = {"faq_items": [{"question": "b", "answer": "x"}, {"question": "a", "answer": "s3cr3t-answer"}]}
    _, changes = diff_assistant(
        canonical_assistant(data, ["faq_items"]), {"faq_items": []}, [("faq_items", 1, "answer")]
    )
    assert changes and all(c.sensitive for c in changes)
    assert "s3cr3t" not in json.dumps([public_value(c, c.after) for c in changes])

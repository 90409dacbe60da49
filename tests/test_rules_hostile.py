"""Policy rules against a hostile user: text that only looks like a suppression comment."""

from __future__ import annotations

import pytest
from test_rules_cli import TCPA, assistant, edit, fails, passes, validate

pytestmark = pytest.mark.usefixtures("in_tmp")


# --- suppressions are comments, never text ----------------------------------------------------------------
def test_suppression_text_inside_a_value_silences_nothing() -> None:
    """A quoted string (or a block of prompt text) that holds `# revox-sync: ignore[...]` is a value: the
    finding on its line stays."""
    quoted = edit(
        (
            "voicemail_message: This is Acme. Call us back at +1 415 555 0100.",
            'voicemail_message: "This is Acme # revox-sync: ignore[voicemail-callback] in the text"',
        )
    )
    block = edit(
        (
            "voicemail_message: This is Acme. Call us back at +1 415 555 0100.",
            "voicemail_message: |\n  This is Acme.\n  # revox-sync: ignore[voicemail-callback] in the text",
        )
    )
    for text in (quoted, block):
        assistant(text)
        run = validate("--show-suppressed")
        fails(
            run,
            "assistants/caller.yaml:4:20: [voicemail-callback] voicemail_message: gives no number to call back "
            "(a phone number of 10 or more digits, or a {{...phone...}} placeholder)",
        )


def test_a_real_comment_after_a_value_holding_a_hash_still_suppresses() -> None:
    assistant(
        edit(
            (
                "voicemail_message: This is Acme. Call us back at +1 415 555 0100.",
                'voicemail_message: "This is Acme #1"  # revox-sync: ignore[voicemail-callback] they call us',
            )
        )
    )
    passes(validate())


# --- windows past midnight --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "end", "column", "shown"),
    [
        ('"22:00"', '"07:00"', 69, "22:00 to 07:00"),
        ('"6pm"', '"12am"', 67, "18:00 to 00:00"),  # "until midnight" in 12-hour time
        ('"09:00"', '"09:00"', 69, "09:00 to 09:00"),
    ],
)
def test_a_window_that_ends_before_it_starts_is_outside_the_hours(
    start: str, end: str, column: int, shown: str
) -> None:
    """The API may read such a window as crossing midnight, calling all night: the rule refuses to pass it."""
    assistant(edit(('"09:00"', start), ('"20:00"', end)))
    run = validate()
    assert run.code == 1, run.all
    assert (
        f"assistants/caller.yaml:8:{column}: [calling-hours] call_retry_config.calling_windows[0]."
        f"calling_window_end_time: the window ends before it starts: read as crossing midnight, it calls from "
        f"{shown}, outside 08:00–21:00 {TCPA}"
    ) in run.err.splitlines()

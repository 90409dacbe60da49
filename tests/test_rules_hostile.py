"""Policy rules against a hostile user: text that only looks like a suppression comment."""

from __future__ import annotations

import pytest
from test_rules_cli import assistant, edit, fails, passes, validate

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

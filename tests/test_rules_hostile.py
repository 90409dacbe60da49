"""Policy rules against a hostile user: text that only looks like a suppression comment, windows past
midnight, retry schedules whose worst start falls between two half hours, a pattern that backtracks without
end, typographic punctuation, machine formats run below the repository root, routes by id, and the law the
rules name."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, write
from hypothesis import given, settings
from hypothesis import strategies as st
from test_rules_cli import (
    COMPLIANT,
    FLORIDA,
    FLORIDA_LAW,
    TCPA,
    assistant,
    edit,
    fails,
    passes,
    project,
    validate,
)

from revox_sync.rules import custom
from revox_sync.rules.builtin import DAYS, _windows, attempts_per_day

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


# --- retry cap: the worst start, wherever it falls ---------------------------------------------------------
def test_retry_cap_finds_the_start_that_fits_one_more_attempt() -> None:
    """Attempts at t, t (call_twice_in_a_row), t + 3h30 and the next morning's 08:00: four within 24 hours for
    any first call between 08:00 and 08:30, exclusive; a first call on the half hour gets only three."""
    project(FLORIDA)
    assistant(
        edit(
            ("max_retry_attempts: 3", "max_retry_attempts: 4\n  call_twice_in_a_row: true"),
            ('"09:00"', '"08:00"'),
            ('"20:00"', '"12:00"'),
            ("7200}", "12600}"),
        )
    )
    fails(
        validate(),
        "assistants/caller.yaml:6:23: [retry-cap] call_retry_config.max_retry_attempts: up to 4 attempts can "
        f"reach one person within 24 hours (max_retry_attempts 4, call_twice_in_a_row), above 3: {FLORIDA_LAW}",
    )


def _brute_force(crc: dict[str, Any]) -> int:
    """The most attempts within 24 hours, trying every minute of the week and a second after it as the first
    call: slow and plain, to hold the rule's count against."""
    week = 7 * 1440
    spans = sorted(
        (lap * week + DAYS.index(day) * 1440 + s, lap * week + DAYS.index(day) * 1440 + e, delay / 60)
        for lap in range(3)
        for day in crc["allowed_days"]
        for _, s, e, delay in _windows(crc)
    )

    def next_open(t: float) -> tuple[float, float] | None:
        later = [(max(t, s), w) for s, e, w in spans if e > t]
        if not later:
            return None
        at = min(a for a, _ in later)
        return at, min(w for a, w in later if a == at)

    best = 0
    for t0 in (m + f for m in range(week) for f in (0.0, 1 / 60)):
        first = next_open(t0)
        if first is None or first[0] != t0:
            continue
        times, at = [t0], first
        while len(times) < crc["max_retry_attempts"]:
            t, wait = at
            at = next_open(t + (0 if len(times) == 1 and crc["call_twice_in_a_row"] else wait))
            if at is None or at[0] >= t0 + 1440:
                break
            times.append(at[0])
        best = max(best, len(times))
    return best


@settings(max_examples=40, deadline=None)
@given(
    windows=st.lists(st.tuples(st.integers(6 * 60, 19 * 60), st.integers(1, 4 * 60)), min_size=1, max_size=2),
    delay=st.integers(60, 12 * 3600),  # one for all: overlapping windows merge with the shorter delay
    days=st.sets(st.sampled_from(DAYS), min_size=1, max_size=3),
    attempts=st.integers(2, 6),
    twice=st.booleans(),
)
def test_retry_cap_counts_as_trying_every_start(
    windows: list[tuple[int, int]], delay: int, days: set[str], attempts: int, twice: bool
) -> None:
    crc = {
        "allowed_days": sorted(days, key=DAYS.index),
        "call_twice_in_a_row": twice,
        "max_retry_attempts": attempts,
        "calling_windows": [
            {
                "calling_window_start_time": f"{s // 60:02d}:{s % 60:02d}",
                "calling_window_end_time": f"{(s + n) // 60:02d}:{(s + n) % 60:02d}",
                "retry_delay_seconds": delay,
            }
            for s, n in windows
        ],
    }
    assert attempts_per_day(crc, limit=100) == _brute_force(crc)


# --- a custom pattern that backtracks forever -------------------------------------------------------------
def test_a_pattern_that_backtracks_forever_is_an_error_in_the_project_file() -> None:
    """`^(a|aa)+$` against sixty a's and a `!` takes longer than the universe has: a pull request that adds it
    must not stall CI. validate gives up on it after a second, naming the rule and the value, exit 1."""
    assistant(edit(("This is Acme.", "This is Acme, " + "a" * 60 + "!")))
    project('rules:\n  custom:\n    - {id: no-screams, path: voicemail_message, forbid: "^(a|aa)+$"}\n')
    write(Path("assistants/other.yaml"), "name: Other\nprompt: x\nvoicemail_message: " + "a" * 60 + "!\n")
    run = subprocess.run(
        [sys.executable, "-m", "revox_sync", "validate"], capture_output=True, text=True, timeout=60
    )
    assert (run.returncode, run.stdout) == (1, ""), run.stderr
    assert run.stderr.splitlines() == [
        "revox-sync.yaml:3:57: forbid: /^(a|aa)+$/ took more than 1 s on assistants/other.yaml:3:20 "
        "(it backtracks too much): simplify the pattern",
        "1 error.",
    ]
    for fmt in ("json", "sarif", "github"):
        run = subprocess.run(
            [sys.executable, "-m", "revox_sync", "validate", "--format", fmt],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 1 and "took more than 1 s" in run.stdout and run.stderr == "", fmt


def test_the_searches_of_one_run_share_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """40 values and 2 rules, each search a tenth of a second (under the limit of one search), ran for
    seconds: all the searches of a run share a budget (made small here), and its end is one error naming the
    rule, the pattern and the file, exit 1, in every format."""
    monkeypatch.setattr(custom, "RUN_PATTERN_SECONDS", 0.5)
    project(
        "rules:\n  custom:\n"
        '    - {id: slow-a, path: voicemail_message, forbid: "^(a|aa)+$"}\n'
        '    - {id: slow-b, path: voicemail_message, forbid: "^(aa|a)+$"}\n'
    )
    for i in range(40):
        write(Path(f"assistants/f{i:02}.yaml"), f"name: F{i}\nprompt: x\nvoicemail_message: {'a' * 25}!\n")
    run = validate()
    assert (run.code, run.out) == (1, ""), run.all
    line = re.escape(
        ": the custom rules' patterns took more than 0.5 s in all (the limit of one run): simplify them"
    )
    first, last = run.err.splitlines()
    assert re.fullmatch(
        r"revox-sync\.yaml:(3:53: \[slow-a\] forbid: /\^\(a\|aa\)\+\$/|4:53: \[slow-b\] forbid: "
        r"/\^\(aa\|a\)\+\$/) on assistants/f\d\d\.yaml:3:20" + line,
        first,
    ), first
    assert last == "1 error."
    for fmt in ("json", "sarif", "github"):
        run = validate("--format", fmt)
        assert run.code == 1 and "took more than 0.5 s in all" in run.out and run.err == "", fmt
    Path("revox-sync.yaml").write_text(
        Path("revox-sync.yaml").read_text() + "environments:\n  a: {}\n  b: {}\n  c: {}\n"
    )
    run = validate("--all-envs")  # one budget for the run, spent once
    assert run.code == 1 and len(run.err.splitlines()) == 2 and "in all" in run.err, run.err


# --- machine formats ---------------------------------------------------------------------------------------
NO_CALLBACK = (
    "voicemail_message: This is Acme. Call us back at +1 415 555 0100.",
    "voicemail_message: This is Acme.  # revox-sync: ignore[voicemail-callback] they call us",
)


def test_github_lists_suppressed_findings_as_notices_with_show_suppressed() -> None:
    assistant(edit(NO_CALLBACK))
    assert run_cli("validate", "--format", "github").out == ""
    run = run_cli("validate", "--format", "github", "--show-suppressed")
    assert (run.code, run.err) == (0, "")
    assert run.out.splitlines() == [
        "::notice file=assistants/caller.yaml,line=4,col=20,title=revox-sync [voicemail-callback]::suppressed "
        "(they call us): voicemail_message: gives no number to call back (a phone number of 10 or more digits, "
        "or a {{...phone...}} placeholder)"
    ]


# --- typographic punctuation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prompt",
    [
        "If they say Don’t call me again, apologise and end the call.",  # a word processor's apostrophe
        "Honour every opt‑out request.",  # a non-breaking hyphen
        "Ｒｅｍｏｖｅ ｍｅ from the list is a request you honour.",  # fullwidth letters
    ],
)
def test_opt_out_phrases_match_whatever_the_typography(prompt: str) -> None:
    assistant(
        edit(("If the person asks not to be called again, apologise, promise it and end the call.", prompt))
    )
    passes(validate("--strict"))


@pytest.mark.parametrize("number", ["415–555–0100", "４１５ ５５５ ０１００", "+1 415 555 0100"])
def test_a_callback_number_is_found_whatever_the_dashes(number: str) -> None:
    assistant(edit(("+1 415 555 0100", number)))
    passes(validate())


# --- the law a rule names -----------------------------------------------------------------------------------
def test_ai_disclosure_names_the_disclosure_laws_that_apply_to_calls() -> None:
    """California's bot law (Bus. & Prof. Code § 17941) is about online bots; its law for calls is Pub. Util.
    Code § 2874(a)(3). Utah's 2025 disclosure sections are codified as § 13-77-103 and § 13-77-104 (enacted as
    13-75, renumbered)."""
    (line,) = [line for line in run_cli("rules").out.splitlines() if line.startswith("ai-disclosure ")]
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (row,) = [r for r in readme.splitlines() if r.startswith("| `ai-disclosure` |")]
    for text in (line, row):
        assert "FCC 24-17" in text and "Cal. Pub. Util. Code § 2874(a)(3)" in text, text
        assert "Utah Code § 13-77-103" in text and "13-75-103" not in text, text
        assert "17941" not in text or "online" in text, text


def test_sarif_and_github_paths_are_relative_to_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """A workflow step with `working-directory: infra` runs validate below the root; GitHub resolves a path
    from the root of the repository, so the paths say `infra/...`."""
    write(Path("infra/assistants/caller.yaml"), edit((NO_CALLBACK[0], "voicemail_message: This is Acme.")))
    monkeypatch.chdir("infra")
    document = json.loads(run_cli("validate", "--format", "sarif").out)
    (result,) = document["runs"][0]["results"]
    assert (
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "infra/assistants/caller.yaml"
    )
    (line,) = run_cli("validate", "--format", "github").out.splitlines()
    assert line.startswith("::error file=infra/assistants/caller.yaml,line=4,col=20,")
    assert run_cli("validate").err.startswith("assistants/caller.yaml:4:20: ")  # people read it from here


def test_transfer_to_a_number_routed_by_id_to_the_same_assistant() -> None:
    assistant(
        "id: asst_1\n"
        + COMPLIANT
        + 'transfer_destinations:\n  - {label: Desk, phone_number: "+14155550123"}\n'
    )
    write("assistants/phone_numbers.yaml", 'phone_numbers:\n  "+14155550123": {assistant_id: asst_1}\n')
    fails(
        validate(),
        "assistants/caller.yaml:11:33: [transfer-to-self] transfer_destinations[0].phone_number: transfers to "
        "+14155550123, which assistants/phone_numbers.yaml:2:3 routes to this same assistant: the call loops back",
    )
    write("assistants/phone_numbers.yaml", 'phone_numbers:\n  "+14155550123": {assistant_id: asst_2}\n')
    passes(validate())

"""Policy rules through the real CLI on real files: for every built-in rule a file that triggers it and one
that does not, suppressions, --strict, environments and name patterns, fleets, and `revox-sync rules`."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Run, run_cli, write

pytestmark = pytest.mark.usefixtures("in_tmp")

# An outbound assistant that passes every built-in rule, also with every state profile selected.
COMPLIANT = """\
name: Caller
prompt: If the person asks not to be called again, apologise, promise it and end the call.
first_sentence: Hi, this is Sam, an AI assistant calling for Acme.
voicemail_message: This is Acme. Call us back at +1 415 555 0100.
call_retry_config:
  max_retry_attempts: 3
  calling_windows:
    - {calling_window_start_time: "09:00", calling_window_end_time: "20:00", retry_delay_seconds: 7200}
"""


def validate(*args: str) -> Run:
    return run_cli("validate", *args)


def assistant(text: str = COMPLIANT, name: str = "caller.yaml") -> Path:
    return write(Path("assistants") / name, text)


def project(text: str) -> Path:
    return write(Path("revox-sync.yaml"), text)


def passes(run: Run, count: int = 1) -> None:
    assert (run.code, run.out, run.err) == (0, f"{count} assistant file{'s' * (count != 1)} valid.\n", "")


def fails(run: Run, *lines: str) -> None:
    assert run.code == 1, run.all
    assert run.out == ""
    assert run.err.splitlines() == [*lines, f"{len(lines)} error{'s' * (len(lines) != 1)}."]


def test_the_compliant_assistant_passes_every_rule_and_every_profile() -> None:
    assistant()
    passes(validate())
    project(
        "rules:\n  profiles: [florida, oklahoma, maryland, mississippi, alabama, louisiana]\n"
        "  voicemail-business: {business: [Acme]}\n"
    )
    passes(validate())


def edit(*pairs: tuple[str, str], text: str = COMPLIANT) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


FLORIDA = "rules:\n  profiles: [florida]\n"
FLORIDA_LAW = (
    "Florida (Fla. Stat. § 501.616(6)(a) (8 a.m. to 8 p.m.), § 501.616(6)(b) (3 calls per 24 hours))"
)
TCPA = "in the recipient's time zone (47 CFR 64.1200(c)(1))"
DAYS = ("  max_retry_attempts: 3\n", "  max_retry_attempts: 3\n  allowed_days: [saturday, sunday]\n")
ONCE_A_DAY = ("7200}", "86400}")
TWICE = ("  max_retry_attempts: 3\n", "  max_retry_attempts: 3\n  call_twice_in_a_row: true\n")
OWN = (
    'from_phone_number: "+14155550100"\ntransfer_destinations:\n  - {label: Desk, phone_number: "+1415555010'
)
NO_DISCLOSURE = ("Sam, an AI assistant calling for Acme", "Sam from Acme")
DISCLOSURE_LINE = "assistants/caller.yaml:3:17: [ai-disclosure] first_sentence: does not say the caller is an AI voice (none of: "

# Each error rule: the project file, a file that triggers it and what validate says, and a file that does not.
ERROR_RULES = [
    pytest.param(
        "",
        edit(('"09:00"', '"7:30am"'), ('"20:00"', '"21:30"')),
        [
            "assistants/caller.yaml:8:35: [calling-hours] call_retry_config.calling_windows[0]."
            f"calling_window_start_time: calls from 07:30, before 08:00 {TCPA}",
            "assistants/caller.yaml:8:70: [calling-hours] call_retry_config.calling_windows[0]."
            f"calling_window_end_time: calls until 21:30, after 21:00 {TCPA}",
        ],
        edit(('"20:00"', '"9pm"')),  # 21:00 is the last minute allowed
        id="calling-hours",
    ),
    pytest.param(
        FLORIDA,
        edit(('"20:00"', '"20:30"')),
        [
            "assistants/caller.yaml:8:69: [state-calling-hours] call_retry_config.calling_windows[0]."
            f"calling_window_end_time: calls until 20:30, after 20:00 in the recipient's time zone ({FLORIDA_LAW})"
        ],
        COMPLIANT,
        id="state-calling-hours",
    ),
    pytest.param(
        "rules:\n  profiles: [mississippi]\n",
        edit(DAYS),
        [
            "assistants/caller.yaml:7:28: [sunday-calls] call_retry_config.allowed_days[1]: calls on Sundays, which "
            "Mississippi (Miss. Code Ann. § 77-3-723(1) (no solicitation on a Sunday; 8 a.m. to 8 p.m.)) bans"
        ],
        edit((DAYS[0], DAYS[1].replace(", sunday", ""))),
        id="sunday-calls",
    ),
    pytest.param(
        FLORIDA,
        edit(("max_retry_attempts: 3", "max_retry_attempts: 5")),
        [
            "assistants/caller.yaml:6:23: [retry-cap] call_retry_config.max_retry_attempts: up to 5 attempts can "
            f"reach one person within 24 hours (max_retry_attempts 5), above 3: {FLORIDA_LAW}"
        ],
        # five attempts a day apart never put more than one in 24 hours
        edit(("max_retry_attempts: 3", "max_retry_attempts: 5"), ONCE_A_DAY),
        id="retry-cap",
    ),
    pytest.param(
        "rules:\n  retry-cap: {severity: error, max_per_day: 1}\n",
        edit(ONCE_A_DAY, TWICE),
        [
            "assistants/caller.yaml:6:23: [retry-cap] call_retry_config.max_retry_attempts: up to 2 attempts can "
            "reach one person within 24 hours (max_retry_attempts 3, call_twice_in_a_row), above 1: the cap set "
            "in revox-sync.yaml"
        ],
        edit(ONCE_A_DAY),
        id="retry-cap-call-twice-in-a-row",
    ),
    pytest.param(
        "",
        edit(NO_DISCLOSURE),
        [DISCLOSURE_LINE + "'AI', 'A.I.', 'artificial intelligence', 'virtual assistant', ... (5 more))"],
        edit(("an AI assistant", "Acme's virtual assistant")),
        id="ai-disclosure",
    ),
    pytest.param(
        "",
        edit(("first_sentence:", "first_sentence_mode: none\nfirst_sentence:")),
        [
            "assistants/caller.yaml:3:22: [ai-disclosure] first_sentence_mode: none: an outbound assistant must "
            "open by saying it is an AI voice"
        ],
        edit(("first_sentence:", "first_sentence_mode: static\nfirst_sentence:")),
        id="ai-disclosure-mode-none",
    ),
    pytest.param(
        "rules:\n  ai-disclosure: {phrases: [robot]}\n",
        COMPLIANT,
        [DISCLOSURE_LINE + "'robot')"],
        edit(("an AI assistant", "a friendly robot")),
        id="ai-disclosure-phrases",
    ),
    pytest.param(
        "",
        edit((" Call us back at +1 415 555 0100.", " We will try again.")),
        [
            "assistants/caller.yaml:4:20: [voicemail-callback] voicemail_message: gives no number to call back "
            "(a phone number of 10 or more digits, or a {{...phone...}} placeholder)"
        ],
        edit(("+1 415 555 0100", "{{callback_phone}}")),
        id="voicemail-callback",
    ),
    pytest.param(
        "rules:\n  voicemail-business: {business: [Acme Corp, Acme]}\n",
        edit(("This is Acme.", "Hello.")),
        [
            "assistants/caller.yaml:4:20: [voicemail-business] voicemail_message: does not name the business "
            "('Acme Corp', 'Acme')"
        ],
        COMPLIANT,
        id="voicemail-business",
    ),
    pytest.param(
        "",
        COMPLIANT + OWN + '0"}\n',
        [
            "assistants/caller.yaml:11:33: [transfer-to-self] transfer_destinations[0].phone_number: transfers to "
            "+14155550100, the assistant's own from_phone_number: the call loops back"
        ],
        COMPLIANT + OWN + '9"}\n',
        id="transfer-to-self",
    ),
]


@pytest.mark.parametrize(("rules", "triggers", "lines", "passes_with"), ERROR_RULES)
def test_an_error_rule_fails_the_file_that_breaks_it_only(
    rules: str, triggers: str, lines: list[str], passes_with: str
) -> None:
    if rules:
        project(rules)
    assistant(triggers)
    fails(validate(), *lines)
    assistant(passes_with)
    passes(validate())


def test_an_inbound_assistant_is_not_checked_as_outbound() -> None:
    assistant("name: Desk\nfirst_sentence: Hello, Acme front desk.\nprompt: Answer questions.\n")
    passes(validate())


def test_transfer_to_a_number_routed_to_the_same_assistant() -> None:
    assistant(COMPLIANT + 'transfer_destinations:\n  - {label: Desk, phone_number: "+14155550123"}\n')
    write("assistants/phone_numbers.yaml", 'phone_numbers:\n  "+14155550123": {assistant: Caller}\n')
    fails(
        validate(),
        "assistants/caller.yaml:10:33: [transfer-to-self] transfer_destinations[0].phone_number: transfers to "
        "+14155550123, which assistants/phone_numbers.yaml:2:3 routes to this same assistant: the call loops back",
    )
    write("assistants/phone_numbers.yaml", 'phone_numbers:\n  "+14155550123": {assistant: Other}\n')
    assistant("name: Other\n", "other.yaml")
    passes(validate(), 2)


def warns(run: Run, line: str, count: int = 1) -> None:
    """Valid, with one warning: a warning never fails the run without --strict."""
    assert (run.code, run.out, run.err) == (
        0,
        f"{count} assistant file{'s' * (count != 1)} valid.\n",
        line + "\n",
    )


def test_opt_out_is_a_warning_that_strict_fails() -> None:
    assistant(
        edit(("If the person asks not to be called again, apologise, promise it and end the call.", "Sell."))
    )
    line = (
        "assistants/caller.yaml:2:9: warning: [opt-out] prompt: says nothing of a request to stop calling "
        "(none of: 'do not call', 'do-not-call', \"don't call\", 'not to be called', ... (8 more))"
    )
    warns(validate(), line)
    run = validate("--strict")
    assert (run.code, run.out, run.err.splitlines()) == (1, "", [line, "1 error (--strict counts warnings)."])
    assistant()
    passes(validate("--strict"))


def test_fixed_timezone() -> None:
    assistant(COMPLIANT + "  timezone: America/New_York\n")
    warns(
        validate(),
        "assistants/caller.yaml:9:13: warning: [fixed-timezone] call_retry_config.timezone: calling windows are "
        "read in this one time zone for every recipient, not in each recipient's own: a recipient elsewhere is "
        "called at other local hours",
    )


def test_two_assistants_calling_from_one_number_share_its_windows() -> None:
    number = 'from_phone_number: "+14155550100"\n'
    assistant(COMPLIANT + number, "a.yaml")
    assistant(edit(("Caller", "Second")) + number, "b.yaml")
    passes(validate(), 2)
    assistant(edit(("Caller", "Second"), ('"20:00"', '"19:00"')) + number, "b.yaml")
    warns(
        validate(),
        "assistants/b.yaml:5:1: warning: [shared-number-windows] call_retry_config: calls from +14155550100 like "
        "'Caller' (assistants/a.yaml:1:7) but with other calling windows, days or time zone: one number, one "
        "schedule",
        2,
    )


def test_call_twice_in_a_row_without_a_second_attempt() -> None:
    assistant(edit(("max_retry_attempts: 3", "max_retry_attempts: 1\n  call_twice_in_a_row: true")))
    warns(
        validate(),
        "assistants/caller.yaml:7:24: warning: [retry-no-effect] call_retry_config.call_twice_in_a_row: has no "
        "effect with max_retry_attempts 1 (it only skips the delay before attempt 2)",
    )


# --- suppressions -----------------------------------------------------------------------------------------
TWO_WINDOWS = COMPLIANT.replace(
    '    - {calling_window_start_time: "09:00", calling_window_end_time: "20:00", retry_delay_seconds: 7200}\n',
    '    - {calling_window_start_time: "07:00", calling_window_end_time: "12:00"}\n'
    '    - {calling_window_start_time: "07:30", calling_window_end_time: "20:00"}\n',
)


def test_a_suppression_comment_silences_exactly_one_finding() -> None:
    assistant(TWO_WINDOWS)
    run = validate()
    assert run.code == 1 and run.err.count("[calling-hours]") == 2
    assistant(
        TWO_WINDOWS.replace(
            '"12:00"}\n', '"12:00"}  # revox-sync: ignore[calling-hours] these leads asked for early calls\n'
        )
    )
    fails(
        validate(),
        "assistants/caller.yaml:9:35: [calling-hours] call_retry_config.calling_windows[1]."
        "calling_window_start_time: calls from 07:30, before 08:00 in the recipient's time zone "
        "(47 CFR 64.1200(c)(1))",
    )
    run = validate("--show-suppressed")
    assert run.err.splitlines()[0] == (
        "assistants/caller.yaml:8:35: suppressed: [calling-hours] call_retry_config.calling_windows[0]."
        "calling_window_start_time: calls from 07:00, before 08:00 in the recipient's time zone "
        "(47 CFR 64.1200(c)(1)) (reason: these leads asked for early calls)"
    )


def test_a_suppression_names_its_rule() -> None:
    """Another rule's id on the line, or a comment on another line, silences nothing."""
    assistant(TWO_WINDOWS.replace('"12:00"}\n', '"12:00"}  # revox-sync: ignore[opt-out] wrong rule\n'))
    assert validate().err.count("[calling-hours]") == 2
    assistant(
        TWO_WINDOWS.replace(
            "call_retry_config:\n", "call_retry_config:  # revox-sync: ignore[calling-hours]\n"
        )
    )
    assert validate().err.count("[calling-hours]") == 2
    assistant(
        TWO_WINDOWS.replace('"12:00"}\n', '"12:00"}  # revox-sync: ignore[opt-out, calling-hours]\n').replace(
            '"20:00"}\n', '"20:00"}  # revox-sync: ignore[calling-hours] agreed with legal\n'
        )
    )
    passes(validate())


# --- configuration per environment and per name ---------------------------------------------------------
def test_an_environment_overrides_the_top_level_and_overrides_match_names() -> None:
    project(
        "rules:\n  opt-out: off\n"
        "environments:\n  production:\n    rules:\n      opt-out: error\n"
        "  staging:\n    rules:\n      overrides:\n        - names: ['Call*']\n          rules: {opt-out: error}\n"
        "        - names: ['Nobody']\n          rules: {calling-hours: off}\n"
    )
    assistant(
        COMPLIANT.replace(
            "If the person asks not to be called again, apologise, promise it and end the call.", "Sell."
        )
    )
    passes(validate())
    line = (
        "assistants/caller.yaml:2:9: [opt-out] prompt: says nothing of a request to stop calling (none of: "
        "'do not call', 'do-not-call', \"don't call\", 'not to be called', ... (8 more))"
    )
    fails(validate("--env", "production"), line)
    fails(validate("--env", "staging"), line)
    run = validate("--all-envs")
    assert run.code == 1
    assert run.err.splitlines() == [
        line.replace("[opt-out] ", "[opt-out] [production] "),
        line.replace("[opt-out] ", "[opt-out] [staging] "),
        "2 errors.",
    ]


def test_severity_and_off_per_name_pattern() -> None:
    project(
        "rules:\n  overrides:\n    - names: ['Internal *']\n      rules: {ai-disclosure: off, calling-hours: warning}\n"
    )
    late = COMPLIANT.replace("an AI assistant", "Sam").replace('"20:00"', '"21:30"')
    assistant(late.replace("name: Caller", "name: Internal caller"))
    run = validate()
    assert run.code == 0
    assert "[calling-hours]" in run.err and "warning:" in run.err and "ai-disclosure" not in run.err
    assistant(late)
    assert validate().code == 1


def test_findings_print_after_schema_errors() -> None:
    assistant(COMPLIANT.replace('"20:00"', '"21:30"'), "a.yaml")
    assistant("name: Broken\nvoice: {provider: cartesia, id: v, sped: 1}\n", "b.yaml")
    run = validate()
    assert run.err.splitlines() == [
        "assistants/b.yaml:2:36: unknown key 'sped' in voice; did you mean 'speed'?",
        "assistants/a.yaml:8:69: [calling-hours] call_retry_config.calling_windows[0].calling_window_end_time: "
        "calls until 21:30, after 21:00 in the recipient's time zone (47 CFR 64.1200(c)(1))",
        "2 errors.",
    ]


# --- fleets -----------------------------------------------------------------------------------------------
def test_a_finding_in_a_fleet_names_the_template_line_and_the_rows() -> None:
    write(
        "assistants/templates/caller.yaml",
        COMPLIANT.replace("name: Caller\n", "").replace('"20:00"', '"21:30"'),
    )
    write(
        "assistants/leads.csv", "city,greeting\nAustin,Hi from Acme Austin\nBoston,This is Acme's AI agent\n"
    )
    write(
        "assistants/fleet.yaml",
        "extends: templates/caller.yaml\nfor_each: !file leads.csv\nname: ${each.city} caller\n"
        "first_sentence: ${each.greeting}\n",
    )
    fails(
        validate(),
        "assistants/fleet.yaml:4:17: [ai-disclosure] first_sentence: does not say the caller is an AI voice "
        "(none of: 'AI', 'A.I.', 'artificial intelligence', 'virtual assistant', ... (5 more)) "
        "(row assistants/leads.csv:2)",
        "assistants/templates/caller.yaml:7:69: [calling-hours] call_retry_config.calling_windows[0]."
        "calling_window_end_time: calls until 21:30, after 21:00 in the recipient's time zone "
        "(47 CFR 64.1200(c)(1)) (rows assistants/leads.csv:2, assistants/leads.csv:3)",
    )


# --- revox-sync rules -----------------------------------------------------------------------------------
def test_rules_lists_every_rule_with_its_severity_state_and_source() -> None:
    from revox_sync.rules.builtin import BUILTIN

    run = run_cli("rules")
    assert run.code == 0, run.all
    lines = run.out.splitlines()
    assert lines[0].split() == ["RULE", "SEVERITY", "STATE", "/", "SOURCE"]
    assert [line.split()[0] for line in lines[1 : 1 + len(BUILTIN)]] == [r.id for r in BUILTIN]
    assert any(line.split()[:3] == ["calling-hours", "error", "on:"] for line in lines)
    assert any(line.split()[:3] == ["retry-cap", "off", "off:"] for line in lines)
    assert "  florida      available  from the statute: Fla. Stat." in run.out
    assert "  maryland     available  needs checking:" in run.out
    project(
        "rules:\n  profiles: [florida]\n  custom:\n    - {id: short-calls, path: max_call_duration_secs, max: 600}\n"
        "environments:\n  production:\n    rules: {calling-hours: warning}\n"
    )
    run = run_cli("rules", "--env", "production")
    assert run.code == 0, run.all
    assert any(line.split()[:3] == ["calling-hours", "warning", "on:"] for line in run.out.splitlines())
    assert any(line.split()[:3] == ["retry-cap", "error", "on:"] for line in run.out.splitlines())
    assert any(line.split()[:3] == ["short-calls", "error", "on:"] for line in run.out.splitlines())
    assert "  florida      selected " in run.out
    run = run_cli("rules", "--env", "nope")
    assert (run.code, run.err) == (
        1,
        "error: --env nope: unknown environment (no such environment in revox-sync.yaml)\n",
    )


def test_a_hostile_retry_config_is_counted_quickly() -> None:
    """Ten thousand overlapping windows, no delay and the largest attempt count: merged windows and a bounded
    count keep the rule linear (this test would hang otherwise)."""
    window = '    - {calling_window_start_time: "09:00", calling_window_end_time: "20:00", retry_delay_seconds: 1}\n'
    text = edit(("max_retry_attempts: 3", "max_retry_attempts: 9007199254740991"))
    text = text.replace(window.replace("1}", "7200}"), window * 10_000)
    project("rules:\n  profiles: [florida]\n")
    assistant(text)
    run = validate()
    assert run.err.splitlines()[0].startswith(
        "assistants/caller.yaml:6:23: [retry-cap] call_retry_config.max_retry_attempts: 100 or more attempts can "
        "reach one person within 24 hours (max_retry_attempts 9007199254740991), above 3"
    )

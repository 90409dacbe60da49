"""Rules never test a secret: custom and built-in rules see a stand-in where a sensitive value is, so the
findings of two runs that differ only in secrets are the same bytes, in every format (the attack: one custom
rule per character and position, whose firing ids would spell the key)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Run, run_cli, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.usefixtures("in_tmp")

# Two keys of one length (so no column moves): the first holds ten digits, a number voicemail-callback accepts.
KEYS = ("rvx_4155550100_supe", "zqw_ABCDEFGHIJ_kmno")
CALLERS = ("+14155550100", "+14155550199")  # from_phone_number: the first is the transfer's, the second not
FORMATS = ("text", "json", "sarif", "github")

FILE = """\
name: Caller
prompt: If the person asks not to be called again, apologise and end the call.
first_sentence: "Hi, this is an AI assistant ${REVOX_API_KEY_PRODUCTION}"
voicemail_message: "${REVOX_API_KEY_PRODUCTION}"
from_phone_number: "${CALLER_TOKEN}"
transfer_destinations:
  - {label: Desk, phone_number: "+14155550100"}
llm_model: {type: custom, api_url: "https://l.example.com", model_name: m, api_key: "LITERAL"}
custom_tools:
  - name: crm
    description: look up
    url: https://crm.example.com
    method: GET
    headers: [{key: Authorization, value: "Bearer ${REVOX_API_KEY_PRODUCTION}"}]
call_retry_config:
  max_retry_attempts: 3
  calling_windows:
    - {calling_window_start_time: "09:00", calling_window_end_time: "20:00", retry_delay_seconds: 7200}
"""
PATHS = ("first_sentence", "voicemail_message", "llm_model.api_key", "custom_tools[].headers[].value")


def attack(alphabet: str, width: int) -> str:
    """One forbid and one match rule per path, position and character: the ids that fire spell the value."""
    lines = ["rules:", "  custom:"]
    for p, path in enumerate(PATHS):
        for i in range(width):
            for c in alphabet:
                pattern = f"^.{{{i}}}{c}"
                lines.append(f'    - {{id: f{p}-{i}-{ord(c)}, path: "{path}", forbid: "{pattern}"}}')
                lines.append(f'    - {{id: m{p}-{i}-{ord(c)}, path: "{path}", match: "{pattern}"}}')
        lines.append(f'    - {{id: n{p}, path: "{path}", min: 1}}')
        lines.append(f'    - {{id: o{p}, path: "{path}", one_of: [x]}}')
        lines.append(f'    - {{id: r{p}, path: "{path}", required: true}}')
    return "\n".join(lines) + "\n"


def runs(key: str, caller: str, literal: str, formats: tuple[str, ...] = FORMATS) -> dict[str, Run]:
    write(Path("assistants/caller.yaml"), FILE.replace("LITERAL", literal))
    environ = {"REVOX_API_KEY_PRODUCTION": key, "CALLER_TOKEN": caller}
    return {fmt: run_cli("validate", "--format", fmt, environ=environ) for fmt in formats}


def assert_blind(first: dict[str, Run], second: dict[str, Run], *secrets: str) -> None:
    for fmt in first:
        assert (first[fmt].code, first[fmt].out, first[fmt].err) == (
            second[fmt].code,
            second[fmt].out,
            second[fmt].err,
        ), fmt
        for secret in secrets:
            assert secret not in first[fmt].all + second[fmt].all, (fmt, secret)


def test_rules_that_spell_a_key_fire_alike_whatever_the_key() -> None:
    """The issue's attack on a variable, a longer text holding it, a header made of it and a literal api_key:
    both runs print the same findings, and none of them holds a key or says anything of it."""
    project = attack("".join(sorted(set("".join(KEYS)))), 6)
    write(Path("revox-sync.yaml"), project)
    first = runs(KEYS[0], CALLERS[0], KEYS[1])
    second = runs(KEYS[1], CALLERS[1], KEYS[0])
    assert_blind(first, second, *KEYS, *CALLERS[1:], "rvx", "zqw")
    text = first["text"].err.splitlines()
    assert (
        "assistants/caller.yaml:4:20: [voicemail-callback] voicemail_message: gives no number to call back "
        "(a phone number of 10 or more digits, or a {{...phone...}} placeholder)"
    ) in text
    assert "assistants/caller.yaml:4:20: [n1] voicemail_message: is not a number" in text
    assert "assistants/caller.yaml:4:20: [o1] voicemail_message: is not one of x" in text
    assert not [line for line in text if "transfer-to-self" in line]  # two secrets never compare equal
    assert first["text"].code == 1


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))
def test_any_key_gives_the_findings_of_another(key: str) -> None:
    """Whatever the variable holds (empty, digits, `${`, spaces), what a rule sees of it is the same."""
    write(Path("revox-sync.yaml"), attack("ab1_ $", 2))
    baseline = runs(KEYS[0], CALLERS[0], KEYS[1], ("json",))
    assert_blind(baseline, runs(key, CALLERS[0], KEYS[1], ("json",)))


def test_a_name_from_a_secret_matches_no_name_pattern() -> None:
    """A name made of a sensitive variable (plan prints it as "(sensitive)") is the stand-in for the rules
    too: name patterns of custom rules and overrides cannot test it letter by letter."""
    write(Path("assistants/a.yaml"), 'name: "${NAME_TOKEN}"\nprompt: hi\n')
    write(
        Path("revox-sync.yaml"),
        'rules:\n  custom:\n    - {id: s-first, path: prompt, forbid: ".", names: ["s*"]}\n'
        '    - {id: any-name, path: prompt, forbid: ".", names: ["*"]}\n'
        "  overrides:\n    - {names: [o*], rules: {any-name: off}}\n",
    )
    found = [
        {fmt: run_cli("validate", "--format", fmt, environ={"NAME_TOKEN": name}) for fmt in FORMATS}
        for name in ("secretname1", "othername12")
    ]
    assert_blind(found[0], found[1], "secretname1", "othername12")
    assert (
        found[0]["text"].err
        == "assistants/a.yaml:2:9: [any-name] prompt: matches the forbidden /./\n1 error.\n"
    )


def test_a_fleet_row_made_of_a_secret_is_a_secret_where_it_lands() -> None:
    """An inline for_each row whose value is a sensitive variable: `${each.key}` puts the secret in the file,
    where rules see the stand-in and plan prints (sensitive), whatever its length."""
    write(
        Path("assistants/fleet.yaml"),
        'for_each: [{city: Austin, key: "${OTHER_TOKEN}"}]\nname: "Clinic ${each.city}"\nprompt: x\n'
        'voicemail_message: "${each.key}"\n',
    )
    write(
        Path("revox-sync.yaml"),
        'rules:\n  custom:\n    - {id: s-first, path: voicemail_message, forbid: "^s"}\n',
    )
    found = [
        {fmt: run_cli("validate", "--format", fmt, environ={"OTHER_TOKEN": key}) for fmt in FORMATS}
        for key in ("s1", "a2")
    ]
    assert_blind(found[0], found[1])
    assert "[s-first]" not in found[0]["text"].err
    plan = run_cli("--local", "plan", environ={"OTHER_TOKEN": "s1"})
    assert "+ voicemail_message: (sensitive)\n" in plan.out and "s1" not in plan.all


def test_the_stand_in_copies_and_pickles_as_itself() -> None:
    """A subject may be copied or sent to a worker process: the stand-in stays one, equal to nothing else."""
    import copy
    import pickle

    from revox_sync.sensitive import SENSITIVE, Hidden

    for made in (copy.deepcopy(Hidden()), pickle.loads(pickle.dumps(Hidden()))):
        assert type(made) is Hidden and str(made) == SENSITIVE and made != SENSITIVE and made == made


SCHEDULE = """\
name: NAME
prompt: If the person asks not to be called again, apologise and end the call.
first_sentence: Hi, this is an AI assistant.
from_phone_number: "+14155550100"
call_retry_config:
  max_retry_attempts: ${RETRY_TOKEN}
  call_twice_in_a_row: true
  allowed_days: [monday, "${DAY_TOKEN}"]
  calling_windows:
    - calling_window_start_time: "09:00"
      calling_window_end_time: "${END_TOKEN}"
      retry_delay_seconds: ${DELAY_TOKEN}
"""
TOKENS = ("RETRY_TOKEN", "DAY_TOKEN", "END_TOKEN", "DELAY_TOKEN")


def test_a_schedule_made_of_secrets_is_checked_by_no_rule_and_crashes_none() -> None:
    """Numbers and days from sensitive variables (a stand-in where the rules expect an int or a day) would
    tell the calling-law rules the secret (or crash them): the schedule rules leave such a schedule alone."""
    for name in ("Caller", "Other"):  # two assistants on one number: shared-number-windows compares them
        write(Path(f"assistants/{name}.yaml"), SCHEDULE.replace("NAME", name))
    write(Path("revox-sync.yaml"), "rules:\n  profiles: [florida, mississippi]\n")
    found = [
        {
            fmt: run_cli("validate", "--format", fmt, environ=dict(zip(TOKENS, values, strict=True)))
            for fmt in FORMATS
        }
        for values in (("5", "saturday", "20:30", "60"), ("1", "tuesday", "18:00", "86400"))
    ]
    assert_blind(found[0], found[1], "saturday", "tuesday", "86400")
    assert (found[0]["text"].code, found[0]["text"].out) == (0, "2 assistant files valid.\n"), found[0][
        "text"
    ]

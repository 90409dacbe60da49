"""The `rules:` section of revox-sync.yaml: custom rules of every condition type through the real CLI, and
every mistake in the section reported at its place, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Run, run_cli, write

pytestmark = pytest.mark.usefixtures("in_tmp")

SUPPORT = """\
name: Support line
prompt: Help callers.
max_call_duration_secs: 1200
voice: {provider: cartesia, id: voice-1, speed: 1.1}
transfer_destinations:
  - {label: Front desk, phone_number: "+14155550100"}
  - {label: billing, phone_number: "+14155550101"}
"""


def validate(rules: str, text: str = SUPPORT) -> Run:
    write(Path("assistants/support.yaml"), text)
    write(Path("revox-sync.yaml"), "rules:\n" + rules)
    return run_cli("validate")


def custom(rule: str) -> str:
    return "  custom:\n    - " + rule.replace("\n", "\n      ") + "\n"


def errors(run: Run) -> list[str]:
    assert run.code == 1, run.all
    assert run.out == ""
    lines = run.err.splitlines()
    assert lines[-1].endswith((" error.", " errors."))
    return lines[:-1]


@pytest.mark.parametrize(
    ("rule", "finding"),
    [
        (
            "id: needs-first-sentence\npath: first_sentence\nrequired: true",
            "assistants/support.yaml:1:7: [needs-first-sentence] first_sentence: is required",
        ),
        (
            "id: no-old-voice\npath: voice.id\nforbid: '^voice-'\nmessage: use a current voice",
            "assistants/support.yaml:4:33: [no-old-voice] voice.id: use a current voice",
        ),
        (
            "id: labels-capitalised\npath: transfer_destinations[].label\nmatch: '^[A-Z]'",
            "assistants/support.yaml:7:13: [labels-capitalised] transfer_destinations[1].label: does not match /^[A-Z]/",
        ),
        (
            "id: slow-enough\npath: voice.speed\nmin: 1.2",
            "assistants/support.yaml:4:49: [slow-enough] voice.speed: is 1.1, below the minimum 1.2",
        ),
        (
            "id: short-calls\npath: max_call_duration_secs\nmax: 900",
            "assistants/support.yaml:3:25: [short-calls] max_call_duration_secs: is 1200, above the maximum 900",
        ),
        (
            "id: known-providers\npath: voice.provider\none_of: [elevenlabs, gradium]",
            "assistants/support.yaml:4:19: [known-providers] voice.provider: is not one of elevenlabs, gradium",
        ),
    ],
)
def test_a_custom_rule_of_each_condition(rule: str, finding: str) -> None:
    assert errors(validate(custom(rule))) == [finding]


@pytest.mark.parametrize(
    "rule",
    [
        "id: needs-prompt\npath: prompt\nrequired: true",
        "id: no-old-voice\npath: voice.id\nforbid: '^old-'",
        "id: e164\npath: transfer_destinations[].phone_number\nmatch: '^\\+1'",
        "id: bounded\npath: voice.speed\nmin: 1\nmax: 1.2",
        "id: known-providers\npath: voice.provider\none_of: [cartesia]",
        "id: only-harbor\npath: first_sentence\nrequired: true\nnames: ['Harbor *']",
        "id: numbers-labelled\nkind: phone_number\npath: label\nrequired: true",
    ],
)
def test_a_custom_rule_that_passes(rule: str) -> None:
    run = validate(custom(rule))
    assert (run.code, run.out, run.err) == (0, "1 assistant file valid.\n", "")


def test_a_custom_rule_on_another_kind_and_its_severity() -> None:
    write(
        Path("assistants/phone_numbers.yaml"), 'phone_numbers:\n  "+14155550123": {assistant: Support line}\n'
    )
    run = validate(
        custom("id: numbers-labelled\nkind: phone_number\npath: label\nrequired: true\nseverity: warning")
    )
    assert (run.code, run.out) == (0, "1 assistant file valid.\n")
    assert run.err == "assistants/phone_numbers.yaml:2:3: warning: [numbers-labelled] label: is required\n"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            "  calling-hour: warning\n",
            "revox-sync.yaml:2:3: unknown rule 'calling-hour' in rules; did you mean 'calling-hours'?",
        ),
        (
            "  calling-hours: loud\n",
            "revox-sync.yaml:2:18: severity must be one of error, warning, off, not loud",
        ),
        (
            "  calling-hours: {window: [8am]}\n",
            'revox-sync.yaml:2:27: window must be two times, like ["08:00", "20:00"] or [8am, 8pm]',
        ),
        (
            "  calling-hours: {window: [9pm, 8am]}\n",
            "revox-sync.yaml:2:27: window ends (08:00) before it starts (21:00)",
        ),
        (
            "  calling-hours: {windw: [8am, 9pm]}\n",
            "revox-sync.yaml:2:19: unknown key 'windw' in rule calling-hours; did you mean 'window'?",
        ),
        (
            "  retry-cap: {max_per_day: 0}\n",
            "revox-sync.yaml:2:28: max_per_day must be a whole number of at least 1",
        ),
        ("  ai-disclosure: {phrases: AI}\n", "revox-sync.yaml:2:28: phrases must be a list of phrases"),
        (
            "  profiles: [florda]\n",
            "revox-sync.yaml:2:14: unknown profile 'florda' in profiles; did you mean 'florida'?",
        ),
        (
            "  overrides:\n    - names: ['A*']\n",
            "revox-sync.yaml:3:7: an override needs names (patterns) and rules",
        ),
        (
            custom("id: x\npath: prompt"),
            "revox-sync.yaml:3:7: a custom rule needs one condition (required, match, forbid, min, max, one_of; min with max), not no condition",
        ),
        (
            custom("id: x\npath: prompt\nmatch: a\nforbid: b"),
            "revox-sync.yaml:3:7: a custom rule needs one condition (required, match, forbid, min, max, one_of; min with max), not match and forbid together",
        ),
        (
            custom("id: x\npath: prompt\nmatch: '(unclosed'"),
            "revox-sync.yaml:5:14: match: not a regular expression (missing ) at position 9)",
        ),
        (
            custom("id: x\npath: promt\nrequired: true"),
            "revox-sync.yaml:4:13: unknown field 'promt' in assistant fields; did you mean 'prompt'?",
        ),
        (
            custom("id: x\npath: 'voice..id'\nrequired: true"),
            "revox-sync.yaml:4:13: path 'voice..id': expected dotted keys, like voice.speed or faq_items[].question",
        ),
        (
            custom("id: X_1\npath: prompt\nrequired: true"),
            "revox-sync.yaml:3:11: rule id 'X_1': lowercase letters, digits and - only",
        ),
        (
            custom("id: opt-out\npath: prompt\nrequired: true"),
            "revox-sync.yaml:3:11: custom rule id 'opt-out' is a built-in rule's id",
        ),
        (custom("id: x\npath: prompt\nmin: 1\nmax: 0"), "revox-sync.yaml:6:12: max 0 is below min 1"),
        (custom("id: x\npath: voice.speed\nmin: .nan"), "revox-sync.yaml:5:12: min must be a number"),
        (
            custom("id: x\npath: prompt\nrequired: false"),
            "revox-sync.yaml:5:17: required must be true (remove the rule to not require the field)",
        ),
        (
            custom("id: x\nkind: voices\npath: language\nrequired: true"),
            "revox-sync.yaml:4:13: unknown kind 'voices' in kinds; did you mean 'voice'?",
        ),
        (
            custom("id: x\npath: prompt\nrequired: true\nwhen: always"),
            "revox-sync.yaml:6:7: unknown key 'when' in custom rule (expected: id, path, kind, names, message, severity, required, match, forbid, min, max, one_of)",
        ),
        (
            "  - calling-hours\n",
            "revox-sync.yaml:2:3: rules must be a mapping of rule ids (and profiles, custom, overrides)",
        ),
    ],
)
def test_a_mistake_in_the_rules_section_is_located(rules: str, message: str) -> None:
    assert errors(validate(rules)) == [message]


def test_an_environments_rules_are_checked_when_it_is_validated() -> None:
    write(Path("assistants/support.yaml"), SUPPORT)
    write(Path("revox-sync.yaml"), "environments:\n  prod:\n    rules: {opt-ot: off}\n")
    assert (run := run_cli("validate")).code == 0, run.all
    assert errors(run_cli("validate", "--env", "prod")) == [
        "revox-sync.yaml:3:13: unknown rule 'opt-ot' in rules; did you mean 'opt-out'?"
    ]
    assert errors(run_cli("rules", "--env", "prod")) == [
        "revox-sync.yaml:3:13: unknown rule 'opt-ot' in rules; did you mean 'opt-out'?"
    ]


def test_an_environments_custom_rule_replaces_the_top_levels_of_the_same_id() -> None:
    write(Path("assistants/support.yaml"), SUPPORT)
    write(
        Path("revox-sync.yaml"),
        "rules:\n  custom:\n    - {id: short, path: max_call_duration_secs, max: 600}\n"
        "environments:\n  prod:\n    rules:\n      custom:\n        - {id: short, path: max_call_duration_secs, max: 1800}\n",
    )
    assert errors(run_cli("validate")) == [
        "assistants/support.yaml:3:25: [short] max_call_duration_secs: is 1200, above the maximum 600"
    ]
    assert run_cli("validate", "--env", "prod").code == 0


# --- the README's Policy rules section tells the truth ------------------------------------------------------
README = Path(__file__).resolve().parent.parent / "README.md"


def policy_section() -> str:
    import re

    (section,) = re.findall(
        r"\n## Policy rules\n(.*?)(?=\n## )", README.read_text(encoding="utf-8"), flags=re.S
    )
    return section


def test_the_readme_lists_every_rule_and_every_profile_with_its_status() -> None:
    import re

    from revox_sync.rules.builtin import BUILTIN, PROFILES

    section = policy_section()
    listed = re.findall(r"^\| `([a-z-]+)` \| (error|warning|off) \|", section, flags=re.M)
    assert listed == [(r.id, r.severity) for r in BUILTIN] + [("schema", "error")]
    profiles = re.findall(
        r"^\| `([a-z]+)` \| .* \| (from the statute|needs checking) \|$", section, flags=re.M
    )
    assert profiles == [
        (n, "from the statute" if p.statute else "needs checking") for n, p in PROFILES.items()
    ]
    assert "This is not legal advice" in section


def test_the_readmes_rules_examples_load() -> None:
    import re

    blocks = [
        b for b in re.findall(r"```yaml\n(.*?)```", policy_section(), flags=re.S) if b.startswith("rules:")
    ]
    assert len(blocks) == 2
    for block in blocks:
        write(Path("revox-sync.yaml"), block)
        run = run_cli("rules", "--env", "production") if "production" in block else run_cli("rules")
        assert run.code == 0, run.all

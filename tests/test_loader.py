"""The loader reads real files in a temporary config directory; each error points at its file:line:col."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import write

from revox_sync.config.yaml import MAX_NODES
from revox_sync.errors import ConfigErrors
from revox_sync.kinds.assistant.load import (
    LoadedAssistant,
    collect_paths,
    find_assistant_files,
    load_directory,
    load_paths,
)

pytestmark = pytest.mark.usefixtures("in_tmp")


def errors_of(config: Path, variables: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        load_directory(config, variables=variables or {})
    return [str(e) for e in info.value.errors]


def load_one(config: Path, variables: dict[str, str] | None = None) -> LoadedAssistant:
    assistants, _ = load_directory(config, variables=variables or {})
    assert len(assistants) == 1
    return assistants[0]


CONFIG = Path("assistants")


# --- a valid file -----------------------------------------------------------------------------------------
def test_valid_file_loads_with_positions_of_values_and_keys() -> None:
    write(
        CONFIG / "sales.yaml",
        "# Sales\n"
        "name: Sales qualifier\n"
        "voice:\n"
        "  provider: cartesia\n"
        "  id: voice-1\n"
        "  speed: 1.1\n"
        "faq_items:\n"
        "  - question: Price?\n"
        "    answer: '10'\n",
    )
    loaded = load_one(CONFIG)
    assert loaded.name == "Sales qualifier"
    assert loaded.id is None
    assert loaded.data == {
        "name": "Sales qualifier",
        "voice": {"provider": "cartesia", "id": "voice-1", "speed": 1.1},
        "faq_items": [{"question": "Price?", "answer": "10"}],
    }
    assert str(loaded.positions.value(("voice", "speed"))) == "assistants/sales.yaml:6:10"
    assert str(loaded.positions.key(("voice", "speed"))) == "assistants/sales.yaml:6:3"
    assert str(loaded.positions.value(("faq_items", 0, "answer"))) == "assistants/sales.yaml:9:13"
    # nearest existing ancestor, skipping elements the file does not have (pydantic's union tags)
    assert str(loaded.positions.value(("voice", "volume"))) == "assistants/sales.yaml:4:3"
    assert str(loaded.positions.value(("faq_items", "custom", 0))) == "assistants/sales.yaml:8:5"


def test_yaml_1_2_scalars() -> None:
    write(
        CONFIG / "a.yaml",
        "name: A\n"
        "first_sentence: yes\n"  # YAML 1.2: a string, not a bool
        "end_of_call_sentence: 2024-01-01\n"  # timestamps keep their text
        "first_sentence_delay_ms: 0x1F4\n"
        "max_call_duration_secs: 1_200\n"
        "voicemail_message: on\n",
    )
    data = load_one(CONFIG).data
    assert data["first_sentence"] == "yes"
    assert data["end_of_call_sentence"] == "2024-01-01"
    assert data["first_sentence_delay_ms"] == 500
    assert data["max_call_duration_secs"] == 1200
    assert data["voicemail_message"] == "on"


def test_merge_keys_written_keys_win() -> None:
    write(CONFIG / "voices.yml", "name: V\nvoice: &v\n  provider: cartesia\n  id: base\n  speed: 1.0\n")
    write(
        CONFIG / "b.yaml", "name: B\nvoice:\n  <<: {provider: cartesia, id: base, speed: 1.0}\n  speed: 1.2\n"
    )
    loaded = {a.name: a for a in load_directory(CONFIG, variables={})[0]}
    assert loaded["B"].data["voice"] == {"provider": "cartesia", "id": "base", "speed": 1.2}
    assert str(loaded["B"].positions.value(("voice", "speed"))) == "assistants/b.yaml:4:10"


# --- discovery --------------------------------------------------------------------------------------------
def test_discovery_is_recursive_sorted_and_skips_hidden_and_reserved_files() -> None:
    write(CONFIG / "z.yaml", "name: Z\n")
    write(CONFIG / "team" / "a.yml", "name: A\n")
    write(CONFIG / "b.yaml", "name: B\n")
    write(CONFIG / ".git" / "c.yaml", "name: C\n")
    write(CONFIG / ".draft.yaml", "name: D\n")
    write(CONFIG / "phone_numbers.yaml", "- +14155550123\n")
    write(CONFIG / "revox-sync.yaml", "something: else\n")
    write(CONFIG / "team" / "phone_numbers.yaml", "name: Team numbers\n")  # only reserved at the root
    write(CONFIG / "prompts" / "p.md", "text\n")
    files = [p.relative_to(CONFIG).as_posix() for p in find_assistant_files(CONFIG)]
    assert files == ["b.yaml", "team/a.yml", "team/phone_numbers.yaml", "z.yaml"]
    assistants, warnings = load_directory(CONFIG, variables={})
    assert [a.name for a in assistants] == ["B", "A", "Team numbers", "Z"]
    assert warnings == []


def test_empty_directory_gives_empty_list_and_missing_directory_is_an_error() -> None:
    CONFIG.mkdir()
    assert load_directory(CONFIG, variables={}) == ([], [])
    [error] = errors_of(Path("nope"))
    assert error == f"nope: config directory not found (looked for {Path('nope').absolute()}; pass -d DIR)"


def test_load_paths_files_and_directories() -> None:
    write(CONFIG / "a.yaml", "name: A\n")
    write(CONFIG / "sub" / "b.yaml", "name: B\n")
    write(CONFIG / "phone_numbers.yaml", "- x\n")
    assistants, _ = load_paths(
        [CONFIG / "a.yaml", CONFIG / "sub", CONFIG / "phone_numbers.yaml", CONFIG / "a.yaml"],
        config_dir=CONFIG,
        variables={},
    )
    assert [a.name for a in assistants] == ["A", "B"]
    with pytest.raises(ConfigErrors) as info:
        load_paths([CONFIG / "missing.yaml"], variables={})
    assert str(info.value) == "assistants/missing.yaml: no such file or directory"


# --- YAML-level errors ------------------------------------------------------------------------------------
def test_duplicate_key_points_at_second_key() -> None:
    write(CONFIG / "a.yaml", "name: A\nvoice:\n  provider: cartesia\n  id: x\n  provider: elevenlabs\n")
    assert errors_of(CONFIG) == ["assistants/a.yaml:5:3: duplicate key 'provider' (first at line 3)"]


def test_malformed_yaml_gives_the_parser_message_on_one_line() -> None:
    write(CONFIG / "a.yaml", "name: A\nfaq_items: [1, 2\nprompt: x\n")
    (message,) = errors_of(CONFIG)
    assert message.startswith("assistants/a.yaml:3:7: did not find expected ',' or ']'")
    assert "started at line 2, column 12" in message
    assert "\n" not in message


def test_non_utf8_points_at_the_first_bad_byte() -> None:
    write(CONFIG / "a.yaml", b"name: A\nprompt: caf\xe9 au lait\n")
    assert errors_of(CONFIG) == ["assistants/a.yaml:2:12: not valid UTF-8"]


def test_top_level_must_be_a_mapping() -> None:
    write(CONFIG / "list.yaml", "- name: A\n")
    write(CONFIG / "scalar.yaml", "just text\n")
    write(CONFIG / "empty.yaml", "# nothing\n")
    assert errors_of(CONFIG) == [
        "assistants/empty.yaml:1:1: file is empty: expected a mapping of assistant fields (at least 'name')",
        "assistants/list.yaml:1:1: the top level must be a mapping of assistant fields, not a list",
        "assistants/scalar.yaml:1:1: the top level must be a mapping of assistant fields, not a single value",
    ]


def test_keys_must_be_strings() -> None:
    write(CONFIG / "a.yaml", "name: A\nvoice:\n  1: x\n")
    assert errors_of(CONFIG) == ["assistants/a.yaml:3:3: mapping keys must be strings, not '1'"]


def test_unknown_tag_is_an_error() -> None:
    write(CONFIG / "a.yaml", "name: A\nprompt: !env HOME\nvoice: !!set {a: null}\n")
    assert errors_of(CONFIG) == [
        "assistants/a.yaml:2:9: unknown tag '!env' (only !file is supported)",
        "assistants/a.yaml:3:8: unsupported tag '!!set'",
    ]


def test_alias_bomb_is_bounded() -> None:
    lines = ["name: Bomb", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    write(CONFIG / "bomb.yaml", "\n".join(lines) + "\n")
    (message,) = errors_of(CONFIG)  # the node budget stops it: bounded work, whatever the machine's speed
    assert message.startswith("assistants/bomb.yaml:")
    assert f"too many nodes (alias expansion?): more than {MAX_NODES}" in message


def test_deeply_indented_text_is_not_mistaken_for_nesting() -> None:
    # a line that opens with 300 columns of spaces and dashes makes the loader measure the real depth first
    write(CONFIG / "a.yaml", "name: A\nprompt: |\n  Table:\n" + " " * 300 + "- - - x\n")
    assert load_one(CONFIG).data["prompt"] == "Table:\n" + " " * 298 + "- - - x\n"


def test_block_nesting_too_shallow_to_crash_the_parser_is_still_bounded() -> None:
    write(CONFIG / "a.yaml", "name: A\nx:\n" + "".join(" " * i + "k:\n" for i in range(1, 80)))
    assert errors_of(CONFIG) == ["assistants/a.yaml:66:65: nesting deeper than 64 levels (recursive alias?)"]


def test_deep_and_recursive_nesting_is_bounded() -> None:
    depth = 100_000  # would overflow the C parser's stack if composed
    write(CONFIG / "deep.yaml", "name: Deep\nx: " + "[" * depth + "]" * depth + "\n")
    write(CONFIG / "loop.yaml", "name: Loop\nx: &x [*x]\n")
    deep, loop = errors_of(CONFIG)
    assert deep == "assistants/deep.yaml:2:67: nesting deeper than 64 levels"
    assert loop == "assistants/loop.yaml:2:4: nesting deeper than 64 levels (recursive alias?)"


def test_oversized_file_is_an_error() -> None:
    write(CONFIG / "big.yaml", "name: Big\nprompt: " + "x" * (5 * 1024 * 1024) + "\n")
    assert errors_of(CONFIG) == ["assistants/big.yaml: file is larger than 5 MiB"]


# --- !file -------------------------------------------------------------------------------------------------
def test_file_include_is_taken_literally() -> None:
    write(CONFIG / "prompts" / "sales.md", "You sell ${THINGS}.\n")
    write(CONFIG / "team" / "a.yaml", "name: A\nprompt: !file ../prompts/sales.md\n")
    loaded = load_one(CONFIG)
    assert loaded.data["prompt"] == "You sell ${THINGS}.\n"


def test_file_include_escape_via_dotdot(tmp_path: Path) -> None:
    write(tmp_path / "secret.txt", "top secret")
    write(CONFIG / "a.yaml", "name: A\nprompt: !file ../secret.txt\n")
    assert errors_of(CONFIG) == [
        "assistants/a.yaml:2:9: !file ../secret.txt: path escapes the config directory assistants"
    ]


def test_file_include_escape_via_symlink(tmp_path: Path) -> None:
    write(tmp_path / "secret.txt", "top secret")
    (CONFIG / "prompts").mkdir(parents=True)
    os.symlink(tmp_path / "secret.txt", CONFIG / "prompts" / "p.md")
    write(CONFIG / "a.yaml", "name: A\nprompt:   !file prompts/p.md\n")
    (message,) = errors_of(CONFIG)
    assert message.startswith("assistants/a.yaml:2:11: !file prompts/p.md: resolves through a symlink to ")
    assert message.endswith("outside the config directory assistants")


def test_file_include_symlink_inside_is_fine() -> None:
    write(CONFIG / "prompts" / "real.md", "hello")
    os.symlink("real.md", CONFIG / "prompts" / "link.md")
    write(CONFIG / "a.yaml", "name: A\nprompt: !file prompts/link.md\n")
    assert load_one(CONFIG).data["prompt"] == "hello"


def test_file_include_missing_directory_and_non_utf8() -> None:
    write(CONFIG / "prompts" / "latin1.md", b"line one\ncaf\xe9\n")
    (CONFIG / "prompts" / "dir.md").mkdir()
    write(
        CONFIG / "a.yaml",
        "name: A\n"
        "prompt: !file prompts/missing.md\n"
        "first_sentence: !file prompts/dir.md\n"
        "voicemail_message: !file prompts/latin1.md\n"
        "end_of_call_sentence: !file\n",
    )
    assert errors_of(CONFIG) == [
        "assistants/a.yaml:2:9: !file prompts/missing.md: no such file",
        "assistants/a.yaml:3:17: !file prompts/dir.md: is a directory, not a file",
        "assistants/a.yaml:4:20: !file prompts/latin1.md: not valid UTF-8 (line 2, column 4)",
        "assistants/a.yaml:5:23: !file needs a file path",
    ]


# --- ${VAR} ------------------------------------------------------------------------------------------------
def test_unset_variable_names_variable_file_and_line() -> None:
    write(CONFIG / "a.yaml", "name: A\nwebhook_url: https://hooks.example.com/${HOOK_PATH}\n")
    assert errors_of(CONFIG) == [
        "assistants/a.yaml:2:14: environment variable HOOK_PATH is not set (and ${HOOK_PATH} has no default)"
    ]


def test_variables_defaults_and_literal_dollar() -> None:
    write(
        CONFIG / "a.yaml",
        "name: ${TEAM} bot\n"
        "first_sentence: Hi from ${COMPANY:-Acme}\n"
        "prompt: 'Say $${NAME} literally, and ${EMPTY:-fallback}'\n",
    )
    data = load_one(CONFIG, {"TEAM": "Sales", "EMPTY": ""}).data
    assert data["name"] == "Sales bot"
    assert data["first_sentence"] == "Hi from Acme"
    assert data["prompt"] == "Say ${NAME} literally, and fallback"


def test_variables_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVOX_TEST_TEAM", "Support")
    write(CONFIG / "a.yaml", "name: ${REVOX_TEST_TEAM}\n")
    assistants, _ = load_directory(CONFIG)
    assert assistants[0].name == "Support"


def test_plain_scalars_are_retyped_after_substitution_quoted_stay_strings() -> None:
    write(
        CONFIG / "a.yaml",
        "name: A\n"
        "voice:\n"
        "  provider: cartesia\n"
        "  id: v\n"
        "  speed: ${VOICE_SPEED:-1.1}\n"
        "ivr_navigation_enabled: ${IVR:-true}\n"
        "first_sentence_delay_ms: ${DELAY}\n"
        "first_sentence: '${DELAY}'\n"
        'voicemail_message: "${IVR:-true}"\n'
        "webhook_url: ${HOOK:-}\n",
    )
    data = load_one(CONFIG, {"DELAY": "0x10"}).data
    assert data["voice"]["speed"] == 1.1
    assert data["ivr_navigation_enabled"] is True
    assert data["first_sentence_delay_ms"] == 16
    assert data["first_sentence"] == "0x10"
    assert data["voicemail_message"] == "true"
    assert data["webhook_url"] is None  # an empty plain scalar is null


def test_malformed_reference_is_an_error() -> None:
    write(CONFIG / "a.yaml", "name: A\nprompt: cost ${1X}\n")
    assert errors_of(CONFIG) == [
        "assistants/a.yaml:2:9: malformed variable reference: write ${NAME} or ${NAME:-default} "
        "(and $${ for a literal ${)"
    ]


def test_sensitive_paths_are_recorded() -> None:
    write(
        CONFIG / "a.yaml",
        "name: A\n"
        "llm_model:\n"
        "  type: custom\n"
        "  api_url: ${LLM_URL}\n"
        "  model_name: m\n"
        "  api_key: Bearer ${llm_api_key}\n"
        "custom_tools:\n"
        "  - name: crm\n"
        "    description: Looks up a customer\n"
        "    url: https://crm.example.com\n"
        "    method: GET\n"
        "    headers:\n"
        "      - key: Authorization\n"
        "        value: ${CRM_TOKEN:-dev}\n"
        "      - key: X-Password-Hint\n"
        "        value: ${DB_PASSWORD_HINT:-none}\n"
        "webhook_url: https://hooks.example.com/${WEBHOOK_SECRET}\n",
    )
    loaded = load_one(
        CONFIG, {"LLM_URL": "https://llm.example.com/v1", "llm_api_key": "sk-1", "WEBHOOK_SECRET": "s3"}
    )
    assert loaded.sensitive == {
        ("llm_model", "api_key"),
        ("custom_tools", 0, "headers", 0, "value"),
        ("custom_tools", 0, "headers", 1, "value"),
        ("webhook_url",),
    }
    assert loaded.data["llm_model"]["api_key"] == "Bearer sk-1"


def test_sensitive_value_shared_by_an_alias_is_sensitive_at_both_paths() -> None:
    write(
        CONFIG / "a.yaml",
        "name: A\nwebhook_url: &hook https://h.example.com/${HOOK_TOKEN}\nlogo_url: *hook\n",
    )
    loaded = load_one(CONFIG, {"HOOK_TOKEN": "t"})
    assert loaded.sensitive == {("webhook_url",), ("logo_url",)}


# --- model checks (spec.py) ---------------------------------------------------------------------------------
def test_unknown_key_points_at_the_key_with_did_you_mean() -> None:
    write(CONFIG / "a.yaml", "name: A\nvoice:\n  provider: cartesia\n  id: v\n  sped: 1.1\n")
    assert errors_of(CONFIG) == [
        "assistants/a.yaml:5:3: unknown key 'sped' in voice; did you mean 'speed'?",
    ]


def test_unknown_key_inside_a_tagged_union_points_at_the_key() -> None:
    write(
        CONFIG / "a.yaml",
        "name: A\nllm_model:\n  type: custom\n  api_url: https://x.example.com\n  model_name: m\n"
        "  api_key: k\n  api_kye: k\n",
    )
    (message,) = errors_of(CONFIG)
    assert message.startswith("assistants/a.yaml:7:3: unknown key 'api_kye'")


def test_wrong_type_points_at_the_value() -> None:
    write(CONFIG / "a.yaml", "name: A\nvoice:\n  provider: cartesia\n  id: v\n  speed: fast\n")
    (message,) = errors_of(CONFIG)
    assert message.startswith("assistants/a.yaml:5:10: voice.speed: ")


def test_read_only_field_points_at_the_key() -> None:
    write(CONFIG / "a.yaml", "name: A\ncreated_at: 2024-01-01\n")
    (message,) = errors_of(CONFIG)
    assert message.startswith("assistants/a.yaml:2:1: 'created_at' is read-only")


def test_missing_name_points_at_the_top_mapping() -> None:
    write(CONFIG / "a.yaml", "# no name\nprompt: hi\n")
    (message,) = errors_of(CONFIG)
    assert message == "assistants/a.yaml:2:1: missing required key 'name'"


def test_warnings_are_returned_with_their_location() -> None:
    write(CONFIG / "a.yaml", "name: A\ntransfer_phone_number: '+14155550123'\n")
    assistants, warnings = load_directory(CONFIG, variables={})
    assert len(assistants) == 1
    assert [str(w) for w in warnings] == [
        "assistants/a.yaml:2:1: warning: transfer_phone_number is deprecated (SDK 0.5.0 dropped it): "
        "use transfer_destinations"
    ]


# --- across files --------------------------------------------------------------------------------------------
def test_duplicate_name_across_files() -> None:
    write(CONFIG / "a.yaml", "name: Sales\n")
    write(CONFIG / "b.yaml", "# copy\nname:   Sales\n")
    assert errors_of(CONFIG) == [
        "assistants/b.yaml:2:9: duplicate name 'Sales': assistants/a.yaml:1 already declares it"
    ]


def test_duplicate_pinned_id_across_files() -> None:
    write(CONFIG / "a.yaml", "id: asst_1\nname: A\n")
    write(CONFIG / "sub" / "b.yaml", "name: B\nid: asst_1\n")
    assert errors_of(CONFIG) == [
        "assistants/sub/b.yaml:2:5: duplicate pinned id 'asst_1': assistants/a.yaml:1 already declares it"
    ]


def test_all_errors_of_all_files_are_reported_together() -> None:
    write(CONFIG / "a.yaml", "name: A\nprompt: ${MISSING}\nfirst_sentence: ${ALSO_MISSING}\n")
    write(CONFIG / "b.yaml", "name: [unclosed\n")
    write(CONFIG / "c.yaml", b"name: \xff\n")
    write(
        CONFIG / "d.yaml",
        "name: D\nvoice: {provider: cartesia, id: v, speed: 3}\nmax_call_duration_secs: x\n",
    )
    write(CONFIG / "ok.yaml", "name: OK\n")
    result = collect_paths([CONFIG], variables={})
    assert [a.name for a in result.assistants] == ["OK"]
    located = [str(e).split(": ")[0] for e in result.errors]
    assert located == [
        "assistants/a.yaml:2:9",
        "assistants/a.yaml:3:17",
        "assistants/b.yaml:2:1",
        "assistants/c.yaml:1:7",
        "assistants/d.yaml:2:43",
        "assistants/d.yaml:3:25",
    ]
    with pytest.raises(ConfigErrors) as info:
        load_directory(CONFIG, variables={})
    assert len(info.value.errors) == 6


def test_examples_in_the_repository_validate() -> None:
    examples = Path(__file__).resolve().parent.parent / "assistants"
    if not examples.is_dir():
        pytest.skip("no examples")
    assistants, warnings = load_directory(
        examples, variables={"COLLECTIONS_LLM_API_KEY": "sk-test-0123456789"}
    )
    assert {a.path.name for a in assistants} >= {
        "sales-qualifier.yaml",
        "receptionist.yaml",
        "custom-llm.yaml",
    }
    assert warnings == []
    custom = next(a for a in assistants if a.path.name == "custom-llm.yaml")
    assert ("llm_model", "api_key") in custom.sensitive


def test_merge_key_needs_mappings_and_explicit_tags_are_checked() -> None:
    write(
        CONFIG / "a.yaml",
        "name: A\nvoice:\n  <<: [just text]\n  id: v\nfirst_sentence_delay_ms: !!int many\n",
    )
    assert errors_of(CONFIG) == [
        "assistants/a.yaml:3:8: merge key '<<' needs a mapping or a list of mappings",
        "assistants/a.yaml:5:26: invalid !!int value 'many'",
    ]


def test_without_the_c_extension_the_results_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    import revox_sync.config.yaml as loader

    text = (
        "name: A\nvoice:\n  provider: cartesia\n  id: v\n  speed: ${SPEED:-1.1}\n"
        "first_sentence: yes\nfirst_sentence_delay_ms: 0x1F4\nend_of_call_sentence: 2024-01-01\n"
    )
    write(CONFIG / "a.yaml", text)
    fast = load_one(CONFIG)
    monkeypatch.setattr(loader, "_c_parser", lambda: None)
    slow = load_one(CONFIG)
    assert slow.data == fast.data
    assert slow.positions.values == fast.positions.values
    assert slow.positions.keys == fast.positions.keys


def test_fifos_are_refused_instead_of_blocking() -> None:
    (CONFIG / "prompts").mkdir(parents=True)
    os.mkfifo(CONFIG / "prompts" / "pipe.md")
    os.mkfifo(CONFIG / "pipe.yaml")
    write(CONFIG / "a.yaml", "name: A\nprompt: !file prompts/pipe.md\n")
    assert errors_of(CONFIG) == [
        "assistants/a.yaml:2:9: !file prompts/pipe.md: is not a regular file",
        "assistants/pipe.yaml: not a regular file",
    ]

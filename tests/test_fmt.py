"""`revox-sync fmt`: the canonical layout, kept meaning (through the real loader), idempotence, --check and
--diff, hostile files; and `import` writes what `fmt --check` accepts."""

# ruff: noqa: F811  (pytest fixtures imported from emulator_fixtures are redefined as test arguments)

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import API_KEY, emulator  # noqa: F401
from helpers import run_cli, write
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from revox_sync.commands.plan import load_config
from revox_sync.commands.session import Session
from revox_sync.config.yaml import compose_text, read_document
from revox_sync.emulator import EmulatorServer
from revox_sync.errors import LocatedError
from revox_sync.fmt import format_text
from revox_sync.output import Environment

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIRS = [ROOT / "assistants", ROOT / "examples/fleet"]


def desired(config_dir: Path, environ: dict[str, str] | None = None) -> list[tuple[str, str, Any]]:
    """What the real loader makes of a config directory: every kind's desired objects."""
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), environ=environ or {})
    loaded = load_config(Session(env), config_dir)
    return [(d.kind, d.name, d.data) for config in loaded.values() if config for d in config.desired]


def fmt(text: str, ordered: bool = True) -> str:
    return format_text(text, ordered=ordered, shown="f.yaml")


# --- the repository's own files ---------------------------------------------------------------------------
@pytest.mark.parametrize("source", CONFIG_DIRS, ids=lambda p: p.name)
def test_every_example_means_the_same_after_fmt_and_a_second_run_changes_nothing(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cfg"
    shutil.copytree(source, config)
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    for path in config.rglob("*.yaml"):  # messy on purpose: every file starts away from the layout
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("\n\n", "\n\n\n").replace(": ", ":  ", 3), encoding="utf-8")
    secrets = {"COLLECTIONS_LLM_API_KEY": "sk-collections-0123456789"}  # custom-llm.yaml's key: plan needs it
    before = desired(config, secrets)
    assert run_cli("fmt", "cfg").code == 0
    assert desired(config, secrets) == before
    again = run_cli("fmt", "--check", "cfg")
    assert (again.code, again.out, again.err) == (0, "", "")


def test_the_repository_files_are_formatted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run_cli("fmt", "--check", "assistants", "examples/fleet")
    assert (result.code, result.out, result.err) == (0, "", "")


def test_ci_files_keep_their_meaning() -> None:
    from ruamel.yaml import YAML

    for path in (ROOT / "examples/ci").glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        assert YAML(typ="safe").load(fmt(text)) == YAML(typ="safe").load(text)


# --- the layout ---------------------------------------------------------------------------------------------
def test_keys_in_the_documented_order_comments_moving_with_them() -> None:
    text = (
        "# header\n"
        "voice: {provider: cartesia, id: v1}\n"
        "max_call_duration_secs: 300  # five minutes\n"
        "# the opening line\n"
        "first_sentence: Hi\n"
        "name: A\n"
        "extends: templates/base.yaml\n"
    )
    assert fmt(text) == (
        "# header\n"
        "extends: templates/base.yaml\n"
        "name: A\n"
        "voice: {provider: cartesia, id: v1}\n"
        "# the opening line\n"
        "first_sentence: Hi\n"
        "max_call_duration_secs: 300  # five minutes\n"
    )


def test_blank_lines_around_blocks_and_squeezed_elsewhere() -> None:
    text = "name: A\nprompt: p\n\n\n\nfirst_sentence: Hi\nvoice:\n    provider: cartesia\n    id: v1\nsms_enabled: true\n\n\n"
    assert fmt(text) == (
        "name: A\nprompt: p\n\nvoice:\n  provider: cartesia\n  id: v1\n\nfirst_sentence: Hi\nsms_enabled: true\n"
    )


def test_a_blank_line_stays_only_between_the_keys_it_separated() -> None:
    assert fmt("name: A\n\nprompt: p\nfirst_sentence: Hi\n") == "name: A\n\nprompt: p\nfirst_sentence: Hi\n"
    assert fmt("name: A\nfirst_sentence: Hi\n\nprompt: p\n") == "name: A\nprompt: p\nfirst_sentence: Hi\n"


def test_list_dashes_indented_by_two() -> None:
    text = "name: A\ntransfer_destinations:\n- label: Desk\n  phone_number: '+14155550142'\n"
    assert (
        fmt(text) == 'name: A\n\ntransfer_destinations:\n  - label: Desk\n    phone_number: "+14155550142"\n'
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("'Front desk'", "Front desk"),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        ("'a: b'", '"a: b"'),
        ("'+14155550142'", '"+14155550142"'),
        ('"1.0"', '"1.0"'),
        ('"true"', '"true"'),
        ('""', '""'),
        ('" padded"', '" padded"'),
        ("'#hash'", '"#hash"'),
        # what a YAML 1.1 tool would misread stays (or becomes) quoted
        ("on", '"on"'),
        ("'off'", '"off"'),
        ("y", '"y"'),
        ("NO", '"NO"'),
        ("12:30", '"12:30"'),
        ("'5:30'", '"5:30"'),
        ("2024-01-01", '"2024-01-01"'),
        ("'0777'", '"0777"'),
        ("'1_000'", '"1_000"'),
        ("'0o17'", '"0o17"'),
        # a number YAML 1.1 reads as another number (or a string) is written in decimal
        ("0777", "777"),
        ("0o17", "15"),
        ("1_000", "1_000"),
        ("0x1F", "0x1F"),
        ("1.5", "1.5"),
        # ${...}: quoted or plain decides the type of what it interpolates to
        ("${SPEED}", "${SPEED}"),
        ('"${SPEED}"', '"${SPEED}"'),
        ("'${SPEED}'", '"${SPEED}"'),
        ("'$${literal}'", '"$${literal}"'),
        ("!file prompts/a.md", "!file prompts/a.md"),
        ("null", "null"),
        ("true", "true"),
    ],
)
def test_quoting(value: str, written: str) -> None:
    assert fmt(f"name: A\nlabel: {value}\n", ordered=False) == f"name: A\nlabel: {written}\n"


def test_multi_line_text_becomes_a_literal_block_and_folded_text_stays() -> None:
    assert fmt('prompt: "line one\\nline two\\n"\n') == "prompt: |\n  line one\n  line two\n"
    folded = "prompt: >-\n  a long\n  folded text\n"
    assert fmt(folded) == folded
    keep = "prompt: |+\n  kept\n\n\nname: A\n"
    assert fmt(keep, ordered=False) == keep
    control = 'prompt: "a bell \\a\\nin a text"\n'
    assert fmt(control) == control  # a literal block cannot hold it: double quotes stay


def test_anchors_aliases_and_merge_keys_survive() -> None:
    text = (
        "name: A\n"
        "voice: &v\n  provider: cartesia\n  id: v1\n"
        "call_retry_config:\n  <<: *base\n  timezone: UTC\n"
        "first_sentence: &hi 'Hello'\n"
        "end_of_call_sentence: *hi\n"
    )
    text = "x-base: &base {max_retry_attempts: 2}\n" + text
    out = fmt(text)
    assert "&v" in out and "<<: *base" in out and "&hi 'Hello'" in out and "end_of_call_sentence: *hi" in out
    # an alias may not come before its anchor: the order that would need it is not used
    assert out.index("&base") < out.index("*base")


def test_one_final_newline_and_empty_files() -> None:
    assert fmt("name: A") == "name: A\n"
    assert fmt("name: A\n\n\n") == "name: A\n"
    assert fmt("") == ""
    assert fmt("# only a comment\n") == "# only a comment\n"


def test_unordered_files_keep_their_order() -> None:
    text = "voices:\n  Zed: {language: en, sample: z.wav}\n  Amy:\n    sample: a.wav\n    language: 'fr'\n"
    assert fmt(text, ordered=False) == (
        "voices:\n  Zed: {language: en, sample: z.wav}\n  Amy:\n    sample: a.wav\n    language: fr\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed\n", "f.yaml:2:1: "),
        ("name: A\nname: B\n", "f.yaml:2:1: "),
        ("a: b\n---\nc: d\n", "f.yaml:"),
        ("[" * 5000, "f.yaml:1:"),
    ],
)
def test_bad_yaml_is_one_located_error(text: str, message: str) -> None:
    with pytest.raises(LocatedError) as caught:
        fmt(text)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


# --- hostile files ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["", " ~", " Null", " NULL", " null", " # no value"])
def test_every_way_of_writing_null_is_formatted_as_null(value: str, tmp_path: Path) -> None:
    text = f"name: A\nprompt: p\nvoice:{value}\n"
    out = fmt(text)
    assert out == f"name: A\nprompt: p\nvoice: null{value if '#' in value else ''}\n"
    assert _loaded(tmp_path, out) == _loaded(tmp_path, text)


def test_a_crlf_file_comments_included_is_written_with_lf_only(tmp_path: Path) -> None:
    text = "# head\r\nname: A # eol\r\nprompt: |\r\n  a\r\n  b\r\ntransfer_destinations:\r\n"
    text += "  # item\r\n  - label: a\r\n# end\r\n"
    out = fmt(text)
    assert "\r" not in out
    assert out == (
        "# head\nname: A # eol\nprompt: |\n  a\n  b\n\ntransfer_destinations:\n  # item\n  - label: a\n# end\n"
    )
    assert _loaded(tmp_path, out) == _loaded(tmp_path, text)


@pytest.mark.parametrize(("separator", "escape"), [("\\u2028", "\\L"), ("\\u2029", "\\P")])
def test_text_with_a_unicode_line_separator_stays_quoted(separator: str, escape: str) -> None:
    """YAML 1.1 readers (libyaml, ruamel's own) break a literal block's line there; YAML 1.2 ones do not."""
    out = fmt(f'name: A\nprompt: "a{separator}b\\nc"\n')
    assert out == f'name: A\nprompt: "a{escape}b\\nc"\n'
    assert fmt(out) == out


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: A\nl:\n  - {a: 1}\n# between\n  - {a: 2} #x\n", "f.yaml:4:1: "),
        ("name: A\nl:\n  - a\n  # before\n  - |  # on the indicator\n    text\n  - b\n", "f.yaml:4:3: "),
        ("name: A\nl:\n  - >- # on the indicator\n    text\n  - b\n", "f.yaml:3:8: "),
        ("name: A\nvoice: {provider: x, # in a flow mapping\n  id: y}\n", "f.yaml:2:22: "),
        ("# before the document start\n---\nname: A\n", "f.yaml:1:1: "),
    ],
)
def test_a_comment_the_writer_would_drop_leaves_the_file_as_it_is(text: str, where: str) -> None:
    with pytest.raises(LocatedError) as caught:
        fmt(text)
    assert (
        str(caught.value)
        == f"{where}cannot format this file without losing this comment; it was left as it is"
    )


def test_comments_are_told_from_hashes_in_values() -> None:
    text = "name: A # c\nprompt: |\n  # not a comment\n  a #b\nfirst_sentence: 'x # y'\nl: [a, b] # d\n"
    assert fmt(text) == text.replace("'x # y'", '"x # y"')


def test_blank_lines_before_the_first_comment_go_at_once() -> None:
    assert fmt("\n\n# c\nname: A\n") == "# c\nname: A\n"


def test_a_tag_directive_is_refused_in_place_not_a_crash() -> None:
    with pytest.raises(LocatedError) as caught:
        fmt("%TAG !e! tag:example.com,2000:\n---\nname: !e!foo A\n")
    assert str(caught.value).startswith("f.yaml:")


# --- property: generated assistants, written in any style ---------------------------------------------------
TRICKY = st.sampled_from(
    [
        "yes",
        "on",
        "No",
        "y",
        "12:30",
        "0777",
        "1_000",
        "0o17",
        "2024-01-01",
        "1e3",
        "+14155550142",
        "~",
        "null",
        "true",
        "1.0",
        "-",
        "a: b",
        "#x",
        "x #y",
        " lead",
        "trail ",
        "",
        "it's",
        'say "hi"',
        "Zoë 🌊",
        "${V}",
        "${V:-1.5}",
        "$${V}",
        "[x]",
        "{x}",
        "*x",
        "&x",
        "!x",
        "%x",
        "@x",
        "`x",
        "a\nb",
        "a\n\nb\n",
        "tab\there",
    ]
)
TEXT = st.one_of(TRICKY, st.text(alphabet="abc :#'\"\n-${}0", max_size=12))
SCALAR = st.one_of(TEXT, st.integers(-5, 5000), st.booleans(), st.none(), st.floats(0, 10, allow_nan=False))
STYLES = st.sampled_from(["plain", "single", "double", "literal"])
FIELDS = [
    "name",
    "prompt",
    "first_sentence",
    "end_of_call_sentence",
    "webhook_url",
    "voicemail_message",
    "max_call_duration_secs",
    "sms_enabled",
    "type",
    "unknown_key",
]


def _styled(value: Any, style: str) -> Any:
    from ruamel.yaml.scalarstring import (
        DoubleQuotedScalarString,
        LiteralScalarString,
        SingleQuotedScalarString,
    )

    if not isinstance(value, str):
        return value
    if style == "single":
        return SingleQuotedScalarString(value)
    if style == "double":
        return DoubleQuotedScalarString(value)
    if style == "literal" and "\n" in value and value.strip() == value.strip(" \t"):
        return LiteralScalarString(value)
    return value  # plain where the writer can, quoted where it must


@st.composite
def assistant_files(draw: st.DrawFn) -> str:
    """An assistant-like file: its keys in any order, scalars in any style, lists in flow or block style,
    comments above keys and at line ends."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from revox_sync.importer.style import dump, yaml_writer

    keys = draw(st.lists(st.sampled_from(FIELDS), unique=True, min_size=1))
    doc = CommentedMap()
    for key in keys:
        kind = draw(st.sampled_from(["scalar", "list", "map"]))
        if kind == "scalar":
            doc[key] = _styled(draw(SCALAR), draw(STYLES))
        elif kind == "list":
            seq = CommentedSeq(_styled(v, draw(STYLES)) for v in draw(st.lists(SCALAR, max_size=3)))
            if draw(st.booleans()):
                seq.fa.set_flow_style()
            doc[key] = seq
        else:
            doc[key] = CommentedMap(
                (f"k{i}", _styled(v, draw(STYLES))) for i, v in enumerate(draw(st.lists(SCALAR, max_size=3)))
            )
        if draw(st.booleans()):
            doc.yaml_set_comment_before_after_key(key, before=f"about {key}")
    return dump(yaml_writer(indent=draw(st.sampled_from([2, 4])), offset=draw(st.sampled_from([0, 2]))), doc)


def _loaded(tmp: Path, text: str) -> Any:
    path = write(tmp / "a.yaml", text)
    document = read_document(path, tmp, {"V": "1"}, {})
    return document.data, [str(e.message) for e in document.errors]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=assistant_files(), ordered=st.booleans())
def test_generated_files_mean_the_same_and_a_second_run_changes_nothing(
    text: str, ordered: bool, tmp_path: Path
) -> None:
    try:
        compose_text(text, "a.yaml")
    except LocatedError:
        assume(False)  # ruamel writes some plain scalars that YAML parsers refuse (`[:0]`): not a file
    out = format_text(text, ordered=ordered, shown="a.yaml")
    assert _loaded(tmp_path, out) == _loaded(tmp_path, text)
    assert format_text(out, ordered=ordered, shown="a.yaml") == out
    for line in text.splitlines():
        if line.lstrip().startswith("# about"):
            assert line.strip() in out  # every comment kept
    assert out.endswith("\n") and not out.endswith("\n\n")


# --- the command ------------------------------------------------------------------------------------------
MESSY = "voice: {provider: cartesia, id: v1}\nname:   'Support'\n"
TIDY = "name: Support\nvoice: {provider: cartesia, id: v1}\n"


def test_fmt_rewrites_and_names_the_files_it_changed(workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", MESSY)
    write(workdir / "assistants/b.yaml", TIDY)
    result = run_cli("fmt")
    assert (result.code, result.out, result.err) == (0, "formatted assistants/a.yaml\n", "")
    assert (workdir / "assistants/a.yaml").read_text() == TIDY


def test_fmt_check_lists_the_files_exit_1_and_writes_nothing(workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", MESSY)
    write(workdir / "assistants/voices.yaml", "voices:\n  Brand: {language: 'en', sample: s.wav}\n")
    write(
        workdir / "revox-sync.yaml",
        "config_dir: assistants\nenvironments:\n  staging: {api_key_env: 'REVOX_API_KEY_K'}\n",
    )
    (workdir / ".git").mkdir()
    result = run_cli("fmt", "--check")
    assert result.code == 1
    assert result.out.splitlines() == ["assistants/a.yaml", "assistants/voices.yaml", "revox-sync.yaml"]
    assert result.err == "3 files would be reformatted: run `revox-sync fmt` to rewrite them.\n"
    assert (workdir / "assistants/a.yaml").read_text() == MESSY


def test_fmt_diff_prints_a_unified_diff_without_secrets_and_writes_nothing(workdir: Path) -> None:
    secret = "sk-live-0123456789abcdef"
    text = f"llm_model:\n    type: custom\n    api_key: {secret}\nname: A\n"
    write(workdir / "assistants/a.yaml", text)
    result = run_cli("fmt", "--diff", "assistants/a.yaml")
    assert result.code == 1
    assert result.out.splitlines()[:2] == ["--- a/assistants/a.yaml", "+++ b/assistants/a.yaml"]
    assert "+name: A" in result.out.splitlines()
    assert secret not in result.all and "(sensitive)" in result.out
    assert (workdir / "assistants/a.yaml").read_text() == text


def test_fmt_of_a_formatted_tree_says_nothing(workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", TIDY)
    for args in (("fmt",), ("fmt", "--check"), ("fmt", "--diff")):
        result = run_cli(*args)
        assert (result.code, result.out, result.err) == (0, "", "")


def test_bad_files_are_reported_and_the_others_still_formatted(workdir: Path) -> None:
    write(workdir / "assistants/bad.yaml", "name: [\n")
    write(workdir / "assistants/a.yaml", MESSY)
    write(workdir / "notes.txt", "x")
    result = run_cli("fmt", "assistants", "missing", "notes.txt")
    assert result.code == 1
    assert result.out == "formatted assistants/a.yaml\n"
    lines = result.err.splitlines()
    assert lines[0].startswith("assistants/bad.yaml:2:1: ")
    assert lines[1:] == [
        "missing: no such file or directory",
        "notes.txt: not a YAML file (expected .yaml or .yml)",
        "3 errors.",
    ]
    assert "Traceback" not in result.all


def test_a_link_is_formatted_where_it_points_and_stays_a_link(workdir: Path) -> None:
    target = write(workdir / "assistants/real.yaml", MESSY)
    (workdir / "assistants/link.yaml").symlink_to("real.yaml")
    assert run_cli("fmt", "assistants/link.yaml").code == 0
    assert (workdir / "assistants/link.yaml").is_symlink()
    assert target.read_text() == TIDY


def test_a_link_out_of_the_directory_is_an_error(
    workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = write(tmp_path_factory.mktemp("elsewhere") / "x.yaml", MESSY)
    (workdir / "assistants/link.yaml").symlink_to(outside)
    result = run_cli("fmt", "assistants")
    assert result.code == 1 and "link.yaml" in result.err
    assert outside.read_text() == MESSY


def test_file_names_are_printed_with_control_characters_visible(workdir: Path) -> None:
    write(workdir / "assistants/a\x1b[31m\nb.yaml", MESSY)
    for args, line in (
        (("fmt", "--check"), "assistants/a\\u001b[31m\\u000ab.yaml"),
        (("fmt", "--diff"), "--- a/assistants/a\\u001b[31m\\u000ab.yaml"),
        (("fmt",), "formatted assistants/a\\u001b[31m\\u000ab.yaml"),
    ):
        result = run_cli(*args)
        assert result.out.splitlines()[0] == line
        assert "\x1b" not in result.all


@contextlib.contextmanager
def _unwritable(directory: Path) -> Iterator[None]:
    """`directory` unwritable while inside: by its mode, or for root (whom modes do not stop) chattr +i."""
    directory.chmod(0o555)
    root = os.geteuid() == 0
    if root and subprocess.run(["chattr", "+i", str(directory)], check=False).returncode != 0:
        directory.chmod(0o755)
        pytest.skip("root, and no chattr here: nothing makes a directory unwritable")
    try:
        yield
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        directory.chmod(0o755)


def test_a_file_that_cannot_be_written_is_one_located_error(workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", MESSY)
    write(workdir / "assistants/b.yaml", MESSY)
    with _unwritable(workdir / "assistants"):
        result = run_cli("fmt")
    assert result.code == 1 and result.out == ""
    reason = "Operation not permitted" if os.geteuid() == 0 else "Permission denied"
    assert result.err.splitlines() == [
        f"assistants/a.yaml: cannot write: {reason}",
        f"assistants/b.yaml: cannot write: {reason}",
        "2 errors.",
    ]
    assert (workdir / "assistants/a.yaml").read_text() == MESSY


def test_fmt_keeps_the_file_mode(workdir: Path) -> None:
    path = write(workdir / "assistants/a.yaml", MESSY)
    path.chmod(0o600)
    assert run_cli("fmt").code == 0
    assert path.stat().st_mode & 0o777 == 0o600


# --- import writes what fmt accepts ---------------------------------------------------------------------------
def test_imported_files_pass_fmt_check(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_import import PLAIN, RECEPTION

    reception = emulator.state.seed_assistant(RECEPTION)
    emulator.state.add_faq_suggestion(reception["id"], "Do you open on Sundays?")
    emulator.state.seed_assistant(PLAIN)
    emulator.state.seed_assistant(
        {
            **PLAIN,
            "name": "On",
            "first_sentence": "12:30",
            "end_of_call_sentence": "no",
            "voicemail_message": "a line\u2028separator\nand a break",
        }
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    result = run_cli("--base-url", emulator.url, "--api-key", API_KEY, "import", "--all")
    assert result.code == 0, result.err
    check = run_cli("fmt", "--check", "assistants")
    assert (check.code, check.out) == (0, ""), check.all
    assert '"12:30"' in (tmp_path / "assistants/on.yaml").read_text()

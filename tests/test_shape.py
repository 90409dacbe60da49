"""The models' shape, read without pydantic, accepts only what the models accept, and reads like them: so a
file it accepts gets exactly the findings the models would have given."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from test_convergence_property import assistants

from revox_sync.kinds.assistant.checks import _semantic_issues
from revox_sync.kinds.assistant.schema import shape
from revox_sync.kinds.assistant.shape import ASSISTANT_FIELDS, SHAPE, plain
from revox_sync.kinds.assistant.spec import AssistantSpec

REPO = Path(__file__).resolve().parent.parent

# values of every type YAML reads, and the edges: bools among numbers, floats no number holds, text that is
# no text (a lone surrogate), the tags and words the models know
TRICKY: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    7200,
    2**53,
    2**53 + 1,
    10**400,
    0.0,
    0.5,
    1.0,
    1.2,
    1.5,
    9.5,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    "x",
    " x ",
    "\ud800",
    "é",
    "10:00",
    "monday",
    "cartesia",
    "sonic-3",
    "gpt-4.1",
    "dedicated-instance",
    "custom",
    "GET",
    "enum",
    "promptBlock",
    "+14155550142",
    [],
    ["x"],
    ["monday", "monday"],
    [{}],
    [None],
    {},
    {"x": 1},
    {"type": "custom"},
    {"type": "realtime", "provider": "openai", "realtime_model_id": "r"},
    {1: "x"},
]


def _example(node: dict[str, Any], tag: int = 0) -> Any:
    """A valid value of a schema node (the `tag`-th variant of a tagged union)."""
    if "$ref" in node:
        return _example(SHAPE["$defs"][node["$ref"].rsplit("/", 1)[-1]], tag)
    if "anyOf" in node:
        return _example(next(b for b in node["anyOf"] if b.get("type") != "null"), tag)
    if "oneOf" in node:
        return _example(node["oneOf"][tag % len(node["oneOf"])], tag)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][tag % len(node["enum"])]
    kind = node["type"]
    if kind == "object":
        return {k: _example(v, tag) for k, v in node["properties"].items()}
    if kind == "array":
        return [_example(node["items"], tag)]
    if kind == "string":
        return "x"
    if kind == "integer":
        return 1
    if kind == "number":
        return node.get("minimum", 1.0)
    return True


def _paths(value: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield loc
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*loc, i))


def _at(doc: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        doc = doc[part]
    return doc


def _with(doc: Any, loc: tuple[Any, ...], value: Any) -> Any:
    """`doc` with the value at `loc` replaced (or removed, when `value` is `_GONE`); `doc` stays as it was."""
    if not loc:
        return value
    out = copy.copy(doc)
    if len(loc) > 1:
        out[loc[0]] = _with(doc[loc[0]], loc[1:], value)
    elif value is _GONE:
        del out[loc[0]]
    else:
        out[loc[0]] = value
    return out


_GONE = object()


def _agrees(doc: Any) -> bool:
    """The shape accepts `doc` only if the models do, and then its view gives the same findings; whether
    the shape accepted it."""
    view = plain(doc)
    if view is None:
        return False
    model = AssistantSpec.model_validate(doc)  # raises if the shape accepted what the models refuse
    _assert_reads_like(view, model)
    assert list(_semantic_issues(view)) == list(_semantic_issues(model)), doc
    return True


def _assert_reads_like(view: Any, model: Any) -> None:
    """Every field, at every depth, of the same type and value."""
    if isinstance(model, BaseModel):
        for name in type(model).model_fields:
            _assert_reads_like(getattr(view, name), getattr(model, name))
    elif isinstance(model, list):
        assert isinstance(view, list) and len(view) == len(model)
        for a, b in zip(view, model, strict=True):
            _assert_reads_like(a, b)
    else:
        assert type(view) is type(model) and (view == model or (view != view and model != model))


FULL = [_example(SHAPE, tag) for tag in range(4)]  # every field of every model, each llm_model variant
VALID = """\
name: Front desk
prompt: Greet the caller.
voice: {provider: cartesia, id: v-1, speed: 1}
llm_model: {type: dedicated-instance, name: gpt-4.1}
call_retry_config:
  allowed_days: [monday, friday]
  calling_windows: [{calling_window_start_time: 9am, calling_window_end_time: "17:30"}]
faq_items:
  - question: When are you open?
    answer: Nine to five.
custom_tools:
  - {name: crm_lookup, description: Look up, url: "https://crm.example.com/{{phone}}", method: GET}
"""


def test_the_shipped_shape_is_the_models() -> None:
    assert shape() == SHAPE, (
        "the models changed: write shape.json again (the command is in schema.shape's docstring)"
    )
    assert tuple(AssistantSpec.model_fields) == ASSISTANT_FIELDS  # the order new files are written in


def test_the_models_check_nothing_their_schema_does_not_say() -> None:
    """The shape knows only what the JSON Schema says: a validator function in a model (a decorator, an
    `AfterValidator`, ...) would not be in it, so the models' core schema holds none."""
    AssistantSpec.model_rebuild()
    kinds: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("type"), str):
                kinds.add(node["type"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(AssistantSpec.__pydantic_core_schema__)
    plain_kinds = {"model", "model-fields", "model-field", "definitions", "definition-ref", "default"}
    plain_kinds |= {"nullable", "tagged-union", "list", "literal", "str", "int", "float", "bool"}
    assert kinds <= plain_kinds


def test_every_value_in_every_field() -> None:
    """Each edge value in place of each value of a document that has every field (and without it, and
    beside an unknown key)."""
    accepted = 0
    for full in FULL:
        assert _agrees(full)
        for loc in _paths(full):
            if full is not FULL[0] and loc[:1] != ("llm_model",):
                continue  # the other documents differ there only
            if loc:
                accepted += sum(_agrees(_with(full, loc, value)) for value in TRICKY)
                _agrees(_with(full, loc, _GONE))
            if isinstance(_at(full, loc), dict):
                _agrees(_with(full, (*loc, "unknown"), 1))
    assert accepted > 1000  # and it does accept the usual values


@settings(max_examples=200, deadline=None)
@given(data=assistants())
def test_a_valid_file_is_plainly_valid(data: dict[str, Any]) -> None:
    """What the models accept of usual files, the shape accepts too: pydantic is not needed for them."""
    assert _agrees(data)


@settings(max_examples=300, deadline=None)
@given(data=assistants(), pick=st.data())
def test_one_value_anywhere(data: dict[str, Any], pick: st.DataObject) -> None:
    loc = pick.draw(st.sampled_from([p for p in _paths(data) if p]))
    _agrees(_with(data, loc, pick.draw(st.sampled_from(TRICKY))))


def test_validate_of_a_valid_file_imports_neither_pydantic_nor_the_network(tmp_path: Path) -> None:
    """A pre-commit hook's run: the models, the HTTP client, the backup cipher and the regex engine of custom
    rules are for other commands (or for files with mistakes)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "assistants").mkdir()
    (tmp_path / "assistants/a.yaml").write_text(VALID, encoding="utf-8")
    script = (
        "import sys\nfrom revox_sync.cli import main\ncode = main(['validate'])\n"
        "print(code, sorted({m.split('.')[0] for m in sys.modules}"
        " & {'pydantic', 'pydantic_core', 'httpx', 'cryptography', 'regex'}))"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_many_files_are_checked_by_the_models_alone_and_read_the_same(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Past SHAPE_MAX_FILES the shape is not read (the models cost less per file); what loads is the same."""
    from revox_sync.kinds.assistant import checks, load

    for i in range(3):
        (tmp_path / f"a{i}.yaml").write_text(
            f"name: A{i}\nprompt: Hello.\nfirst_sentence_delay_ms: 5\nfaq_items:\n"
            "  - question: When?\n    answer: At nine.\nmax_call_duration_secs: 60\n",
            encoding="utf-8",
        )
    few, _ = load.load_directory(tmp_path)
    shape_reads: list[int] = []
    monkeypatch.setattr(checks, "plain", lambda data: shape_reads.append(1) or plain(data))
    load.load_directory(tmp_path)
    assert len(shape_reads) == 3  # under the limit: every file read against the shape first
    monkeypatch.setattr(load, "SHAPE_MAX_FILES", 2)
    shape_reads.clear()
    many, _ = load.load_directory(tmp_path)
    assert shape_reads == []
    assert [(a.data, a.positions) for a in many] == [(a.data, a.positions) for a in few]
    assert plain(many[0].data) is not None  # the files are plainly valid: the shape would have taken them

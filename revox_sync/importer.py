"""`revox-sync import`: live assistants to YAML files that a following `plan` finds in sync.

What a new file holds (CONTRACT §1, §2 `import`):
- `name`, the pinned `id`, then `prompt`, `voice`, the first-sentence fields, then the spec's field order;
- only the fields that differ from the API default (everything with `--with-defaults`), and inside nested
  objects only the sub-fields that differ from their default, because an omitted sub-field means the default;
- long text (the prompt always, other prompts when long or multi-line) in `prompts/<slug>*.md`, referenced with
  `!file` and written byte for byte; a literal `${` in any other string is written `$${`;
- no secret: values at sensitive paths as `"${VAR}"` placeholders (a new `REVOX_<SLUG>_...` variable unless a
  known one holds exactly that value), and every value the run knows to be secret (a sensitive variable's, the
  API key) as `${NAME}` wherever it occurs, longest first; a text holding one stays inline, since text read
  with `!file` is not interpolated; where no placeholder can stand (a `$` right before the secret) the whole
  value becomes a new variable; values shorter than `sensitive.MIN_SECRET_LENGTH` are not looked for (a
  warning says so); a write that would still hold a secret (a comment) is refused. The command prints which
  variables to set;
- server-suggested FAQ items awaiting an answer as a commented block under `faq_items`.

Re-importing into a file that already pins the assistant (or, without a pin, declares its exact name) is a
ruamel.yaml round-trip edit: only the values whose comparable form (`normalize.canonical`) differs from the
remote are replaced, so comments, key order, quoting, `!file` includes and `${VAR}` references survive. Files
that would change are only written with `--overwrite`; every change is computed and checked before the first
write, every write is atomic, and nothing is written outside the config directory. A re-import also turns
known secrets that an existing file holds in plaintext into placeholders.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.config.discovery import display_path
from revox_sync.config.yaml import VARIABLE_RE
from revox_sync.engine.change import dotted
from revox_sync.errors import FatalError
from revox_sync.files import write_atomic
from revox_sync.kinds.assistant import normalize, spec
from revox_sync.kinds.assistant.load import find_assistant_files
from revox_sync.sensitive import (
    MIN_SECRET_LENGTH,
    is_sensitive_path,
    is_sensitive_variable,
    scrub,
    secret_pattern,
)

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient
    from revox_sync.output import Environment

Loc = tuple[str | int, ...]

# --- the API's top-level defaults: the one place they are written down ---------------------------------------
# A field whose remote value equals its default here (compared in canonical form) is left out of the file.
# Every field not listed defaults to null (which compares equal to [] for list fields).
API_DEFAULTS: dict[str, Any] = {
    "first_sentence_delay_ms": 400,
    "first_sentence_mode": "generated",
    "ivr_navigation_enabled": False,
    "llm_model": {"type": "dedicated-instance", "name": "gpt-4.1"},
    "max_call_duration_secs": 600,
    "sms_enabled": False,
    "stt_model": "stt-rt-v5",
    "background_sound": None,
    "background_sound_volume": 0.5,
    "thinking_sound": None,
    "thinking_sound_probability": 0.5,
    "thinking_sound_volume": 0.5,
    "type": "standalone",
    "call_retry_config": {},  # every nested default
}

# Key order of a new file: identity, what the assistant says, then the spec's own order.
LEADING_FIELDS = (
    "name",
    "id",
    "prompt",
    "voice",
    "first_sentence",
    "first_sentence_mode",
    "first_sentence_delay_ms",
)
FIELD_ORDER: tuple[str, ...] = LEADING_FIELDS + tuple(
    f for f in spec.ASSISTANT_FIELDS if f not in LEADING_FIELDS
)
ALWAYS_WRITTEN = frozenset({"name", "prompt"})

# Text fields that go to their own Markdown file: the prompt always, the others when long or multi-line.
TEXT_FILE_SUFFIX = {
    "prompt": "",
    "structured_output_prompt": ".structured-output",
    "after_call_sms_prompt": ".sms",
    "voicemail_sms_prompt": ".voicemail-sms",
    "warm_transfer_summary_instructions": ".transfer-summary",
    "sms_template": ".sms-template",
}
LONG_TEXT = 200
PROMPTS_DIR = "prompts"
FILE_TAG = "!file"
SUGGESTION_MARKER = "Suggested by Revox, awaiting an answer (uncomment, answer, then apply):"
API_KEY_VARIABLE = "REVOX_API_KEY"  # the placeholder of the run's own key, when no variable holds it
HEADER = "# Imported from Revox by `revox-sync import`. Edit here, then run `revox-sync plan`.\n"
MAX_SLUG = 60


# --- small helpers --------------------------------------------------------------------------------------------
def slugify(name: str) -> str:
    """'Réception — Zoë!' -> 'reception-zoe'; nothing left -> 'assistant'."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] if "-" in slug[:MAX_SLUG] else slug[:MAX_SLUG]
    return slug or "assistant"


def env_name(*parts: str) -> str:
    """An environment variable name: REVOX_SALES_QUALIFIER_LLM_API_KEY."""
    words = [re.sub(r"[^A-Z0-9]+", "_", p.upper()).strip("_") for p in parts]
    return "_".join(w for w in words if w)


def escape_vars(text: str) -> str:
    """A string as it must be written in a YAML scalar so the loader reads `text` back: `${` -> `$${`."""
    return text.replace("${", "$${")


def _is_within(path: Path, root: Path) -> bool:
    path_abs, root_abs = os.path.realpath(path), os.path.realpath(root)
    try:
        return os.path.commonpath([path_abs, root_abs]) == root_abs
    except ValueError:
        return False


def _is_default(field_name: str, value: Any) -> bool:
    default = API_DEFAULTS.get(field_name)
    return bool(normalize.canonical(field_name, value) == normalize.canonical(field_name, default))


def _get(value: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        value = value[part]
    return value


def _set(top: Any, path: Sequence[str | int], value: Any) -> Any:
    """`top` with the value at `path` replaced (in place below the top; the new top is returned)."""
    if not path:
        return value
    _get(top, path[:-1])[path[-1]] = value
    return top


class _Probe:
    """A value no model field accepts: setting a key to it shows whether the canonical form knows the key."""


@dataclass(frozen=True)
class Secret:
    """A sensitive value written as a `${VAR}` placeholder."""

    variable: str
    where: str  # 'llm_model.api_key of "Sales qualifier"'


class _Known:
    """The secrets this run knows by value, each with the variable that holds it: the values of sensitive
    variables (environment, --var, --var-file) and the run's own API key."""

    def __init__(self, variables: Mapping[str, str], api_key: str | None) -> None:
        self.names: dict[str, str] = {}
        for name in sorted(variables):
            if is_sensitive_variable(name) and variables[name]:
                self.names.setdefault(variables[name], name)
        if api_key:
            self.names.setdefault(api_key, API_KEY_VARIABLE)
        # too short to look for (sensitive.MIN_SECRET_LENGTH): variable -> value
        self.short = {
            n: v for v, n in sorted(self.names.items(), key=lambda i: i[1]) if len(v) < MIN_SECRET_LENGTH
        }
        self.pattern = secret_pattern(self.names)

    def found(self, text: str) -> list[str]:
        """The variables whose values occur in `text`, in order of first occurrence."""
        if self.pattern is None:
            return []
        return list(dict.fromkeys(self.names[m.group(0)] for m in self.pattern.finditer(text)))

    def masked(self, text: str) -> str:
        """`text` with each secret replaced by its variable's name (for file names)."""
        return text if self.pattern is None else self.pattern.sub(lambda m: self.names[m.group(0)], text)

    def placeholders(self, raw: str) -> tuple[str, list[str]] | None:
        """`raw` (a string as a file holds it: `$${` escapes, `${VAR}` references) with every secret in its
        literal text written `${NAME}`, and the names used; None when a `$` right before a secret leaves no
        way to write one there (`$${` reads as a literal `${`)."""
        pattern = self.pattern
        if pattern is None:
            return raw, []
        out: list[str] = []
        used: list[str] = []
        literal: list[str] = []

        def flush() -> bool:
            text, position = "".join(literal), 0
            literal.clear()
            for m in pattern.finditer(text):
                before = escape_vars(text[position : m.start()])
                if before.endswith("$"):
                    return False
                out.append(before + "${" + self.names[m.group(0)] + "}")
                used.append(self.names[m.group(0)])
                position = m.end()
            out.append(escape_vars(text[position:]))
            return True

        position = 0
        for m in VARIABLE_RE.finditer(raw):
            literal.append(raw[position : m.start()])
            position = m.end()
            if m.group(0) == "$${":
                literal.append("${")
            elif flush():
                out.append(m.group(0))  # a reference stays as written
            else:
                return None
        literal.append(raw[position:])
        return ("".join(out), used) if flush() else None


class _Secrets:
    """The placeholders of one file, each listed for the user to set: new `${REVOX_<SLUG>_...}` variables
    for values at sensitive paths (and texts no placeholder can go into), and the known variables."""

    def __init__(
        self, outcome: _Outcome, slug: str, known: _Known, taken: frozenset[str] = frozenset()
    ) -> None:
        self.outcome = outcome
        self.slug = slug
        self.known = known
        self.used = {s.variable for s in outcome.secrets} | set(taken)
        self.label = json.dumps(outcome.remote.get("name"), ensure_ascii=False)

    def where(self, loc: Loc) -> str:
        return f"{dotted(loc)} of {self.label}"

    def note(self, variable: str, where: str) -> Secret:
        secret = Secret(variable, where)
        self.outcome.secrets.append(secret)
        return secret

    def __call__(self, loc: Loc, value: str, *, whole: bool = False) -> Secret:
        """The placeholder of the sensitive `value` at `loc`: the known variable holding exactly that value,
        else a new variable (`whole`: the text holds a secret that no placeholder can stand for)."""
        known = self.known.names.get(value)
        if known is not None:
            return self.note(known, self.where(loc))
        tools = self.outcome.remote.get("custom_tools") or []
        if loc[:2] == ("llm_model", "api_key"):
            parts = ["LLM_API_KEY"]
        elif loc[0] == "custom_tools" and len(loc) > 4 and loc[2] == "headers":
            tool = tools[loc[1]] if isinstance(loc[1], int) and loc[1] < len(tools) else {}
            headers = tool.get("headers") or [] if isinstance(tool, dict) else []
            header = headers[loc[3]] if isinstance(loc[3], int) and loc[3] < len(headers) else {}
            parts = [str(tool.get("name", "tool")), str(header.get("key", "header"))]
        else:
            parts = [p for p in loc if isinstance(p, str)]
        base = env_name("REVOX", self.slug, *parts)
        variable, n = base, 2
        while variable in self.used:
            variable, n = f"{base}_{n}", n + 1
        self.used.add(variable)
        return self.note(variable, self.where(loc) + (" (set it to the whole text)" if whole else ""))


# --- turning a remote value into the form a file holds -------------------------------------------------------
class _Canon:
    """Canonical comparisons of one top-level field while its value is edited in place."""

    def __init__(self, field_name: str, top: Any) -> None:
        self.field = field_name
        self.top = top

    def form(self) -> Any:
        return normalize.canonical(self.field, self.top)

    def same_with(self, path: Loc, value: Any) -> bool:
        """Whether the canonical form stays the same with the value at `path` replaced by `value`."""
        before = self.form()
        parent = _get(self.top, path[:-1])
        key = path[-1]
        old = parent[key]
        parent[key] = value
        try:
            return bool(self.form() == before)
        finally:
            parent[key] = old

    def same_without(self, path: Loc) -> bool:
        before = self.form()
        parent = _get(self.top, path[:-1])
        key = path[-1]
        position = list(parent).index(key)
        old = parent.pop(key)
        try:
            return bool(self.form() == before)
        finally:
            items = list(parent.items())
            items.insert(position, (key, old))
            parent.clear()
            parent.update(items)

    def prune(self, path: Loc, *, defaults: bool) -> None:
        """Drop, under `path`, keys the model does not know and (with `defaults`) keys equal to the default."""
        node = _get(self.top, path) if path else self.top
        if isinstance(node, dict):
            for key in list(node):
                sub = (*path, key)
                if self.same_without(sub) and (defaults or self.same_with(sub, _Probe())):
                    del node[key]
                else:
                    self.prune(sub, defaults=defaults)
        elif isinstance(node, list):
            for index in range(len(node)):
                self.prune((*path, index), defaults=defaults)


def clean_value(field_name: str, value: Any, *, with_defaults: bool) -> Any:
    """A remote top-level value as a file holds it: no server-owned or unknown keys, no default sub-fields."""
    value = copy.deepcopy(value)
    if field_name == "faq_items" and isinstance(value, list):
        value = [i for i in value if not normalize.is_suggestion(i)]
    canon = _Canon(field_name, value)
    if isinstance(value, (dict, list)):
        canon.prune((), defaults=not with_defaults)
    return canon.top


def _secrets_and_escapes(value: Any, loc: Loc, make_secret: _Secrets) -> Any:
    """Sensitive strings become Secret placeholders; `${` in every other string is escaped."""
    if isinstance(value, dict):
        return {k: _secrets_and_escapes(v, (*loc, k), make_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets_and_escapes(v, (*loc, i), make_secret) for i, v in enumerate(value)]
    if isinstance(value, str):
        if is_sensitive_path(loc):
            return make_secret(loc, value)
        return escape_vars(value)
    return value


# --- YAML writing -------------------------------------------------------------------------------------------
def _yaml(indent: int = 2, offset: int = 2, explicit_start: bool = False) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=indent, sequence=offset + 2, offset=offset)
    yaml.explicit_start = explicit_start

    def null(representer: Any, _data: Any) -> Any:
        return representer.represent_scalar("tag:yaml.org,2002:null", "null")

    yaml.representer.add_representer(type(None), null)
    return yaml


_OPENING_KEY_RE = re.compile(r"^( *)[^\s#-][^:#]*:\s*(#.*)?$")


def guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, dash offset of block lists) as a file is written, so a rewrite keeps its layout."""
    mapping: int | None = None
    offset: int | None = None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for line, following in itertools.pairwise(lines):
        m = _OPENING_KEY_RE.match(line)
        if not m:
            continue
        depth = len(following) - len(following.lstrip(" ")) - len(m.group(1))
        if following.lstrip(" ").startswith("- "):
            offset = depth if offset is None and depth >= 0 else offset
        elif mapping is None and depth > 0:
            mapping = depth
        if mapping is not None and offset is not None:
            break
    return mapping or 2, 2 if offset is None else offset


def _dump(yaml: Any, doc: Any) -> str:
    stream = io.StringIO()
    yaml.dump(doc, stream)
    return stream.getvalue()


def _reads_back(node: Any, text: str) -> bool:
    """Whether a styled string node dumps to YAML that reads back exactly as `text`."""
    from ruamel.yaml import YAML

    try:
        dumped = _dump(_yaml(), {"v": node})
        return bool(YAML(typ="safe").load(dumped) == {"v": text})
    except Exception:
        return False


def _styled_str(text: str, like: Any = None) -> Any:
    """A string node: the style of `like` when it can carry `text`; multi-line text as a literal block."""
    from ruamel.yaml.scalarstring import (
        DoubleQuotedScalarString,
        FoldedScalarString,
        LiteralScalarString,
        SingleQuotedScalarString,
    )

    candidates: list[Any] = []
    if isinstance(like, (SingleQuotedScalarString, DoubleQuotedScalarString)):
        candidates.append(type(like))
    if isinstance(like, FoldedScalarString) and "\n" not in text:
        candidates.append(FoldedScalarString)
    if "\n" in text:
        candidates.append(LiteralScalarString)
    for kind in candidates:
        node = kind(text)
        if _reads_back(node, text):
            return node
    if "\n" in text:
        return DoubleQuotedScalarString(text)
    if YAML11_AMBIGUOUS.match(text):
        return DoubleQuotedScalarString(text)  # `12:00` or `on` plain is a number or a bool to YAML 1.1 tools
    return text


# Plain scalars that YAML 1.2 reads as strings but YAML 1.1 tools (old linters, editors) do not.
YAML11_AMBIGUOUS = re.compile(
    r"^([-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$"
)


def to_yaml(value: Any, like: Any = None) -> Any:
    """Plain data to ruamel nodes: lists of scalars in flow style, secrets as double-quoted placeholders."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, Secret):
        return DoubleQuotedScalarString("${" + value.variable + "}")
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = to_yaml(v)
        return out
    if isinstance(value, list):
        seq = CommentedSeq([to_yaml(v) for v in value])
        if value and all(isinstance(v, str) and "\n" not in v and len(v) < 60 for v in value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str):
        return _styled_str(value, like)
    if isinstance(value, float) and value.is_integer() and type(like) is int:
        return int(value)  # the file wrote a whole number: keep writing it that way
    return value


def _tagged(path_text: str) -> Any:
    from ruamel.yaml.comments import TaggedScalar

    return TaggedScalar(value=path_text, tag=FILE_TAG)


def _file_tag_path(node: Any) -> str | None:
    from ruamel.yaml.comments import TaggedScalar

    if isinstance(node, TaggedScalar) and str(getattr(node.tag, "value", node.tag)) == FILE_TAG:
        return str(node.value)
    return None


def _blank_lines_between_groups(text: str, doc: Mapping[str, Any]) -> str:
    """A blank line before and after each top-level block collection, as a person lays out a file."""
    block = {
        k
        for k, v in doc.items()
        if isinstance(v, (dict, list)) and v and not (hasattr(v, "fa") and v.fa.flow_style())
    }
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    previous_block = False
    key_re = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):")
    for line in lines:
        m = key_re.match(line)
        if m:
            is_block = m.group(1) in block
            if out and (is_block or previous_block) and out[-1].strip():
                out.append("\n")
            previous_block = is_block
        out.append(line)
    return "".join(out)


_SUGGESTION_LINE_RE = re.compile(r"^\s*#( faq_items:\s*$|\s+- question: |\s+answer: )")
_FAQ_KEY_RE = re.compile(r"^faq_items:\s*(#.*)?$")


def with_suggestions(text: str, questions: Sequence[str]) -> str:
    """`text` with the commented block of server-suggested FAQ items replaced by one for `questions` (each as
    a file holds it: `$${` escapes, `${VAR}` placeholders)."""
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    skipping = False
    for line in lines:
        if line.strip() == "# " + SUGGESTION_MARKER:
            skipping = True
            continue
        if skipping and _SUGGESTION_LINE_RE.match(line):
            continue
        skipping = False
        kept.append(line)
    if not questions:
        return "".join(kept)
    items = [json.dumps(q, ensure_ascii=False) for q in questions]
    for index, line in enumerate(kept):
        if not _FAQ_KEY_RE.match(line.rstrip("\n")):
            continue
        following = next((ln for ln in kept[index + 1 :] if ln.strip()), "")
        stripped = following.lstrip(" ")
        if stripped.startswith("- ") or stripped.startswith("-\n"):
            pad = " " * (len(following) - len(stripped))
            block = [f"{pad}# {SUGGESTION_MARKER}\n"]
            for item in items:
                block += [f"{pad}# - question: {item}\n", f'{pad}#   answer: ""\n']
            return "".join(kept[: index + 1] + block + kept[index + 1 :])
    # No block list to put them in: the whole key, commented out, at the end of the file.
    body = "".join(kept)
    if body and not body.endswith("\n"):
        body += "\n"
    block = [f"\n# {SUGGESTION_MARKER}\n", "# faq_items:\n"]
    for item in items:
        block += [f"#   - question: {item}\n", '#     answer: ""\n']
    return body + "".join(block)


# --- trailing blank lines and comments -------------------------------------------------------------------
# ruamel keeps the lines after a value (blank lines, comments before the next key) on the *last* element of
# that value. When an edit adds or removes the last element, these lines move along, so a group of keys
# stays separated from the next one exactly as before.
def _is_block(node: Any) -> bool:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    return isinstance(node, (CommentedMap, CommentedSeq)) and len(node) > 0 and not node.fa.flow_style()


def _slot_of(container: Any, key: Any) -> tuple[Any, Any, int]:
    from ruamel.yaml.comments import CommentedSeq

    child = container[key]
    if _is_block(child):
        last = len(child) - 1 if isinstance(child, CommentedSeq) else list(child)[-1]
        return _slot_of(child, last)
    return container, key, 0 if isinstance(container, CommentedSeq) else 2


def pop_trailing(container: Any, key: Any) -> str:
    """Detach and return the lines that follow the value at `container[key]` ('' when none)."""
    node, k, index = _slot_of(container, key)
    entry = node.ca.items.get(k)
    token = entry[index] if entry and len(entry) > index else None
    if token is None or not isinstance(token.value, str):
        return ""
    cut = token.value.find("\n")
    if cut < 0:
        return ""
    rest = token.value[cut + 1 :]
    token.value = token.value[: cut + 1]
    if token.value == "\n":
        entry[index] = None
    return str(rest)


def push_trailing(container: Any, key: Any, text: str) -> None:
    """Attach `text` (lines) after the value at `container[key]`."""
    if not text:
        return
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    node, k, index = _slot_of(container, key)
    entry = node.ca.items.setdefault(k, [None, None, None, None])
    while len(entry) <= index:
        entry.append(None)
    token = entry[index]
    if token is None:
        entry[index] = CommentToken("\n" + text, CommentMark(0), None)
    else:
        token.value = token.value + text


# --- planning the writes ------------------------------------------------------------------------------------
@dataclass
class _Write:
    path: Path
    text: str
    existed: bool
    changed: bool


@dataclass
class _Existing:
    """An assistant file found under the config directory."""

    path: Path
    id: str | None
    name: str | None
    readable: bool


@dataclass
class _Outcome:
    remote: dict[str, Any]
    yaml_path: Path
    writes: list[_Write] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _scan(config_dir: Path, variables: Mapping[str, str]) -> list[_Existing]:
    """The assistant files already there, read as `plan` reads them (so `id: ${SALES_ID}` is matched)."""
    from revox_sync.config.yaml import read_document

    if not config_dir.is_dir():
        return []
    found: list[_Existing] = []
    for file in find_assistant_files(config_dir):
        data = read_document(file, config_dir, variables, {}).data
        if not isinstance(data, Mapping):
            found.append(_Existing(file, None, None, readable=False))
            continue
        pinned, name = data.get("id"), data.get("name")
        found.append(
            _Existing(
                file,
                pinned if isinstance(pinned, str) else None,
                name if isinstance(name, str) else None,
                readable=True,
            )
        )
    return found


def _select(remote: list[dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    if not names:
        return remote
    chosen: list[dict[str, Any]] = []
    missing: list[str] = []
    for wanted in names:
        hits = [r for r in remote if r.get("id") == wanted or r.get("name") == wanted]
        if not hits:
            missing.append(wanted)
        for hit in hits:
            if all(hit is not c for c in chosen):
                chosen.append(hit)
    if missing:
        shown = ", ".join(json.dumps(m, ensure_ascii=False) for m in missing)
        raise FatalError(f"no assistant with the name or id {shown} in this account; nothing was written")
    return chosen


class _Importer:
    def __init__(
        self,
        env: Environment,
        config_dir: Path,
        *,
        overwrite: bool,
        with_defaults: bool,
        variables: Mapping[str, str] | None = None,
        api_key: str | None = None,
    ) -> None:
        self.env = env
        self.variables: Mapping[str, str] = env.environ if variables is None else variables
        self.known = _Known(self.variables, api_key)
        self.config_dir = Path(config_dir)
        self.overwrite = overwrite
        self.with_defaults = with_defaults
        self.claimed: set[str] = set()  # absolute paths this run writes or reserved
        self.unknown_keys: set[str] = set()

    # -- where each assistant goes ---------------------------------------------------------------------------
    def targets(
        self, chosen: list[dict[str, Any]], remote: list[dict[str, Any]], existing: list[_Existing]
    ) -> list[tuple[dict[str, Any], _Existing | None]]:
        by_id: dict[str, _Existing] = {}
        problems: list[str] = []
        for e in existing:
            if e.id is None:
                continue
            if e.id in by_id:
                problems.append(
                    f"{display_path(e.path)} and {display_path(by_id[e.id].path)} both pin id {e.id}"
                )
            by_id[e.id] = e
        if problems:
            raise FatalError("; ".join(problems))
        name_count: dict[str, int] = {}
        for r in remote:
            name_count[str(r.get("name"))] = name_count.get(str(r.get("name")), 0) + 1
        by_name = {e.name: e for e in existing if e.id is None and e.name is not None}
        for e in existing:
            self.claimed.add(os.path.abspath(e.path))
        pairs: list[tuple[dict[str, Any], _Existing | None]] = []
        for r in chosen:
            match = by_id.get(str(r.get("id")))
            if match is None and name_count.get(str(r.get("name"))) == 1:
                match = by_name.get(str(r.get("name")))
            pairs.append((r, match))
        return pairs

    def new_yaml_path(self, name: str) -> Path:
        base = slugify(name)
        n = 1
        while True:
            slug = base if n == 1 else f"{base}-{n}"
            if self._free(slug):
                path = self.config_dir / f"{slug}.yaml"
                self.claimed.add(os.path.abspath(path))
                return path
            n += 1

    def _free(self, slug: str) -> bool:
        for suffix in (".yaml", ".yml"):
            path = self.config_dir / f"{slug}{suffix}"
            if path.exists() or os.path.abspath(path) in self.claimed:
                return False
        prompts = self.config_dir / PROMPTS_DIR
        for suffix in TEXT_FILE_SUFFIX.values():
            path = prompts / f"{slug}{suffix}.md"
            if path.exists() or os.path.abspath(path) in self.claimed:
                return False
        return True

    def text_file(self, yaml_path: Path, field_name: str) -> tuple[Path, str]:
        """A free `prompts/<stem><suffix>.md` beside the YAML file, and its `!file` reference."""
        stem = yaml_path.stem
        suffix = TEXT_FILE_SUFFIX[field_name]
        n = 1
        while True:
            name = f"{stem}{suffix}.md" if n == 1 else f"{stem}{suffix}-{n}.md"
            path = yaml_path.parent / PROMPTS_DIR / name
            if not path.exists() and os.path.abspath(path) not in self.claimed:
                self.claimed.add(os.path.abspath(path))
                return path, f"{PROMPTS_DIR}/{name}"
            n += 1

    # -- values -------------------------------------------------------------------------------------------
    def wanted_fields(self, remote: dict[str, Any]) -> dict[str, Any]:
        """Every top-level field the file should manage, in file form (before secrets and escapes)."""
        for key in remote:
            if key not in spec.ASSISTANT_FIELDS and key not in spec.SERVER_OWNED_FIELDS:
                self.unknown_keys.add(key)
        out: dict[str, Any] = {}
        for name in FIELD_ORDER:
            if name == "id" or name not in remote:
                continue
            value = remote[name]
            if value is None and name in spec.NOT_NULLABLE:
                continue
            if name not in ALWAYS_WRITTEN and not self.with_defaults and _is_default(name, value):
                continue
            out[name] = clean_value(name, value, with_defaults=self.with_defaults)
        return out

    def suggestions(self, remote: dict[str, Any]) -> list[str]:
        return [str(i.get("question")) for i in remote.get("faq_items") or [] if normalize.is_suggestion(i)]

    def commented(self, questions: Sequence[str], secrets: _Secrets) -> list[str]:
        """Suggested questions as the commented block writes them, with placeholders for known secrets (a
        secret no placeholder can stand for is blanked: it is a comment)."""
        out: list[str] = []
        for question in questions:
            result = self.known.placeholders(escape_vars(question))
            if result is None:
                out.append(escape_vars(scrub(question, self.known.names)))
                continue
            text, used = result
            for variable in dict.fromkeys(used):
                secrets.note(variable, f"a suggested FAQ question of {secrets.label}")
            out.append(text)
        return out

    def field_node(self, outcome: _Outcome, yaml_path: Path, name: str, value: Any, make: _Secrets) -> Any:
        """The YAML node of one top-level field; long text goes to its own file, unless it holds a secret:
        text read with !file is not interpolated, so a placeholder there would be read literally."""
        if (
            name in TEXT_FILE_SUFFIX
            and isinstance(value, str)
            and value
            and (name == "prompt" or "\n" in value or len(value) > LONG_TEXT)
        ):
            if not self.known.found(value):
                path, ref = self.text_file(yaml_path, name)
                outcome.writes.append(_Write(path, value, existed=False, changed=True))
                return _tagged(ref)
            outcome.notes.append(
                f"{display_path(yaml_path)}: {name} holds a secret, so it is written inline with placeholders "
                "(text read with !file is not interpolated)"
            )
        return to_yaml(_secrets_and_escapes(value, (name,), make))

    def protect(
        self,
        node: Any,
        loc: Loc,
        secrets: _Secrets,
        included: Callable[[str], str | None],
        inlined: list[tuple[Loc, str]],
    ) -> bool:
        """Rewrite, in the document `node`, every string holding a known secret with placeholders and every
        plaintext value at a sensitive path as a placeholder; a `!file` text holding a secret comes inline
        (`included` reads it; `inlined` gets its place and path). True when anything changed."""
        if isinstance(node, Mapping):
            keys: Sequence[Any] = list(node)
        elif isinstance(node, list):
            keys = range(len(node))
        else:
            return False
        changed = False
        for key in keys:
            child, sub = node[key], (*loc, key)
            ref = _file_tag_path(child)
            if ref is not None:
                text = included(ref)
                if text is None or not self.known.found(text):
                    continue
                inlined.append((sub, ref))
                raw = escape_vars(text)
            elif isinstance(child, str):
                raw = str(child)
            else:
                changed |= self.protect(child, sub, secrets, included, inlined)
                continue
            new = self._protected(raw, sub, secrets, child)
            if new is not None:
                node[key] = new
                changed = True
        return changed

    def _protected(self, raw: str, loc: Loc, secrets: _Secrets, like: Any) -> Any:
        """The node that writes the string `raw` at `loc` without a secret; None when `raw` holds none."""
        from ruamel.yaml.scalarstring import DoubleQuotedScalarString

        if is_sensitive_path(loc) and raw and not any(m.group(1) for m in VARIABLE_RE.finditer(raw)):
            return to_yaml(secrets(loc, raw.replace("$${", "${")))
        result = self.known.placeholders(raw)
        if result is None:
            return to_yaml(secrets(loc, raw, whole=True))
        text, used = result
        if not used and _file_tag_path(like) is None:
            return None
        for variable in dict.fromkeys(used):
            secrets.note(variable, secrets.where(loc))
        node = _styled_str(text, like)
        # quoted or a block, never plain: a plain `${X}` could read back as a number or a bool
        return DoubleQuotedScalarString(text) if type(node) is str else node

    # -- a new file -------------------------------------------------------------------------------------
    def create(self, remote: dict[str, Any]) -> _Outcome:
        from ruamel.yaml.comments import CommentedMap

        yaml_path = self.new_yaml_path(self.known.masked(str(remote.get("name") or "")))
        outcome = _Outcome(remote, yaml_path)
        make = _Secrets(outcome, yaml_path.stem, self.known)
        fields = self.wanted_fields(remote)
        doc = CommentedMap()
        doc["name"] = to_yaml(escape_vars(str(remote.get("name"))))
        doc["id"] = str(remote["id"])
        for name, value in fields.items():
            if name != "name":
                doc[name] = self.field_node(outcome, yaml_path, name, value, make)
        self.protect(doc, (), make, lambda _ref: None, [])  # new text files hold no secret (field_node)
        text = HEADER + _blank_lines_between_groups(_dump(_yaml(), doc), doc)
        outcome.suggestions = self.suggestions(remote)
        text = with_suggestions(text, self.commented(outcome.suggestions, make))
        outcome.writes.insert(0, _Write(yaml_path, text, existed=False, changed=True))
        return outcome

    # -- an existing file -------------------------------------------------------------------------------
    def update(self, remote: dict[str, Any], existing: _Existing) -> _Outcome:
        return _FileUpdate(self, remote, existing).run()


class _FileUpdate:
    """One re-import into an existing file: a ruamel round-trip edit of only the values that differ."""

    def __init__(self, importer: _Importer, remote: dict[str, Any], existing: _Existing) -> None:
        self.importer = importer
        self.remote = remote
        self.path = existing.path
        self.outcome = _Outcome(remote, existing.path)
        self.original = existing.path.read_text(encoding="utf-8")
        taken = frozenset(m.group(1) for m in VARIABLE_RE.finditer(self.original) if m.group(1))
        self.make = _Secrets(self.outcome, existing.path.stem, importer.known, taken)
        indent, offset = guess_indent(self.original)
        self.yaml = _yaml(indent, offset, explicit_start=self.original.lstrip().startswith("---"))
        self.doc = self.yaml.load(self.original)
        self.data = self._resolved()
        self.unknown = set(self._unset_references(self.doc, ()))
        self.text_writes: dict[str, tuple[Path, str]] = {}

    def _resolved(self) -> dict[str, Any]:
        from revox_sync.config.yaml import read_document

        document = read_document(self.path, self.importer.config_dir, self.importer.variables, {})
        errors = [e for e in document.errors if "is not set (and" not in e.message]
        if errors or not isinstance(document.data, dict):
            shown = "\n".join(str(e) for e in errors) or f"{display_path(self.path)}: cannot be read"
            raise FatalError(f"cannot re-import into {display_path(self.path)}: fix it first:\n{shown}")
        return document.data

    def _unset_references(self, node: Any, loc: Loc) -> Iterator[Loc]:
        """Paths whose value references a variable that is not set (without a default): value unknown."""
        if isinstance(node, Mapping):
            for k, v in node.items():
                yield from self._unset_references(v, (*loc, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from self._unset_references(v, (*loc, i))
        elif isinstance(node, str) and _file_tag_path(node) is None:
            for m in VARIABLE_RE.finditer(node):
                if m.group(1) and m.group(2) is None and not self.importer.variables.get(m.group(1)):
                    yield loc
                    return

    def _list_unset_variables(self) -> None:
        """Variables the file references that are still unset: a `plan` needs them too."""
        label = json.dumps(self.remote.get("name"), ensure_ascii=False)
        listed = {s.variable for s in self.outcome.secrets}
        for loc in sorted(self.unknown, key=str):
            try:
                node = _get(self.doc, loc)
            except (KeyError, IndexError, TypeError):
                continue
            for m in VARIABLE_RE.finditer(str(node)):
                name = m.group(1)
                if (
                    name
                    and m.group(2) is None
                    and not self.importer.variables.get(name)
                    and name not in listed
                ):
                    listed.add(name)
                    self.outcome.secrets.append(Secret(name, f"{dotted(loc)} of {label} (not set)"))

    def _assume_unknown_match(self, canon: _Canon) -> None:
        """Values behind unset variables cannot be compared: take them as equal to the remote."""
        for loc in self.unknown:
            if loc[0] != canon.field:
                continue
            found, value = self._remote_at(loc)
            if not found:
                continue
            if len(loc) == 1:
                canon.top = copy.deepcopy(value)
            else:
                _set(canon.top, loc[1:], copy.deepcopy(value))

    def _remote_at(self, loc: Loc) -> tuple[bool, Any]:
        """The remote value at a file path (keyed list items matched by their key)."""
        file_value: Any = self.data
        remote_value: Any = self.remote
        for i, part in enumerate(loc):
            if isinstance(part, int):
                if not (isinstance(file_value, list) and isinstance(remote_value, list)) or part >= len(
                    file_value
                ):
                    return False, None
                item = file_value[part]
                key = normalize.rule_for(loc[:i]).key
                if key and isinstance(item, dict):
                    hits = [r for r in remote_value if isinstance(r, dict) and r.get(key) == item.get(key)]
                    if len(hits) != 1:
                        return False, None
                    remote_value = hits[0]
                elif part < len(remote_value):
                    remote_value = remote_value[part]
                else:
                    return False, None
                file_value = item
            else:
                if not (isinstance(file_value, dict) and isinstance(remote_value, dict)):
                    return False, None
                if part not in file_value or part not in remote_value:
                    return False, None
                file_value, remote_value = file_value[part], remote_value[part]
        return True, remote_value

    def _has_unknown(self, loc: Loc) -> bool:
        return any(u[: len(loc)] == loc for u in self.unknown)

    def run(self) -> _Outcome:
        importer = self.importer
        wanted = importer.wanted_fields(self.remote)
        changed = False
        # A file matched by its exact name keeps matching by name: the user chose not to pin an id.
        for name in FIELD_ORDER:
            if name == "id" or name not in self.remote:
                continue
            if name in self.doc:
                if name not in self.data:
                    continue
                canon = _Canon(name, copy.deepcopy(self.data[name]))
                self._assume_unknown_match(canon)
                if self._equivalent_top(name, canon.top):
                    continue
                changed |= self._patch(canon, self.doc, name, (name,), self.remote[name])
            elif name in wanted:
                self._insert_top(name, wanted[name])
                changed = True
        inlined: list[tuple[Loc, str]] = []
        changed |= importer.protect(self.doc, (), self.make, self._included, inlined)
        for loc, ref in inlined:
            self._no_longer_read(loc, ref)
        self._list_unset_variables()
        text = self._dump() if changed else self.original
        self.outcome.suggestions = importer.suggestions(self.remote)
        text = with_suggestions(text, importer.commented(self.outcome.suggestions, self.make))
        self.outcome.writes.insert(0, _Write(self.path, text, existed=True, changed=text != self.original))
        for path, text_value in self.text_writes.values():
            current = path.read_text(encoding="utf-8") if path.is_file() else None
            self.outcome.writes.append(
                _Write(path, text_value, existed=current is not None, changed=current != text_value)
            )
        return self.outcome

    def _dump(self) -> str:
        return _dump(self.yaml, self.doc)

    def _included(self, ref: str) -> str | None:
        """The text a `!file` reference of this file reads after the run."""
        target = (self.path.parent / ref).resolve()
        pending = self.text_writes.get(str(target))
        if pending is not None:
            return pending[1]
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def _no_longer_read(self, loc: Loc, ref: str) -> None:
        """A `!file` text that now stands inline: it is not written, and the user learns what to delete."""
        target = (self.path.parent / ref).resolve()
        self.text_writes.pop(str(target), None)
        if not target.is_file():
            return
        held = self.importer.known.found(target.read_text(encoding="utf-8"))
        where = f"the {dotted(loc)} is now inline in {display_path(self.path)}, with placeholders"
        if held:
            self.outcome.notes.append(
                f"warning: {display_path(target)} holds secrets ({', '.join(held)}) and is no longer read: "
                f"{where}; delete the file, and remove it from the git history if it was committed"
            )
        else:
            self.outcome.notes.append(
                f"{display_path(target)} is no longer read: {where} (text read with !file is not "
                "interpolated); delete the file"
            )

    def _equivalent_top(self, name: str | int, file_value: Any) -> bool:
        name = str(name)
        return bool(normalize.canonical(name, file_value) == normalize.canonical(name, self.remote[name]))

    def _insert_top(self, name: str, value: Any) -> None:
        later = FIELD_ORDER[FIELD_ORDER.index(name) + 1 :]
        keys = list(self.doc)
        position = next((keys.index(k) for k in keys if k in later), len(keys))
        node = self.importer.field_node(self.outcome, self.path, name, value, self.make)
        for write in self.outcome.writes:
            if not write.existed:
                self.text_writes[os.path.abspath(write.path)] = (write.path, write.text)
        self.outcome.writes = []
        trailing = pop_trailing(self.doc, keys[position - 1]) if position > 0 else ""
        self.doc.insert(position, name, node)
        push_trailing(self.doc, name, trailing)

    # -- the recursive edit ------------------------------------------------------------------------------
    def _patch(self, canon: _Canon, parent: Any, key: Any, loc: Loc, remote: Any) -> bool:
        """Make the value at `loc` (node `parent[key]`) equivalent to `remote`; True when anything changed."""
        path = loc[1:]
        if loc in self.unknown:
            return False
        current = _get(canon.top, path) if path else canon.top
        if path and canon.same_with(path, remote):
            return False
        if not path and self._equivalent_top(loc[0], canon.top):
            return False
        node = parent[key]
        if isinstance(current, dict) and isinstance(remote, dict) and isinstance(node, Mapping):
            return self._patch_map(canon, node, loc, current, remote)
        if isinstance(current, list) and isinstance(remote, list) and isinstance(node, list):
            if self._patch_list(canon, node, loc, current, remote):
                return True
            if self._has_unknown(loc):
                self.importer.env.warn(
                    f"{display_path(self.path)}: {dotted(loc)} differs from the remote value but holds "
                    "an unset variable; left as it is"
                )
                return False
        return self._replace(canon, parent, key, loc, remote)

    def _patch_map(
        self,
        canon: _Canon,
        node: Any,
        loc: Loc,
        current: dict[str, Any],
        remote: dict[str, Any],
    ) -> bool:
        changed = False
        path = loc[1:]
        for k, r in remote.items():
            if k in current and k in node:
                changed |= self._patch(canon, node, k, (*loc, k), r)
                continue
            current[k] = copy.deepcopy(r)
            if canon.same_without((*path, k)):
                del current[k]
                continue
            canon.prune((*path, k), defaults=not self.importer.with_defaults)
            value = _secrets_and_escapes(current[k], (*loc, k), self.make)
            trailing = pop_trailing(node, list(node)[-1]) if len(node) else ""
            node.insert(len(node), k, to_yaml(value))
            push_trailing(node, k, trailing)
            changed = True
        return changed

    def _patch_list(
        self,
        canon: _Canon,
        node: Any,
        loc: Loc,
        current: list[Any],
        remote: list[Any],
    ) -> bool:
        """Item-wise edit of a list; False when only replacing the whole list can do it."""
        rule = normalize.rule_for(loc)
        if rule.drop_suggestions:
            remote = [i for i in remote if not normalize.is_suggestion(i)]
        path = loc[1:]
        if rule.key:
            file_keys = [i.get(rule.key) if isinstance(i, dict) else None for i in current]
            remote_keys = [i.get(rule.key) if isinstance(i, dict) else None for i in remote]
            usable = all(isinstance(k, str) for k in [*file_keys, *remote_keys])
            if (
                not usable
                or len(set(file_keys)) != len(file_keys)
                or len(set(remote_keys)) != len(remote_keys)
            ):
                return False
            by_key = dict(zip(remote_keys, remote, strict=True))
            changed = False
            for index in reversed(range(len(current))):
                if file_keys[index] not in by_key:
                    del current[index]
                    last = index == len(node) - 1 and index > 0
                    trailing = pop_trailing(node, index) if last else ""
                    del node[index]
                    if last:
                        push_trailing(node, index - 1, trailing)
                    changed = True
            for index, item in enumerate(list(current)):
                changed |= self._patch(canon, node, index, (*loc, index), by_key[item[rule.key]])
            present = {i.get(rule.key) for i in current}
            for k in remote_keys:
                if k not in present:
                    current.append(copy.deepcopy(by_key[k]))
                    index = len(current) - 1
                    canon.prune((*path, index), defaults=not self.importer.with_defaults)
                    value = _secrets_and_escapes(current[index], (*loc, index), self.make)
                    trailing = pop_trailing(node, len(node) - 1) if len(node) else ""
                    node.append(to_yaml(value))
                    push_trailing(node, len(node) - 1, trailing)
                    changed = True
            if not canon.same_with(path, remote) if path else not self._equivalent_top(loc[0], canon.top):
                return False  # the order differs where it matters
            return changed
        if len(current) == len(remote) and any(isinstance(v, (dict, list)) for v in remote):
            changed = False
            for index, r in enumerate(remote):
                changed |= self._patch(canon, node, index, (*loc, index), r)
            same = canon.same_with(path, remote) if path else self._equivalent_top(loc[0], canon.top)
            return changed and same
        return False

    def _replace(self, canon: _Canon, parent: Any, key: Any, loc: Loc, remote: Any) -> bool:
        path = loc[1:]
        node = parent[key]
        if is_sensitive_path(loc) and isinstance(node, str) and "${" in node:
            names = [m.group(1) for m in VARIABLE_RE.finditer(node) if m.group(1)]
            self.importer.env.warn(
                f"{display_path(self.path)}: {dotted(loc)} differs from the remote value; "
                f"it comes from {', '.join(names)}: update the variable (the value is not written)"
            )
            return False
        new = copy.deepcopy(remote)
        if path:
            _set(canon.top, path, new)
        else:
            canon.top = new
        canon.prune(path, defaults=not self.importer.with_defaults)
        new = _get(canon.top, path) if path else canon.top
        ref = _file_tag_path(node)
        if ref is not None and isinstance(new, str):
            target = (self.path.parent / ref).resolve()
            if not _is_within(target, self.importer.config_dir):
                raise FatalError(f"{display_path(self.path)}: !file {ref} is outside the config directory")
            self.text_writes[str(target)] = (target, new)
            return True
        if (
            not path
            and isinstance(new, str)
            and loc[0] in TEXT_FILE_SUFFIX
            and ("\n" in new or len(new) > LONG_TEXT)
            and not isinstance(node, str)  # was null: give long text its own file
        ):
            parent[key] = self.importer.field_node(self.outcome, self.path, loc[0], new, self.make)
            for write in self.outcome.writes:
                self.text_writes[os.path.abspath(write.path)] = (write.path, write.text)
            self.outcome.writes = []
            return True
        value = _secrets_and_escapes(new, loc, self.make)
        trailing = pop_trailing(parent, key) if _is_block(node) else ""
        parent[key] = to_yaml(value, like=node)
        push_trailing(parent, key, trailing)
        return True


# --- the command -------------------------------------------------------------------------------------------
def run_import(
    client: RevoxClient,
    env: Environment,
    config_dir: Path,
    *,
    names: list[str],
    overwrite: bool,
    with_defaults: bool,
    variables: Mapping[str, str] | None = None,
    api_key: str | None = None,
) -> int:
    """Write one YAML file per selected live assistant under `config_dir`; see the module docstring.

    `variables` resolve `${VAR}` in existing files as `plan` would (default: the process environment); the
    values of the sensitive ones, and `api_key` (the run's own), are never written."""
    config_dir = Path(config_dir)
    if config_dir.exists() and not config_dir.is_dir():
        raise FatalError(f"{config_dir} is not a directory")
    remote = client.list_assistants()
    chosen = _select(remote, names)
    if not chosen:
        env.info("no assistants in this account: nothing to import")
        return 0
    importer = _Importer(
        env,
        config_dir,
        overwrite=overwrite,
        with_defaults=with_defaults,
        variables=variables,
        api_key=api_key,
    )
    _warn_short_secrets(env, importer, chosen)
    existing = _scan(config_dir, importer.variables)
    for e in existing:
        if not e.readable:
            env.warn(f"warning: {display_path(e.path)} is not readable YAML: skipped (and left untouched)")
    outcomes: list[_Outcome] = []
    for r, match in importer.targets(chosen, remote, existing):
        outcomes.append(importer.update(r, match) if match is not None else importer.create(r))

    if importer.unknown_keys:
        env.warn(
            "warning: fields this version does not know were not imported: "
            + ", ".join(sorted(importer.unknown_keys))
        )
    _check_writes(outcomes, config_dir, overwrite, importer.known)
    for outcome in outcomes:
        for write in outcome.writes:
            if write.changed:
                write_atomic(write.path, write.text)
                env.out(f"{'updated' if write.existed else 'created'} {display_path(write.path)}")
            elif write.path == outcome.yaml_path:
                env.out(f"unchanged {display_path(write.path)}")
    _report(env, outcomes)
    return 0


def _warn_short_secrets(env: Environment, importer: _Importer, chosen: list[dict[str, Any]]) -> None:
    """A secret too short to tell from ordinary text is not replaced: say so where it occurs."""
    if not importer.known.short:
        return
    # what the files hold of them: not the server's ids and timestamps, where two letters always turn up
    managed = [{k: v for k, v in r.items() if k in spec.ASSISTANT_FIELDS and k != "id"} for r in chosen]
    texts = list(_strings(managed))
    for variable, value in importer.known.short.items():
        if any(value in text for text in texts):
            env.warn(
                f"warning: the value of {variable} is shorter than {MIN_SECRET_LENGTH} characters: import "
                "cannot tell it from ordinary text and leaves it where it occurs; check the written files"
            )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _check_writes(outcomes: list[_Outcome], config_dir: Path, overwrite: bool, known: _Known) -> None:
    """Everything that would be written stays inside the config directory, holds no known secret (one left
    in a comment or a variable's default, say), and nothing existing changes without --overwrite; checked
    for all files before the first write."""
    root = Path(os.path.abspath(config_dir))
    seen: dict[str, str] = {}
    blocked: list[str] = []
    for outcome in outcomes:
        for write in outcome.writes:
            target = Path(os.path.abspath(write.path))
            if not _is_within(target, root):
                raise FatalError(f"refusing to write {write.path}: outside the config directory {config_dir}")
            key = str(target)
            if key in seen and seen[key] != write.text:
                raise FatalError(
                    f"{display_path(write.path)} is shared by assistants whose remote texts differ; "
                    "give each its own file"
                )
            seen[key] = write.text
            # the path inside the config directory only: a secret may well be part of the directory's own path
            leaked = known.found(f"{os.path.relpath(target, root)}\n{write.text}") if write.changed else []
            if leaked:
                raise FatalError(
                    f"refusing to write {display_path(write.path)}: it would hold the value of "
                    f"{', '.join(leaked)} in plain text (in a comment, or a variable's default?); write "
                    f"${{{leaked[0]}}} there instead, then import again (nothing was written)"
                )
            if write.existed and write.changed:
                blocked.append(display_path(write.path))
    if blocked and not overwrite:
        raise FatalError(
            "these files differ from the remote assistants (or hold a secret in plain text) and would be "
            "overwritten: " + ", ".join(blocked) + "; pass --overwrite to update them (nothing was written)"
        )


def _report(env: Environment, outcomes: list[_Outcome]) -> None:
    names: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.suggestions:
            env.info(
                f"{display_path(outcome.yaml_path)}: {len(outcome.suggestions)} FAQ item(s) suggested by Revox "
                "await an answer; they are written as comments under faq_items: uncomment and answer them "
                "to keep them"
            )
        names.setdefault(str(outcome.remote.get("name")), []).append(display_path(outcome.yaml_path))
    for name, files in names.items():
        if len(files) > 1:
            env.warn(
                f"warning: {len(files)} assistants are named {json.dumps(name, ensure_ascii=False)} "
                f"({', '.join(files)}): names must be unique in the config directory, rename all but one "
                "in its file (the pinned id makes that a rename)"
            )
    for outcome in outcomes:
        for note in outcome.notes:
            env.warn(note)
    places: dict[str, list[str]] = {}
    for secret in (s for o in outcomes for s in o.secrets):
        if secret.where not in places.setdefault(secret.variable, []):
            places[secret.variable].append(secret.where)
    if places:
        env.out("")
        env.out(
            "Set these environment variables (or pass them with --var / --var-file) before `revox-sync plan` "
            "(their values are not written):"
        )
        width = max(len(v) for v in places)
        for variable, where in places.items():
            env.out(f"  {variable.ljust(width)}  {'; '.join(where)}")

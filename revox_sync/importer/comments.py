"""Comments import writes and keeps: server-suggested FAQ items awaiting an answer as a commented block under
`faq_items`, and the blank lines and comments after a value, which stay where they were when an edit adds or
removes the value they hang on."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from revox_sync.importer.placeholders import Known, Placeholders, escape_vars
from revox_sync.kinds.assistant import normalize
from revox_sync.sensitive import scrub

SUGGESTION_MARKER = "Suggested by Revox, awaiting an answer (uncomment, answer, then apply):"


def suggested(remote: dict[str, Any]) -> list[str]:
    """The questions of the server-suggested FAQ items that await an answer."""
    return [str(i.get("question")) for i in remote.get("faq_items") or [] if normalize.is_suggestion(i)]


def commented(known: Known, questions: Sequence[str], secrets: Placeholders) -> list[str]:
    """Suggested questions as the commented block writes them, with placeholders for known secrets (a
    secret no placeholder can stand for is blanked: it is a comment)."""
    out: list[str] = []
    for question in questions:
        result = known.placeholders(escape_vars(question))
        if result is None:
            out.append(escape_vars(scrub(question, known.names)))
            continue
        text, used = result
        for variable in dict.fromkeys(used):
            secrets.note(variable, f"a suggested FAQ question of {secrets.label}")
        out.append(text)
    return out


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
def is_block(node: Any) -> bool:
    """A non-empty block collection: the lines after it hang on its last element."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    return isinstance(node, (CommentedMap, CommentedSeq)) and len(node) > 0 and not node.fa.flow_style()


def _slot_of(container: Any, key: Any) -> tuple[Any, Any, int]:
    from ruamel.yaml.comments import CommentedSeq

    child = container[key]
    if is_block(child):
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

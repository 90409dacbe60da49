"""A document's strings made safe to write: every string that holds a known secret gets placeholders, and
every plaintext value at a sensitive path becomes one; a `!file` text that holds a secret comes inline,
because text read with `!file` is not interpolated."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from revox_sync.config.yaml import VARIABLE_RE
from revox_sync.importer.clean import Loc
from revox_sync.importer.placeholders import Placeholders, escape_vars
from revox_sync.importer.style import file_tag_path, styled_str, to_yaml
from revox_sync.sensitive import is_sensitive_path


def protect(
    node: Any,
    loc: Loc,
    secrets: Placeholders,
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
        ref = file_tag_path(child)
        if ref is not None:
            text = included(ref)
            if text is None or not secrets.known.found(text):
                continue
            inlined.append((sub, ref))
            raw = escape_vars(text)
        elif isinstance(child, str):
            raw = str(child)
        else:
            changed |= protect(child, sub, secrets, included, inlined)
            continue
        new = _protected(raw, sub, secrets, child)
        if new is not None:
            node[key] = new
            changed = True
    return changed


def _protected(raw: str, loc: Loc, secrets: Placeholders, like: Any) -> Any:
    """The node that writes the string `raw` at `loc` without a secret; None when `raw` holds none."""
    if is_sensitive_path(loc) and raw and not any(m.group(1) for m in VARIABLE_RE.finditer(raw)):
        return to_yaml(secrets(loc, raw.replace("$${", "${")))
    if "$" not in raw and file_tag_path(like) is None and not secrets.known.found(raw):
        return None  # no reference, no escape, no secret: `placeholders` would give `raw` back
    result = secrets.known.placeholders(raw)
    if result is None:
        return to_yaml(secrets(loc, raw, whole=True))
    text, used = result
    if not used and file_tag_path(like) is None:
        return None
    for variable in dict.fromkeys(used):
        secrets.note(variable, secrets.where(loc))
    node = styled_str(text, like)
    # quoted or a block, never plain: a plain `${X}` could read back as a number or a bool
    return DoubleQuotedScalarString(text) if type(node) is str else node

"""`# revox-sync: ignore[rule-id] reason` on the line a finding points at silences that rule's finding there
(several ids: `ignore[calling-hours, opt-out]`). Only the files that have findings are read, once each."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from revox_sync.rules.rule import Finding

IGNORE_RE = re.compile(r"(?:^|\s)#\s*revox-sync:\s*ignore\[([^\]]*)\]\s*(.*)$")
MAX_FILE_BYTES = 5 * 1024 * 1024  # as for every YAML file revox-sync reads

Comments = dict[int, tuple[frozenset[str], str]]  # line -> (rule ids, reason)


def comments_of(text: str) -> Comments:
    """Each line's suppression comment."""
    found: Comments = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if "revox-sync:" not in line:
            continue
        m = IGNORE_RE.search(line)
        if m:
            ids = frozenset(part.strip() for part in m.group(1).split(",") if part.strip())
            found[number] = (ids, m.group(2).strip())
    return found


def read_comments(path: str) -> Comments:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError:
        return {}
    if len(raw) > MAX_FILE_BYTES:
        return {}
    return comments_of(raw.decode("utf-8", errors="replace"))


def suppress(findings: Sequence[Finding], read: Callable[[str], Comments] = read_comments) -> list[Finding]:
    """The findings, each one that a comment on its line names marked suppressed with its reason."""
    files: dict[str, Comments] = {}
    out = []
    for finding in findings:
        where = finding.location
        if where.line > 0:
            if where.path not in files:
                files[where.path] = read(where.path)
            ids, reason = files[where.path].get(where.line, (frozenset(), ""))
            if finding.rule in ids:
                finding = replace(finding, suppressed=reason)
        out.append(finding)
    return out

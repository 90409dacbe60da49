"""`# revox-sync: ignore[rule-id] reason` on the line a finding points at silences that rule's finding there
(several ids: `ignore[calling-hours, opt-out]`). Only the files that have findings are read, once each."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace

from revox_sync.rules.rule import Finding

IGNORE_RE = re.compile(r"(?:^|\s)#\s*revox-sync:\s*ignore\[([^\]]*)\]\s*(.*)$")
LINE_BREAK_RE = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # libyaml's, so lines number as in findings
MAX_FILE_BYTES = 5 * 1024 * 1024  # as for every YAML file revox-sync reads

Comments = dict[int, tuple[frozenset[str], str]]  # line -> (rule ids, reason)
Spans = dict[int, list[tuple[int, int]]]  # 0-based line -> the columns [start, end) that values cover


def comments_of(text: str) -> Comments:
    """Each line's suppression comment: a YAML comment, never text inside a value (a quoted string or a
    block of prompt that says `# revox-sync: ignore[...]` silences nothing). A file that does not parse
    has none."""
    lines = LINE_BREAK_RE.split(text)
    wanted = {n for n, line in enumerate(lines) if "revox-sync:" in line}
    found: Comments = {}
    if not wanted:
        return found
    values = _value_spans(text, wanted)
    if values is None:
        return found
    for n in sorted(wanted):
        start = _comment_start(lines[n], values.get(n, ()))
        m = IGNORE_RE.search(lines[n][start:]) if start is not None else None
        if m:
            ids = frozenset(part.strip() for part in m.group(1).split(",") if part.strip())
            found[n + 1] = (ids, m.group(2).strip())
    return found


def _comment_start(line: str, values: Iterable[tuple[int, int]]) -> int | None:
    """Where the line's comment begins: the first `#` after a blank (or at the start) outside every value."""
    at = line.find("#")
    while at >= 0:
        if (at == 0 or line[at - 1] in " \t") and not any(s <= at < e for s, e in values):
            return at
        at = line.find("#", at + 1)
    return None


def _value_spans(text: str, lines: Collection[int]) -> Spans | None:
    """The columns that scalars (keys and values) cover on each of `lines`; None when the text is not YAML."""
    from ruamel.yaml.error import YAMLError

    from revox_sync.config.yaml import scalar_marks

    spans: Spans = {}
    try:
        marks = list(scalar_marks(text))
    except YAMLError:  # the file has no suppressions rather than guessed ones
        return None
    for (line1, col1), (line2, col2) in marks:
        for n in range(line1, line2 + 1):
            if n in lines:
                spans.setdefault(n, []).append((col1 if n == line1 else 0, col2 if n == line2 else 1 << 30))
    return spans


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

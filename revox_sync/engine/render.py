"""Plans as text, JSON and Markdown, over actions of any kind: each renderer only reads a Plan."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from revox_sync.engine.change import ABSENT, Action, FieldChange
from revox_sync.engine.plan import Plan, canonical_json, public_value
from revox_sync.output import clip, printable, printable_lines

NO_CHANGES = "No changes. Remote assistants match the configuration."  # CONTRACT §3, word for word
SYMBOLS = {"create": "+", "update": "~", "delete": "-"}
COLORS = {"create": "green", "update": "yellow", "delete": "red"}
HEADLINES = {"create": "will be created", "update": "will be updated in-place", "delete": "will be destroyed"}

MAX_DIFF_LINES = 500  # of one field's line diff
GROUP_NAMES = 2  # names a group header shows; the JSON plan lists every one, with its id
MARKDOWN_BUDGET = 60_000  # characters of a Markdown plan: GitHub refuses a comment over 65,536
GROUP_NOTE = (
    f"Note: grouped updates show no ids and at most {GROUP_NAMES} names each; "
    "`revox-sync plan --format json` lists every object with its id."
)
FULL_PLAN = (
    "The full plan: `revox-sync plan --out FILE` saves it (JSON, every action with its id), "
    "`revox-sync plan --format json` prints it."
)
POLICY_REFUSAL = (
    "apply will refuse to write while error findings remain; --allow-policy-errors lets it go ahead"
)
POLICY_ALLOWED = "Made with --allow-policy-errors: apply goes ahead despite the error findings."
Style = Callable[..., str]
Quote = Callable[[str], str]  # how a renderer shows a name or an id in running text


def json_document(doc: Any) -> str:
    """`doc` as indented JSON that is also safe to print: a JSON string cannot hold a raw line break, so
    every raw one is structure, and each line's controls can be escaped without changing any value."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return printable_lines(text)


def _plain(text: str, *_: str) -> str:
    return text


def format_value(change: FieldChange, value: Any) -> str:
    """A value as JSON (a plan hides nothing but secrets), cut after MAX_VALUE_CHARS; 420.0 shows as 420."""
    shown = public_value(change, value)
    if isinstance(shown, str) and change.sensitive:
        return shown
    if isinstance(shown, float) and shown.is_integer():
        shown = int(shown)
    return clip(json.dumps(shown, ensure_ascii=False, default=str))


def bounded(lines: list[str]) -> list[str]:
    """One field's diff lines, each cut after MAX_VALUE_CHARS and at most MAX_DIFF_LINES of them."""
    shown = [clip(line) for line in lines[:MAX_DIFF_LINES]]
    if len(lines) > MAX_DIFF_LINES:
        more = len(lines) - MAX_DIFF_LINES
        shown.append(f"... ({more} more lines of this diff; `plan --format json` shows the whole value)")
    return shown


def _json_string(text: str) -> str:
    return clip(json.dumps(text, ensure_ascii=False))


def undeclared_notes(plan: Plan, quote: Quote = _json_string) -> list[str]:
    """Remote objects no file declares, a line per kind: left alone, but a reviewer should know (a rename
    leaves one)."""
    notes = []
    for kind in sorted({k for k, _ in plan.undeclared}):
        names = [n for k, n in plan.undeclared if k == kind]
        count = len(names)
        shown = ", ".join(quote(n) for n in names[:10])
        more = f" and {count - 10} more" if count > 10 else ""
        what, it, its = (f"{kind} is", "it", "its") if count == 1 else (f"{kind}s are", "them", "their")
        notes.append(
            f"Note: {count} remote {what} not declared in any file ({shown}{more}) and left alone; "
            f"declare {it} (pin {its} `id:`) to manage {it}, or plan with --prune to destroy {it}."
        )
    return notes


Group = tuple[Action, ...]


def grouped(actions: Sequence[Action]) -> list[Group]:
    """The actions in plan order, each update that makes the same changes as an earlier one joined to it
    (200 assistants from one template read as one change, not 200). Creates differ by name and destroys
    must each stay visible, so only updates group."""
    groups: dict[tuple[Any, ...], list[Action]] = {}
    ordered: list[list[Action]] = []
    for action in actions:
        key = _change_set(action)
        if key is not None and key in groups:
            groups[key].append(action)
            continue
        ordered.append([action])
        if key is not None:
            groups[key] = ordered[-1]
    return [tuple(group) for group in ordered]


def _change_set(action: Action) -> tuple[Any, ...] | None:
    """What an update shows, as a key: two updates with equal keys print the same lines. Values compare
    as the plan may show them, so a secret's value never decides (nor reveals) whether two updates group."""
    if action.op != "update" or not action.changes:
        return None
    changes = tuple(
        (
            c.path,
            c.sensitive,
            c.note,
            *(v is ABSENT for v in (c.before, c.after)),
            *(canonical_json(public_value(c, v)) for v in (c.before, c.after)),
        )
        for c in action.changes
    )
    return action.kind, changes, action.notes


def title(group: Group, quote: Quote | None = None) -> str:
    """One action's title, or a group's: `198 assistants will be updated in-place: "Austin receptionist",
    "Boston receptionist", ... (+196)` (names quoted as JSON strings, so a quote in one cannot fake a list;
    `quote` shows them otherwise)."""
    first = group[0]
    if len(group) == 1:
        return action_title(first, quote)
    names = ", ".join((quote or _json_string)(a.name) for a in group[:GROUP_NAMES])
    more = f", ... (+{len(group) - GROUP_NAMES})" if len(group) > GROUP_NAMES else ""
    return f"{len(group)} {first.kind}s {HEADLINES[first.op]}: {names}{more}"


def summary_line(plan: Plan) -> str:
    s = plan.summary
    return f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy."


def action_title(action: Action, quote: Quote | None = None) -> str:
    """`assistant "Desk" (asst_1) will be destroyed`; `quote` shows the name and the id otherwise."""
    name = quote(action.name) if quote else f'"{clip(action.name)}"'
    ident = f" ({quote(action.id) if quote else action.id})" if action.id else ""
    return f"{action.kind} {name}{ident} {HEADLINES[action.op]}"


def change_lines(change: FieldChange) -> tuple[str, str, list[str]]:
    """(symbol, headline, detail lines) for one change, shared by the text and Markdown renderers."""
    path = clip(change.path)
    if change.after is ABSENT:
        return "-", f"{path}: {format_value(change, change.before)}", []
    if change.is_text and not change.sensitive and change.before in (ABSENT, None):
        lines = str(change.after).splitlines()
        symbol = "+" if change.before is ABSENT else "~"
        count = f"{len(lines)} line{'s' if len(lines) != 1 else ''}"
        return symbol, f"{path}: text ({count})", bounded([f"+{line}" for line in lines])
    if change.before is ABSENT:
        return "+", f"{path}: {format_value(change, change.after)}{_note(change)}", []
    if change.is_text and not change.sensitive:
        added, removed = change.line_counts()
        return "~", f"{path}: text changed (+{added} -{removed} lines)", bounded(change.text_diff())
    shown = f"{format_value(change, change.before)} -> {format_value(change, change.after)}{_note(change)}"
    return "~", f"{path}: {shown}", []


def _note(change: FieldChange) -> str:
    return f" ({change.note})" if change.note else ""


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def policy_headline(plan: Plan) -> str:
    """`Policy: 2 errors, 1 warning`: the findings of the policy rules on what the plan creates or updates."""
    errors = len(plan.policy_errors)
    return f"Policy: {_counted(errors, 'error')}, {_counted(len(plan.findings) - errors, 'warning')}"


def policy_verdict(plan: Plan) -> str | None:
    """What apply will do with the plan's error findings, if it has any."""
    if not plan.policy_errors:
        return None
    return POLICY_ALLOWED if plan.allow_policy_errors else f"Note: {POLICY_REFUSAL}."


class TextRenderer:
    """Terraform-style text; colour only when the caller's style function applies it."""

    def __init__(self, style: Style = _plain) -> None:
        self.style = style

    def line(self, text: str, *styles: str) -> str:
        """One output line: what it shows escaped first, so that only the style's own codes are raw."""
        return self.style(printable(text), *styles)

    def render(self, plan: Plan) -> str:
        notes = [*plan.warnings(_json_string), *undeclared_notes(plan)]
        tail = ["", *(self.line(n, "yellow") for n in notes)] if notes else []
        if not plan.has_changes:
            return "\n".join([NO_CHANGES, *tail])
        lines: list[str] = []
        groups = grouped(plan.actions)
        for group in groups:
            first = group[0]
            if first.compact and len(group) == 1:
                lines.extend(self._compact(first))
                continue
            lines.append(self.line(f"  {SYMBOLS[first.op]} {title(group)}", COLORS[first.op], "bold"))
            lines.extend(self._changes(first))
        if any(len(group) > 1 for group in groups):
            tail = ["", self.line(GROUP_NOTE), *tail]
        lines += ["", self.line(summary_line(plan), "bold"), *self._policy(plan), *tail]
        return "\n".join(lines)

    def _policy(self, plan: Plan) -> list[str]:
        """The findings block: a headline, one line each, and what apply will do about the errors."""
        if not plan.findings:
            return []
        lines = ["", self.line(policy_headline(plan), "bold")]
        lines += [self.line(f"  {f}", "red" if f.severity == "error" else "yellow") for f in plan.findings]
        verdict = policy_verdict(plan)
        return [*lines, self.line(verdict, "yellow")] if verdict else lines

    def _compact(self, action: Action) -> list[str]:
        """`  ~ phone_number "+15551234567": inbound_assistant "Old" -> "Support"`, one line per field."""
        title = f"{action.kind} {json.dumps(action.name, ensure_ascii=False)}"
        return [
            self.line(f"  {SYMBOLS[action.op]} {title}: {headline.replace(': ', ' ', 1)}", "yellow", "bold")
            for _, headline, _ in map(change_lines, action.changes)
        ]

    def _changes(self, action: Action) -> list[str]:
        """The lines under an action's (or a group's) title: each change, its diff, the notes."""
        lines = []
        for change in action.changes:
            symbol, headline, detail = change_lines(change)
            lines.append(
                self.line(f"      {symbol} {headline}", {"+": "green", "-": "red", "~": "yellow"}[symbol])
            )
            for line in detail:
                color_of = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                lines.append(self.line(f"          {line}", color_of))
        for note in action.notes:
            lines.append(self.line(f"      ! {clip(note)}", "yellow"))
        return lines


class MarkdownRenderer:
    """For a pull-request comment: a summary table (one row per object), then one collapsible section per
    object or group of updates. A comment has a size limit, so the whole plan is cut to `budget` characters
    at whole rows and sections, saying what it cut and where the full plan is."""

    def __init__(self, budget: int = MARKDOWN_BUDGET) -> None:
        self.budget = budget

    def render(self, plan: Plan) -> str:
        quote: Quote = lambda name: code(clip(name))  # noqa: E731
        notes = [*(f"**{w}**" for w in plan.warnings(quote)), *undeclared_notes(plan, quote)]
        tail = [line for note in notes for line in ("", note)]  # a paragraph each
        if not plan.has_changes:
            return _lines(["### revox-sync plan", "", NO_CHANGES, *tail])
        head = [
            "### revox-sync plan",
            "",
            f"**{summary_line(plan)}**",
            "",
            "| | kind | name | id | action | fields |",
            "|---|---|---|---|---|---|",
        ]
        rows = [_row(a) for a in plan.actions]
        groups = [g for g in grouped(plan.actions) if g[0].changes or g[0].notes]
        sections = [_section(g) for g in groups]
        policy = _policy_section(plan, len(plan.findings))
        every = (line for section in sections for line in section.lines)
        whole = _lines([*head, *rows, *every, *policy, *tail])
        if len(whole) <= self.budget:
            return whole
        # The findings get at most a quarter; reserve the longest cut note there can be, then give the table
        # what the sections leave, or half.
        policy = _fit_policy(plan, self.budget // 4)
        tail = [*policy, *tail]
        longest = max((len(section.body) for section in sections), default=0)
        fixed = _size(head) + _size(tail) + _size(["", _cut_note(len(rows), len(rows), groups, 0, longest)])
        available = self.budget - fixed
        wanted = sum(_size(section.lines) for section in sections)
        table, rows_cut = _fit_rows(plan.actions, rows, max(available // 2, available - wanted))
        shown, kept, lines_cut = _fit_sections(sections, available - _size(table))
        cut = ["", _cut_note(rows_cut, len(rows), groups, kept, lines_cut)]
        return _lines([*head, *table, *shown, *cut, *tail])


def _policy_section(plan: Plan, count: int) -> list[str]:
    """The findings as a Markdown section, the first `count` of them listed (location, rule and message in
    code spans: a message may quote a name or a prompt)."""
    if not plan.findings:
        return []
    items = [
        f"- {'**error**' if f.severity == 'error' else 'warning'} {code(str(f.location))} "
        f"{code(f.rule)}: {code(clip(f.text))}"
        for f in plan.findings[:count]
    ]
    if count < len(plan.findings):
        items.append(f"- ... (+{len(plan.findings) - count} more; `revox-sync validate` lists every one)")
    verdict = policy_verdict(plan)
    return ["", f"#### {policy_headline(plan)}", "", *items, *(["", verdict] if verdict else [])]


def _fit_policy(plan: Plan, budget: int) -> list[str]:
    """The findings section with as many findings as fit `budget` (at least none, with its headline)."""
    count = len(plan.findings)
    while count and _size(_policy_section(plan, count)) > budget:
        count = count * 3 // 4 if count > 8 else count - 1
    return _policy_section(plan, count)


def _row(action: Action) -> str:
    """One table row; the name, id and fields in code spans, each `|` escaped (also inside a code span, as
    GitHub's tables require)."""
    fields = ", ".join(map(code, action.fields)) if action.op == "update" else ""
    name, ident = code(clip(action.name)), code(action.id or "")
    cells = (SYMBOLS[action.op], action.kind, name, ident, action.op, fields)
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


class Section(NamedTuple):
    """One collapsible block of a Markdown plan: what a group (or one action) changes, once, in a diff fence
    that `closing` closes."""

    opening: list[str]
    body: list[str]
    closing: list[str]

    @property
    def lines(self) -> list[str]:
        return [*self.opening, *self.body, *self.closing]


def _section(group: Group) -> Section:
    first = group[0]
    summary = (
        f"<details><summary>{SYMBOLS[first.op]} {title(group, lambda text: html_code(clip(text)))}</summary>"
    )
    body = []
    for change in first.changes:
        symbol, headline, detail = change_lines(change)
        body.append(f"{symbol} {headline}")
        body.extend(f"    {line}" for line in detail)
    body += [f"! {clip(line)}" for line in first.notes]
    return Section(["", summary, "", "```diff"], body, ["```", "", "</details>"])


def _fit_sections(sections: list[Section], budget: int) -> tuple[list[str], int, int]:
    """The whole sections that fit `budget`, in order, cut between two sections. When not even the first one
    fits (one rewritten long prompt), its first lines, its fence and block closed: a comment with no diff at
    all would help no one. Returns the lines, how many sections were shown (whole or in part) and how many
    lines of the one shown in part were cut."""
    shown: list[str] = []
    for kept, section in enumerate(sections):
        size = _size(section.lines)
        if size <= budget:
            shown += section.lines
            budget -= size
            continue
        if kept:
            return shown, kept, 0
        body = section.body
        budget -= _size([*section.opening, _cut_lines(len(body)), *section.closing])
        fit = 0
        for line in body:
            budget -= _size([line])
            if budget < 0:
                break
            fit += 1
        if not fit:
            return [], 0, 0
        cut = len(body) - fit
        return [*section.opening, *body[:fit], _cut_lines(cut), *section.closing], 1, cut
    return shown, len(sections), 0


def _cut_lines(count: int) -> str:
    return f"... ({count} more lines cut to fit a pull-request comment)"


def _gap(count: int) -> str:
    return f"| | | ... (+{count} more) | | | |"


def _fit_rows(actions: Sequence[Action], rows: list[str], budget: int) -> tuple[list[str], int]:
    """The table rows that fit `budget`, destroys first (every one a reviewer must see), then the rest in
    plan order; shown in plan order, each run of left-out rows as one `(+N more)` row. Taking a prefix of
    each part leaves at most two runs out."""
    budget -= 2 * _size([_gap(len(rows))])
    kept: set[int] = set()
    for i in sorted(range(len(rows)), key=lambda i: actions[i].op != "delete"):
        budget -= _size([rows[i]])
        if budget < 0:
            break
        kept.add(i)
    table: list[str] = []
    hidden = 0
    for i, row in enumerate(rows):
        if i not in kept:
            hidden += 1
            continue
        if hidden:
            table.append(_gap(hidden))
        table.append(row)
        hidden = 0
    if hidden:
        table.append(_gap(hidden))
    return table, len(rows) - len(kept)


def _cut_note(rows_cut: int, rows: int, groups: Sequence[Group], kept: int, lines_cut: int) -> str:
    """What a cut Markdown plan left out, and where to see it all."""
    parts = [f"{rows_cut} of {rows} table rows"] if rows_cut else []
    if lines_cut:
        parts.append(f"{lines_cut} lines of one change section")
    if kept < len(groups):
        actions = sum(map(len, groups[kept:]))
        parts.append(
            f"{len(groups) - kept} of {len(groups)} change sections ({actions} action{'s' * (actions != 1)})"
        )
    return f"**Cut to fit a pull-request comment:** {' and '.join(parts)} are not shown. {FULL_PLAN}"


def _size(lines: Iterable[str]) -> int:
    """How many characters `lines` take in the comment, escaped as they will print."""
    return len(_lines(lines))


def _lines(lines: Iterable[str]) -> str:
    return "".join(printable(line) + "\n" for line in lines)


def code(text: str) -> str:
    """`text` as a Markdown code span, where no mention, link, image, URL or HTML is live: fenced by one more
    backtick than its longest run of them, and padded when it starts or ends with one; nothing when empty."""
    if not text:
        return ""
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if {text[0], text[-1]} & {"`", " "} else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def html_code(text: str) -> str:
    """`text` in a `<code>` element, for HTML such as a `<summary>` (Markdown is not read there)."""
    return f"<code>{html.escape(text, quote=False)}</code>"


class JsonRenderer:
    """One JSON document (CONTRACT §4); the same dict that `plan --out` saves."""

    def render(self, plan: Plan) -> str:
        return json_document(plan.to_dict())


RENDERERS: dict[str, Callable[[Style], TextRenderer | MarkdownRenderer | JsonRenderer]] = {
    "text": TextRenderer,
    "markdown": lambda _style: MarkdownRenderer(),
    "json": lambda _style: JsonRenderer(),
}

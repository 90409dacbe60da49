"""Plans as text, JSON and Markdown, over actions of any kind: each renderer only reads a Plan."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from revox_sync.engine.change import ABSENT, Action, FieldChange
from revox_sync.engine.plan import Plan, public_value
from revox_sync.output import clip, printable, printable_lines

NO_CHANGES = "No changes. Remote assistants match the configuration."  # CONTRACT §3, word for word
SYMBOLS = {"create": "+", "update": "~", "delete": "-"}
COLORS = {"create": "green", "update": "yellow", "delete": "red"}
HEADLINES = {"create": "will be created", "update": "will be updated in-place", "delete": "will be destroyed"}

MAX_DIFF_LINES = 500  # of one field's line diff
Style = Callable[..., str]


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


def undeclared_note(plan: Plan) -> str | None:
    """Remote objects no file declares: left alone, but a reviewer should know (a rename leaves one)."""
    if not plan.undeclared:
        return None
    notes = []
    for kind in sorted({k for k, _ in plan.undeclared}):
        names = [n for k, n in plan.undeclared if k == kind]
        count = len(names)
        shown = ", ".join(clip(json.dumps(n, ensure_ascii=False)) for n in names[:10])
        more = f" and {count - 10} more" if count > 10 else ""
        what, it, its = (f"{kind} is", "it", "its") if count == 1 else (f"{kind}s are", "them", "their")
        notes.append(
            f"Note: {count} remote {what} not declared in any file ({shown}{more}) and left alone; "
            f"declare {it} (pin {its} `id:`) to manage {it}, or plan with --prune to destroy {it}."
        )
    return "\n".join(notes)


def summary_line(plan: Plan) -> str:
    s = plan.summary
    return f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy."


def action_title(action: Action) -> str:
    ident = f" ({action.id})" if action.id else ""
    return f'{action.kind} "{clip(action.name)}"{ident} {HEADLINES[action.op]}'


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


class TextRenderer:
    """Terraform-style text; colour only when the caller's style function applies it."""

    def __init__(self, style: Style = _plain) -> None:
        self.style = style

    def line(self, text: str, *styles: str) -> str:
        """One output line: what it shows escaped first, so that only the style's own codes are raw."""
        return self.style(printable(text), *styles)

    def render(self, plan: Plan) -> str:
        note = undeclared_note(plan)
        tail = ["", *(self.line(n, "yellow") for n in note.split("\n"))] if note else []
        if not plan.has_changes:
            return "\n".join([NO_CHANGES, *tail])
        lines: list[str] = []
        for action in plan.actions:
            lines.extend(self._compact(action) if action.compact else self._action(action))
        lines += ["", self.line(summary_line(plan), "bold"), *tail]
        return "\n".join(lines)

    def _compact(self, action: Action) -> list[str]:
        """`  ~ phone_number "+15551234567": inbound_assistant "Old" -> "Support"`, one line per field."""
        title = f"{action.kind} {json.dumps(action.name, ensure_ascii=False)}"
        return [
            self.line(f"  {SYMBOLS[action.op]} {title}: {headline.replace(': ', ' ', 1)}", "yellow", "bold")
            for _, headline, _ in map(change_lines, action.changes)
        ]

    def _action(self, action: Action) -> list[str]:
        color = COLORS[action.op]
        lines = [self.line(f"  {SYMBOLS[action.op]} {action_title(action)}", color, "bold")]
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
    """For a pull-request comment: a summary table, then one collapsible section per object."""

    def render(self, plan: Plan) -> str:
        note = undeclared_note(plan)
        if not plan.has_changes:
            return _lines(["### revox-sync plan", "", NO_CHANGES, *(["", note] if note else [])])
        out = [
            "### revox-sync plan",
            "",
            f"**{summary_line(plan)}**",
            "",
            "| | kind | name | id | action | fields |",
            "|---|---|---|---|---|---|",
        ]
        for a in plan.actions:
            fields = ", ".join(f"`{f}`" for f in a.fields) if a.op == "update" else ""
            name = markdown_escape(a.name)
            out.append(f"| {SYMBOLS[a.op]} | {a.kind} | {name} | {a.id or ''} | {a.op} | {fields} |")
        for a in plan.actions:
            if not a.changes and not a.notes:
                continue
            out += [
                "",
                f"<details><summary>{SYMBOLS[a.op]} {markdown_escape(action_title(a))}</summary>",
                "",
                "```diff",
            ]
            for change in a.changes:
                symbol, headline, detail = change_lines(change)
                out.append(f"{symbol} {headline}")
                out.extend(f"    {line}" for line in detail)
            out += [f"! {clip(line)}" for line in a.notes]
            out += ["```", "", "</details>"]
        if note:
            out += ["", note]
        return _lines(out)


def _lines(lines: Iterable[str]) -> str:
    return "".join(printable(line) + "\n" for line in lines)


def markdown_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


class JsonRenderer:
    """One JSON document (CONTRACT §4); the same dict that `plan --out` saves."""

    def render(self, plan: Plan) -> str:
        return json_document(plan.to_dict())


RENDERERS: dict[str, Callable[[Style], TextRenderer | MarkdownRenderer | JsonRenderer]] = {
    "text": TextRenderer,
    "markdown": lambda _style: MarkdownRenderer(),
    "json": lambda _style: JsonRenderer(),
}

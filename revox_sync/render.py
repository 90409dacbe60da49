"""Plans as text, JSON and Markdown: each renderer only reads a Plan."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from revox_sync.diff import ABSENT, FieldChange
from revox_sync.plan import Action, Plan, public_value

NO_CHANGES = "No changes. Remote assistants match the configuration."
SYMBOLS = {"create": "+", "update": "~", "delete": "-"}
COLORS = {"create": "green", "update": "yellow", "delete": "red"}
HEADLINES = {"create": "will be created", "update": "will be updated in-place", "delete": "will be destroyed"}

Style = Callable[..., str]


def _plain(text: str, *_: str) -> str:
    return text


def format_value(change: FieldChange, value: Any) -> str:
    """A value as JSON, whole (a plan hides nothing but secrets); 420.0 shows as 420."""
    shown = public_value(change, value)
    if isinstance(shown, str) and change.sensitive:
        return shown
    if isinstance(shown, float) and shown.is_integer():
        shown = int(shown)
    return json.dumps(shown, ensure_ascii=False, default=str)


def undeclared_note(plan: Plan) -> str | None:
    """Remote assistants no file declares: left alone, but a reviewer should know (a rename leaves one)."""
    if not plan.undeclared:
        return None
    count = len(plan.undeclared)
    names = ", ".join(json.dumps(n, ensure_ascii=False) for n in plan.undeclared[:10])
    more = f" and {count - 10} more" if count > 10 else ""
    what = "assistant is" if count == 1 else "assistants are"
    return (
        f"Note: {count} remote {what} not declared in any file ({names}{more}) and left alone; "
        "pin its `id:` in a file to manage it, or plan with --prune to destroy it."
    )


def summary_line(plan: Plan) -> str:
    s = plan.summary
    return f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy."


def action_title(action: Action) -> str:
    ident = f" ({action.id})" if action.id else ""
    return f'assistant "{action.name}"{ident} {HEADLINES[action.kind]}'


def change_lines(change: FieldChange) -> tuple[str, str, list[str]]:
    """(symbol, headline, detail lines) for one change, shared by the text and Markdown renderers."""
    if change.after is ABSENT:
        return "-", f"{change.path}: {format_value(change, change.before)}", []
    if change.is_text and not change.sensitive and change.before in (ABSENT, None):
        lines = str(change.after).splitlines()
        symbol = "+" if change.before is ABSENT else "~"
        count = f"{len(lines)} line{'s' if len(lines) != 1 else ''}"
        return symbol, f"{change.path}: text ({count})", [f"+{line}" for line in lines]
    if change.before is ABSENT:
        return "+", f"{change.path}: {format_value(change, change.after)}", []
    if change.is_text and not change.sensitive:
        added, removed = change.line_counts()
        return "~", f"{change.path}: text changed (+{added} -{removed} lines)", change.text_diff()
    return (
        "~",
        f"{change.path}: {format_value(change, change.before)} -> {format_value(change, change.after)}",
        [],
    )


class TextRenderer:
    """Terraform-style text; colour only when the caller's style function applies it."""

    def __init__(self, style: Style = _plain) -> None:
        self.style = style

    def render(self, plan: Plan) -> str:
        note = undeclared_note(plan)
        tail = ["", self.style(note, "yellow")] if note else []
        if not plan.has_changes:
            return "\n".join([NO_CHANGES, *tail])
        from revox_sync.routing import text_lines

        lines: list[str] = []
        for action in plan.actions:
            lines.extend(self._action(action))
        lines += [self.style(line, "yellow", "bold") for line in text_lines(plan.routes)]
        lines += ["", self.style(summary_line(plan), "bold"), *tail]
        return "\n".join(lines)

    def _action(self, action: Action) -> list[str]:
        color = COLORS[action.kind]
        lines = [self.style(f"  {SYMBOLS[action.kind]} {action_title(action)}", color, "bold")]
        for change in action.changes:
            symbol, headline, detail = change_lines(change)
            lines.append(
                self.style(f"      {symbol} {headline}", {"+": "green", "-": "red", "~": "yellow"}[symbol])
            )
            for line in detail:
                color_of = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                lines.append(self.style(f"          {line}", color_of))
        for note in action.notes:
            lines.append(self.style(f"      ! {note}", "yellow"))
        return lines


class MarkdownRenderer:
    """For a pull-request comment: a summary table, then one collapsible section per assistant."""

    def render(self, plan: Plan) -> str:
        note = undeclared_note(plan)
        if not plan.has_changes:
            return f"### revox-sync plan\n\n{NO_CHANGES}\n" + (f"\n{note}\n" if note else "")
        out = [
            "### revox-sync plan",
            "",
            f"**{summary_line(plan)}**",
            "",
            "| | assistant | id | action | fields |",
            "|---|---|---|---|---|",
        ]
        for a in plan.actions:
            fields = ", ".join(f"`{f}`" for f in a.fields) if a.kind == "update" else ""
            out.append(
                f"| {SYMBOLS[a.kind]} | {markdown_escape(a.name)} | {a.id or ''} | {a.kind} | {fields} |"
            )
        from revox_sync.routing import markdown_lines

        out += markdown_lines(plan.routes)
        for a in plan.actions:
            if not a.changes and not a.notes:
                continue
            out += [
                "",
                f"<details><summary>{SYMBOLS[a.kind]} {markdown_escape(action_title(a))}</summary>",
                "",
                "```diff",
            ]
            for change in a.changes:
                symbol, headline, detail = change_lines(change)
                out.append(f"{symbol} {headline}")
                out.extend(f"    {line}" for line in detail)
            out += [f"! {line}" for line in a.notes]
            out += ["```", "", "</details>"]
        if note:
            out += ["", note]
        return "\n".join(out) + "\n"


def markdown_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


class JsonRenderer:
    """One JSON document (CONTRACT §4); the same dict that `plan --out` saves."""

    def render(self, plan: Plan) -> str:
        return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False)


RENDERERS: dict[str, Callable[[Style], TextRenderer | MarkdownRenderer | JsonRenderer]] = {
    "text": TextRenderer,
    "markdown": lambda _style: MarkdownRenderer(),
    "json": lambda _style: JsonRenderer(),
}

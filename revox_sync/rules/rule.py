"""What a policy rule is, what it sees of the configuration, and what it reports.

A rule is a pure function over one object of the resolved configuration (`check`) or over every object at
once (`across`, for mistakes no single file shows); it yields `Hit`s, which `evaluate` turns into located
`Finding`s with the severity the project file gives the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from revox_sync.config.yaml import Loc, PositionMap
from revox_sync.errors import Location
from revox_sync.output import printable

Severity = Literal["error", "warning", "off"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "off")
Params = Mapping[str, Any]


@dataclass(frozen=True)
class Subject:
    """One object as the rules see it: its kind and name, its resolved data (absent keys are unmanaged), and
    where each value is written (for an assistant made from a template: the template's line; `row` names
    the for_each row it was made from)."""

    kind: str
    name: str
    data: Mapping[str, Any]
    at_name: Location
    positions: PositionMap | None = None
    row: Location | None = None
    located: Mapping[Loc, Location] = field(default_factory=dict)  # for kinds without a PositionMap

    def at(self, loc: Loc) -> Location:
        """Where the value at `loc` is written; the name's place when the file writes nothing there."""
        if loc in self.located:
            return self.located[loc]
        if self.positions is None or not loc or (loc[0],) not in self.positions.values:
            return self.at_name
        if loc in self.positions.keys and isinstance(_at(self.data, loc), (dict, list)):
            return self.positions.key(loc)  # a whole mapping or list: its key's line
        return self.positions.value(loc)


def _at(data: Any, loc: Loc) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


@dataclass(frozen=True)
class Hit:
    """What a rule found at one value (`loc`, a path in the subject's data)."""

    loc: Loc
    message: str


Check = Callable[[Subject, Params], Iterable[Hit]]
Across = Callable[[Sequence[tuple[Subject, Params]], Sequence[Subject]], Iterable[tuple[Subject, Hit]]]


@dataclass(frozen=True)
class Rule:
    """One rule: its id (in suppressions and the project file), default severity, the law or reason it
    comes from, its parameters' defaults, and the kinds it looks at."""

    id: str
    severity: Severity
    summary: str
    source: str
    params: Params = field(default_factory=dict)
    check: Check | None = None
    across: Across | None = None
    kinds: tuple[str, ...] = ("assistant",)
    needs: tuple[str, ...] = ()  # params without which the rule checks nothing (say, the business's names)
    defined_at: Location | None = None  # a custom rule's place in revox-sync.yaml


@dataclass(frozen=True, order=True)
class Finding:
    """One located finding. `rows` are the for_each rows it was found in (one finding per template line);
    `suppressed` is the reason of the `# revox-sync: ignore[...]` comment that silences it."""

    location: Location
    rule: str
    message: str
    severity: Literal["error", "warning"] = "error"
    rows: tuple[Location, ...] = ()
    suppressed: str | None = None
    environment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The finding as validate's JSON and the plan's `findings` list show it."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "file": self.location.path,
            "line": self.location.line or None,
            "column": self.location.col or None,
            "message": self.message,
            "rows": [str(r) for r in self.rows],
        }

    @property
    def text(self) -> str:
        """The message with its rows and environment, as every format prints it."""
        where = ""
        if len(self.rows) == 1:
            where = f" (row {self.rows[0]})"
        elif self.rows:
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" and {len(self.rows) - 5} more" if len(self.rows) > 5 else ""
            where = f" (rows {shown}{more})"
        env = f"[{self.environment}] " if self.environment else ""
        return f"{env}{self.message}{where}"

    def __str__(self) -> str:
        """The finding as one line of `validate`'s text (a custom rule's message may hold line breaks)."""
        if self.suppressed is not None:
            reason = self.suppressed or "none given"
            return printable(f"{self.location}: suppressed: [{self.rule}] {self.text} (reason: {reason})")
        prefix = "warning: " if self.severity == "warning" else ""
        return printable(f"{self.location}: {prefix}[{self.rule}] {self.text}")

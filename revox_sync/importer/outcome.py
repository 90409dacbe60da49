"""What importing one assistant produces, checked for every assistant before the first write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Secret:
    """A sensitive value written as a `${VAR}` placeholder."""

    variable: str
    where: str  # 'llm_model.api_key of "Sales qualifier"'


@dataclass
class Write:
    """One file to write: `existed` and `changed` decide whether it needs --overwrite or is skipped;
    `adds_only` when it only gains entries, so that nothing in it is overwritten."""

    path: Path
    text: str
    existed: bool
    changed: bool
    adds_only: bool = False


@dataclass
class Outcome:
    """The files of one remote assistant, the placeholders they hold, and what to tell the user."""

    remote: dict[str, Any]
    yaml_path: Path
    writes: list[Write] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

"""What importing one assistant produces, checked for every assistant before the first write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMPORT_FORMAT_VERSION = 1


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


@dataclass
class Record:
    """What one import did, for `import --format json`: each file with what happened to it (`created`,
    `updated`, `unchanged`), the variables to set and where they are used, and the generated assistants
    it reported instead of writing (with whether the remote drifted from its file), and the assistants
    outside `owns` it skipped."""

    files: list[dict[str, str]] = field(default_factory=list)
    variables: dict[str, list[str]] = field(default_factory=dict)
    generated: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": IMPORT_FORMAT_VERSION,
            "files": self.files,
            "variables": [{"name": name, "used_by": where} for name, where in self.variables.items()],
            "generated": self.generated,
            "skipped": self.skipped,
        }

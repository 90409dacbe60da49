"""What one configuration may touch in a shared account: the objects it owns and those it must never destroy.

Both come from `revox-sync.yaml` as name patterns per kind (glob syntax, case-sensitive; a pattern also
matches the name it spells, so "Main line [prod]" protects that assistant though `[prod]` is a glob
character class; accents match however they are encoded). Without `owns` everything is owned; once `owns`
is given, a kind it does not list owns nothing, so a new kind's objects are never pruned by a configuration
that did not think of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from revox_sync.errors import Location
from revox_sync.names import glob_matches, same_name


@dataclass(frozen=True)
class Pattern:
    """One name pattern and where the project file writes it."""

    text: str
    location: Location
    section: str  # "owns.assistants", "environments.production.protect.phone_numbers"

    def matches(self, name: str) -> bool:
        return same_name(name, self.text) or glob_matches(name, self.text)


Patterns = Mapping[str, tuple[Pattern, ...]]  # kind name -> patterns


@dataclass(frozen=True)
class Scope:
    owns: Patterns | None = None  # None: everything is owned
    protect: Patterns = field(default_factory=dict)
    plurals: Mapping[str, str] = field(default_factory=dict)  # kind name -> how the project file says it

    def owned(self, kind: str, name: str) -> bool:
        if self.owns is None:
            return True
        return any(p.matches(name) for p in self.owns.get(kind, ()))

    def protection(self, kind: str, *names: str | None) -> Pattern | None:
        """The first pattern that protects an object known by any of `names` (its name, its id)."""
        for pattern in self.protect.get(kind, ()):
            if any(n is not None and pattern.matches(n) for n in names):
                return pattern
        return None

    def not_owned(self, kind: str) -> str:
        """Why a name of `kind` is not owned: what `owns` says of the kind."""
        plural = self.plurals.get(kind, kind)
        patterns = (self.owns or {}).get(kind, ())
        if not patterns:
            return f"owns lists no {plural}: add a pattern under owns.{plural} in revox-sync.yaml"
        shown = ", ".join(repr(p.text) for p in patterns)
        # all from one section: an environment's patterns of a kind replace the top level's
        return f"{patterns[0].section} is {shown} (in revox-sync.yaml)"


EVERYTHING = Scope()

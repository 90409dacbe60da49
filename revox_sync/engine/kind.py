"""What the engine knows of a resource kind: one Protocol, so that a new kind is one module and one line
in the registry (`revox_sync.kinds`), and the engine itself names none.

A kind turns its files into `Desired` objects, fetches its remote objects, plans the actions that make the
account match, and performs one action. Kinds see each other only through `Refs`: the names that resolve
to ids, filled in dependency order while a plan is built.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from revox_sync.engine.change import Action, Desired, FieldChange, Pending
from revox_sync.engine.scope import EVERYTHING, Scope
from revox_sync.errors import LocatedError, LocatedWarning, Location
from revox_sync.names import name_key

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient


@dataclass
class Refs:
    """What each kind's names mean for one plan, filled by each kind as it is planned, in dependency
    order, so that a later kind can refer to an earlier one by name."""

    # keyed by (kind, `name_key` of a name): a name refers to its object in any Unicode form
    ids: dict[tuple[str, str], str] = field(default_factory=dict)  # -> existing id
    names: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) -> name after this plan
    created: dict[tuple[str, str], str] = field(default_factory=dict)  # -> the name this plan creates it by
    destroyed: set[tuple[str, str]] = field(default_factory=set)  # (kind, id) this plan destroys
    ambiguous: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # -> ids
    declared: set[tuple[str, str]] = field(default_factory=set)  # what some file declares
    uses: list[Use] = field(default_factory=list)  # which remote objects refer to which, now and after
    scope: Scope = EVERYTHING  # what this configuration owns and protects

    def movers(
        self, target: tuple[str, str], actions: Sequence[Action]
    ) -> tuple[tuple[str, str | None], ...]:
        """The kept updates that move a remote object's reference off `target`: a delete of `target` runs
        only once they succeeded (a number is rerouted before its old assistant goes)."""
        updates = {(a.kind, a.id): a for a in actions if a.op == "update"}
        found = []
        for use in self.uses:
            update = updates.get(use.user)
            if use.now == target and use.after != target and update is not None and use.field in update.body:
                found.append(use.user)
        return tuple(found)

    def users_of(self, target: tuple[str, str], actions: Sequence[Action]) -> list[str]:
        """The names of the remote objects that still refer to `target` once `actions` (the plan as kept,
        `--target` applied) are done: one destroyed no longer does; one whose update of the referring
        field is kept refers to what it will refer to after."""
        deleted = {(a.kind, a.id) for a in actions if a.op == "delete"}
        updated = {(a.kind, a.id, f) for a in actions if a.op == "update" for f in a.body}
        names = []
        for use in self.uses:
            if use.user in deleted:
                continue
            refers = use.after if (*use.user, use.field) in updated else use.now
            if refers == target:
                names.append(use.name)
        return sorted(names)

    def resolve(self, kind: str, name: str) -> str | Pending | None:
        """The id `name` means (a Pending when this plan creates it), or None when it means nothing."""
        key = (kind, name_key(name))
        if key in self.created:
            return Pending(kind, self.created[key])  # by the create's own name: apply fills it from that
        return self.ids.get(key)

    def ambiguity(self, kind: str, name: str) -> tuple[str, ...]:
        """The ids of the account's objects that `name` could mean when no file declares it (none: not
        ambiguous)."""
        return self.ambiguous.get((kind, name_key(name)), ())


@dataclass(frozen=True)
class Use:
    """A remote object (`user`: kind and id) that refers, through its top-level `field`, to another object:
    `now` in the account, `after` once the plan's update of that field is applied."""

    user: tuple[str, str]
    name: str
    field: str
    now: tuple[str, str] | None
    after: tuple[str, str] | None


@dataclass(frozen=True)
class LoadContext:
    """What reading a kind's files needs: where they are and what `${VAR}` means."""

    config_dir: Path
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Loaded:
    """A kind's configuration: None from `load` means this configuration does not manage the kind."""

    desired: list[Desired] = field(default_factory=list)
    warnings: list[LocatedWarning] = field(default_factory=list)
    path: Path | None = None  # the kind's own file, for kinds declared in one file
    deferred: list[LocatedError] = field(default_factory=list)  # errors only if an object must be created


@dataclass
class KindPlan:
    """One kind's share of a plan."""

    actions: list[Action] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)  # remote id -> keyed fingerprint
    undeclared: list[str] = field(default_factory=list)  # remote names no file declares, left alone


@dataclass
class Written:
    """What one write did: the object's id, fields the server did not store as sent, a server note."""

    id: str | None = None
    not_stored: list[str] = field(default_factory=list)
    notice: str | None = None


class ResourceKind(Protocol):
    """One kind of remote object revox-sync manages."""

    name: str  # the `kind` of its actions, in plans and saved plans: "assistant"
    plural: str  # how people and revox-sync.yaml say many of them: "assistants"
    depends_on: tuple[str, ...]  # kinds whose ids its objects refer to
    compact: bool  # one line per changed field in text plans (few fields, one value each)
    guarded: tuple[str, ...]  # fields whose change `protect` refuses like a destroy (a number's route)

    def load(self, context: LoadContext) -> Loaded | None:
        """Its files as desired objects (raise ConfigErrors for bad files); None when it has none."""
        ...

    def check(self, loaded: Loaded, others: Mapping[str, Loaded | None]) -> list[LocatedError]:
        """Offline checks across kinds (a name that refers to an object no file declares)."""
        ...

    def check_online(self, loaded: Loaded, client: RevoxClient) -> list[LocatedError]:
        """What `validate --online` can tell only from the account (a voice id that does not exist)."""
        ...

    def fetch(self, client: RevoxClient) -> list[dict[str, Any]]:
        """Its remote objects that a configuration may manage, with as few requests as the API allows."""
        ...

    def plan(
        self, loaded: Loaded, remote: Sequence[dict[str, Any]], refs: Refs, *, prune: bool, key: bytes
    ) -> KindPlan:
        """The actions that make the remote objects match `loaded`; records its names in `refs`."""
        ...

    def check_plan(self, actions: Sequence[Action], refs: Refs) -> list[LocatedError]:
        """Checks of the whole plan once every kind is planned (a voice destroyed while still in use)."""
        ...

    def sandbox(self, state: Any, loaded: Loaded) -> list[str]:
        """With --local: what the embedded emulator's account must hold for this configuration (numbers
        the account owns), added to `state`; returns notes to print."""
        ...

    def write(self, client: RevoxClient, action: Action, body: dict[str, Any]) -> Written:
        """Perform one action; `body` is the action's body with every Pending id filled in."""
        ...

    def pattern_problem(self, pattern: str) -> str | None:
        """Why a name pattern of `owns` or `protect` can never match one of its objects (a number written
        otherwise than the API spells numbers), or None."""
        ...

    def restorable(
        self,
        state: dict[str, Any],
        gone: Mapping[tuple[str, str], str],
        where: Location,
        fields: Collection[str] | None = None,
    ) -> tuple[Desired | None, str | None]:
        """A backed-up remote object as the declaration that puts it back (None: nothing to declare), and a
        note to print. `gone`: the backed-up objects the account no longer has, (kind, id) -> name; one
        of them is declared without its id, so that the plan creates it again. `where`: the backup, where a
        problem with what it declares is reported. `fields`: the only fields to declare, as a write's body
        names them (None: all of them)."""
        ...

    def differs(self, body: dict[str, Any], stored: dict[str, Any]) -> tuple[list[str], list[FieldChange]]:
        """The fields of `body` (what a write sends) that `stored` (the object as the account lists it) does
        not hold, compared as plans compare, and the changes from `stored` to `body`."""
        ...

    def as_written(self, stored: dict[str, Any]) -> dict[str, Any]:
        """A listed object's fields as a write's body names them (a number lists its assistant nested, and
        is written `inbound_assistant_id`)."""
        ...


def in_dependency_order(kinds: Sequence[ResourceKind]) -> tuple[ResourceKind, ...]:
    """Kinds so that each comes after the kinds it depends on (creates run in this order, deletes in the
    reverse); a dependency on a kind not given is ignored, a cycle is a bug in the registry."""
    by_name = {k.name: k for k in kinds}
    done: list[ResourceKind] = []
    visiting: set[str] = set()

    def visit(kind: ResourceKind) -> None:
        if kind in done:
            return
        if kind.name in visiting:
            raise ValueError(f"resource kinds depend on each other in a cycle through {kind.name!r}")
        visiting.add(kind.name)
        for name in kind.depends_on:
            if name in by_name:
                visit(by_name[name])
        visiting.discard(kind.name)
        done.append(kind)

    for kind in kinds:
        visit(kind)
    return tuple(done)

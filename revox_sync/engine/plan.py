"""The plan is data: which objects of which kinds to create, update or destroy, and how; built from two
states by the kinds themselves, in dependency order, with one Action model for all of them."""

from __future__ import annotations

import difflib
import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from revox_sync.engine.change import (
    ABSENT,
    KNOWN_AFTER_APPLY,
    OPS,
    Action,
    Desired,
    FieldChange,
    Op,
    Pending,
    dotted,
    pending_in,
    redact,
)
from revox_sync.engine.kind import Refs
from revox_sync.engine.scope import EVERYTHING, Scope
from revox_sync.errors import ConfigErrors, FatalError, LocatedError, Location
from revox_sync.names import name_key, same_name
from revox_sync.sensitive import (
    SENSITIVE,
    Shown,
    blanker,
    is_sensitive_path,
    is_sensitive_variable,
    shown_as,
)

if TYPE_CHECKING:
    from revox_sync.engine.kind import Loaded, ResourceKind
    from revox_sync.rules.rule import Finding

FORMAT_VERSION = 3  # 3: warnings, findings and config_files (a plan saved by 2 lacks them)
SAFETY_MIN_EXISTING = 10
SAFETY_MAX_FRACTION = 0.30
ALLOW_DEFAULT_SECRETS = "--allow-default-secrets"


def _quoted(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


@dataclass(frozen=True, order=True)
class DefaultSecret:
    """A secret this plan would store from the default of `${variable:-...}`, its variable unset or empty
    (a placeholder meant for offline checks, sent as the live key). Never holds the default's text."""

    kind: str
    name: str
    path: str
    variable: str

    def message(self, name: str, allowed: bool) -> str:
        """`name`: the object's name as the plan shows it, quoted for where it goes."""
        then = (
            f"stored, as allowed by {ALLOW_DEFAULT_SECRETS} (which --local implies)"
            if allowed
            else f"apply refuses to store it without {ALLOW_DEFAULT_SECRETS}"
        )
        return (
            f"Warning: {self.kind} {name}: {self.path} falls back to the default of "
            f"${{{self.variable}}}, which is not set; {then}"
        )


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    fingerprints: Mapping[str, Mapping[str, str]]  # kind -> remote id -> keyed fingerprint
    config_fingerprint: str
    secrets_fingerprint: str = ""  # keyed: changes when a sensitive value changes
    config_files: Mapping[str, str] = field(default_factory=dict)  # file -> keyed fingerprint of its objects
    prune: bool = False
    targets: tuple[str, ...] = ()
    target: str | None = None  # which account the plan was made against (base URL, or "local")
    undeclared: tuple[tuple[str, str], ...] = ()  # (kind, name) no file declares, left alone without --prune
    existing: Mapping[str, int] = field(default_factory=dict)  # kind -> remote objects it could touch
    restore: str | None = None  # the checksum of the backup this plan restores
    force_conflicts: bool = False  # a restore's: it also puts back what was changed since the apply
    shown_names: Mapping[str, str] = field(default_factory=dict)  # a name holding a secret -> as it is shown
    # kind -> remote id -> name, for messages about what moved (not saved: the fingerprints stand for them)
    remote_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)
    default_secrets: tuple[DefaultSecret, ...] = ()  # secrets the writes would store from a default
    allow_default_secrets: bool = False  # made with --allow-default-secrets: apply stores them
    findings: tuple[Finding, ...] = ()  # the policy rules' findings on what it creates or updates
    allow_policy_errors: bool = False  # apply goes ahead despite error findings
    key: bytes = field(default=b"", repr=False, compare=False)  # keys the checksum of the saved form

    def count(self, op: Op) -> int:
        return sum(1 for a in self.actions if a.op == op)

    @property
    def summary(self) -> dict[str, int]:
        return {"add": self.count("create"), "change": self.count("update"), "destroy": self.count("delete")}

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    @property
    def policy_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def redacted(self, secrets: Mapping[str, str]) -> Plan:
        """This plan with every occurrence of a secret value in its shown values replaced by what it is shown
        as (`secrets`: value -> that; a secret that a prompt no longer uses still sits in the remote text),
        and each sensitive value by what it is shown as: a remote one equal to the value of a variable names
        it. What apply sends is untouched."""
        if not secrets:
            return self
        blank = blanker(secrets)
        actions = tuple(
            replace(
                a,
                changes=tuple(_redacted(c, secrets, blank) for c in a.changes),
                notes=tuple(blank(list(a.notes))),
            )
            for a in self.actions
        )
        every = [*(a.name for a in self.actions), *(n for _, n in self.undeclared)]
        names = {n: blank(n) for n in every}
        return replace(self, actions=actions, shown_names={k: v for k, v in names.items() if k != v})

    def warnings(self, quote: Callable[[str], str] = _quoted) -> list[str]:
        """What a reviewer must see besides the changes, one line each (names quoted by `quote`)."""
        return [
            d.message(quote(self.shown_names.get(d.name, d.name)), self.allow_default_secrets)
            for d in self.default_secrets
        ]

    def default_secrets_refused(self) -> str | None:
        """Why apply must not run this plan: secrets it would store from a default, not allowed."""
        if not self.default_secrets or self.allow_default_secrets:
            return None
        listed = ", ".join(sorted({f"${{{d.variable}}}" for d in self.default_secrets}))
        return (
            f"this plan would store the default of {listed} as a secret (the variable is not set); set it, "
            f"or plan and apply with {ALLOW_DEFAULT_SECRETS} if the default is meant. Nothing was changed."
        )

    def to_dict(self) -> dict[str, Any]:
        """The saved and machine-readable form: no plaintext sensitive value, a checksum over the rest."""
        doc: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "summary": self.summary,
            "target": self.target,
            "actions": [_action_dict(a, self.shown_names.get(a.name, a.name)) for a in self.actions],
            "options": {
                "prune": self.prune,
                "targets": list(self.targets),
                **({"restore": self.restore} if self.restore else {}),
                **({"force_conflicts": True} if self.force_conflicts else {}),
                **({"allow_default_secrets": True} if self.allow_default_secrets else {}),
                **({"allow_policy_errors": True} if self.allow_policy_errors else {}),
            },
            "warnings": [
                {
                    "kind": d.kind,
                    "name": self.shown_names.get(d.name, d.name),
                    "path": d.path,
                    "variable": d.variable,
                    "message": message,
                }
                for d, message in zip(self.default_secrets, self.warnings(), strict=True)
            ],
            "findings": [f.to_dict() for f in self.findings],
            "undeclared": [{"kind": k, "name": self.shown_names.get(n, n)} for k, n in self.undeclared],
            "config_fingerprint": self.config_fingerprint,
            "config_files": dict(sorted(self.config_files.items())),
            "secrets_fingerprint": self.secrets_fingerprint,
            "remote_fingerprints": {k: dict(sorted(v.items())) for k, v in sorted(self.fingerprints.items())},
        }
        doc["checksum"] = checksum(doc, self.key)
        return doc


def _redacted(change: FieldChange, secrets: Mapping[str, str], blank: Callable[[Any], Any]) -> FieldChange:
    change = replace(change, path=blank(change.path))  # a path shows the keys of list items, a header's name
    if change.sensitive and change.inline:
        before, after = blank(change.before), blank(change.after)
        if all(shown_as([name]) in after for name in change.inline):  # each secret blanked where it stands
            return replace(change, before=before, after=after, sensitive=False, inline=())
        return replace(
            change, before=_shown(change.before, secrets), after=shown_as(change.inline), inline=()
        )
    if not change.sensitive:
        return replace(change, before=blank(change.before), after=blank(change.after))
    return replace(change, before=_shown(change.before, secrets), after=_shown(change.after, secrets))


def _shown(value: Any, secrets: Mapping[str, str]) -> Any:
    """A sensitive value as it may be shown: what `secrets` says the whole of it prints as."""
    if isinstance(value, Shown) or value is ABSENT or value is None or isinstance(value, (dict, list)):
        return value
    return Shown(secrets.get(str(value), SENSITIVE))


def _action_dict(action: Action, name: str) -> dict[str, Any]:
    return {
        "kind": action.kind,
        "action": action.op,
        "name": name,
        "id": action.id,
        "file": action.file,
        "changes": [
            {
                "path": c.path,
                "before": public_value(c, c.before),
                "after": public_value(c, c.after),
                **({"after_unknown": True} if isinstance(c.after, Pending) else {}),  # an id apply will know
            }
            for c in action.changes
        ],
        "notes": list(action.notes),
    }


def public_value(change: FieldChange, value: Any) -> Any:
    """A change's value as it may be shown or saved: sensitive ones never leave the process (what they are
    `Shown` as does), and an id this plan creates is not known yet."""
    if value is ABSENT:
        return None
    if isinstance(value, Pending):
        return KNOWN_AFTER_APPLY
    if change.sensitive:
        return value if isinstance(value, Shown) else SENSITIVE
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


CHECKSUM_PREFIX = "hmac-sha256:"


def checksum(doc: dict[str, Any], key: bytes, label: bytes = b"revox-sync saved plan") -> str:
    """An HMAC of the whole document but its checksum, keyed with the account's key: whoever can edit a
    saved plan (or backup, by its `label`) but does not hold the key cannot make an edited one pass (an
    unkeyed hash anyone can recompute)."""
    body = {k: v for k, v in doc.items() if k != "checksum"}
    data = label + b"\n" + canonical_json(body).encode("utf-8", "surrogatepass")  # a file name of any bytes
    return CHECKSUM_PREFIX + hmac.new(key, data, hashlib.sha256).hexdigest()


def fingerprint(value: Any, key: bytes = b"") -> str:
    """A short digest. Keyed (HMAC) where the value may hold secrets: a saved plan must not let anyone
    test guesses of a secret offline, and only the holder of the same API key can recompute it."""
    return _digest(canonical_json(value), key)


def _digest(text: str, key: bytes) -> str:
    data = text.encode()
    if key:
        return hmac.new(key, data, hashlib.sha256).hexdigest()[:20]
    return hashlib.sha256(data).hexdigest()[:20]


# --- building a plan ---------------------------------------------------------------------------------------
def build_plan(
    kinds: Sequence[ResourceKind],
    loaded: Mapping[str, Loaded | None],
    remote: Mapping[str, Sequence[dict[str, Any]]],
    *,
    prune: bool = False,
    targets: Iterable[str] = (),
    key: bytes = b"",
    scope: Scope = EVERYTHING,
) -> Plan:
    """Each kind plans its objects in dependency order (`kinds` is that order), seeing the names of the kinds
    before it through `Refs`; then `--target` keeps the actions it names, and every action must find the
    objects it refers to either in the account or among the creates it keeps. Nothing `scope` protects is
    destroyed or has a guarded field changed.

    `key` keys the fingerprints of values that may hold secrets (the API key, in practice)."""
    targets = tuple(targets)
    refs = Refs(scope=scope)
    actions: list[Action] = []
    fingerprints: dict[str, dict[str, str]] = {}
    undeclared: list[tuple[str, str]] = []
    managed = [k for k in kinds if loaded.get(k.name) is not None]
    for kind in managed:
        config = loaded[kind.name]
        assert config is not None
        part = kind.plan(config, remote.get(kind.name, ()), refs, prune=prune, key=key)
        actions += part.actions
        fingerprints[kind.name] = part.fingerprints
        undeclared += [(kind.name, name) for name in part.undeclared]
    if targets:
        actions = _targeted(actions, targets, loaded, remote)
    errors = [e for kind in managed for e in kind.check_plan(actions, refs)]
    errors += protected(kinds, actions, scope)
    if errors:
        raise ConfigErrors(errors)
    actions = [
        replace(a, waits_for=refs.movers((a.kind, a.id), actions)) if a.op == "delete" and a.id else a
        for a in actions
    ]
    rank = {k.name: i for i, k in enumerate(kinds)}
    # as apply runs them: creates and updates in dependency order, deletes in the reverse
    actions.sort(
        key=lambda a: (
            OPS.index(a.op),
            -rank[a.kind] if a.op == "delete" else rank[a.kind],
            a.name,
            a.id or "",
        )
    )
    desired = [d for k in managed for d in (loaded[k.name] or _NONE).desired]
    prints = config_fingerprints(desired, key or b"revox-sync")
    return Plan(
        actions=tuple(actions),
        fingerprints=fingerprints,
        config_fingerprint=prints.shown,
        secrets_fingerprint=prints.whole,
        config_files=prints.files,
        remote_names={
            kind: {str(r.get("id")): str(r.get("name")) for r in remote.get(kind, ())}
            for kind in fingerprints
        },
        prune=prune,
        targets=targets,
        undeclared=() if prune or targets else tuple(sorted(undeclared)),
        existing={
            k.name: sum(1 for r in remote.get(k.name, ()) if scope.owned(k.name, str(r.get("name"))))
            for k in managed
        },
    )


def protected(kinds: Sequence[ResourceKind], actions: Sequence[Action], scope: Scope) -> list[LocatedError]:
    """An error, located at the `protect` pattern, for each action that would destroy a protected object or
    change one of its guarded fields (reroute a protected number); and, located where the new name is
    declared, for each rename of a protected object to a name no pattern protects (protection follows the
    object: a later --prune of the new name would destroy it)."""
    guarded = {k.name: k.guarded for k in kinds}
    errors = [e for a in actions if (e := _renamed_out(a, scope)) is not None]
    for a in actions:
        fields = [f for f in guarded.get(a.kind, ()) if f in a.body] if a.op == "update" else []
        if a.op != "delete" and not fields:
            continue
        pattern = scope.protection(a.kind, a.name, a.id)
        if pattern is None:
            continue
        what = "destroy it" if a.op == "delete" else f"change its {', '.join(fields)}"
        ident = f" ({a.id})" if a.id else ""
        errors.append(
            LocatedError(
                pattern.location,
                f'{a.kind.replace("_", " ")} "{a.name}"{ident} is protected ({pattern.section}: '
                f"{pattern.text!r}): this plan would {what}; nothing was changed (--force does not override "
                "protection: remove the pattern first if this is intended)",
            )
        )
    return errors


def _renamed_out(action: Action, scope: Scope) -> LocatedError | None:
    """Why `action` may not rename its object: it is protected under its current name and would not be
    under the new one (a pattern of its id protects both)."""
    old = (
        next((c.before for c in action.changes if c.path == "name"), None) if action.op == "update" else None
    )
    if not isinstance(old, str):
        return None
    pattern = scope.protection(action.kind, old, action.id)
    if pattern is None or scope.protection(action.kind, action.name, action.id) is not None:
        return None
    return LocatedError(
        action.desired.location if action.desired else _nowhere(action),
        f'{action.kind.replace("_", " ")} "{old}" ({action.id}) is protected ({pattern.section}: '
        f'{pattern.text!r}): renaming it to "{action.name}" would leave it unprotected; protect the new name '
        "too (or its id), or keep the name",
    )


def unowned(
    kinds: Sequence[ResourceKind], loaded: Mapping[str, Loaded | None], scope: Scope
) -> list[LocatedError]:
    """A declared object whose name this configuration does not own: creating it would make something that
    belongs to another configuration."""
    return [
        LocatedError(
            d.location,
            f'{k.name.replace("_", " ")} "{d.name}" is outside what this configuration owns: '
            f"{scope.not_owned(k.name)}",
        )
        for k in kinds
        if (config := loaded.get(k.name)) is not None
        for d in config.desired
        if not scope.owned(k.name, d.name)
    ]


def plan_strays(
    kind: str, strays: Sequence[dict[str, Any]], refs: Refs, *, prune: bool, file: str | None = None
) -> tuple[list[Action], list[str]]:
    """Remote objects no file declares: destroyed with --prune, listed as undeclared without. Only those
    this configuration owns: the others belong to someone else and are neither listed nor touched."""
    actions: list[Action] = []
    undeclared: list[str] = []
    for r in strays:
        name = str(r.get("name"))
        if not refs.scope.owned(kind, name):
            continue
        if prune:
            refs.destroyed.add((kind, str(r["id"])))
            actions.append(Action(kind, "delete", name, str(r["id"]), file))
        else:
            undeclared.append(name)
    return actions, undeclared


class _NoConfig:
    desired: tuple[Desired, ...] = ()


_NONE = _NoConfig()


def _targeted(
    actions: list[Action],
    targets: tuple[str, ...],
    loaded: Mapping[str, Loaded | None],
    remote: Mapping[str, Sequence[dict[str, Any]]],
) -> list[Action]:
    """The actions `--target` names (by name or id, of any kind); an unknown target, or a kept action
    that needs an object whose create is left out, is an error."""
    names = {d.name for config in loaded.values() if config is not None for d in config.desired}
    names |= {str(r.get("name")) for objects in remote.values() for r in objects}
    known = names | {d.id for c in loaded.values() if c is not None for d in c.desired if d.id}
    known |= {str(r.get("id")) for objects in remote.values() for r in objects}
    known = {name_key(k) for k in known}  # a name in any Unicode form; an id is ASCII, its own key
    missing = [t for t in targets if name_key(t) not in known]
    if missing:
        close = difflib.get_close_matches(missing[0], sorted(names), n=1) or [
            n for n in sorted(names) if missing[0].casefold() in n.casefold()
        ]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise FatalError(f"--target {missing[0]!r}: nothing of that name or id{hint}")
    wanted = {name_key(t) for t in targets}
    kept = [
        a for a in actions if wanted & {name_key(n) for n in (a.name, a.id, a.desired and a.desired.id) if n}
    ]
    creates = {(a.kind, a.name) for a in kept if a.op == "create"}
    errors = [
        LocatedError(
            a.desired.location if a.desired else _nowhere(a),
            f'{a.kind} "{a.name}" needs {p.kind} "{p.name}", which does not exist yet and this plan does not '
            "create it (add it to --target, or plan without --target)",
        )
        for a in kept
        for p in pending_in(a.body)
        if (p.kind, p.name) not in creates
    ]
    if errors:
        raise ConfigErrors(errors)
    return kept


def _nowhere(action: Action) -> Location:
    return Location(action.file or "<config>")


class ConfigPrints(NamedTuple):
    shown: str  # of the configuration, its sensitive values blanked: safe to store in a plan file
    whole: str  # of all of it, keyed: it changes when a secret does
    files: dict[
        str, str
    ]  # file -> keyed, of the blanked items of its objects: which files a stale plan names


def config_fingerprints(desired: Sequence[Desired], key: bytes) -> ConfigPrints:
    """The configuration's fingerprints: `fingerprint` of the sorted `[kind, name, id, redacted data]` (whole
    and per file, keyed) and `[kind, name, data]`.

    The two lists are hashed as they are made, one object at a time, never held whole (at 10,000 assistants
    they were twice the input's size). Their sorted order is known before any object is encoded: a JSON
    string never begins another one, so two items whose `kind, name` differ compare as those do; only
    objects of one kind and name (which loading refuses) are ordered by the rest."""
    shown = _Digest(b"")
    whole = _Digest(key)
    files: dict[str, _Digest] = {}
    by_head: dict[str, list[Desired]] = {}
    for d in desired:
        by_head.setdefault(canonical_json(d.kind) + "," + canonical_json(d.name), []).append(d)
    for head in sorted(by_head):
        items = [(*_fingerprint_items(head, d), d.file or "<config>") for d in by_head[head]]
        for shown_item, _, file in sorted(items):
            shown.add(shown_item)
            files.setdefault(file, _Digest(key)).add(shown_item)
        for _, whole_item, _ in sorted(items, key=lambda item: item[1]):
            whole.add(whole_item)
    return ConfigPrints(shown.hexdigest(), whole.hexdigest(), {f: d.hexdigest() for f, d in files.items()})


def _fingerprint_items(head: str, d: Desired) -> tuple[str, str]:
    """One object's items of the two fingerprinted lists; its data is encoded once when blanking changes
    nothing in it (the usual case)."""
    data = canonical_json(d.data)
    redacted = redact((), d.data, frozenset(d.sensitive))
    blanked = data if redacted == d.data else canonical_json(redacted)
    return "[" + head + "," + canonical_json(d.id) + "," + blanked + "]", "[" + head + "," + data + "]"


class _Digest:
    """`_digest` of a JSON list fed one encoded item at a time."""

    def __init__(self, key: bytes) -> None:
        self._hash = hmac.new(key, digestmod=hashlib.sha256) if key else hashlib.sha256()
        self._separator = b"["

    def add(self, item: str) -> None:
        self._hash.update(self._separator)
        self._hash.update(item.encode())
        self._separator = b","

    def hexdigest(self) -> str:
        if self._separator == b"[":  # no item: the empty list
            self._hash.update(b"[")
        self._hash.update(b"]")
        return self._hash.hexdigest()[:20]


def match_by_name(
    kind: str,
    desired: Sequence[Desired],
    remote: Sequence[dict[str, Any]],
    errors: list[LocatedError],
    creatable: Callable[[Desired], str | None] = lambda _d: None,
    scope: Scope = EVERYTHING,
) -> list[tuple[Desired, dict[str, Any] | None]]:
    """Pair each declared object with its remote one: pinned id first, then exact name, then (for those
    no remote object has the name of) a former name from `previous_names`; `creatable` says why a new one
    cannot be created. A match may not take over a remote object this configuration does not own. Errors
    name the file and are appended to `errors`."""
    by_id = {r["id"]: r for r in remote}
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)  # name_key -> remote objects
    for r in remote:
        by_name[name_key(str(r.get("name")))].append(r)
    declared = {name_key(d.name): d for d in desired}
    claimed: dict[str, Desired] = {}
    pairs: list[tuple[Desired, dict[str, Any] | None]] = []

    def pair(d: Desired, found: dict[str, Any] | None) -> None:
        if found is not None:
            name = str(found.get("name"))
            if not same_name(name, d.name) and not scope.owned(kind, name):
                errors.append(
                    LocatedError(
                        d.location,
                        f"remote {kind} {found['id']} is named {name!r}, which this configuration does not "
                        f"own ({scope.not_owned(kind)}): it cannot be taken over",
                    )
                )
                return
            other = claimed.get(found["id"])
            if other is not None:
                errors.append(
                    LocatedError(
                        d.location,
                        f"remote {kind} {found['id']} is already claimed by {other.file or other.name}",
                    )
                )
                return
            claimed[found["id"]] = d
        else:
            reason = creatable(d)
            if reason is not None:
                errors.append(LocatedError(d.location, reason))
                return
        pairs.append((d, found))

    renamed: list[Desired] = []
    # Pinned ones first: an id pins, so one matching by the old name is the one in conflict.
    for d in sorted(desired, key=lambda d: d.id is None):
        if d.id is not None:
            found = by_id.get(d.id)
            if found is None:
                errors.append(
                    LocatedError(
                        d.id_location or d.location,
                        f"pinned id '{d.id}' does not exist in this account (was the {kind} deleted?)",
                    )
                )
                continue
            pair(d, found)
            continue
        same = by_name.get(name_key(d.name), [])
        if len(same) > 1:
            ids = ", ".join(r["id"] for r in same)
            errors.append(
                LocatedError(
                    d.location,
                    f"{len(same)} remote {kind}s are named '{d.name}' ({ids}): pin one with `id:`",
                )
            )
        elif not same and d.previous_names:
            renamed.append(d)  # after every exact match, so an exact claim wins
        else:
            pair(d, same[0] if same else None)
    for d in renamed:
        found, problem = _by_previous_name(kind, d, by_name, declared, claimed)
        if problem:
            errors.append(LocatedError(d.location, problem))
        else:
            pair(d, found)
    return pairs


def _by_previous_name(
    kind: str,
    d: Desired,
    by_name: Mapping[str, list[dict[str, Any]]],
    declared: Mapping[str, Desired],
    claimed: Mapping[str, Desired],
) -> tuple[dict[str, Any] | None, str | None]:
    """The one unclaimed remote object that has one of `d`'s previous names (None: a create), or why
    there is no telling which."""
    olds = [name_key(old) for old in d.previous_names]
    for old, key in zip(d.previous_names, olds, strict=True):
        other = declared.get(key)
        if other is not None and other is not d:
            return None, (
                f"previous_names: {old!r} is also the name {other.file or 'another file'} declares: "
                "rename one, or pin the remote one with `id:`"
            )
        sharing = [
            o for o in declared.values() if o is not d and any(same_name(old, p) for p in o.previous_names)
        ]
        if sharing:
            return None, (
                f'previous_names: {old!r} is also a previous name of "{sharing[0].name}" '
                f"({sharing[0].file or 'another file'}): keep it in one assistant, or pin the remote one with `id:`"
            )
    found = {str(r["id"]): r for key in olds for r in by_name.get(key, []) if r["id"] not in claimed}
    if len(found) > 1:
        shown = ", ".join(f"{r['id']} ({r.get('name')!r})" for r in found.values())
        return None, (
            f"previous_names match {len(found)} remote {kind}s ({shown}): pin the one to rename with `id:`"
        )
    return next(iter(found.values()), None), None


def record_names(
    kind: str,
    pairs: Sequence[tuple[Desired, dict[str, Any] | None]],
    remote: Sequence[dict[str, Any]],
    refs: Refs,
) -> list[dict[str, Any]]:
    """Tell `refs` what this kind's names mean after the plan (declared ones first, then names of the
    account that no file declares, when unique), and return the remote objects no file declares."""
    claimed = set()
    for d, found in pairs:
        key = (kind, name_key(d.name))
        refs.declared.add(key)
        if found is None:
            refs.created[key] = d.name
        else:
            claimed.add(found["id"])
            refs.ids[key] = str(found["id"])
            refs.names[(kind, str(found["id"]))] = d.name
    strays = [r for r in remote if r["id"] not in claimed]
    same: dict[str, list[str]] = defaultdict(list)
    for r in strays:
        refs.names[(kind, str(r["id"]))] = str(r.get("name"))
        same[name_key(str(r.get("name")))].append(str(r["id"]))
    for name, ids in same.items():
        if (kind, name) in refs.declared:
            continue
        if len(ids) == 1:
            refs.ids[(kind, name)] = ids[0]
        else:
            refs.ambiguous[(kind, name)] = tuple(ids)
    return strays


def default_secrets(actions: Iterable[Action]) -> tuple[DefaultSecret, ...]:
    """The secrets that the creates and updates of `actions` would send from a `${VAR:-default}` whose
    VAR is unset or empty: at a sensitive field, or from a variable with a sensitive name."""
    found = {
        DefaultSecret(a.kind, a.name, dotted(loc), name)
        for a in actions
        if a.op != "delete" and a.desired is not None
        for loc, source in a.desired.variables.items()
        for name in source.defaulted
        if is_sensitive_path(loc) or is_sensitive_variable(name)
    }
    return tuple(sorted(found))


def safety_violation(plan: Plan) -> str | None:
    """Refuse mass changes the way octoDNS does: >30% of at least 10 existing objects of one kind."""
    for kind, existing in sorted(plan.existing.items()):
        touched = sum(1 for a in plan.actions if a.kind == kind and a.op != "create")
        if existing >= SAFETY_MIN_EXISTING and touched > SAFETY_MAX_FRACTION * existing:
            return (
                f"safety limit: this would change or destroy {touched} of {existing} existing {kind.replace('_', ' ')}s "
                f"(more than {SAFETY_MAX_FRACTION:.0%}); re-run with --force if that is intended"
            )
    return None

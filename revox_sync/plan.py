"""The plan is data: which assistants to create, update or destroy, and how; built from two states."""

from __future__ import annotations

import difflib
import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, StrictBool, StrictInt, StrictStr, ValidationError

from revox_sync.engine.change import ABSENT, FieldChange, Loc, dotted, redact
from revox_sync.errors import ConfigErrors, FatalError, LocatedError, Location, StalePlanError
from revox_sync.kinds.assistant import normalize
from revox_sync.sensitive import SENSITIVE, scrub

FORMAT_VERSION = 1
SAFETY_MIN_EXISTING = 10
SAFETY_MAX_FRACTION = 0.30

Kind = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class Desired:
    """One assistant as the configuration declares it; `data` holds only the managed fields."""

    name: str
    data: dict[str, Any]
    id: str | None = None
    file: str | None = None
    sensitive: frozenset[Loc] = frozenset()
    name_location: Location | None = None
    id_location: Location | None = None

    @property
    def location(self) -> Location:
        return self.name_location or Location(self.file or "<config>")


@dataclass(frozen=True)
class Action:
    kind: Kind
    name: str
    id: str | None
    file: str | None = None
    changes: tuple[FieldChange, ...] = ()
    body: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    desired: Desired | None = None

    @property
    def fields(self) -> list[str]:
        return list(self.body)


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    remote_fingerprints: dict[str, str]
    config_fingerprint: str
    secrets_fingerprint: str = ""  # keyed: changes when a sensitive value changes
    prune: bool = False
    targets: tuple[str, ...] = ()
    routes: tuple[Any, ...] = ()  # routing.RouteChange: phone numbers to PATCH after the actions
    routes_fingerprint: str | None = None  # None: no phone_numbers.yaml (the saved form stays as it was)
    target: str | None = None  # which account the plan was made against (base URL, or "local")
    undeclared: tuple[str, ...] = ()  # remote assistants no file declares, left alone without --prune
    key: bytes = field(default=b"", repr=False, compare=False)  # keys the checksum of the saved form

    def count(self, kind: Kind) -> int:
        return sum(1 for a in self.actions if a.kind == kind)

    @property
    def summary(self) -> dict[str, int]:
        change = self.count("update") + len(self.routes)
        return {"add": self.count("create"), "change": change, "destroy": self.count("delete")}

    @property
    def has_changes(self) -> bool:
        return bool(self.actions or self.routes)

    def redacted(self, secrets: Collection[str]) -> Plan:
        """This plan with every occurrence of a secret value in its shown values replaced (a secret that
        a prompt no longer uses still sits in the remote text). What apply sends is untouched."""
        if not secrets:
            return self
        actions = tuple(
            replace(
                a,
                changes=tuple(
                    replace(c, before=scrub(c.before, secrets), after=scrub(c.after, secrets))
                    for c in a.changes
                ),
                notes=tuple(scrub(list(a.notes), secrets)),
            )
            for a in self.actions
        )
        return replace(self, actions=actions)

    def to_dict(self) -> dict[str, Any]:
        """The saved and machine-readable form: no plaintext sensitive value, a checksum over the rest."""
        doc: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "summary": self.summary,
            "target": self.target,
            "actions": [_action_dict(a) for a in self.actions],
            "options": {"prune": self.prune, "targets": list(self.targets)},
            "undeclared": list(self.undeclared),
            "config_fingerprint": self.config_fingerprint,
            "secrets_fingerprint": self.secrets_fingerprint,
            "remote_fingerprints": dict(sorted(self.remote_fingerprints.items())),
        }
        if self.routes_fingerprint is not None:
            doc["phone_numbers"] = [r.to_dict() for r in self.routes]
            doc["routes_fingerprint"] = self.routes_fingerprint
        doc["checksum"] = checksum(doc, self.key)
        return doc


def _action_dict(action: Action) -> dict[str, Any]:
    return {
        "action": action.kind,
        "name": action.name,
        "id": action.id,
        "file": action.file,
        "changes": [
            {"path": c.path, "before": public_value(c, c.before), "after": public_value(c, c.after)}
            for c in action.changes
        ],
        "notes": list(action.notes),
    }


def public_value(change: FieldChange, value: Any) -> Any:
    """A change's value as it may be shown or saved: sensitive ones never leave the process."""
    if value is ABSENT:
        return None
    return SENSITIVE if change.sensitive else value


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


CHECKSUM_PREFIX = "hmac-sha256:"


def checksum(doc: dict[str, Any], key: bytes) -> str:
    """An HMAC of the whole plan but its checksum, keyed with the account's key: whoever can edit a saved
    plan but does not hold the key cannot make an edited one pass (an unkeyed hash anyone can recompute)."""
    body = {k: v for k, v in doc.items() if k != "checksum"}
    data = b"revox-sync saved plan\n" + canonical_json(body).encode()
    return CHECKSUM_PREFIX + hmac.new(key, data, hashlib.sha256).hexdigest()


def fingerprint(value: Any, key: bytes = b"") -> str:
    """A short digest. Keyed (HMAC) where the value may hold secrets: a saved plan must not let anyone
    test guesses of a secret offline, and only the holder of the same API key can recompute it."""
    data = canonical_json(value).encode()
    if key:
        return hmac.new(key, data, hashlib.sha256).hexdigest()[:20]
    return hashlib.sha256(data).hexdigest()[:20]


# --- building a plan ---------------------------------------------------------------------------------------
def build_plan(
    desired: Sequence[Desired],
    remote: Sequence[dict[str, Any]],
    *,
    prune: bool = False,
    targets: Iterable[str] = (),
    key: bytes = b"",
) -> Plan:
    """Match files to remote assistants, diff each pair, and list what apply would do.

    `key` keys the fingerprints of values that may hold secrets (the API key, in practice)."""
    targets = tuple(targets)
    matches = match(desired, remote)
    wanted = set(targets)
    if targets:
        names = {d.name for d in desired} | {str(r.get("name")) for r in remote}
        known = names | {d.id for d in desired if d.id} | {str(r["id"]) for r in remote}
        missing = [t for t in targets if t not in known]
        if missing:
            close = difflib.get_close_matches(missing[0], sorted(names), n=1) or [
                n for n in sorted(names) if missing[0].casefold() in n.casefold()
            ]
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise FatalError(f"--target {missing[0]!r}: no assistant of that name or id{hint}")
    actions: list[Action] = []
    for d, r in matches:
        if wanted and not wanted & {d.name, d.id, r["id"] if r else None}:
            continue
        action = _action_for(d, r)
        if action is not None:
            actions.append(action)
    claimed = {r["id"] for _, r in matches if r is not None}
    strays = [r for r in remote if r["id"] not in claimed and r.get("type") != "sub-assistant"]
    if prune:
        for r in remote:
            if r.get("type") == "sub-assistant":
                continue  # a step of a multi-step flow: it belongs to its flow, never pruned on its own
            if r["id"] not in claimed and (not wanted or wanted & {r.get("name"), r["id"]}):
                actions.append(Action("delete", str(r.get("name")), r["id"]))
    order = {"create": 0, "update": 1, "delete": 2}
    actions.sort(key=lambda a: (order[a.kind], a.name, a.id or ""))
    return Plan(
        actions=tuple(actions),
        remote_fingerprints={r["id"]: fingerprint(r, key) for r in remote},
        config_fingerprint=config_fingerprint(desired),
        secrets_fingerprint=fingerprint(sorted((d.name, d.data) for d in desired), key or b"revox-sync"),
        prune=prune,
        targets=targets,
        undeclared=() if prune or wanted else tuple(sorted(str(r.get("name")) for r in strays)),
    )


def config_fingerprint(desired: Sequence[Desired]) -> str:
    """The configuration with its sensitive values blanked: safe to store in a plan file."""
    shown = ([d.name, d.id, redact((), d.data, frozenset(d.sensitive))] for d in desired)
    return fingerprint(sorted(shown, key=canonical_json))


def match(
    desired: Sequence[Desired], remote: Sequence[dict[str, Any]]
) -> list[tuple[Desired, dict[str, Any] | None]]:
    """Pair each file with its remote assistant: pinned id first, else exact name. Errors name the file."""
    by_id = {r["id"]: r for r in remote}
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in remote:
        by_name[str(r.get("name"))].append(r)
    errors: list[LocatedError] = []
    claimed: dict[str, Desired] = {}
    pairs: list[tuple[Desired, dict[str, Any] | None]] = []
    # Pinned files first: an id pins, so a file matching by the old name is the one in conflict.
    for d in sorted(desired, key=lambda d: d.id is None):
        found: dict[str, Any] | None = None
        if d.id is not None:
            found = by_id.get(d.id)
            if found is None:
                errors.append(
                    LocatedError(
                        d.id_location or d.location,
                        f"pinned id '{d.id}' does not exist in this account (was the assistant deleted?)",
                    )
                )
                continue
        else:
            same = by_name.get(d.name, [])
            if len(same) > 1:
                ids = ", ".join(r["id"] for r in same)
                errors.append(
                    LocatedError(
                        d.location,
                        f"{len(same)} remote assistants are named '{d.name}' ({ids}): pin one with `id:`",
                    )
                )
                continue
            found = same[0] if same else None
        if found is not None:
            other = claimed.get(found["id"])
            if other is not None:
                errors.append(
                    LocatedError(
                        d.location,
                        f"remote assistant {found['id']} is already claimed by {other.file or other.name}",
                    )
                )
                continue
            claimed[found["id"]] = d
        elif "prompt" not in d.data:
            errors.append(
                LocatedError(d.location, f"'prompt' is required to create assistant '{d.name}' (it is new)")
            )
            continue
        pairs.append((d, found))
    if errors:
        raise ConfigErrors(errors)
    return pairs


def _action_for(d: Desired, remote: dict[str, Any] | None) -> Action | None:
    if remote is None:
        body = {f: normalize.complete(f, v) for f, v in d.data.items()}
        want = normalize.canonical_assistant(d.data, d.data)
        _, changes = normalize.diff_assistant(want, {}, d.sensitive)
        return Action("create", d.name, None, d.file, tuple(changes), body, desired=d)
    fields = list(d.data)
    changed, changes = normalize.diff_assistant(
        normalize.canonical_assistant(d.data, fields),
        normalize.canonical_assistant(remote, fields),
        d.sensitive,
    )
    if not changed:
        return None
    body = {f: normalize.complete(f, d.data[f]) for f in changed}
    return Action("update", d.name, remote["id"], d.file, tuple(changes), body, _notes(remote, changed), d)


def _notes(remote: dict[str, Any], changed: list[str]) -> tuple[str, ...]:
    if "faq_items" not in changed:
        return ()
    pending = [str(i.get("question")) for i in remote.get("faq_items") or [] if normalize.is_suggestion(i)]
    if not pending:
        return ()
    names = ", ".join(json.dumps(q, ensure_ascii=False) for q in pending)
    return (
        f"faq_items is replaced whole: {len(pending)} server-suggested item(s) awaiting an answer "
        f"will be discarded: {names}",
    )


def safety_violation(plan: Plan, existing: int) -> str | None:
    """Refuse mass changes the way octoDNS does: >30% of at least 10 existing assistants."""
    touched = plan.count("update") + plan.count("delete")
    if existing >= SAFETY_MIN_EXISTING and touched > SAFETY_MAX_FRACTION * existing:
        return (
            f"safety limit: this would change or destroy {touched} of {existing} existing assistants "
            f"(more than {SAFETY_MAX_FRACTION:.0%}); re-run with --force if that is intended"
        )
    return None


# --- saved plans -------------------------------------------------------------------------------------------
class _SavedChange(BaseModel):
    path: StrictStr
    before: Any
    after: Any


class _SavedAction(BaseModel):
    action: Literal["create", "update", "delete"]
    name: StrictStr
    id: StrictStr | None
    file: StrictStr | None
    changes: list[_SavedChange]
    notes: list[StrictStr]


class _SavedOptions(BaseModel):
    prune: StrictBool
    targets: list[StrictStr]


class _SavedPlan(BaseModel):
    """The shape `Plan.to_dict` writes, checked before any of it is trusted."""

    format_version: int
    summary: dict[StrictStr, StrictInt]
    target: StrictStr | None
    actions: list[_SavedAction]
    options: _SavedOptions
    undeclared: list[StrictStr]
    config_fingerprint: StrictStr
    secrets_fingerprint: StrictStr
    remote_fingerprints: dict[StrictStr, StrictStr]
    phone_numbers: list[dict[StrictStr, Any]] | None = None
    routes_fingerprint: StrictStr | None = None
    checksum: StrictStr


def load_saved(path: Path, key: bytes, target: str | None) -> dict[str, Any]:
    """The saved plan at `path`, refused unless it is whole, well formed and signed with `key`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FatalError(f"cannot read plan file {path}: {exc.strerror}") from None
    return read_saved(data, str(path), key, target)


def read_saved(data: str | bytes, source: str, key: bytes = b"", target: str | None = None) -> dict[str, Any]:
    """Parse and check a saved plan; every failure is one line naming `source` and what is wrong (what
    the file says is escaped: it may hold anything)."""
    from revox_sync.output import printable
    from revox_sync.render import clip

    doc = _parse(data, source)
    if not isinstance(doc, dict):
        raise FatalError(f"{source}: not a saved plan: the top level is {_json_type(doc)}, not an object")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise FatalError(
            printable(
                f"{source}: saved by another version of revox-sync "
                f"(format_version {_brief(version)}; this one reads {FORMAT_VERSION})"
            )
        )
    try:
        _SavedPlan.model_validate(doc)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = dotted(tuple(error["loc"]))
        message = error["msg"][:1].lower() + error["msg"][1:]
        raise FatalError(printable(f"{source}: not a saved plan: {where}: {message}")) from None
    again = "Nothing was changed; run `revox-sync plan --out` again."
    if not doc["checksum"].startswith(CHECKSUM_PREFIX):
        kind = doc["checksum"].split(":")[0][:20]
        raise FatalError(
            printable(
                f"{source}: the checksum is not keyed with this account's key ({kind}:...): "
                f"the file was edited, or saved by an older revox-sync. {again}"
            )
        )
    if not hmac.compare_digest(doc["checksum"].encode(), checksum(doc, key).encode()):
        if target is not None and doc["target"] != target:
            raise FatalError(
                printable(
                    f"{source}: it was made for {clip(doc['target'], 200)}, this run targets {target}. "
                )
                + "Nothing was changed."
            )
        raise FatalError(f"{source}: checksum mismatch: the plan file was edited after it was saved. {again}")
    return doc


def _parse(data: str | bytes, source: str) -> Any:
    if isinstance(data, bytes):
        raw = data
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            bad = raw[exc.start]
            raise FatalError(
                f"{source}:{line}:{col}: not a saved plan: not UTF-8 text (byte 0x{bad:02x})"
            ) from None
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise FatalError(f"{source}:{exc.lineno}:{exc.colno}: not a saved plan: {exc.msg}") from None
    except RecursionError:
        raise FatalError(f"{source}: not a saved plan: nested too deeply") from None
    except ValueError as exc:  # an integer too long to convert, say
        raise FatalError(f"{source}: not a saved plan: {exc}") from None


def _json_type(value: Any) -> str:
    names = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), "null")


def check_fresh(saved: dict[str, Any], current: Plan, source: str = "the saved plan") -> None:
    """Refuse a saved plan when the remote or the configuration moved since it was made, or when what
    it shows is not exactly what this run would do."""
    from revox_sync.output import printable

    reasons: list[str] = []
    if saved.get("target") != current.target:
        reasons.append(f"it was made for {saved.get('target')}, this run targets {current.target}")
    if saved["config_fingerprint"] != current.config_fingerprint:
        reasons.append("the configuration files changed")
    elif saved.get("secrets_fingerprint") != current.secrets_fingerprint:
        reasons.append("the value of a sensitive variable changed (or the API key did)")
    old, new = saved["remote_fingerprints"], current.remote_fingerprints
    moved = sorted(i for i in old.keys() & new.keys() if old[i] != new[i])
    if moved:
        reasons.append(f"remote assistant(s) changed: {', '.join(moved)}")
    if old.keys() - new.keys():
        reasons.append(f"remote assistant(s) gone: {', '.join(sorted(old.keys() - new.keys()))}")
    if new.keys() - old.keys():
        reasons.append(f"remote assistant(s) added: {', '.join(sorted(new.keys() - old.keys()))}")
    if saved.get("routes_fingerprint") != current.routes_fingerprint:
        reasons.append("phone-number routing changed (phone_numbers.yaml or the account's numbers)")
    if reasons:
        raise StalePlanError(
            printable("plan is stale: " + "; ".join(reasons))
            + ". Nothing was changed; run `revox-sync plan` again."
        )
    differences = _differences(saved, current.to_dict())
    if differences:
        raise StalePlanError(
            printable(f"{source} does not match what apply would do now: " + "; ".join(differences))
            + ". Nothing was changed; run `revox-sync plan` again."
        )


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Every way the saved plan differs from the recomputed one, action by action, then the options and
    the rest of what a reviewer was shown."""
    out: list[str] = []
    old = {_action_label(a): a for a in saved["actions"]}
    new = {_action_label(a): a for a in now["actions"]}
    out += [f"{label} is in the saved plan but not in this run" for label in old if label not in new]
    out += [f"{label} is in this run but not in the saved plan" for label in new if label not in old]
    for label in (label for label in old if label in new):
        out += _action_differences(label, old[label], new[label])
    if not out and saved["actions"] != now["actions"]:
        out.append("the order or number of actions differs")
    for key in ("options", "summary", "undeclared", "phone_numbers"):
        if saved.get(key) != now.get(key):
            out.append(f"{key} differs (saved {_brief(saved.get(key))}, now {_brief(now.get(key))})")
    return out


def _action_label(action: dict[str, Any]) -> str:
    ident = f" ({action['id']})" if action["id"] else ""
    return f'{action["action"]} "{action["name"]}"{ident}'


def _action_differences(label: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = [
        f"{label}: {key} differs (saved {_brief(old[key])}, now {_brief(new[key])})"
        for key in ("file", "notes")
        if old[key] != new[key]
    ]
    before = {c["path"]: c for c in old["changes"]}
    after = {c["path"]: c for c in new["changes"]}
    out += [f"{label}: {path} is changed in the saved plan only" for path in before if path not in after]
    out += [f"{label}: {path} is changed in this run only" for path in after if path not in before]
    for path in (p for p in before if p in after and before[p] != after[p]):
        was, now = before[path], after[path]
        out.append(
            f"{label}: {path} differs (saved {_brief(was['before'])} -> {_brief(was['after'])}, "
            f"now {_brief(now['before'])} -> {_brief(now['after'])})"
        )
    if not out and old != new:
        out.append(f"{label}: its changes differ")
    return out


def _brief(value: Any) -> str:
    from revox_sync.render import clip

    return clip(json.dumps(value, ensure_ascii=False, default=str), 80)

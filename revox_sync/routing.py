"""Phone-number routing as code: `phone_numbers.yaml` at the root of the config directory.

```yaml
# assistants/phone_numbers.yaml
phone_numbers:
  "+15551234567":               # E.164, owned by the account (quotes optional)
    assistant: Support          # an assistant by name: declared in a file, or existing in the account
    label: Main line
  "+15557654321":
    assistant_id: asst_123      # or pinned by id
  "+15550001111":
    assistant: null             # no inbound assistant (calls are not answered by an assistant)
```

Rules, as for assistant files:

- Numbers that are not listed are unmanaged; so are the fields a listed number leaves out (`label` absent:
  the dashboard's label survives). `null` clears.
- `assistant` names an assistant the files declare (its new id is used when this plan creates it) or,
  failing that, exactly one assistant of the account. `assistant_id` pins one remote assistant. A name
  that resolves to nothing, a number the account does not own, and a route to an assistant that this plan
  destroys are errors at plan time, before any write.
- Apply sends `PATCH /phone-numbers/{id}` with only the changed fields (`inbound_assistant_id`, `label`),
  after every assistant action, and checks what the API stored.

Everything here is pure except `apply_routes`, which takes a client.
"""

from __future__ import annotations

import difflib
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.config.yaml import YamlDoc, read_yaml, unknown_key_message
from revox_sync.errors import ConfigErrors, FatalError, LocatedError, Location
from revox_sync.kinds.assistant.spec import E164_RE

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient
    from revox_sync.plan import Desired, Plan

__all__ = [
    "ROUTES_FILE_NAMES",
    "AssistantIndex",
    "Route",
    "RouteChange",
    "RouteResult",
    "Routes",
    "apply_routes",
    "assistant_index",
    "find_routes_file",
    "load_routes",
    "markdown_lines",
    "plan_routes",
    "routes_fingerprint",
    "text_lines",
]

ROUTES_FILE_NAMES = ("phone_numbers.yaml", "phone_numbers.yml")
ROOT_KEYS = ("phone_numbers",)
ROUTE_KEYS = ("assistant", "assistant_id", "label")
_UNSET: Any = object()


# --- the file ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """One listed number. `manages_assistant` / `manages_label` say which fields the file manages."""

    number: str
    location: Location
    assistant: str | None = None  # by name
    assistant_id: str | None = None  # pinned
    manages_assistant: bool = False
    label: str | None = None
    manages_label: bool = False
    assistant_location: Location | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"number": self.number}
        if self.manages_assistant:
            out["assistant"] = self.assistant
            out["assistant_id"] = self.assistant_id
        if self.manages_label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class Routes:
    path: Path | None = None  # None: the config directory has no phone_numbers.yaml
    routes: tuple[Route, ...] = ()


def find_routes_file(config_dir: Path) -> Path | None:
    """The routing file of `config_dir`; a link that points to nothing counts, so that reading it fails loudly."""
    for name in ROUTES_FILE_NAMES:
        candidate = Path(config_dir) / name
        if os.path.lexists(candidate):
            return candidate
    return None


def load_routes(config_dir: Path) -> Routes:
    """`phone_numbers.yaml` of `config_dir` (empty Routes when absent); errors are `path:line:col`.

    A symbolic link is followed only to a file inside `config_dir`, as in the loader."""
    from revox_sync.config.discovery import link_error

    path = find_routes_file(config_dir)
    if path is None:
        return Routes()
    others = [n for n in ROUTES_FILE_NAMES if n != path.name and os.path.lexists(Path(config_dir) / n)]
    if others:
        raise FatalError(f"{config_dir}: both {path.name} and {others[0]} exist; keep one")
    problem = link_error(path, Path(config_dir))
    if problem is not None:
        raise ConfigErrors([problem])
    doc = read_yaml(path)
    root = doc.root
    if root is None:
        return Routes(path)
    errors: list[LocatedError] = []
    if root.id != "mapping":
        raise ConfigErrors([doc.error(root, "the top level must be a mapping with the key 'phone_numbers'")])
    table = None
    for key, key_node, value in doc.pairs(root, errors):
        if key == "phone_numbers":
            table = value
        else:
            errors.append(doc.error(key_node, unknown_key_message(key, ROOT_KEYS, "phone_numbers.yaml")))
    routes: list[Route] = []
    if table is not None and not (table.id == "scalar" and table.tag.endswith(":null")):
        if table.id != "mapping":
            errors.append(
                doc.error(table, 'phone_numbers must be a mapping of numbers, e.g. "+15551234567":')
            )
        else:
            for number, key_node, value in doc.pairs(table, errors):
                route = _route(doc, number, key_node, value, errors)
                if route is not None:
                    routes.append(route)
    if errors:
        raise ConfigErrors(errors)
    return Routes(path, tuple(routes))


def _route(doc: YamlDoc, number: str, key_node: Any, node: Any, errors: list[LocatedError]) -> Route | None:
    location = doc.location(key_node)
    if not E164_RE.match(number):
        errors.append(
            doc.error(key_node, f"{number!r} is not an E.164 number ('+', country code, up to 15 digits)")
        )
        return None
    if node.id != "mapping" or not node.value:
        errors.append(
            doc.error(
                node if node.id != "scalar" or node.value else key_node,
                f"{number}: declare what to manage: assistant (or assistant_id) and/or label",
            )
        )
        return None
    count = len(errors)
    fields: dict[str, Any] = {}
    assistant_location = None
    for key, k_node, value in doc.pairs(node, errors):
        if key not in ROUTE_KEYS:
            errors.append(doc.error(k_node, unknown_key_message(key, ROUTE_KEYS, f"phone number {number}")))
            continue
        nullable = key != "assistant_id"
        text = doc.string(value, errors, f"{number}: {key}", nullable=nullable)
        if text is None and not (nullable and value.tag.endswith(":null")):
            continue
        if text is not None and not text.strip():
            errors.append(doc.error(value, f"{number}: {key} must not be empty (use null to clear)"))
            continue
        fields[key] = text
        if key != "label":
            assistant_location = doc.location(value)
    if "assistant" in fields and "assistant_id" in fields:
        errors.append(doc.error(key_node, f"{number}: give assistant or assistant_id, not both"))
    if len(errors) > count:
        return None
    return Route(
        number=number,
        location=location,
        assistant=fields.get("assistant"),
        assistant_id=fields.get("assistant_id"),
        manages_assistant="assistant" in fields or "assistant_id" in fields,
        label=fields.get("label"),
        manages_label="label" in fields,
        assistant_location=assistant_location,
    )


# --- which assistant a name means ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AssistantIndex:
    """What route targets can resolve to, for one plan."""

    ids: Mapping[str, str] = field(default_factory=dict)  # name -> id of an existing assistant
    names: Mapping[str, str] = field(default_factory=dict)  # id -> name (after this plan's renames)
    created: frozenset[str] = frozenset()  # names this plan creates: their id exists only after apply
    not_created: frozenset[str] = frozenset()  # new files this plan leaves out (--target)
    ambiguous: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # remote names held by several
    destroyed: frozenset[str] = frozenset()  # ids this plan destroys


def assistant_index(
    plan: Plan | None, desired: Sequence[Desired], remote: Sequence[Mapping[str, Any]]
) -> AssistantIndex:
    """Files first (matched as `build_plan` matches them: pinned id, else exact name), then remote names."""
    from revox_sync.plan import match

    ids: dict[str, str] = {}
    names: dict[str, str] = {str(r["id"]): str(r.get("name")) for r in remote}
    by_name: dict[str, list[str]] = defaultdict(list)
    for r in remote:
        by_name[str(r.get("name"))].append(str(r["id"]))
    creating = {a.name for a in plan.actions if a.kind == "create"} if plan is not None else set()
    created: set[str] = set()
    not_created: set[str] = set()
    for d, found in match(desired, [dict(r) for r in remote]):
        if found is not None:
            ids[d.name] = str(found["id"])
            names[str(found["id"])] = d.name
        elif plan is None or d.name in creating:
            created.add(d.name)
        else:
            not_created.add(d.name)
    declared = set(ids) | created | not_created
    ambiguous: dict[str, tuple[str, ...]] = {}
    for name, same in by_name.items():
        if name in declared:
            continue
        if len(same) == 1:
            ids[name] = same[0]
        else:
            ambiguous[name] = tuple(same)
    destroyed = {str(a.id) for a in plan.actions if a.kind == "delete"} if plan is not None else set()
    return AssistantIndex(
        ids, names, frozenset(created), frozenset(not_created), ambiguous, frozenset(destroyed)
    )


# --- planning ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RouteChange:
    """One number to PATCH. `changes` maps a field to (before, after) as shown to people (assistant names);
    `body` is what is sent, except that `new_assistant` names an assistant whose id is known only after
    this apply creates it (it then becomes `inbound_assistant_id`)."""

    number: str
    number_id: str
    changes: dict[str, tuple[Any, Any]]
    body: dict[str, Any]
    new_assistant: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "id": self.number_id,
            "changes": [{"path": k, "before": b, "after": a} for k, (b, a) in self.changes.items()],
        }


def _digits(number: str) -> str:
    return "+" + "".join(ch for ch in str(number) if ch.isdigit())


def _remote_assistant_id(number: Mapping[str, Any]) -> str | None:
    if number.get("inbound_assistant_id"):
        return str(number["inbound_assistant_id"])
    inbound = number.get("inbound_assistant")
    return str(inbound["id"]) if isinstance(inbound, Mapping) and inbound.get("id") else None


def _remote_assistant_name(number: Mapping[str, Any], index: AssistantIndex) -> str | None:
    assistant_id = _remote_assistant_id(number)
    if assistant_id is None:
        return None
    inbound = number.get("inbound_assistant")
    if isinstance(inbound, Mapping) and inbound.get("name"):
        return str(inbound["name"])
    return index.names.get(assistant_id, assistant_id)


def plan_routes(
    routes: Routes | Iterable[Route], remote_numbers: Sequence[Mapping[str, Any]], index: AssistantIndex
) -> list[RouteChange]:
    """What apply must PATCH; every problem (unowned number, unknown assistant, ...) is raised together."""
    owned = {_digits(str(n.get("phone_number"))): n for n in remote_numbers}
    errors: list[LocatedError] = []
    changes: list[RouteChange] = []
    route_list = routes.routes if isinstance(routes, Routes) else tuple(routes)
    for route in route_list:
        remote = owned.get(_digits(route.number))
        if remote is None:
            shown = ", ".join(sorted(str(n.get("phone_number")) for n in remote_numbers)[:5]) or "none"
            errors.append(
                LocatedError(
                    route.location,
                    f"{route.number} is not a number this account owns (owned: {shown}); see GET /phone-numbers",
                )
            )
            continue
        diff: dict[str, tuple[Any, Any]] = {}
        body: dict[str, Any] = {}
        new_assistant = None
        if route.manages_assistant:
            target = _resolve_target(route, index, errors)
            if target is not _UNSET:
                want_id, want_name, is_new = target
                have_id = _remote_assistant_id(remote)
                if is_new or want_id != have_id:
                    diff["inbound_assistant"] = (_remote_assistant_name(remote, index), want_name)
                    if is_new:
                        new_assistant = want_name
                    else:
                        body["inbound_assistant_id"] = want_id
        if route.manages_label and route.label != remote.get("label"):
            diff["label"] = (remote.get("label"), route.label)
            body["label"] = route.label
        if diff:
            changes.append(RouteChange(route.number, str(remote["id"]), diff, body, new_assistant))
    if errors:
        raise ConfigErrors(errors)
    return sorted(changes, key=lambda c: c.number)


def _resolve_target(route: Route, index: AssistantIndex, errors: list[LocatedError]) -> Any:
    """(id or None, display name or None, created by this plan) or _UNSET after recording an error."""
    where = route.assistant_location or route.location
    if route.assistant_id is not None:
        assistant_id = route.assistant_id
        if assistant_id not in index.names:
            errors.append(
                LocatedError(where, f"{route.number}: no assistant with id '{assistant_id}' in this account")
            )
            return _UNSET
        if assistant_id in index.destroyed:
            errors.append(LocatedError(where, _destroyed(route, index.names[assistant_id])))
            return _UNSET
        return assistant_id, index.names[assistant_id], False
    name = route.assistant
    if name is None:
        return None, None, False
    if name in index.created:
        return None, name, True
    if name in index.not_created:
        errors.append(
            LocatedError(
                where,
                f"{route.number}: assistant '{name}' does not exist yet and this plan does not create it"
                " (add it to --target, or plan without --target)",
            )
        )
        return _UNSET
    if name in index.ambiguous:
        ids = ", ".join(index.ambiguous[name])
        errors.append(
            LocatedError(
                where,
                f"{route.number}: {len(index.ambiguous[name])} assistants are named '{name}' ({ids}): use assistant_id",
            )
        )
        return _UNSET
    found = index.ids.get(name)
    if found is None:
        known = sorted(set(index.ids) | index.created)
        message = f"{route.number}: no assistant named '{name}' in the files or the account"
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        errors.append(LocatedError(where, message + (f"; did you mean '{close[0]}'?" if close else "")))
        return _UNSET
    if found in index.destroyed:
        errors.append(LocatedError(where, _destroyed(route, name)))
        return _UNSET
    return found, name, False


def _destroyed(route: Route, name: str) -> str:
    return f"{route.number}: routes to assistant '{name}', which this plan destroys (--prune)"


def routes_fingerprint(routes: Routes, remote_numbers: Sequence[Mapping[str, Any]]) -> str:
    """For saved plans: changes when the routes file or a managed number's remote routing changes."""
    from revox_sync.plan import fingerprint

    managed = {_digits(r.number) for r in routes.routes}
    remote = sorted(
        (
            str(n.get("id")),
            str(n.get("phone_number")),
            n.get("label"),
            _remote_assistant_id(n),
        )
        for n in remote_numbers
        if _digits(str(n.get("phone_number"))) in managed
    )
    return fingerprint({"routes": [r.to_dict() for r in routes.routes], "remote": remote})


# --- rendering --------------------------------------------------------------------------------------------
def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def text_lines(changes: Sequence[RouteChange]) -> list[str]:
    """`  ~ phone_number "+15551234567": inbound_assistant "Old" -> "Support"`, one line per field."""
    lines = []
    for change in changes:
        for path, (before, after) in change.changes.items():
            suffix = " (created by this plan)" if path == "inbound_assistant" and change.new_assistant else ""
            lines.append(
                f"  ~ phone_number {_shown(change.number)}: {path} {_shown(before)} -> {_shown(after)}{suffix}"
            )
    return lines


def markdown_lines(changes: Sequence[RouteChange]) -> list[str]:
    """A table for the pull-request comment (empty when nothing changes)."""
    if not changes:
        return []
    out = ["", "| | phone number | field | before | after |", "|---|---|---|---|---|"]
    for change in changes:
        for path, (before, after) in change.changes.items():
            out.append(f"| ~ | {change.number} | {path} | {_md(before)} | {_md(after)} |")
    return out


def _md(value: Any) -> str:
    from revox_sync.render import markdown_escape

    return markdown_escape(_shown(value))


# --- applying ---------------------------------------------------------------------------------------------
@dataclass
class RouteResult:
    change: RouteChange
    ok: bool = False
    error: str | None = None
    not_stored: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        if self.ok:
            return f'  ✓ updated phone_number "{self.change.number}" in {self.seconds:.1f}s'
        return f'  ✗ phone_number "{self.change.number}" failed: {self.error}'


def apply_routes(
    changes: Sequence[RouteChange],
    client: RevoxClient,
    created_ids: Mapping[str, str],
    *,
    on_result: Any = None,
    stopping: Callable[[], bool] = lambda: False,
) -> list[RouteResult]:
    """PATCH each number with only its changed fields. Call after the assistant actions: `created_ids`
    maps the name of each assistant that apply created to its new id. A failure does not stop the rest;
    an interrupt (`stopping`) does, leaving the remaining numbers unstarted."""
    from revox_sync.apply import recording

    results: list[RouteResult] = []
    for change in changes:
        if stopping():
            break
        result = RouteResult(change)
        body = dict(change.body)
        with recording(result):
            if change.new_assistant is not None:
                new_id = created_ids.get(change.new_assistant)
                if new_id is None:
                    raise FatalError(f"skipped: assistant '{change.new_assistant}' was not created")
                body["inbound_assistant_id"] = new_id
            stored = client.update_phone_number(change.number_id, body)
            result.not_stored = _not_stored(body, stored)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def _not_stored(body: Mapping[str, Any], stored: Mapping[str, Any]) -> list[str]:
    out = []
    if "inbound_assistant_id" in body and _remote_assistant_id(stored) != body["inbound_assistant_id"]:
        out.append(
            f"inbound_assistant_id (sent {_shown(body['inbound_assistant_id'])}, stored {_shown(_remote_assistant_id(stored))})"
        )
    if "label" in body and stored.get("label") != body["label"]:
        out.append(f"label (sent {_shown(body['label'])}, stored {_shown(stored.get('label'))})")
    return out

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

Everything here is pure except `fetch` and `write`, which take a client.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from revox_sync.config.yaml import YamlDoc, unknown_key_message
from revox_sync.engine.change import Action, Desired, FieldChange, Pending
from revox_sync.engine.kind import KindPlan, LoadContext, Loaded, Refs, Use, Written
from revox_sync.engine.plan import fingerprint
from revox_sync.errors import ConfigErrors, LocatedError, Location
from revox_sync.kinds.assistant.fields import E164_RE
from revox_sync.kinds.table import load_table

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient

ASSISTANT = "assistant"  # the kind a route points at

ROUTES_FILE_NAMES = ("phone_numbers.yaml", "phone_numbers.yml")
ROUTE_KEYS = ("assistant", "assistant_id", "label")
_GLOB_RE = re.compile(r"\[[^\]]*\]|[*?]")  # what a name pattern matches besides itself
_WRITTEN_NUMBER_RE = re.compile(r"[+\d\s().-]+")  # a number as people write one
_E164_PART_RE = re.compile(r"\+\d*")  # a number, or the digits a glob keeps of one, as the API spells it
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


# --- the kind ---------------------------------------------------------------------------------------------
class PhoneNumberKind:
    name = "phone_number"
    plural = "phone_numbers"
    depends_on: tuple[str, ...] = (ASSISTANT,)
    compact = True
    guarded: tuple[str, ...] = ("inbound_assistant_id",)  # a protected number is never rerouted

    def load(self, context: LoadContext) -> Loaded | None:
        """`phone_numbers.yaml` of the config directory; None when there is none (numbers unmanaged)."""
        return load_table(
            context, ROUTES_FILE_NAMES, "phone_numbers", 'numbers, e.g. "+15551234567":', self._entry
        )

    def _entry(
        self, doc: YamlDoc, number: str, key_node: Any, node: Any, errors: list[LocatedError]
    ) -> Desired | None:
        route = _route(doc, number, key_node, node, errors)
        if route is None:
            return None
        return Desired(
            self.name, number, route.to_dict(), file=doc.shown, name_location=route.location, source=route
        )

    def check(self, loaded: Loaded, others: Mapping[str, Loaded | None]) -> list[LocatedError]:
        return []

    def check_online(self, loaded: Loaded, client: RevoxClient) -> list[LocatedError]:
        return []  # what the account says of numbers is checked by every plan

    def fetch(self, client: RevoxClient) -> list[dict[str, Any]]:
        return client.list_phone_numbers()

    def sandbox(self, state: Any, loaded: Loaded) -> list[str]:
        """The local sandbox owns every number `phone_numbers.yaml` lists (added on first use)."""
        owned = {_digits(str(n.get("phone_number"))) for n in state.list_phone_numbers()}
        added = []
        for d in loaded.desired:
            if _digits(d.name) not in owned:
                state.add_phone_number(d.name)
                added.append(f"Local emulator: added {d.name} to the local account.")
        return added

    def plan(
        self, loaded: Loaded, remote: Sequence[dict[str, Any]], refs: Refs, *, prune: bool, key: bytes
    ) -> KindPlan:
        """What apply must PATCH; every problem (unowned number, unknown assistant, ...) is raised together.
        Numbers are never created or destroyed: the account buys and releases them."""
        owned = {_digits(str(n.get("phone_number"))): n for n in remote}
        errors: list[LocatedError] = []
        out = KindPlan()
        listed = {_digits(d.name) for d in loaded.desired}
        for n in remote:  # unlisted numbers still route calls: an assistant they reach must not just vanish
            if _digits(str(n.get("phone_number"))) not in listed:
                now = _assistant_ref(_remote_assistant_id(n))
                refs.uses.append(
                    Use(
                        (self.name, str(n["id"])),
                        str(n.get("phone_number")),
                        "inbound_assistant_id",
                        now,
                        now,
                    )
                )
        for d in loaded.desired:
            route: Route = d.source
            number = owned.get(_digits(route.number))
            if number is None:
                shown = ", ".join(sorted(str(n.get("phone_number")) for n in remote)[:5]) or "none"
                errors.append(
                    LocatedError(
                        route.location,
                        f"{route.number} is not a number this account owns (owned: {shown}); see GET /phone-numbers",
                    )
                )
                continue
            out.fingerprints[str(number["id"])] = fingerprint(_routing(number), key)
            action = _action_for(self.name, d, route, number, refs, errors)
            if action is not None:
                out.actions.append(action)
            now = _assistant_ref(_remote_assistant_id(number))
            after = (
                _assistant_ref(action.body.get("inbound_assistant_id"))
                if action is not None and "inbound_assistant_id" in action.body
                else now
            )
            refs.uses.append(
                Use((self.name, str(number["id"])), route.number, "inbound_assistant_id", now, after)
            )
        if errors:
            raise ConfigErrors(errors)
        return out

    def check_plan(self, actions: Sequence[Action], refs: Refs) -> list[LocatedError]:
        return []

    def write(self, client: RevoxClient, action: Action, body: dict[str, Any]) -> Written:
        assert action.id is not None
        stored = client.update_phone_number(action.id, body)
        return Written(action.id, _not_stored(body, stored))

    def pattern_problem(self, pattern: str) -> str | None:
        """A pattern written as people write numbers (spaces, dashes, brackets, no `+`) never matches one,
        since the API lists them in E.164; one with a letter may be an id and is left alone."""
        bare = _GLOB_RE.sub("", pattern)
        if not _WRITTEN_NUMBER_RE.fullmatch(bare):
            return None
        if E164_RE.match(pattern) or (bare != pattern and _E164_PART_RE.fullmatch(bare)):
            return None
        spelt = _digits(pattern)
        hint = f": write {spelt!r}" if bare == pattern and E164_RE.match(spelt) else ""
        return f"{pattern!r} never matches a number: the API spells numbers in E.164 ('+', country code, digits){hint}"

    def restorable(
        self,
        state: dict[str, Any],
        gone: Mapping[tuple[str, str], str],
        where: Location,
        fields: Collection[str] | None = None,
    ) -> tuple[Desired | None, str | None]:
        """The number's route and label as they were (those of `fields`); a route to an assistant the
        restore creates again names it, so the plan routes to its new id."""
        number, assistant_id = str(state.get("phone_number")), _remote_assistant_id(state)
        again = gone.get((ASSISTANT, assistant_id)) if assistant_id is not None else None
        route = Route(
            number,
            where,
            assistant=again,
            assistant_id=None if again is not None else assistant_id,
            manages_assistant=fields is None or "inbound_assistant_id" in fields,
            label=state.get("label"),
            manages_label=fields is None or "label" in fields,
        )
        return Desired(self.name, number, route.to_dict(), source=route), None

    def differs(self, body: dict[str, Any], stored: dict[str, Any]) -> tuple[list[str], list[FieldChange]]:
        changes = [FieldChange(f, now, sent) for f, sent, now in _unlike(body, stored)]
        return [c.path for c in changes], changes

    def as_written(self, stored: dict[str, Any]) -> dict[str, Any]:
        return _as_written(stored)


def _assistant_ref(assistant_id: Any) -> tuple[str, str] | None:
    return (ASSISTANT, assistant_id) if isinstance(assistant_id, str) else None


def _routing(number: Mapping[str, Any]) -> list[Any]:
    """What a saved plan must see unchanged of a managed number: its routing and label."""
    return [
        str(number.get("id")),
        str(number.get("phone_number")),
        number.get("label"),
        _remote_assistant_id(number),
    ]


def _action_for(
    kind: str, d: Desired, route: Route, number: Mapping[str, Any], refs: Refs, errors: list[LocatedError]
) -> Action | None:
    changes: list[FieldChange] = []
    body: dict[str, Any] = {}
    if route.manages_assistant:
        target = _resolve_target(route, refs, errors)
        if target is not _UNSET:
            want_id, want_name = target
            if isinstance(want_id, Pending) or want_id != _remote_assistant_id(number):
                note = "created by this plan" if isinstance(want_id, Pending) else ""
                before = _remote_assistant_name(number, refs)
                changes.append(FieldChange("inbound_assistant", before, want_name, note=note))
                body["inbound_assistant_id"] = want_id
    if route.manages_label and route.label != number.get("label"):
        changes.append(FieldChange("label", number.get("label"), route.label))
        body["label"] = route.label
    if not changes:
        return None
    return Action(
        kind, "update", route.number, str(number["id"]), d.file, tuple(changes), body, desired=d, compact=True
    )


def _digits(number: str) -> str:
    return "+" + "".join(ch for ch in str(number) if ch.isdigit())


def _remote_assistant_id(number: Mapping[str, Any]) -> str | None:
    if number.get("inbound_assistant_id"):
        return str(number["inbound_assistant_id"])
    inbound = number.get("inbound_assistant")
    return str(inbound["id"]) if isinstance(inbound, Mapping) and inbound.get("id") else None


def _remote_assistant_name(number: Mapping[str, Any], refs: Refs) -> str | None:
    assistant_id = _remote_assistant_id(number)
    if assistant_id is None:
        return None
    inbound = number.get("inbound_assistant")
    if isinstance(inbound, Mapping) and inbound.get("name"):
        return str(inbound["name"])
    return refs.names.get((ASSISTANT, assistant_id), assistant_id)


def _resolve_target(route: Route, refs: Refs, errors: list[LocatedError]) -> Any:
    """(id or Pending or None, display name or None) or _UNSET after recording an error."""
    where = route.assistant_location or route.location
    if route.assistant_id is not None:
        assistant_id = route.assistant_id
        name = refs.names.get((ASSISTANT, assistant_id))
        if name is None:
            errors.append(
                LocatedError(where, f"{route.number}: no assistant with id '{assistant_id}' in this account")
            )
            return _UNSET
        if (ASSISTANT, assistant_id) in refs.destroyed:
            errors.append(LocatedError(where, _destroyed(route, name)))
            return _UNSET
        return assistant_id, name
    name = route.assistant
    if name is None:
        return None, None
    ids = refs.ambiguity(ASSISTANT, name)
    if ids:
        errors.append(
            LocatedError(
                where,
                f"{route.number}: {len(ids)} assistants are named '{name}' ({', '.join(ids)}): use assistant_id",
            )
        )
        return _UNSET
    found = refs.resolve(ASSISTANT, name)
    if found is None:
        known = sorted(n for k, n in {*refs.ids, *refs.created} if k == ASSISTANT)
        message = f"{route.number}: no assistant named '{name}' in the files or the account"
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        errors.append(LocatedError(where, message + (f"; did you mean '{close[0]}'?" if close else "")))
        return _UNSET
    if isinstance(found, str) and (ASSISTANT, found) in refs.destroyed:
        errors.append(LocatedError(where, _destroyed(route, name)))
        return _UNSET
    return found, name


def _destroyed(route: Route, name: str) -> str:
    return f"{route.number}: routes to assistant '{name}', which this plan destroys (--prune)"


def _not_stored(body: Mapping[str, Any], stored: Mapping[str, Any]) -> list[str]:
    return [f"{f} (sent {_shown(sent)}, stored {_shown(now)})" for f, sent, now in _unlike(body, stored)]


def _unlike(body: Mapping[str, Any], stored: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, sent, stored) for each field of `body` that `stored` holds otherwise."""
    held = _as_written(stored)
    return [(f, body[f], held[f]) for f in held if f in body and held[f] != body[f]]


def _as_written(number: Mapping[str, Any]) -> dict[str, Any]:
    return {"inbound_assistant_id": _remote_assistant_id(number), "label": number.get("label")}


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


KIND = PhoneNumberKind()

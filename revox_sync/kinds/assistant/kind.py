"""Assistants as a resource kind: one YAML file each under the config directory."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from revox_sync.config.discovery import display_path
from revox_sync.engine.change import Action, Desired, FieldChange, Loc
from revox_sync.engine.kind import KindPlan, LoadContext, Loaded, Refs, Use, Written
from revox_sync.engine.plan import fingerprint, match_by_name, plan_strays, record_names
from revox_sync.errors import ConfigErrors, FatalError, LocatedError, Location
from revox_sync.kinds.assistant import normalize
from revox_sync.kinds.assistant.fields import MATCHING_FIELDS
from revox_sync.kinds.assistant.load import LoadedAssistant, load_directory
from revox_sync.names import name_key, same_name

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient
    from revox_sync.sensitive import Source

VOICE = "voice"  # the kind a `voice: {clone: NAME}` refers to


def to_desired(loaded: LoadedAssistant) -> Desired:
    return Desired(
        kind="assistant",
        name=loaded.name,
        data={k: v for k, v in loaded.data.items() if k not in MATCHING_FIELDS},
        id=loaded.id,
        file=display_path(loaded.path),
        sensitive=loaded.sensitive,
        variables=loaded.variables,
        name_location=loaded.positions.value(("name",)),
        id_location=loaded.positions.value(("id",)) if loaded.id else None,
        source=loaded,
        previous_names=tuple(loaded.data.get("previous_names") or ()),  # validated: strings
    )


class AssistantKind:
    name = "assistant"
    plural = "assistants"
    depends_on: tuple[str, ...] = (VOICE,)
    compact = False
    guarded: tuple[str, ...] = ()

    def load(self, context: LoadContext) -> Loaded:
        """Every file of the config directory; a missing, empty or broken directory plans nothing."""
        loaded, warnings = load_directory(context.config_dir, variables=context.variables, shallow=True)
        if not loaded:
            raise FatalError(
                f"no assistant files (*.yaml, *.yml) in {display_path(context.config_dir)}/: nothing to plan"
            )
        return Loaded([to_desired(a) for a in loaded], list(warnings))

    def check(self, loaded: Loaded, others: Mapping[str, Loaded | None]) -> list[LocatedError]:
        """A `voice: {clone: NAME}` must name a voice `voices.yaml` declares."""
        voices = others.get(VOICE)
        declared = {d.name for d in voices.desired} if voices is not None else set()
        keys = {name_key(n) for n in declared}
        errors = []
        for d in loaded.desired:
            name = _clone_of(d)
            if name is not None and name_key(name) not in keys:
                where = "voices.yaml" if voices is not None else "voices.yaml (there is none)"
                errors.append(
                    LocatedError(
                        d.source.positions.value(("voice", "clone")),
                        f"voice.clone: no voice named {name!r} in {where}{_did_you_mean(name, declared)}",
                    )
                )
        return errors

    def check_online(self, loaded: Loaded, client: RevoxClient) -> list[LocatedError]:
        """Voice ids exist in the account (a clone is checked by the voice kind) and `from_phone_number` is
        a number it owns."""
        voices = {(v.get("provider"), v.get("id")) for v in client.list_voices()}
        owned = {n.get("phone_number") for n in client.list_phone_numbers()}
        errors: list[LocatedError] = []
        for d in loaded.desired:
            a: LoadedAssistant = d.source
            voice = a.spec.voice
            if voice is not None and voice.id is not None and (voice.provider, voice.id) not in voices:
                errors.append(
                    LocatedError(
                        a.positions.value(("voice", "id")),
                        f"voice.id: no {voice.provider} voice '{voice.id}' in this account (see GET /voices)",
                    )
                )
            number = a.spec.from_phone_number
            if number is not None and number not in owned:
                errors.append(
                    LocatedError(
                        a.positions.value(("from_phone_number",)),
                        f"from_phone_number: {number} is not a number this account owns",
                    )
                )
        return errors

    def fetch(self, client: RevoxClient) -> list[dict[str, Any]]:
        return client.list_assistants()

    def plan(
        self, loaded: Loaded, remote: Sequence[dict[str, Any]], refs: Refs, *, prune: bool, key: bytes
    ) -> KindPlan:
        errors: list[LocatedError] = []
        desired = [_with_voice_id(d, refs) for d in loaded.desired]
        pairs = match_by_name(self.name, desired, remote, errors, _creatable, refs.scope)
        if errors:
            raise ConfigErrors(errors)
        strays = record_names(self.name, pairs, remote, refs)
        out = KindPlan(fingerprints={str(r["id"]): fingerprint(r, key) for r in remote})
        for d, found in pairs:
            action = _action_for(d, found)
            if action is not None:
                out.actions.append(action)
        # a step of a multi-step flow belongs to its flow, never pruned on its own
        deletes, out.undeclared = plan_strays(
            self.name, [r for r in strays if r.get("type") != "sub-assistant"], refs, prune=prune
        )
        out.actions += deletes
        _record_voice_users(pairs, remote, refs)
        return out

    def check_plan(self, actions: Sequence[Action], refs: Refs) -> list[LocatedError]:
        """An assistant a phone number still routes to after this plan is not destroyed: calls to that
        number would reach no one."""
        errors = []
        for a in actions:
            if a.kind == self.name and a.op == "delete":
                numbers = refs.users_of((self.name, str(a.id)), actions)
                if numbers:
                    errors.append(
                        LocatedError(
                            Location(a.file or "phone_numbers.yaml"),
                            f'cannot destroy assistant "{a.name}" ({a.id}): phone numbers still route to it: '
                            f"{', '.join(numbers)}; route them elsewhere in phone_numbers.yaml first",
                        )
                    )
        return errors

    def sandbox(self, state: Any, loaded: Loaded) -> list[str]:
        return []

    def write(self, client: RevoxClient, action: Action, body: dict[str, Any]) -> Written:
        if action.op == "create":
            stored = client.create_assistant(body)
            return Written(str(stored.get("id")), not_stored_as_sent(action, body, stored))
        assert action.id is not None
        if action.op == "update":
            update = client.update_assistant(action.id, body)
            return Written(
                action.id,
                not_stored_as_sent(action, body, update.assistant),
                _notice_text(update.unpatched_calls_notice),
            )
        client.delete_assistant(action.id)
        return Written(action.id)

    def pattern_problem(self, pattern: str) -> str | None:
        return None

    def restorable(
        self,
        state: dict[str, Any],
        gone: Mapping[tuple[str, str], str],
        where: Location,
        fields: Collection[str] | None = None,
    ) -> tuple[Desired | None, str | None]:
        """Every field the API lets a file manage (of `fields`), defaults included (an apply may have
        changed one away from its default), without the server-owned parts."""
        from revox_sync.importer.clean import wanted_fields

        data = wanted_fields(state, with_defaults=True, unknown=set())
        if fields is not None:
            data = {f: v for f, v in data.items() if f in fields}
        ident, name = str(state.get("id")), str(state.get("name"))
        note = None
        voice = _voice_ref(state.get("voice"))
        if voice is not None and voice in gone and "voice" in data:
            del data["voice"]
            note = (
                f'assistant "{name}": its voice {voice[1]} is gone and cannot come back (the API keeps no '
                "sample of a clone): its voice is left as it is now"
            )
        pinned = None if (self.name, ident) in gone else ident
        return Desired(self.name, name, data, id=pinned), note

    def differs(self, body: dict[str, Any], stored: dict[str, Any]) -> tuple[list[str], list[FieldChange]]:
        return _unlike(body, stored, frozenset())

    def as_written(self, stored: dict[str, Any]) -> dict[str, Any]:
        return stored


def _did_you_mean(name: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _clone_of(d: Desired) -> str | None:
    voice = d.data.get("voice")
    return str(voice["clone"]) if isinstance(voice, dict) and voice.get("clone") is not None else None


def _with_voice_id(d: Desired, refs: Refs) -> Desired:
    """`voice: {clone: NAME}` as the API knows it: provider cartesia and this account's id of the clone
    (a Pending when this plan creates it)."""
    name = _clone_of(d)
    if name is None:
        return d
    voice_id = refs.resolve(VOICE, name)
    if voice_id is None:  # `check` has reported it; planning never gets here with an unknown clone
        raise ConfigErrors(
            [
                LocatedError(
                    d.source.positions.value(("voice", "clone")), f"voice.clone: no voice named {name!r}"
                )
            ]
        )
    voice = {k: v for k, v in d.data["voice"].items() if k not in ("clone", "provider", "id")}
    return dataclasses.replace(d, data={**d.data, "voice": {"provider": "cartesia", "id": voice_id, **voice}})


def _creatable(d: Desired) -> str | None:
    if "prompt" not in d.data:
        return f"'prompt' is required to create assistant '{d.name}' (it is new)"
    return None


def _action_for(d: Desired, remote: dict[str, Any] | None) -> Action | None:
    if remote is None:
        body = {f: normalize.complete(f, v) for f, v in d.data.items()}
        want = normalize.canonical_assistant(d.data, d.data)
        _, changes = normalize.diff_assistant(want, {}, d.sensitive, d.variables)
        return Action("assistant", "create", d.name, None, d.file, tuple(changes), body, desired=d)
    # a field whose value reads the same as the account's cannot differ in canonical form (a function of the
    # value alone, compared with the same ==): most fields of an assistant in sync, left uncanonicalised
    fields = [f for f, value in d.data.items() if f not in remote or remote[f] != value]
    changed, changes = normalize.diff_assistant(
        normalize.canonical_assistant(d.data, fields),
        normalize.canonical_assistant(remote, fields),
        d.sensitive,
        d.variables,
    )
    if not changed:
        return None
    body = {f: normalize.complete(f, d.data[f]) for f in changed}
    notes = _notes(remote, changed)
    shown = tuple(_form_only(c) for c in changes)
    return Action("assistant", "update", d.name, remote["id"], d.file, shown, body, notes, d)


def _form_only(change: FieldChange) -> FieldChange:
    """A name that changes only its Unicode form reads the same on both sides of the plan: say why it
    changes (the file's spelling is what the account gets)."""
    before, after = change.before, change.after
    if (
        change.path == "name"
        and isinstance(before, str)
        and isinstance(after, str)
        and same_name(before, after)
    ):
        return dataclasses.replace(
            change, note="the same name in another Unicode form: apply sends the file's spelling"
        )
    return change


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


def _record_voice_users(
    pairs: Sequence[tuple[Desired, dict[str, Any] | None]], remote: Sequence[dict[str, Any]], refs: Refs
) -> None:
    """Which voice each remote assistant uses now and after this plan, so that no voice still in use is
    destroyed."""
    wants = {str(found["id"]): d for d, found in pairs if found is not None}
    for r in remote:
        d = wants.get(str(r["id"]))
        now = _voice_ref(r.get("voice"))
        after = _voice_ref(d.data.get("voice")) if d is not None and "voice" in d.data else now
        name = d.name if d is not None else str(r.get("name"))
        refs.uses.append(Use(("assistant", str(r["id"])), name, "voice", now, after))


def _voice_ref(voice: Any) -> tuple[str, str] | None:
    voice_id = voice.get("id") if isinstance(voice, dict) else None
    return (VOICE, voice_id) if isinstance(voice_id, str) else None


def not_stored_as_sent(action: Action, body: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    """Fields whose value the API returned differs from what was sent (canonical comparison)."""
    from revox_sync.engine.render import format_value

    desired = action.desired
    _, changes = _unlike(
        body, stored, desired.sensitive if desired else frozenset(), desired.variables if desired else {}
    )
    return [
        f"{c.path} (sent {format_value(c, c.after)}, stored {format_value(c, c.before)})"
        for c in changes
        if not c.resent
    ]


def _unlike(
    body: dict[str, Any],
    stored: dict[str, Any],
    sensitive: frozenset[Loc],
    variables: Mapping[Loc, Source] | None = None,
) -> tuple[list[str], list[FieldChange]]:
    """The fields of `body` that `stored` holds otherwise (canonical comparison), and the changes."""
    fields = list(body)
    return normalize.diff_assistant(
        normalize.canonical_assistant(body, fields),
        normalize.canonical_assistant(stored, fields),
        sensitive,
        variables,
    )


def _notice_text(notice: dict[str, Any] | None) -> str | None:
    if not notice:
        return None
    count = notice.get("count", 0)
    variables = ", ".join(str(v) for v in notice.get("variables") or [])
    text = f"{int(count)} scheduled call(s) keep the previous prompt"
    return text + (f" (they lack variables: {variables})" if variables else "")


KIND = AssistantKind()

"""Backups: the remote state an apply is about to change or destroy, and what it writes over it, kept so
that `restore` can put back what the apply changed, and only where the account still holds what it wrote.

A backup is one JSON document. What a person reads (`objects[].state`, `objects[].wrote`) has every
sensitive value blanked; the exact values sit beside them sealed with AES-GCM under a key derived from the
account's key, so only a run with that key can open them, and the whole document is signed with an HMAC of
that key: a backup that was edited, or made for another account, is refused before anything in it is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from revox_sync.engine.change import KNOWN_AFTER_APPLY, Pending, leaves, redact
from revox_sync.engine.plan import CHECKSUM_PREFIX, checksum, fingerprint
from revox_sync.errors import FatalError
from revox_sync.output import clip, printable
from revox_sync.sensitive import scrub

if TYPE_CHECKING:
    from revox_sync.engine.plan import Plan

FORMAT = "revox-sync backup"
FORMAT_VERSION = 2  # 2: what the apply wrote (`wrote`), and the secrets in it
_LABEL = b"revox-sync backup"
_PENDING = "(pending)"  # in the sealed text, an id the apply had not created yet: {"(pending)": [kind, name]}


@dataclass(frozen=True)
class Saved:
    """One backed-up object: its state in the account before the apply that was about to `op` it."""

    kind: str
    id: str
    name: str
    op: str
    state: dict[str, Any]
    wrote: dict[str, Any] | None = None  # an update's body: what the apply sends over `state`


@dataclass(frozen=True)
class Backup:
    """A backup read back and opened: the exact states, and what the apply that made it created."""

    objects: tuple[Saved, ...]
    created: tuple[tuple[str, str], ...]  # (kind, name)
    made_at: str
    target: str | None
    checksum: str
    secrets: tuple[str, ...] = ()  # the secret values in what the apply wrote, to blank wherever shown


def account_tag(key: bytes) -> str:
    """A short public name of the account a key opens (the same tag `plan` shows as `key ...`)."""
    return fingerprint("account", key)[:8]


def snapshot(plan: Plan, remote: Mapping[str, Sequence[dict[str, Any]]]) -> list[Saved]:
    """The remote state of every object `plan` updates or destroys, as the account holds it now, and what
    each update writes over it."""
    by_id = {(kind, str(r.get("id"))): r for kind, objects in remote.items() for r in objects}
    saved = []
    for a in plan.actions:
        found = by_id.get((a.kind, str(a.id))) if a.op != "create" else None
        if found is not None:
            wrote = dict(a.body) if a.op == "update" else None
            saved.append(Saved(a.kind, str(a.id), str(found.get("name") or a.name), a.op, dict(found), wrote))
    return saved


class Unknown(dict[tuple[str, str], str]):
    """Ids by (kind, name), for `engine.apply.fill`; one it lacks reads as the plan shows an id to come."""

    def __missing__(self, key: tuple[str, str]) -> str:
        return KNOWN_AFTER_APPLY


def document(
    saved: Sequence[Saved],
    created: Sequence[tuple[str, str]],
    *,
    key: bytes,
    target: str | None,
    secrets: Collection[str],
    now: datetime,
) -> dict[str, Any]:
    """The backup's JSON form: readable states with sensitive values blanked, the exact ones sealed (with
    the `secrets` the written values hold, which a later run could not tell from the rest of a text)."""
    from revox_sync.engine.apply import fill

    exact = [{"kind": s.kind, "id": s.id, "state": s.state, "wrote": s.wrote} for s in saved]
    written = "\0".join(v for s in saved for v in leaves(s.wrote) if isinstance(v, str))
    sealed = {"objects": exact, "secrets": sorted(v for v in secrets if v in written)}
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "made_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": target,
        "account": account_tag(key),
        "objects": [
            {
                "kind": s.kind,
                "id": s.id,
                "name": scrub(s.name, secrets),
                "op": s.op,
                "state": scrub(redact((), s.state, frozenset()), secrets),
                "wrote": scrub(redact((), fill(s.wrote, Unknown()), frozenset()), secrets),
            }
            for s in saved
        ],
        "created": [{"kind": kind, "name": scrub(name, secrets)} for kind, name in created],
        "sealed": _seal(key, json.dumps(sealed, ensure_ascii=False, default=_pending_json).encode()),
    }
    doc["checksum"] = checksum(doc, key, _LABEL)
    return doc


def file_name(now: datetime, key: bytes) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{account_tag(key)}.json"


def read_backup(data: bytes, source: str, key: bytes) -> Backup:
    """A backup file, refused unless it is one, made for the account `key` opens, and unedited."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FatalError(f"{source}: not a revox-sync backup (not JSON)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FatalError(f"{source}: not a revox-sync backup")
    if doc.get("format_version") == 1:
        raise FatalError(
            f"{source}: made by an earlier revox-sync (format_version 1), which did not record what the apply "
            "wrote, so a later edit cannot be told from it: restore it with the version that made it, or put "
            "back by hand what its objects[].state shows. Nothing was changed."
        )
    if doc.get("format_version") != FORMAT_VERSION:
        raise FatalError(
            printable(
                f"{source}: made by another version of revox-sync (format_version "
                f"{clip(str(doc.get('format_version')), 20)}; this one reads {FORMAT_VERSION})"
            )
        )
    mine = account_tag(key)
    if doc.get("account") != mine:
        raise FatalError(
            printable(
                f"{source}: made for another account (key {clip(str(doc.get('account')), 20)}; this run "
                f"uses key {mine}). Nothing was changed."
            )
        )
    given = doc.get("checksum")
    if not (
        isinstance(given, str)
        and given.startswith(CHECKSUM_PREFIX)
        and hmac.compare_digest(given.encode(), checksum(doc, key, _LABEL).encode())
    ):
        raise FatalError(
            f"{source}: checksum mismatch: the backup was edited after it was made. Nothing was changed."
        )
    try:
        sealed = json.loads(_open(key, str(doc["sealed"])), object_hook=_pending_of)
        names = {(o["kind"], o["id"]): (str(o["name"]), str(o["op"])) for o in doc["objects"]}
        objects = tuple(
            Saved(o["kind"], o["id"], *names[(o["kind"], o["id"])], dict(o["state"]), _wrote(o["wrote"]))
            for o in sealed["objects"]
        )
        created = tuple((str(c["kind"]), str(c["name"])) for c in doc["created"])
        secrets = tuple(str(v) for v in sealed["secrets"])
    except (KeyError, TypeError, ValueError):
        raise FatalError(
            f"{source}: the backup's sealed state does not open with this account's key"
        ) from None
    return Backup(objects, created, str(doc.get("made_at")), doc.get("target"), given, secrets)


def _wrote(value: Any) -> dict[str, Any] | None:
    return None if value is None else dict(value)


def _pending_json(value: Any) -> Any:
    if isinstance(value, Pending):
        return {_PENDING: [value.kind, value.name]}
    raise TypeError(f"{type(value).__name__} is not JSON")


def _pending_of(value: dict[str, Any]) -> Any:
    return Pending(*value[_PENDING]) if value.keys() == {_PENDING} else value


def _cipher(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(hmac.new(key, _LABEL + b" seal", hashlib.sha256).digest())


def _seal(key: bytes, plaintext: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _cipher(key).encrypt(nonce, plaintext, _LABEL)).decode("ascii")


def _open(key: bytes, sealed: str) -> bytes:
    from cryptography.exceptions import InvalidTag

    try:
        raw = base64.b64decode(sealed, validate=True)
        opened: bytes = _cipher(key).decrypt(raw[:12], raw[12:], _LABEL)
    except (binascii.Error, InvalidTag) as exc:
        raise ValueError("sealed state does not open") from exc
    return opened

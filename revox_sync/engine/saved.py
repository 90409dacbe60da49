"""Saved plans: read and checked before anything in them is trusted (shape, format version, the keyed
checksum), then compared with the plan this run computes, action by action. Only `apply PLANFILE` needs
this (and pydantic's models of the saved form), so `validate` never imports it."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, StrictBool, StrictInt, StrictStr, ValidationError

from revox_sync.engine.change import dotted
from revox_sync.engine.plan import CHECKSUM_PREFIX, FORMAT_VERSION, Plan, checksum
from revox_sync.errors import FatalError, StalePlanError
from revox_sync.output import clip, printable


class _SavedChange(BaseModel):
    path: StrictStr
    before: Any
    after: Any


class _SavedAction(BaseModel):
    kind: StrictStr
    action: Literal["create", "update", "delete"]
    name: StrictStr
    id: StrictStr | None
    file: StrictStr | None
    changes: list[_SavedChange]
    notes: list[StrictStr]


class _SavedOptions(BaseModel):
    prune: StrictBool
    targets: list[StrictStr]
    restore: StrictStr | None = None  # a restore's plan: the checksum of its backup
    force_conflicts: StrictBool = False  # a restore's plan made with --force-conflicts
    allow_default_secrets: StrictBool = False  # made with --allow-default-secrets
    allow_policy_errors: StrictBool = False  # made with --allow-policy-errors


class _SavedFinding(BaseModel):
    rule: StrictStr
    severity: Literal["error", "warning"]
    file: StrictStr
    line: StrictInt | None
    column: StrictInt | None
    message: StrictStr
    rows: list[StrictStr]


class _SavedPlan(BaseModel):
    """The shape `Plan.to_dict` writes, checked before any of it is trusted."""

    format_version: int
    summary: dict[StrictStr, StrictInt]
    target: StrictStr | None
    actions: list[_SavedAction]
    options: _SavedOptions
    undeclared: list[dict[StrictStr, StrictStr]]
    warnings: list[dict[StrictStr, StrictStr]] = []
    findings: list[_SavedFinding] = []
    config_fingerprint: StrictStr
    config_files: dict[StrictStr, StrictStr]
    secrets_fingerprint: StrictStr
    remote_fingerprints: dict[StrictStr, dict[StrictStr, StrictStr]]
    checksum: StrictStr


def load_saved(path: Path, key: bytes, target: str | None) -> dict[str, Any]:
    """The saved plan at `path`, refused unless it is whole, well formed and signed with `key`."""
    from revox_sync.files import read_regular

    try:
        data = read_regular(path)
    except OSError as exc:
        raise FatalError(f"cannot read plan file {path}: {exc.strerror}") from None
    return read_saved(data, str(path), key, target)


def read_saved(data: str | bytes, source: str, key: bytes = b"", target: str | None = None) -> dict[str, Any]:
    """Parse and check a saved plan; every failure is one line naming `source` and what is wrong (what
    the file says is escaped: it may hold anything)."""

    doc = _parse(data, source)
    if not isinstance(doc, dict):
        raise FatalError(f"{source}: not a saved plan: the top level is {_json_type(doc)}, not an object")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise FatalError(
            printable(
                f"{source}: saved by another version of revox-sync "
                f"(format_version {_brief(version)}; this one reads {FORMAT_VERSION}). Nothing was changed; "
                "run `revox-sync plan --out` again."
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


def check_fresh(
    saved: dict[str, Any], current: Plan, source: str = "the saved plan", again: str = "revox-sync plan"
) -> None:
    """Refuse a saved plan when the remote or the configuration moved since it was made, or when what
    it shows is not exactly what this run would do: naming the files and the remote objects that moved, and
    `again`, the command that makes a fresh plan."""

    reasons: list[str] = []
    if saved.get("target") != current.target:
        reasons.append(f"it was made for {saved.get('target')}, this run targets {current.target}")
    if saved["config_fingerprint"] != current.config_fingerprint:
        files = _moved(saved["config_files"], current.config_files, lambda file: file)
        reasons.append("the configuration files changed" + (f": {', '.join(files)}" if files else ""))
    elif saved.get("secrets_fingerprint") != current.secrets_fingerprint:
        reasons.append("the value of a sensitive variable changed (or the API key did)")
    now = current.to_dict()["remote_fingerprints"]
    for kind in sorted(saved["remote_fingerprints"].keys() | now.keys()):
        names = {**_saved_names(saved, kind), **current.remote_names.get(kind, {})}
        label = _remote_label(names)
        moved = _moved(saved["remote_fingerprints"].get(kind, {}), now.get(kind, {}), label)
        if moved:
            reasons.append(f"remote {kind}(s) changed: {', '.join(moved)}")
    if reasons:
        raise StalePlanError(
            printable("plan is stale: " + "; ".join(reasons)) + f". Nothing was changed; run `{again}` again."
        )
    differences = _differences(saved, current.to_dict())
    if differences:
        raise StalePlanError(
            printable(f"{source} does not match what apply would do now: " + "; ".join(differences))
            + f". Nothing was changed; run `{again}` again."
        )


def _moved(old: Mapping[str, str], new: Mapping[str, str], label: Callable[[str], str]) -> list[str]:
    """What differs between two maps of fingerprints, each entry by its `label`: changed, new, or gone."""
    return [
        label(key) + ("" if key in old and key in new else " (new)" if key in new else " (gone)")
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]


def _saved_names(saved: dict[str, Any], kind: str) -> dict[str, str]:
    """The names the saved plan's actions give the remote objects of `kind` (of one gone since)."""
    return {str(a["id"]): a["name"] for a in saved["actions"] if a["kind"] == kind and a["id"]}


def _remote_label(names: dict[str, str]) -> Callable[[str], str]:
    """A remote object as a message names it: its name and id, or its id alone when no name is known."""
    return lambda id_: f"{json.dumps(names[id_], ensure_ascii=False)} ({id_})" if id_ in names else id_


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
    for key in ("options", "summary", "undeclared", "warnings", "findings"):
        if saved.get(key) != now.get(key):
            out.append(f"{key} differs (saved {_brief(saved.get(key))}, now {_brief(now.get(key))})")
    return out


def _action_label(action: dict[str, Any]) -> str:
    ident = f" ({action['id']})" if action["id"] else ""
    return f'{action["action"]} {action["kind"]} "{action["name"]}"{ident}'


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
    return clip(json.dumps(value, ensure_ascii=False, default=str), 80)

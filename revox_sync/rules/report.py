"""`validate --format text|json|sarif|github`: the findings (schema errors included, as rule `schema`) for
people, for scripts, for GitHub code scanning (SARIF 2.1.0) and as GitHub Actions workflow commands."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from revox_sync import __version__
from revox_sync.errors import LocatedError, LocatedWarning
from revox_sync.output import printable
from revox_sync.rules.rule import Finding, Rule

FORMATS = ("text", "json", "sarif", "github")
SCHEMA = Rule(
    "schema",
    "error",
    "the file loads and holds what the API accepts (unknown keys, types, ranges, references)",
    "the Revox API reference and SDK",
)
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/revox-sync/"


def from_load(errors: Iterable[LocatedError], warnings: Iterable[LocatedWarning]) -> list[Finding]:
    """The loader's errors and warnings as findings of rule `schema`."""
    return [Finding(e.location, SCHEMA.id, e.message) for e in errors] + [
        Finding(w.location, SCHEMA.id, w.message, "warning") for w in warnings
    ]


def failing(findings: Iterable[Finding], *, strict: bool) -> list[Finding]:
    """What fails the run: errors, and warnings too with --strict; never a suppressed finding."""
    return [f for f in findings if f.suppressed is None and (f.severity == "error" or strict)]


def shown(findings: Iterable[Finding], *, show_suppressed: bool) -> list[Finding]:
    return [f for f in findings if f.suppressed is None or show_suppressed]


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    live = [f for f in findings if f.suppressed is None]
    return {
        "errors": sum(f.severity == "error" for f in live),
        "warnings": sum(f.severity == "warning" for f in live),
        "suppressed": len(findings) - len(live),
    }


# --- json -------------------------------------------------------------------------------------------------
def to_json(findings: Sequence[Finding], *, strict: bool, needed: Sequence[str] = ()) -> str:
    """`needed`: the unset variables where secrets go, which the check did without and a plan needs."""
    document = {
        "format_version": 1,
        "valid": not failing(findings, strict=strict),
        "summary": summary(findings),
        "plan_needs_variables": list(needed),
        "findings": [
            {
                **f.to_dict(),
                "environment": f.environment,
                "suppressed": None if f.suppressed is None else {"reason": f.suppressed},
            }
            for f in findings
        ],
    }
    from revox_sync.engine.render import json_document  # the plan's renderers: not on validate's text path

    return json_document(document)


# --- sarif ------------------------------------------------------------------------------------------------
def _from_root(path: str) -> str:
    """A finding's path as GitHub resolves it: from the root of the repository (the nearest folder with a
    `.git`, up from the working directory), so a run in a subdirectory still names the right file; a path
    outside the repository as it is."""
    here = Path.cwd()
    root = next((d for d in (here, *here.parents) if (d / ".git").exists()), None)
    if root is None:
        return path
    relative = os.path.relpath(os.path.abspath(path), root)
    return path if relative.startswith(os.pardir) else relative


def _uri(path: str) -> str:
    """The path's bytes percent-encoded (a name that is not UTF-8 too: `%FF`)."""
    from urllib.parse import quote

    path = _from_root(path)
    if os.path.isabs(path):
        return Path(path).as_uri()
    return quote(os.fsencode(path.replace(os.sep, "/")))


def _physical(location: Any) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(location.path)}}
    if location.line > 0:
        region: dict[str, int] = {"startLine": location.line}
        if location.col > 0:
            region["startColumn"] = location.col
        physical["region"] = region
    return {"physicalLocation": physical}


def _level(severity: str) -> str:
    return "error" if severity == "error" else "warning" if severity == "warning" else "none"


def to_sarif(findings: Sequence[Finding], rules: Sequence[Rule], notes: Sequence[str] = ()) -> str:
    """`notes`: what the run says beside its results (no rule's, no file's), as the tool's notifications."""
    descriptors = [SCHEMA, *rules]
    index = {r.id: i for i, r in enumerate(descriptors)}
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _level(f.severity),
            "message": {"text": f.text},
            "locations": [_physical(f.location)],
        }
        if f.rows:
            result["relatedLocations"] = [
                {"id": i, **_physical(row), "message": {"text": "for_each row"}}
                for i, row in enumerate(f.rows)
            ]
        if f.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed or "none given"}]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "revox-sync",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {
                                "id": r.id,
                                "shortDescription": {"text": r.summary},
                                "fullDescription": {"text": f"{r.summary}. Source: {r.source}."},
                                "defaultConfiguration": {
                                    "level": _level(r.severity),
                                    "enabled": r.severity != "off",
                                },
                                "properties": {"source": r.source},
                            }
                            for r in descriptors
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    if notes:
        log["runs"][0]["invocations"] = [  # type: ignore[index]
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [{"level": "note", "message": {"text": n}} for n in notes],
            }
        ]
    from revox_sync.engine.render import json_document

    return json_document(log)


# --- github workflow commands -----------------------------------------------------------------------------
DATA_ESCAPES = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))  # GitHub's own, `%` first
PROPERTY_ESCAPES = (*DATA_ESCAPES, (":", "%3A"), (",", "%2C"))


def _data(text: str, escapes: tuple[tuple[str, str], ...] = DATA_ESCAPES) -> str:
    """GitHub's escapes, then every other control character and a legacy `##[` made visible (`\\u001b`), so
    a name or a message cannot rewrite the log line it is printed on nor start a command in it."""
    for raw, escaped in escapes:
        text = text.replace(raw, escaped)
    return printable(text)


def _property(text: str) -> str:
    return _data(text, PROPERTY_ESCAPES)


def github_notices(notes: Sequence[str]) -> list[str]:
    """`::notice::note`, one line per note of the run (no file's)."""
    return [f"::notice title={_property('revox-sync')}::{_data(n)}" for n in notes]


def to_github(findings: Sequence[Finding]) -> list[str]:
    """`::error file=...,line=...,col=...,title=...::message`, one line per finding."""
    lines = []
    for f in findings:
        command = "notice" if f.suppressed is not None else f.severity
        props = [f"file={_property(_from_root(f.location.path).replace(os.sep, '/'))}"]
        if f.location.line > 0:
            props.append(f"line={f.location.line}")
            if f.location.col > 0:
                props.append(f"col={f.location.col}")
        props.append(f"title={_property(f'revox-sync [{f.rule}]')}")
        message = (
            f.text if f.suppressed is None else f"suppressed ({f.suppressed or 'no reason given'}): {f.text}"
        )
        lines.append(f"::{command} {','.join(props)}::{_data(message)}")
    return lines

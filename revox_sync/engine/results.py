"""The results of an apply (or of any run that executes a plan) as one JSON document, for machines: it only
reads the results, so every command that executes a plan reports the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from revox_sync.engine.apply import Result

RESULTS_FORMAT_VERSION = 1
# How the engine's outcomes read in the document.
OUTCOME_NAMES = {
    "succeeded": "ok",
    "failed": "failed",
    "skipped": "skipped",
    "abandoned": "abandoned",
    "not started": "not_started",
}
SUMMARY_WORDS = {"create": "add", "update": "change", "delete": "destroy"}


def results_document(
    results: Sequence[Result], *, interrupted: bool = False, duplicated: int = 0
) -> dict[str, Any]:
    """`format_version`, `status` (`complete`, `no_changes`, `incomplete`, `interrupted`, `duplicated`),
    `summary` (what succeeded, by operation, and how many did not) and one entry per action: its kind, name,
    id, operation, outcome, error and the fields the server did not store as sent."""
    done = [r for r in results if r.ok]
    if len(done) < len(results):
        status = "interrupted" if interrupted else "incomplete"
    elif duplicated:
        status = "duplicated"
    else:
        status = "complete" if results else "no_changes"
    summary: dict[str, int] = {
        word: sum(1 for r in done if r.action.op == op) for op, word in SUMMARY_WORDS.items()
    }
    for outcome, name in OUTCOME_NAMES.items():
        if outcome != "succeeded":
            summary[name] = sum(1 for r in results if r.outcome == outcome)
    return {
        "format_version": RESULTS_FORMAT_VERSION,
        "status": status,
        "summary": summary,
        "actions": [
            {
                "kind": r.action.kind,
                "name": r.action.name,
                "id": r.id or r.action.id,
                "operation": r.action.op,
                "outcome": OUTCOME_NAMES[r.outcome],
                "error": r.error,
                "not_stored": list(r.not_stored),
            }
            for r in results
        ],
    }

"""Running a plan: independent actions in parallel, each write checked against what the API stored."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from revox_sync import normalize
from revox_sync.diff import diff_fields
from revox_sync.errors import FatalError
from revox_sync.options import DEFAULT_PARALLELISM
from revox_sync.plan import Action, Plan
from revox_sync.render import format_value

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient


@dataclass
class Result:
    action: Action
    ok: bool = False
    id: str | None = None
    error: str | None = None
    not_stored: list[str] = field(default_factory=list)
    notice: str | None = None
    seconds: float = 0.0

    @property
    def verb(self) -> str:
        return {"create": "created", "update": "updated", "delete": "destroyed"}[self.action.kind]


def apply_plan(
    plan: Plan,
    client: RevoxClient,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    on_result: Callable[[Result], None] = lambda _r: None,
) -> list[Result]:
    """Execute every action; a failure does not stop the others, so a rerun only has the rest to do."""
    if not plan.actions:
        return []
    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="apply") as pool:
        futures = [pool.submit(_run, action, client) for action in plan.actions]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            on_result(result)
    order = {id(a): i for i, a in enumerate(plan.actions)}
    results.sort(key=lambda r: order[id(r.action)])
    return results


class Outcome(Protocol):
    ok: bool
    error: str | None
    seconds: float


@contextmanager
def recording(result: Outcome) -> Iterator[None]:
    """Record how one write ended on `result`; its failure never stops the writes beside it."""
    started = time.monotonic()
    try:
        yield
        result.ok = True
    except FatalError as exc:
        result.error = str(exc)
    except Exception as exc:  # one write's bug must not hide the others' outcomes
        result.error = f"unexpected error: {type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started


def _run(action: Action, client: RevoxClient) -> Result:
    result = Result(action, id=action.id)
    with recording(result):
        if action.kind == "create":
            stored = client.create_assistant(action.body)
            result.id = stored.get("id")
            result.not_stored = not_stored_as_sent(action, stored)
        elif action.kind == "update":
            assert action.id is not None
            update = client.update_assistant(action.id, action.body)
            result.not_stored = not_stored_as_sent(action, update.assistant)
            result.notice = _notice_text(update.unpatched_calls_notice)
        else:
            assert action.id is not None
            client.delete_assistant(action.id)
    return result


def not_stored_as_sent(action: Action, stored: dict[str, Any]) -> list[str]:
    """Fields whose value the API returned differs from what was sent (canonical comparison)."""
    sensitive = action.desired.sensitive if action.desired else frozenset()
    fields = list(action.body)
    _, changes = diff_fields(
        normalize.canonical_assistant(action.body, fields),
        normalize.canonical_assistant(stored, fields),
        sensitive,
    )
    return [
        f"{c.path} (sent {format_value(c, c.after)}, stored {format_value(c, c.before)})" for c in changes
    ]


def _notice_text(notice: dict[str, Any] | None) -> str | None:
    if not notice:
        return None
    count = notice.get("count", 0)
    variables = ", ".join(str(v) for v in notice.get("variables") or [])
    text = f"{int(count)} scheduled call(s) keep the previous prompt"
    return text + (f" (they lack variables: {variables})" if variables else "")

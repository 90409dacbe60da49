"""Running a plan: independent actions in parallel, each write checked against what the API stored."""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from revox_sync.errors import FatalError
from revox_sync.kinds.assistant import normalize
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
    started: bool = False

    @property
    def verb(self) -> str:
        return {"create": "created", "update": "updated", "delete": "destroyed"}[self.action.kind]


class Interrupts:
    """Ctrl-C during the writes, the Terraform way: the first stops new writes from starting and lets
    those in flight finish; the second abandons them. A signal handler only counts; the loop acts."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _signum: int = 0, _frame: object = None) -> None:
        self.count += 1

    @property
    def stopping(self) -> bool:
        return self.count >= 1

    @property
    def abandoning(self) -> bool:
        return self.count >= 2


@contextmanager
def catching_interrupts() -> Iterator[Interrupts]:
    """SIGINT counted by an `Interrupts` for the duration (outside the main thread: never interrupted)."""
    interrupts = Interrupts()
    try:
        previous = signal.signal(signal.SIGINT, interrupts)
    except ValueError:  # not the main thread: signals cannot reach this run anyway
        yield interrupts
        return
    try:
        yield interrupts
    finally:
        signal.signal(signal.SIGINT, previous)


class RemoteNames:
    """Which names the account holds, listed at most `max_age` seconds ago: a create looks here right
    before it posts, so an assistant another pipeline (or the dashboard) made meanwhile is not made twice."""

    def __init__(self, client: RevoxClient, remote: Sequence[dict[str, Any]], max_age: float) -> None:
        self._client = client
        self._max_age = max_age
        self._lock = threading.Lock()
        self._ids = _ids_by_name(remote)
        self._listed = time.monotonic()

    def expire(self) -> None:
        """The listing is old whatever its age (say, after a person was asked to confirm)."""
        self._listed = float("-inf")

    def ids(self, name: str) -> list[str]:
        with self._lock:
            if time.monotonic() - self._listed > self._max_age:
                self._ids = _ids_by_name(self._client.list_assistants())
                self._listed = time.monotonic()
            return list(self._ids.get(name, ()))


def _ids_by_name(remote: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for r in remote:
        ids.setdefault(str(r.get("name")), []).append(str(r.get("id")))
    return ids


def apply_plan(
    plan: Plan,
    client: RevoxClient,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    on_result: Callable[[Result], None] = lambda _r: None,
    interrupts: Interrupts | None = None,
    on_interrupt: Callable[[int, int], None] = lambda _count, _in_flight: None,
    names: RemoteNames | None = None,
) -> list[Result]:
    """Execute every action; a failure does not stop the others, so a rerun only has the rest to do.

    Workers are daemon threads so that abandoned writes never hold the process open. Every action gets
    a Result: done (`ok` or `error`), abandoned in flight (`started`, neither), or not started."""
    interrupts = interrupts or Interrupts()
    results = [Result(action, id=action.id) for action in plan.actions]
    todo: queue.SimpleQueue[Result] = queue.SimpleQueue()
    for result in results:
        todo.put(result)
    done: queue.SimpleQueue[Result] = queue.SimpleQueue()

    def work() -> None:
        while not interrupts.stopping:
            try:
                result = todo.get_nowait()
            except queue.Empty:
                return
            result.started = True
            _run(result, client, names)
            done.put(result)

    workers = [
        threading.Thread(target=work, name=f"apply-{i}", daemon=True)
        for i in range(min(max(1, parallelism), len(results)))
    ]
    for worker in workers:
        worker.start()
    finished = 0
    seen_interrupts = 0
    while True:
        if interrupts.count != seen_interrupts:
            seen_interrupts = interrupts.count
            on_interrupt(seen_interrupts, sum(1 for r in results if r.started) - finished)
        if interrupts.abandoning:
            break
        try:
            result = done.get(timeout=0.05)
        except queue.Empty:
            if not any(w.is_alive() for w in workers) and done.empty():
                break
            continue
        finished += 1
        on_result(result)
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


def _run(result: Result, client: RevoxClient, names: RemoteNames | None) -> None:
    action = result.action
    with recording(result):
        if action.kind == "create":
            existing = names.ids(action.name) if names is not None else []
            if existing:
                raise FatalError(
                    "an assistant of that name appeared in the account after the plan "
                    f"({', '.join(existing)}); nothing was created: run plan again"
                )
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


def not_stored_as_sent(action: Action, stored: dict[str, Any]) -> list[str]:
    """Fields whose value the API returned differs from what was sent (canonical comparison)."""
    sensitive = action.desired.sensitive if action.desired else frozenset()
    fields = list(action.body)
    _, changes = normalize.diff_assistant(
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


def find_duplicates(
    client: RevoxClient, created: Mapping[str, str]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """After the creates, the names this run created that the account now holds more than once: what
    a concurrent apply of the same files leaves behind, which no client-side check can prevent."""
    same: dict[str, list[dict[str, Any]]] = {}
    for r in client.list_assistants():
        if str(r.get("name")) in created:
            same.setdefault(str(r.get("name")), []).append(r)
    return [(name, found) for name, found in sorted(same.items()) if len(found) > 1]

"""Running a plan: kinds in dependency order (creates and updates top-down, deletes bottom-up), the actions
of one level in parallel. A failed create skips what refers to it; Ctrl-C works the Terraform way."""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from revox_sync.engine.change import Pending, pending_in
from revox_sync.errors import FatalError
from revox_sync.names import name_key

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient
    from revox_sync.engine.change import Action
    from revox_sync.engine.kind import ResourceKind
    from revox_sync.engine.plan import Plan

Outcome = Literal["succeeded", "failed", "skipped", "abandoned", "not started"]
VERBS = {"create": "created", "update": "updated", "delete": "destroyed"}


@dataclass
class Result:
    """How one action ended: done (`ok` or `error`), skipped, abandoned in flight, or not started."""

    action: Action
    ok: bool = False
    id: str | None = None
    error: str | None = None
    not_stored: list[str] = field(default_factory=list)
    notice: str | None = None
    seconds: float = 0.0
    started: bool = False
    skipped: bool = False

    @property
    def outcome(self) -> Outcome:
        if self.ok:
            return "succeeded"
        if self.skipped:
            return "skipped"
        if self.error is not None:
            return "failed"
        return "abandoned" if self.started else "not started"

    @property
    def verb(self) -> str:
        return VERBS[self.action.op]


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
    """Which names one kind's remote objects hold, listed at most `max_age` seconds ago: a create looks here
    right before it is sent, so an object another pipeline (or the dashboard) made meanwhile is not made
    twice. `relist` lists again now (after a confirmation: a person may have taken minutes to answer)."""

    def __init__(
        self, fetch: Callable[[], Sequence[dict[str, Any]]], remote: Sequence[dict[str, Any]], max_age: float
    ) -> None:
        self._fetch = fetch
        self._max_age = max_age
        self._lock = threading.Lock()
        self._ids = ids_by_name(remote)
        self._listed = time.monotonic()

    def relist(self) -> list[dict[str, Any]]:
        """The objects as the account holds them now, which the names are from from now on."""
        with self._lock:
            objects = list(self._fetch())
            self._ids = ids_by_name(objects)
            self._listed = time.monotonic()
            return objects

    def ids(self, name: str) -> list[str]:
        with self._lock:
            if time.monotonic() - self._listed > self._max_age:
                self._ids = ids_by_name(self._fetch())
                self._listed = time.monotonic()
            return list(self._ids.get(name_key(name), ()))


def ids_by_name(remote: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """name_key -> ids: a lookalike name in another Unicode form is the same name."""
    ids: dict[str, list[str]] = {}
    for r in remote:
        ids.setdefault(name_key(str(r.get("name"))), []).append(str(r.get("id")))
    return ids


def levels(actions: Sequence[Action], order: Sequence[str]) -> list[list[Action]]:
    """Creates and updates kind by kind in dependency order, then deletes in the reverse order: an object
    exists before anything refers to it, and outlives everything that did."""
    rank = {kind: i for i, kind in enumerate(order)}
    last = 2 * len(order) - 1
    grouped: dict[int, list[Action]] = {}
    for action in actions:
        level = last - rank[action.kind] if action.op == "delete" else rank[action.kind]
        grouped.setdefault(level, []).append(action)
    return [grouped[level] for level in sorted(grouped)]


def fill(value: Any, created: Mapping[tuple[str, str], str]) -> Any:
    """`value` with each Pending replaced by the id its create returned."""
    if isinstance(value, Pending):
        return created[(value.kind, value.name)]
    if isinstance(value, dict):
        return {k: fill(v, created) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, created) for v in value]
    return value


@dataclass
class _Progress:
    interrupts: Interrupts
    on_result: Callable[[Result], None]
    on_interrupt: Callable[[int, int], None]
    seen: int = 0


def apply_plan(
    plan: Plan,
    kinds: Mapping[str, ResourceKind],
    client: RevoxClient,
    *,
    parallelism: int,
    on_result: Callable[[Result], None] = lambda _r: None,
    interrupts: Interrupts | None = None,
    on_interrupt: Callable[[int, int], None] = lambda _count, _in_flight: None,
    names: Mapping[str, RemoteNames] | None = None,
) -> list[Result]:
    """Execute every action, level by level; a failure does not stop the actions that do not need it, so
    a rerun only has the rest to do. Every action gets a Result, in plan order."""
    progress = _Progress(interrupts or Interrupts(), on_result, on_interrupt)
    results = {id(a): Result(a, id=a.id) for a in plan.actions}
    by_key = {(a.kind, a.id): a for a in plan.actions if a.op == "update"}
    created: dict[tuple[str, str], str] = {}
    for level in levels(plan.actions, list(kinds)):
        if progress.interrupts.stopping:
            if progress.interrupts.count != progress.seen:  # it came between two levels: nothing in flight
                progress.seen = progress.interrupts.count
                progress.on_interrupt(progress.seen, 0)
            break
        runnable: list[tuple[Result, dict[str, Any]]] = []
        for action in level:
            result = results[id(action)]
            missing = [p for p in pending_in(action.body) if (p.kind, p.name) not in created]
            stuck = [results[id(by_key[k])] for k in action.waits_for if not results[id(by_key[k])].ok]
            if missing:
                result.skipped = True
                result.error = f'{missing[0].kind} "{missing[0].name}" was not created'
                progress.on_result(result)
            elif stuck:
                result.skipped = True
                result.error = f"{stuck[0].action.label} still refers to it (its update did not succeed)"
                progress.on_result(result)
            else:
                runnable.append((result, fill(action.body, created)))
        _run_level(runnable, kinds, client, parallelism, progress, names or {})
        created.update(
            ((r.action.kind, r.action.name), r.id)
            for r, _ in runnable
            if r.ok and r.action.op == "create" and r.id
        )
    return [results[id(a)] for a in plan.actions]


def _run_level(
    runnable: list[tuple[Result, dict[str, Any]]],
    kinds: Mapping[str, ResourceKind],
    client: RevoxClient,
    parallelism: int,
    progress: _Progress,
    names: Mapping[str, RemoteNames],
) -> None:
    """The actions of one level on daemon threads, so that abandoned writes never hold the process open."""
    todo: queue.SimpleQueue[tuple[Result, dict[str, Any]]] = queue.SimpleQueue()
    for item in runnable:
        todo.put(item)
    done: queue.SimpleQueue[Result] = queue.SimpleQueue()
    interrupts = progress.interrupts

    def work() -> None:
        while not interrupts.stopping:
            try:
                result, body = todo.get_nowait()
            except queue.Empty:
                return
            result.started = True
            _run(result, kinds[result.action.kind], body, client, names.get(result.action.kind))
            done.put(result)

    workers = [
        threading.Thread(target=work, name=f"apply-{i}", daemon=True)
        for i in range(min(max(1, parallelism), len(runnable)))
    ]
    for worker in workers:
        worker.start()
    while workers:
        if interrupts.count != progress.seen:
            progress.seen = interrupts.count
            # a write is in flight until it ends (started, not ended: "abandoned" were it left now), not
            # until this loop takes its result: its worker may already have started the next one
            in_flight = sum(1 for r, _ in runnable if r.outcome == "abandoned")
            progress.on_interrupt(progress.seen, in_flight)
        if interrupts.abandoning:
            return
        try:
            result = done.get(timeout=0.05)
        except queue.Empty:
            if not any(w.is_alive() for w in workers) and done.empty():
                return
            continue
        progress.on_result(result)


def _run(
    result: Result, kind: ResourceKind, body: dict[str, Any], client: RevoxClient, names: RemoteNames | None
) -> None:
    action = result.action
    with recording(result):
        if action.op == "create" and names is not None:
            existing = names.ids(action.name)
            if existing:
                raise FatalError(
                    f"one of that name appeared in the account after the plan ({', '.join(existing)}); "
                    "nothing was created: run plan again"
                )
        written = kind.write(client, action, body)
        result.id = written.id or action.id
        result.not_stored = written.not_stored
        result.notice = written.notice


@contextmanager
def recording(result: Result) -> Iterator[None]:
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


def find_duplicates(
    fetch: Callable[[], Sequence[dict[str, Any]]], created: Sequence[str]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """After the creates, the names this run created that the account now holds more than once: what a
    concurrent apply of the same files leaves behind, which no client-side check can prevent."""
    wanted = {name_key(name): name for name in created}
    same: dict[str, list[dict[str, Any]]] = {}
    for r in fetch():
        name = wanted.get(name_key(str(r.get("name"))))
        if name is not None:
            same.setdefault(name, []).append(r)
    return [(name, found) for name, found in sorted(same.items()) if len(found) > 1]

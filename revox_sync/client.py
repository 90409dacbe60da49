"""The Revox API over httpx: auth, retries with backoff, safe creates and errors a user can act on.

One `RevoxClient` holds one `httpx.Client` (connection reuse, a pool sized for `--parallelism 16`), and is
safe to share between the threads of apply's executor: httpx's client is thread-safe and the only mutable
state here (`request_count`) sits behind a lock.

Retry rules (the same for GET, PATCH and DELETE):

- retried: connection errors (but a host name that does not resolve) and timeouts, 408, 409, 429 and 5xx; `Retry-After` (seconds or an HTTP date)
  is honoured, otherwise exponential backoff with full jitter (`uniform(0, backoff_base * 2**attempt)`);
- bounded by `max_retries` (extra attempts) and `max_retry_seconds` (total time spent waiting);
- a DELETE that answers 404 on a retry counts as done: the earlier attempt deleted it.

`POST /assistants` is never sent twice. When the outcome of a create is unknown (a timeout or a connection
dropped after the request was sent, a 5xx), the server may commit it late, so the client looks for an
assistant with exactly that `name` a few times, spaced out (`rechecks` x `recheck_interval`): found, that is
the created assistant; still not seen, the create fails as "outcome unknown" and the next plan finds it if
the server did create it. Outcomes known not to have been processed (nothing sent, 408, 429, 4xx) keep the
usual rules.

Time is bounded twice: each request has a wall-clock deadline for the whole exchange, body included
(`request_deadline`: a server that drips one byte at a time never trips a read timeout), and the run as a
whole may have one (`run_timeout`, the CLI's `--timeout`): past it no request starts, and those in flight are
cut. Answers are read as a stream and refused past `max_response_bytes`; anything of theirs quoted in a
message is clipped and made printable. Where the key may go at all is `check_base_url`'s one decision (with the
hosts the operator allows, hosts.py); redirects are not followed, so it never travels further: they are
reported with their `Location` (without credentials). An answer of the wrong shape is reported as the server's, by what
was wrong, never as a crash.

The API key lives only in the `Authorization` header: it is never part of a message, a log line, an
exception or a repr (anything that might echo it is scrubbed).
"""

from __future__ import annotations

import email.utils
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone
from typing import Any

import httpcore
import httpx

from revox_sync import __version__
from revox_sync.errors import ApiError, FatalError
from revox_sync.hosts import DEFAULT_BASE_URL, KeyHosts, is_loopback, shown_url
from revox_sync.sensitive import scrub

RETRYABLE_STATUS = frozenset({408, 409, 429})
POOL_SIZE = 32
MIB = 1024 * 1024
QUOTE_LIMIT = 300  # characters of a server's text quoted in a message
ECHO_LIMIT = 200  # a request's string this long is never quoted back from an error that echoes it
SERVER_AT_FAULT = "(this is the server's answer, not a problem in your files)"


@dataclass
class UpdateResult:
    """What `PATCH /assistants/{id}` answered."""

    assistant: dict[str, Any]
    unpatched_calls_notice: dict[str, Any] | None


@dataclass
class Reply:
    """One answer, read whole: within the size cap and before the deadline."""

    status: int
    headers: httpx.Headers
    content: bytes | bytearray

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def take_text(self) -> str:
        """The body as text, which the reply no longer holds as bytes: a listing of 10,000 assistants is
        190 MiB, better not held twice while it is parsed. Raises UnicodeDecodeError (keeping the bytes)."""
        text = self.content.decode("utf-8")
        self.content = b""
        return text


@dataclass(frozen=True)
class _NotJson:
    """Internal: a 2xx body that is not JSON, kept to be described by whoever expected a shape."""

    text: str


class _Retry(Exception):
    """Internal: one attempt failed in a way worth retrying (or, when `final`, in a way not worth it)."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        unknown: bool,
        final: bool = False,
        slow: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        # True when the request may have reached the server and been applied.
        self.unknown_outcome = unknown
        self.final = final
        self.slow = slow  # cut at the request's deadline: the server answers, but too slowly


class _Cut(Exception):
    """Internal: the deadline passed while an answer was still arriving."""


def check_base_url(base_url: str, hosts: KeyHosts | None = None) -> str:
    """The base URL without a trailing slash, if the API key may go there: no credentials in it, https (plain
    http only to loopback), and with `hosts`, a host they allow (a URL from the repository's files; the
    operator's own is allowed by being given). What `Session` checks every base URL with, before a request."""
    url = base_url.strip().rstrip("/")
    if "@" in url:  # credentials (user:password@): printed in hints, saved in plans; no base URL needs an @
        raise FatalError(
            "refusing a base URL with credentials in it (user:password@): pass the key with --api-key "
            "or REVOX_API_KEY"
        )
    try:
        parsed = httpx.URL(url)
    except Exception as exc:
        raise FatalError(f"invalid base URL {url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FatalError(f"invalid base URL {url!r}: expected https://host/path")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise FatalError(
            f"refusing plain http:// base URL {url!r}: the API key would travel unencrypted; "
            "use https://, or http:// only to a loopback host (127.0.0.1, ::1, localhost)"
        )
    if hosts is not None:
        hosts.check(url)
    return url


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def _find_message(body: Any) -> tuple[str | None, str | None]:
    """The most useful (message, field) in an error body of any common shape."""
    if isinstance(body, str):
        return (body.strip() or None), None
    if isinstance(body, list):
        parts: list[str] = []
        field: str | None = None
        for item in body:
            msg, fld = _find_message(item)
            if msg:
                parts.append(f"{fld}: {msg}" if fld and fld not in msg else msg)
            field = field or fld
        return ("; ".join(parts) or None), field
    if not isinstance(body, dict):
        return None, None
    field = None
    for key in ("field", "path", "loc", "param", "property"):
        value = body.get(key)
        if isinstance(value, str) and value:
            field = value
            break
        if isinstance(value, list) and value:
            field = ".".join(str(v) for v in value)
            break
    for key in ("message", "detail", "errors", "error", "msg", "description"):
        if key not in body:
            continue
        msg, nested_field = _find_message(body[key])
        if msg:
            # {"error": "Bad Request", "message": ...}: prefer the message over the reason phrase.
            return msg, field or nested_field
    return None, field


def describe_error_body(reply: Reply, scrub: Callable[[str], str] = str) -> tuple[str | None, str | None]:
    """(message, field) of an error answer, the message clipped and printable."""
    body = _decode(reply, scrub)
    message, field = _find_message(body.text if isinstance(body, _NotJson) else body)
    return (None if message is None else clip(scrub(message))), field  # blanked first: a cut secret stays


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """A server's text as a message may quote it: at most `limit` characters, control characters escaped."""
    cut = text[:limit]
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in cut)
    return shown + ("…" if len(text) > limit else "")


def _decode(reply: Reply, scrub: Callable[[str], str] = str) -> Any:
    """The JSON of a body, or _NotJson (an empty body is not JSON either); every answer is decoded once, so
    the reply lets go of its bytes before the text is parsed."""
    try:
        text = reply.take_text()
    except UnicodeDecodeError:
        return _NotJson(scrub(reply.text))
    return _parse(text, scrub)


def _parse(text: str, scrub: Callable[[str], str]) -> Any:
    try:
        return json.loads(text)
    except ValueError:  # an integer too long to read, too
        return _NotJson(scrub(text))
    except RecursionError:
        return _NotJson("(JSON nested too deeply to read)")


def _kind(value: Any) -> str:
    """What a JSON value is, for a message about a wrong-shaped answer."""
    if isinstance(value, _NotJson):
        return (
            f"a body that is not JSON ('{clip(value.text, 100)}')" if value.text.strip() else "an empty body"
        )
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _has_id(item: dict[str, Any]) -> bool:
    return isinstance(item.get("id"), str) and bool(item["id"])


def _size(n: int) -> str:
    return f"{n // MIB} MiB" if n % MIB == 0 else f"{n} bytes"


class RevoxClient:
    """A synchronous, thread-safe client of the Revox API (the subset revox-sync needs)."""

    # Defaults of the tunables (class attributes, so that one test can shorten them for every client).
    timeout = 30.0  # seconds httpx waits to connect, or for each read or write
    request_deadline = 120.0  # wall time for one whole request, body included
    max_response_bytes = 512 * MIB  # a listing of 10,000 assistants of 16 KB is about 190 MiB
    rechecks = 5  # looks for a create whose outcome is unknown ...
    recheck_interval = 2.0  # ... this many seconds apart

    def __init__(
        self,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | None = None,
        request_deadline: float | None = None,
        run_timeout: float | None = None,
        max_response_bytes: int | None = None,
        rechecks: int | None = None,
        recheck_interval: float | None = None,
        max_retries: int = 4,
        max_retry_seconds: float = 60.0,
        backoff_base: float = 0.5,
        key_source: str = "REVOX_API_KEY (or --api-key)",
        on_retry: Callable[[str], None] | None = None,
        verbose_log: Callable[[str], None] | None = None,
        secrets: Collection[str] = (),
    ) -> None:
        self.base_url = check_base_url(base_url)
        self._api_key = api_key or None
        self._secrets = secrets  # what else messages must never quote (a set the caller keeps growing)
        given = {
            "timeout": timeout,
            "request_deadline": request_deadline,
            "max_response_bytes": max_response_bytes,
            "rechecks": rechecks,
            "recheck_interval": recheck_interval,
        }
        for name, value in given.items():
            if value is not None:
                setattr(self, name, value)
        self.run_timeout = run_timeout
        # The run's clock starts with the client, right before the first request.
        self._run_deadline = None if run_timeout is None else time.monotonic() + run_timeout
        self.max_retries = max(0, max_retries)
        self.max_retry_seconds = max_retry_seconds
        self.backoff_base = backoff_base
        self.key_source = key_source  # where the key came from: what a 401 says to check
        self.on_retry = on_retry
        self.verbose_log = verbose_log
        self._lock = threading.Lock()
        self._request_count = 0
        headers = {
            "User-Agent": f"revox-sync/{__version__}",
            "Accept": "application/json",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._deadline = threading.local()  # this thread's request deadline, read by every socket call
        transport = httpx.HTTPTransport(
            limits=httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
        )
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = _DeadlineBackend(pool._network_backend, self._deadline)
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(self.timeout),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        key = "set" if self._api_key else "none"
        return f"RevoxClient(base_url={self.base_url!r}, api_key={key})"

    # -- lifecycle -------------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RevoxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def request_count(self) -> int:
        """Total HTTP requests actually sent (every attempt counts)."""
        with self._lock:
            return self._request_count

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the run's clock: the time apply waits for a person's 'yes' is not time spent on the API."""
        started = time.monotonic()
        try:
            yield
        finally:
            if self._run_deadline is not None:
                self._run_deadline += time.monotonic() - started

    # -- endpoints -------------------------------------------------------------------------------------

    def list_assistants(self) -> list[dict[str, Any]]:
        return self._listing("GET", "/assistants", "assistants")

    def get_assistant(self, id: str) -> dict[str, Any]:
        where = f"GET /assistants/{id}"
        body = self._call("GET", f"/assistants/{id}", not_found=f"assistant {id}")
        # The API answers the bare object; tolerate an {"assistant": ...} envelope too.
        if isinstance(body, dict) and "id" not in body and isinstance(body.get("assistant"), dict):
            body = body["assistant"]
        if not isinstance(body, dict) or not _has_id(body):
            what = "an object without an 'id'" if isinstance(body, dict) else _kind(body)
            raise self._wrong_shape(where, what, "an assistant object with an 'id'")
        return body

    def create_assistant(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        result = self._call(
            "POST",
            "/assistants",
            json=body,
            recover=lambda reason: {"assistant": self._find_created("assistant", name, reason)},
        )
        return self._member(result, "assistant", "POST /assistants")

    def update_assistant(self, id: str, body: dict[str, Any]) -> UpdateResult:
        where = f"PATCH /assistants/{id}"
        result = self._call("PATCH", f"/assistants/{id}", json=body, not_found=f"assistant {id}")
        assistant = self._member(result, "assistant", where)
        notice = result.get("unpatchedCallsNotice")
        return UpdateResult(assistant=assistant, unpatched_calls_notice=notice or None)

    def delete_assistant(self, id: str) -> None:
        self._call("DELETE", f"/assistants/{id}", not_found=f"assistant {id}", gone_on_retry_ok=True)

    def list_voices(self) -> list[dict[str, Any]]:
        return self._listing("GET", "/voices", "voices", need_id=False)

    def clone_voice(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /voices/clone; the API answers the new voice itself (no envelope). Never sent twice: an
        unknown outcome looks for a clone of that name, as a create of an assistant does."""
        result = self._call(
            "POST",
            "/voices/clone",
            json=body,
            recover=lambda reason: {"voice": self._find_created("voice", body.get("name"), reason)},
        )
        return self._member({"voice": result.get("voice", result)}, "voice", "POST /voices/clone")

    def delete_voice(self, id: str) -> None:
        """DELETE /voices/{id}; a 409 (the voice is in use) is final, never retried."""
        self._call(
            "DELETE", f"/voices/{id}", not_found=f"voice {id}", gone_on_retry_ok=True, conflict_is_final=True
        )

    def list_phone_numbers(self) -> list[dict[str, Any]]:
        return self._listing("GET", "/phone-numbers", "phone_numbers")

    def update_phone_number(self, id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH /phone-numbers/{id}; the API answers `{"phone_number": {...}}`."""
        result = self._call("PATCH", f"/phone-numbers/{id}", json=body, not_found=f"phone number {id}")
        return self._member(result, "phone_number", f"PATCH /phone-numbers/{id}")

    def auth_status(self) -> bool:
        body = self._call("GET", "/auth-status")
        return bool(isinstance(body, dict) and body.get("authenticated"))

    # -- shapes of answers -----------------------------------------------------------------------------

    def _wrong_shape(self, where: str, what: str, expected: str) -> ApiError:
        return self._error(
            f"the API answered {where} with {what}: expected {expected} {SERVER_AT_FAULT}", None
        )

    def _listing(self, method: str, path: str, key: str, *, need_id: bool = True) -> list[dict[str, Any]]:
        """`{key: [object, ...]}` (each object with an `id` when `need_id`), or a wrong-shape error."""
        where = f"{method} {path}"
        expected = f"an object with an {key!r} list of objects" + (", each with an 'id'" if need_id else "")
        items = self._field(self._call(method, path), key, where, expected)
        if not isinstance(items, list):
            raise self._wrong_shape(where, f"{key!r} as {_kind(items)}", expected)
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict):
                raise self._wrong_shape(where, f"item {n} of {key!r} as {_kind(item)}", expected)
            if need_id and not _has_id(item):
                raise self._wrong_shape(where, f"item {n} of {key!r} without an 'id'", expected)
        return items

    def _member(self, body: Any, key: str, where: str) -> dict[str, Any]:
        """`{key: {"id": ..., ...}}`, the answer of a write, or a wrong-shape error."""
        expected = f"an object with an {key!r} object with an 'id'"
        inner = self._field(body, key, where, expected)
        if not isinstance(inner, dict):
            raise self._wrong_shape(where, f"{key!r} as {_kind(inner)}", expected)
        if not _has_id(inner):
            raise self._wrong_shape(where, f"{key!r} without an 'id'", expected)
        return dict(inner)

    def _field(self, body: Any, key: str, where: str, expected: str) -> Any:
        if not isinstance(body, dict):
            raise self._wrong_shape(where, _kind(body), expected)
        if key not in body:
            keys = ", ".join(clip(str(k), 40) for k in list(body)[:8]) + (", ..." if len(body) > 8 else "")
            raise self._wrong_shape(
                where, f"an object without {key!r} (its keys: {keys or 'none'})", expected
            )
        return body[key]

    # -- creates whose outcome is unknown --------------------------------------------------------------

    def _find_created(self, kind: str, name: Any, reason: str) -> dict[str, Any]:
        """After a create of unknown outcome: look for it a few times, spaced out; never send it again."""
        listing = self.list_assistants if kind == "assistant" else self._cloned_voices
        shown = json.dumps(name, ensure_ascii=False) if isinstance(name, str) else "it"
        interval = self.recheck_interval
        message = f"{reason}; the outcome is unknown: looking for {shown} in {interval:.1f}s"
        looks = 0
        while isinstance(name, str) and looks < self.rechecks and self._time_left() > interval:
            self._notify_retry(f"{message} (look {looks + 1} of {self.rechecks})")
            time.sleep(interval)
            looks += 1
            try:
                matches = [a for a in listing() if a.get("name") == name]
            except ApiError as exc:  # a failed look is one more look that did not see it
                self._log(f"looking for {shown}: {exc}")
                matches = []
            if len(matches) == 1:
                self._log(f"create of {shown} had an unknown outcome; found it created ({matches[0]['id']})")
                return matches[0]
            if len(matches) > 1:
                raise self._error(
                    f"create of {kind} {shown} had an unknown outcome and {len(matches)} {kind}s "
                    "now have that name; pin an `id` in the file and remove the duplicate",
                    None,
                )
            message = f"{shown} is not listed yet: looking again in {interval:.1f}s"
        if looks:
            span = f"{looks * interval:g}"
            seen = f"{shown} was still not listed after {looks} look{'s' if looks != 1 else ''} over {span}s"
        else:
            seen = f"there was no time left to look for {shown}"
        raise self._error(
            f"outcome unknown: {reason}, and {seen}; the server may still create it, so it was not sent "
            "again: the next plan will find it if it did",
            None,
        )

    def _cloned_voices(self) -> list[dict[str, Any]]:
        return [v for v in self.list_voices() if v.get("isCloned")]

    # -- machinery -------------------------------------------------------------------------------------

    def _quoting(self, sent: Any) -> Callable[[str], str]:
        """How a server's message is quoted back: no secret, and none of the long values of the request it
        answers (an echoed body would print a whole voice sample, say)."""
        long = [v for v in _strings(sent) if len(v) >= ECHO_LIMIT]

        def quote(text: str) -> str:
            for value in sorted(long, key=len, reverse=True):
                text = text.replace(value, "(sent data)")
            return self._scrub(text)

        return quote

    def _scrub(self, text: str) -> str:
        """`text` without the API key or any secret the caller knows (`secrets`)."""
        return str(scrub(text, [*self._secrets, *([self._api_key] if self._api_key else [])]))

    def _log(self, message: str) -> None:
        if self.verbose_log is not None:
            self.verbose_log(self._scrub(message))

    def _notify_retry(self, message: str) -> None:
        self._log(message)
        if self.on_retry is not None:
            self.on_retry(self._scrub(message))

    def _error(self, message: str, status: int | None) -> ApiError:
        return ApiError(self._scrub(message), status_code=status)

    def _time_left(self) -> float:
        """Seconds until the run's deadline (infinite without one)."""
        if self._run_deadline is None:
            return float("inf")
        return self._run_deadline - time.monotonic()

    @property
    def _limit(self) -> str:
        return f"the run's time limit (--timeout {self.run_timeout:g}s)"

    def _send(self, method: str, path: str, json: Any, deadline: float) -> Reply:
        """One exchange, read as a stream: cut at `deadline`, refused past the size cap."""
        with self._lock:
            self._request_count += 1
        started = time.monotonic()
        where = f"{method} {path}"
        self._deadline.at = deadline
        try:
            timeout = min(self.timeout, max(deadline - started, 0.001))
            with self._http.stream(method, path.lstrip("/"), json=json, timeout=timeout) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_response_bytes:
                    raise self._too_large(where)
                content = bytearray()  # grown in place: a list of chunks joined at the end is held twice
                for chunk in response.iter_bytes():
                    if time.monotonic() >= deadline:
                        raise _Cut()
                    if len(content) + len(chunk) > self.max_response_bytes:
                        raise self._too_large(where)
                    content += chunk
        except (httpx.HTTPError, _Cut) as exc:
            elapsed = (time.monotonic() - started) * 1000
            self._log(f"{where} -> {type(exc).__name__} ({elapsed:.0f} ms)")
            raise
        finally:
            self._deadline.at = None
        elapsed = (time.monotonic() - started) * 1000
        self._log(f"{where} -> {response.status_code} ({elapsed:.0f} ms)")
        return Reply(response.status_code, response.headers, content)

    def _too_large(self, where: str) -> ApiError:
        size = _size(self.max_response_bytes)
        return self._error(
            f"the API answered {where} with more than {size}: refusing to read it {SERVER_AT_FAULT}", None
        )

    def _attempt(self, method: str, path: str, json: Any, *, conflict_is_final: bool = False) -> Reply:
        """One request; raises _Retry for a retryable failure (or a final cut), ApiError for a final one."""
        where = f"{method} {path}"
        started, left = time.monotonic(), self._time_left()
        if left <= 0:
            raise self._error(f"{where} was not sent: {self._limit} was reached", None)
        by_run = left <= self.request_deadline  # the run's deadline comes before this request's own
        deadline = started + min(self.request_deadline, left)
        try:
            reply = self._send(method, path, json, deadline)
        except (httpx.TimeoutException, _Cut) as exc:
            nothing_sent = isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            if isinstance(exc, _Cut) or time.monotonic() >= deadline or deadline - started < self.timeout:
                if by_run:
                    reason = (
                        f"{where} was cut off: {self._limit} was reached before the server finished answering"
                    )
                    raise _Retry(reason, unknown=not nothing_sent, final=True) from None
                reason = f"{where} took longer than {self.request_deadline:g}s to answer (the server sends too slowly)"
                raise _Retry(reason, unknown=not nothing_sent, slow=True) from None
            if isinstance(exc, httpx.ConnectTimeout):
                raise _Retry(f"cannot reach {self.base_url}: {_exc_text(exc)}", unknown=False) from None
            if isinstance(exc, httpx.PoolTimeout):
                raise _Retry(f"no free connection ({_exc_text(exc)})", unknown=False) from None
            reason = f"timed out waiting for {where} ({type(exc).__name__})"
            raise _Retry(reason, unknown=True) from None
        except httpx.ConnectError as exc:
            if _unresolved(exc):  # the same resolver will say the same on a retry
                host = httpx.URL(self.base_url).host
                reason = f"cannot reach {self.base_url}: the host name {host!r} does not resolve (is it spelt right?)"
                raise _Retry(reason, unknown=False, final=True) from None
            # Nothing was sent: safe to retry anything.
            raise _Retry(f"cannot reach {self.base_url}: {_exc_text(exc)}", unknown=False) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            reason = f"connection dropped during {where} ({_exc_text(exc)})"
            raise _Retry(reason, unknown=True) from None
        status = reply.status
        if status == 409 and (method == "POST" or conflict_is_final):
            return reply  # a conflicting create is reported, never retried: the name may exist already
        if status in RETRYABLE_STATUS or status >= 500:
            message, _ = describe_error_body(reply, self._quoting(json))
            reason = f"{status} from {where}" + (f" ({message})" if message else "")
            raise _Retry(
                reason,
                status=status,
                retry_after=parse_retry_after(reply.headers.get("Retry-After")),
                unknown=status >= 500,
            )
        return reply

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        not_found: str | None = None,
        recover: Callable[[str], Any] | None = None,
        gone_on_retry_ok: bool = False,
        conflict_is_final: bool = False,
    ) -> Any:
        """Send with retries; returns the decoded JSON body of a 2xx answer (or _NotJson).

        `recover` takes over when the outcome is unknown: the request is then never sent again.
        """
        attempts = 0
        waited = 0.0
        maybe_applied = False
        slow = False
        while True:
            attempts += 1
            try:
                reply = self._attempt(method, path, json, conflict_is_final=conflict_is_final)
            except _Retry as failure:
                if recover is not None and failure.unknown_outcome:
                    return recover(failure.reason)
                if failure.final or (
                    failure.slow and slow
                ):  # a second slow answer: the server is the problem
                    raise self._error(failure.reason, failure.status) from None
                slow = slow or failure.slow
                maybe_applied = maybe_applied or failure.unknown_outcome
                if attempts > self.max_retries:
                    raise self._error(
                        f"gave up after {attempts} attempts: {failure.reason}", failure.status
                    ) from None
                delay = self._delay(attempts, failure.retry_after)
                if waited + delay > self.max_retry_seconds:
                    raise self._error(
                        f"gave up after {attempts} attempts (retry budget of {self.max_retry_seconds:g}s "
                        f"exhausted): {failure.reason}",
                        failure.status,
                    ) from None
                if delay >= self._time_left():
                    raise self._error(
                        f"gave up after {attempts} attempts ({self._limit} leaves no time to retry): "
                        f"{failure.reason}",
                        failure.status,
                    ) from None
                self._notify_retry(f"{failure.reason}, retrying in {delay:.1f}s")
                time.sleep(delay)
                waited += delay
                continue
            status = reply.status
            if status == 404 and gone_on_retry_ok and attempts > 1 and maybe_applied:
                self._log(f"{method} {path}: 404 on a retry, an earlier attempt already did it")
                return {"success": True}
            if status >= 300:
                raise self._final_error(method, path, reply, not_found, json)
            if status == 204:
                return {}
            return _decode(reply, self._scrub)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return random.uniform(0, self.backoff_base * (2 ** (attempt - 1)))

    def _final_error(
        self, method: str, path: str, reply: Reply, not_found: str | None, sent: Any = None
    ) -> ApiError:
        status = reply.status
        if status < 400:
            location = reply.headers.get("Location")
            to = f" to {clip(shown_url(location))}" if location else " without a Location"
            return self._error(
                f"the API answered {method} {path} with a redirect ({status}){to}: the base URL is probably "
                "wrong (revox-sync does not follow redirects, so the API key is never sent to another address)",
                status,
            )
        message, field = describe_error_body(reply, self._quoting(sent))
        if status in (401, 403):
            return self._error(
                f"the API key was rejected ({status}): check {self.key_source}",
                status,
            )
        if status == 404 and not_found is not None:
            return self._error(f"{not_found} does not exist (is the pinned id right?)", status)
        if status in (400, 422):
            text = message or "invalid request"
            if field and field not in text:
                text = f"{text} (field: {field})"
            return self._error(f"the API rejected {method} {path} ({status}): {text}", status)
        detail = f": {message}" if message else ""
        return self._error(f"{method} {path} failed ({status}){detail}", status)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpx bounds each socket read, and every byte a server drips resets that bound: here every read and
    write is also bounded by the request's deadline, so headers dripped one byte at a time are cut too."""

    def __init__(self, inner: httpcore.NetworkBackend, deadline: threading.local) -> None:
        self._inner = inner
        self._deadline = deadline

    def bound(self, timeout: float | None) -> float | None:
        at: float | None = getattr(self._deadline, "at", None)
        if at is None:
            return timeout
        left = at - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the request's deadline passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, self.bound(timeout), local_address, socket_options)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.connect_unix_socket(path, self.bound(timeout), socket_options), self
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, backend: _DeadlineBackend) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._backend.bound(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend.bound(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._backend.bound(timeout))
        return _DeadlineStream(tls, self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _unresolved(exc: BaseException) -> bool:
    """Whether the failure was the host name not resolving: a `socket.gaierror` anywhere in the chain of
    causes (httpx wraps httpcore's error, which wraps the resolver's). A temporary failure of the resolver
    (EAI_AGAIN) may pass, so it is not one."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, socket.gaierror):
            return cause.errno != socket.EAI_AGAIN
        cause = cause.__cause__ or cause.__context__
    return False


def _exc_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


__all__ = [
    "DEFAULT_BASE_URL",
    "Reply",
    "RevoxClient",
    "UpdateResult",
    "check_base_url",
    "clip",
    "parse_retry_after",
]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []

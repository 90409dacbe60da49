"""The Revox API over httpx: auth, retries with backoff, safe creates and errors a user can act on.

One `RevoxClient` holds one `httpx.Client` (connection reuse, a pool sized for `--parallelism 16`), and is
safe to share between the threads of apply's executor: httpx's client is thread-safe and the only mutable
state here (`request_count`) sits behind a lock.

Retry rules (the same for GET, PATCH and DELETE):

- retried: connection errors and timeouts, 408, 409, 429 and 5xx; `Retry-After` (seconds or an HTTP date)
  is honoured, otherwise exponential backoff with full jitter (`uniform(0, backoff_base * 2**attempt)`);
- bounded by `max_retries` (extra attempts) and `max_retry_seconds` (total time spent waiting);
- a DELETE that answers 404 on a retry counts as done: the earlier attempt deleted it.

`POST /assistants` is never retried blindly. When the outcome of a create is unknown (a timeout or a
connection dropped after the request was sent, or a 5xx), the client lists assistants and looks for one
with exactly that `name` before trying again, so a timed-out create is not made twice.

The API key lives only in the `Authorization` header: it is never part of a message, a log line, an
exception or a repr (anything that might echo it is scrubbed).
"""

from __future__ import annotations

import email.utils
import ipaddress
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timezone
from typing import Any

import httpx

from revox_sync import __version__
from revox_sync.errors import ApiError, FatalError
from revox_sync.sensitive import scrub

DEFAULT_BASE_URL = "https://www.getrevox.com/api"

RETRYABLE_STATUS = frozenset({408, 409, 429})
POOL_SIZE = 32


@dataclass
class UpdateResult:
    """What `PATCH /assistants/{id}` answered."""

    assistant: dict[str, Any]
    unpatched_calls_notice: dict[str, Any] | None


class _Retry(Exception):
    """Internal: one attempt failed in a way worth retrying."""

    def __init__(self, reason: str, *, status: int | None, retry_after: float | None, unknown: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        # True when the request may have reached the server and been applied.
        self.unknown_outcome = unknown


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, localhost and *.localhost: the only hosts plain http:// may reach."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; refuses plain http:// to anything but loopback."""
    url = base_url.strip().rstrip("/")
    try:
        parsed = httpx.URL(url)
    except Exception as exc:
        raise FatalError(f"invalid base URL {base_url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FatalError(f"invalid base URL {base_url!r}: expected https://host/path")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise FatalError(
            f"refusing plain http:// base URL {url!r}: the API key would travel unencrypted; "
            "use https://, or http:// only to a loopback host (127.0.0.1, ::1, localhost)"
        )
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


def describe_error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:500]
    return _find_message(body)


class RevoxClient:
    """A synchronous, thread-safe client of the Revox API (the subset revox-sync needs)."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        max_retry_seconds: float = 60.0,
        backoff_base: float = 0.5,
        on_retry: Callable[[str], None] | None = None,
        verbose_log: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self._api_key = api_key or None
        self.max_retries = max(0, max_retries)
        self.max_retry_seconds = max_retry_seconds
        self.backoff_base = backoff_base
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
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE),
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

    # -- endpoints -------------------------------------------------------------------------------------

    def list_assistants(self) -> list[dict[str, Any]]:
        body = self._call("GET", "/assistants")
        return list(_field(body, "assistants", "GET /assistants"))

    def get_assistant(self, id: str) -> dict[str, Any]:
        body = self._call("GET", f"/assistants/{id}", not_found=f"assistant {id}")
        if not isinstance(body, dict):
            raise ApiError(f"unexpected response from GET /assistants/{id}: not an object")
        # The API answers the bare object; tolerate an {"assistant": ...} envelope too.
        inner = body.get("assistant")
        return inner if isinstance(inner, dict) and "id" not in body else body

    def create_assistant(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")

        def recover() -> Any:
            if not isinstance(name, str):
                return None
            matches = [a for a in self.list_assistants() if a.get("name") == name]
            if len(matches) == 1:
                self._log(f"create of {name!r} had an unknown outcome; found it already created")
                return {"assistant": matches[0]}
            if len(matches) > 1:
                raise ApiError(
                    f"create of assistant {name!r} had an unknown outcome and {len(matches)} assistants "
                    "now have that name; pin an `id` in the file and remove the duplicate"
                )
            return None

        result = self._call("POST", "/assistants", json=body, recover=recover)
        return dict(_field(result, "assistant", "POST /assistants"))

    def update_assistant(self, id: str, body: dict[str, Any]) -> UpdateResult:
        result = self._call("PATCH", f"/assistants/{id}", json=body, not_found=f"assistant {id}")
        assistant = _field(result, "assistant", f"PATCH /assistants/{id}")
        notice = result.get("unpatchedCallsNotice") if isinstance(result, dict) else None
        return UpdateResult(assistant=dict(assistant), unpatched_calls_notice=notice or None)

    def delete_assistant(self, id: str) -> None:
        self._call("DELETE", f"/assistants/{id}", not_found=f"assistant {id}", gone_on_retry_ok=True)

    def list_voices(self) -> list[dict[str, Any]]:
        return list(_field(self._call("GET", "/voices"), "voices", "GET /voices"))

    def list_phone_numbers(self) -> list[dict[str, Any]]:
        return list(_field(self._call("GET", "/phone-numbers"), "phone_numbers", "GET /phone-numbers"))

    def update_phone_number(self, id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH /phone-numbers/{id}; the API answers `{"phone_number": {...}}`."""
        result = self._call("PATCH", f"/phone-numbers/{id}", json=body, not_found=f"phone number {id}")
        return dict(_field(result, "phone_number", f"PATCH /phone-numbers/{id}"))

    def auth_status(self) -> bool:
        body = self._call("GET", "/auth-status")
        return bool(isinstance(body, dict) and body.get("authenticated"))

    # -- machinery -------------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return str(scrub(text, [self._api_key] if self._api_key else []))

    def _log(self, message: str) -> None:
        if self.verbose_log is not None:
            self.verbose_log(self._scrub(message))

    def _notify_retry(self, message: str) -> None:
        self._log(message)
        if self.on_retry is not None:
            self.on_retry(self._scrub(message))

    def _error(self, message: str, status: int | None) -> ApiError:
        return ApiError(self._scrub(message), status_code=status)

    def _send(self, method: str, path: str, json: Any) -> httpx.Response:
        with self._lock:
            self._request_count += 1
        started = time.monotonic()
        try:
            response = self._http.request(method, path.lstrip("/"), json=json)
        except httpx.HTTPError as exc:
            elapsed = (time.monotonic() - started) * 1000
            self._log(f"{method} {path} -> {type(exc).__name__} ({elapsed:.0f} ms)")
            raise
        elapsed = (time.monotonic() - started) * 1000
        self._log(f"{method} {path} -> {response.status_code} ({elapsed:.0f} ms)")
        return response

    def _attempt(self, method: str, path: str, json: Any) -> httpx.Response:
        """One request; raises _Retry for a retryable failure, ApiError for a final one."""
        try:
            response = self._send(method, path, json)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing was sent: safe to retry anything.
            reason = f"cannot reach {self.base_url}: {_exc_text(exc)}"
            raise _Retry(reason, status=None, retry_after=None, unknown=False) from None
        except httpx.PoolTimeout as exc:
            raise _Retry(
                f"no free connection ({_exc_text(exc)})", status=None, retry_after=None, unknown=False
            ) from None
        except httpx.TimeoutException as exc:
            reason = f"timed out waiting for {method} {path} ({type(exc).__name__})"
            raise _Retry(reason, status=None, retry_after=None, unknown=True) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            reason = f"connection dropped during {method} {path} ({_exc_text(exc)})"
            raise _Retry(reason, status=None, retry_after=None, unknown=True) from None
        status = response.status_code
        if status == 409 and method == "POST":
            return response  # a conflicting create is reported, never retried: the name may exist already
        if status in RETRYABLE_STATUS or status >= 500:
            message, _ = describe_error_body(response)
            reason = f"{status} from {method} {path}" + (f" ({message})" if message else "")
            raise _Retry(
                reason,
                status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                unknown=status >= 500,
            )
        return response

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        not_found: str | None = None,
        recover: Callable[[], Any] | None = None,
        gone_on_retry_ok: bool = False,
    ) -> Any:
        """Send with retries; returns the decoded JSON body of a 2xx answer."""
        attempts = 0
        waited = 0.0
        maybe_applied = False
        while True:
            attempts += 1
            try:
                response = self._attempt(method, path, json)
            except _Retry as failure:
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
                if recover is not None and failure.unknown_outcome:
                    self._notify_retry(
                        f"{failure.reason}; checking whether it went through, retrying in {delay:.1f}s"
                    )
                else:
                    self._notify_retry(f"{failure.reason}, retrying in {delay:.1f}s")
                time.sleep(delay)
                waited += delay
                if recover is not None and failure.unknown_outcome:
                    found = recover()
                    if found is not None:
                        return found
                continue
            status = response.status_code
            if status == 404 and gone_on_retry_ok and attempts > 1 and maybe_applied:
                self._log(f"{method} {path}: 404 on a retry, an earlier attempt already did it")
                return {"success": True}
            if status >= 400:
                raise self._final_error(method, path, response, not_found)
            if status == 204 or not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise self._error(
                    f"{method} {path} answered {status} with a body that is not JSON", status
                ) from None

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return random.uniform(0, self.backoff_base * (2 ** (attempt - 1)))

    def _final_error(
        self, method: str, path: str, response: httpx.Response, not_found: str | None
    ) -> ApiError:
        status = response.status_code
        message, field = describe_error_body(response)
        if status in (401, 403):
            return self._error(
                f"the API key was rejected ({status}): check REVOX_API_KEY or --api-key",
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


def _field(body: Any, key: str, where: str) -> Any:
    if not isinstance(body, dict) or key not in body:
        raise ApiError(f"unexpected response from {where}: no {key!r} field")
    return body[key]


def _exc_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


__all__ = ["DEFAULT_BASE_URL", "RevoxClient", "UpdateResult", "check_base_url", "parse_retry_after"]

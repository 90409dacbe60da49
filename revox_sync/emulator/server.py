"""A faithful local Revox API on loopback, for tests, benchmarks, `--local` and `revox-sync emulator`.

Why `http.server.ThreadingHTTPServer` from the standard library: it adds no dependency to the package,
starts in milliseconds (tests start one per test), serves concurrent requests on threads (the latency
benchmark needs parallel PATCHes to overlap), and speaks HTTP/1.1 keep-alive so the client's connection
reuse is exercised as in production. The API is small; a framework would buy nothing.

The API is served under `/api` (so a base URL like `http://127.0.0.1:PORT/api` behaves like
`https://www.getrevox.com/api`); paths without the prefix are accepted too.

Error bodies (every non-2xx answer is JSON):

    {"error": "Bad Request", "message": "Unknown field 'x'", "field": "x"}     400 (field when known)
    {"error": "Unauthorized", "message": "Invalid or missing API key"}          401
    {"error": "Not Found", "message": "Assistant asst_... not found"}           404
    {"error": "Conflict", "message": "Voice ... is in use by 1 assistant: ..."}   409 (DELETE /voices/{id})
    {"error": ..., "message": "Audio too large: ...", "field": "audio"}         413 (POST /voices/clone)
    {"error": "Too Many Requests", "message": "Injected fault"}                 injected faults

Fault injection (`inject`) makes the server answer a status (with `Retry-After`, or any body and headers:
a wrong-shaped answer, a redirect), wait (a fixed time, or until the test releases it), send its answer one
byte at a time (`drip`: a slow server), or close the connection without answering, either before doing
anything (`drop="before"`) or after committing the write (`drop="after"`: what a client sees when its
request timed out but the server did the work).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from revox_sync import __version__
from revox_sync.emulator.state import EmulatorState
from revox_sync.emulator.store import StateError
from revox_sync.emulator.wire import ApiError
from revox_sync.hosts import is_loopback

API_PREFIX = "/api"
_ASSISTANT = re.compile(r"^/assistants/([^/]+)$")
_PHONE_NUMBER = re.compile(r"^/phone-numbers/([^/]+)$")
_VOICE = re.compile(r"^/voices/([^/]+)$")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received; `path` is the API path without the `/api` prefix."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class Fault:
    method: str
    path_regex: re.Pattern[str]
    status: int | None = None
    retry_after: str | None = None
    delay: float | None = None
    drop: Literal["before", "after"] | None = None
    times: int = 1
    commit: bool = False
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drip: float | None = None
    until: threading.Event | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and bool(self.path_regex.search(path))


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, message: str, field_name: str | None = None) -> _Answer:
    body: dict[str, Any] = {"error": http.client.responses.get(status, "Error"), "message": message}
    if field_name:
        body["field"] = field_name
    return _Answer(status, body)


class EmulatorServer:
    """The emulator on a loopback port; a context manager that starts and stops it."""

    def __init__(
        self,
        state: EmulatorState | None = None,
        *,
        state_file: Path | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`tls`: serve https with this context, as a stand-in for an API host that is not loopback (a test
        resolves a name to it)."""
        if not is_loopback(host):
            raise ValueError(
                f"the emulator only binds loopback hosts (127.0.0.1, ::1, localhost), not {host!r}"
            )
        if state is not None and state_file is not None:
            raise ValueError("give the emulator a state or a state file, not both")
        if state is None:
            state = EmulatorState.load(Path(state_file)) if state_file is not None else EmulatorState()
        self.state = state
        self.api_key = api_key
        self.host = host
        self.port = port
        self.tls = tls
        self.latency = 0.0
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        if self._httpd is not None:
            return self
        handler = _make_handler(self)
        server_cls = _IPv6Server if ":" in self.host else _Server
        httpd = server_cls((self.host, self.port), handler)
        httpd.daemon_threads = True
        if self.tls is not None:  # the handshake happens on each connection's first read, in its own thread
            httpd.socket = self.tls.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="revox-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None
        self.state.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{API_PREFIX}"

    # -- request log ----------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # -- faults ---------------------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: int | None = None,
        retry_after: float | str | None = None,
        delay: float | None = None,
        drop: Literal["before", "after"] | None = None,
        times: int = 1,
        commit: bool = False,
        body: Any = None,
        headers: dict[str, str] | None = None,
        drip: float | None = None,
        until: threading.Event | None = None,
    ) -> None:
        """Make the next `times` requests matching METHOD (or "*") and the path regex misbehave.

        `status` answers that status (with `Retry-After` when given, `body` instead of the JSON error when
        given: bytes go out as they are, anything else as JSON; plus any `headers`) without doing the
        request, or after doing it when `commit` is true (a 5xx from a server that did the work anyway).
        `delay` waits first; with `until`, it waits until the event is set (at most `delay` seconds, when
        given). `drip` sends the answer one byte every `drip` seconds. `drop="before"` closes the
        connection without doing anything; `drop="after"` does the request, commits it, then closes the
        connection without answering.
        """
        if drop not in (None, "before", "after"):
            raise ValueError("drop must be 'before', 'after' or None")
        with self._lock:
            self._faults.append(
                Fault(
                    method=method.upper(),
                    path_regex=re.compile(path_regex),
                    status=status,
                    retry_after=None if retry_after is None else str(retry_after),
                    delay=delay,
                    drop=drop,
                    times=times,
                    commit=commit,
                    body=body,
                    headers=dict(headers or {}),
                    drip=drip,
                    until=until,
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- routing --------------------------------------------------------------------------------------

    def _authorised(self, headers: dict[str, str]) -> bool:
        if self.api_key is None:
            return True
        return headers.get("authorization", "") == f"Bearer {self.api_key}"

    def handle(self, method: str, path: str, body: Any) -> _Answer:
        state = self.state
        try:
            if path == "/assistants":
                if method == "GET":
                    return _Answer(200, {"assistants": state.list_assistants()})
                if method == "POST":
                    return _Answer(200, {"assistant": state.create_assistant(body)})
                return _error(405, f"Method {method} not allowed on {path}")
            m = _ASSISTANT.match(path)
            if m:
                assistant_id = m.group(1)
                if method == "GET":
                    return _Answer(200, state.get_assistant(assistant_id))
                if method == "PATCH":
                    assistant, notice = state.update_assistant(assistant_id, body)
                    out: dict[str, Any] = {"assistant": assistant}
                    if notice is not None:
                        out["unpatchedCallsNotice"] = notice
                    return _Answer(200, out)
                if method == "DELETE":
                    state.delete_assistant(assistant_id)
                    return _Answer(200, {"success": True})
                return _error(405, f"Method {method} not allowed on {path}")
            if path == "/voices":
                if method == "GET":
                    return _Answer(200, {"voices": state.list_voices()})
                return _error(405, f"Method {method} not allowed on {path}")
            if path == "/voices/clone":
                if method == "POST":
                    return _Answer(200, state.clone_voice(body))
                return _error(405, f"Method {method} not allowed on {path}")
            m = _VOICE.match(path)
            if m:
                # The SDK's retrieve sends `?provider=`; the handler strips the query before routing, and a
                # voice id names one voice, so the id alone finds it.
                if method == "GET":
                    return _Answer(200, {"voice": state.get_voice(m.group(1))})
                if method == "DELETE":
                    state.delete_voice(m.group(1))
                    return _Answer(200, {"success": True})
                return _error(405, f"Method {method} not allowed on {path}")
            if path == "/phone-numbers" and method == "GET":
                return _Answer(200, {"phone_numbers": state.list_phone_numbers()})
            m = _PHONE_NUMBER.match(path)
            if m and method == "PATCH":
                return _Answer(200, {"phone_number": state.update_phone_number(m.group(1), body)})
            if path == "/auth-status" and method == "GET":
                return _Answer(200, {"authenticated": True})
            return _error(404, f"No route for {method} {path}")
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.field)
        except StateError as exc:  # the state file broke under a running server: say so, as a server error
            return _error(500, str(exc))


def _injected(fault: Fault) -> _Answer:
    """The answer an injected status gives: its own body and headers, or the usual JSON error."""
    assert fault.status is not None
    answer = (
        _error(fault.status, "Injected fault") if fault.body is None else _Answer(fault.status, fault.body)
    )
    answer.headers.update(fault.headers)
    if fault.retry_after is not None:
        answer.headers["Retry-After"] = fault.retry_after
    return answer


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout, an interrupt) is ordinary here: no traceback on stderr."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


def _make_handler(server: EmulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, the body waits for the client's
        # delayed ACK (~40 ms per request on Linux), which would swamp any latency measurement.
        disable_nagle_algorithm = True
        server_version = f"revox-emulator/{__version__}"
        timeout = 60

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the request log is `server.requests`

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            if path.startswith(API_PREFIX + "/") or path == API_PREFIX:
                path = path[len(API_PREFIX) :] or "/"
            if len(path) > 1:
                path = path.rstrip("/")
            headers = {k.lower(): v for k, v in self.headers.items()}
            recorded_headers = dict(headers)
            if "authorization" in recorded_headers:
                recorded_headers["authorization"] = "Bearer (redacted)"
            body: Any = None
            bad_json = False
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body, bad_json = raw.decode("utf-8", "replace"), True
            server._record(RecordedRequest(self.command, path, body, recorded_headers))

            if server.latency:
                time.sleep(server.latency)
            fault = server._take_fault(self.command, path)
            drip = fault.drip if fault is not None else None
            if fault is not None:
                if fault.until is not None:
                    fault.until.wait(fault.delay)
                elif fault.delay:
                    time.sleep(fault.delay)
                if fault.drop == "before":
                    self._drop()
                    return
                if fault.status is not None and not fault.commit:
                    self._send(_injected(fault), drip)
                    return

            if not server._authorised(headers):
                answer = _Answer(401, {"error": "Unauthorized", "message": "Invalid or missing API key"})
            elif bad_json:
                answer = _error(400, "Request body is not valid JSON")
            else:
                answer = server.handle(self.command, path, body)
            if fault is not None and fault.drop == "after":
                self._drop()
                return
            if fault is not None and fault.status is not None:
                answer = _injected(fault)
            self._send(answer, drip)

        def _drop(self) -> None:
            self.close_connection = True
            self.wfile.flush()

        def _send(self, answer: _Answer, drip: float | None = None) -> None:
            data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode("utf-8")
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in answer.headers.items():
                self.send_header(key, value)
            try:
                self.end_headers()
                if not drip:
                    self.wfile.write(data)
                    return
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    time.sleep(drip)
            except OSError:  # the client gave up waiting (a timeout, a deadline): nobody left to answer
                self.close_connection = True

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _dispatch

    return Handler

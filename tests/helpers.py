"""Helpers for tests that drive the real CLI: what a user saw, and files written for real."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TextIO

from revox_sync.cli import main
from revox_sync.client import RevoxClient
from revox_sync.engine.apply import Result, apply_plan
from revox_sync.engine.change import Desired
from revox_sync.engine.plan import Plan, build_plan
from revox_sync.kinds import KINDS
from revox_sync.output import Environment

# A project file for tests of other things whose outbound assistants (a call_retry_config) need not pass the
# calling-law rules: those have tests of their own.
NOT_ABOUT_POLICY = "rules: {ai-disclosure: off, opt-out: off, fixed-timezone: off}\n"


@dataclass
class Run:
    """What a user saw: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    @property
    def all(self) -> str:
        return self.out + self.err


def run_cli(
    *args: str, stdin: str | TextIO = "", tty: bool = False, environ: dict[str, str] | None = None
) -> Run:
    """`stdin`: what the user types, or a stand-in for the user (one that acts while apply waits for yes)."""
    out, err = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=io.StringIO(stdin) if isinstance(stdin, str) else stdin,
        stdout=out,
        stderr=err,
        environ=dict(os.environ) if environ is None else environ,
        stdin_isatty=tty,
        stdout_isatty=tty,
        color=False,
    )
    code = main(list(args), env)
    return Run(code, out.getvalue(), err.getvalue())


def write(path: Path | str, text: str | bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def assistant(name: str, **data: object) -> Desired:
    """An assistant as a file would declare it (name, plus `data`)."""
    return Desired("assistant", name, {"name": name, **data})


def plan_assistants(desired: list[Desired], remote: list[dict[str, object]], **options: object) -> Plan:
    """The engine's plan of assistants alone: the kinds of the registry, one of them configured."""
    from revox_sync.engine.kind import Loaded

    return build_plan(KINDS, {"assistant": Loaded(list(desired))}, {"assistant": list(remote)}, **options)  # type: ignore[arg-type]


def apply_all(plan: Plan, client: RevoxClient, parallelism: int = 4) -> list[Result]:
    """The engine's apply of `plan` with every kind of the registry."""
    return apply_plan(plan, {k.name: k for k in KINDS}, client, parallelism=parallelism)


class JsonHandler(BaseHTTPRequestHandler):
    """A stand-in server's request handler (a misbehaving API, GitHub): JSON answers, no log lines."""

    def _answer(self, status: int, doc: object) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass

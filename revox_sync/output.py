"""All terminal output goes through here: one `Environment`, colour decided once."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from revox_sync.sensitive import MIN_SECRET_LENGTH, scrub

COLORS = {"red": "31", "green": "32", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}


@dataclass
class Environment:
    """What the program reads and writes besides files and the network; tests pass their own."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    stdin_isatty: bool | None = None
    stdout_isatty: bool | None = None
    color: bool | None = None
    verbose: bool = False
    secrets: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        if self.stdin_isatty is None:
            self.stdin_isatty = _isatty(self.stdin)
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)
        if self.color is None:
            self.color = bool(self.stdout_isatty) and not self.environ.get("NO_COLOR")  # no-color.org

    @property
    def interactive(self) -> bool:
        return bool(self.stdin_isatty and self.stdout_isatty)

    def style(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(COLORS[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def add_secrets(self, values: Iterable[str]) -> None:
        """Values that must never be printed, wherever they turn up (a secret inside a prompt diff, say)."""
        for value in values:
            if len(value) >= MIN_SECRET_LENGTH:
                self.secrets.add(value)
                self.secrets.add(json.dumps(value, ensure_ascii=False)[1:-1])  # as it reads inside JSON

    def scrub(self, text: str) -> str:
        return str(scrub(text, self.secrets))

    def out(self, text: str = "") -> None:
        self.stdout.write(self.scrub(text) + "\n")
        self.stdout.flush()

    def err(self, text: str) -> None:
        self.stderr.write(self.scrub(text) + "\n")
        self.stderr.flush()

    def error(self, text: str) -> None:
        self.err(self._err_style(f"error: {text}", "red"))

    def warn(self, text: str) -> None:
        self.err(self._err_style(text, "yellow"))

    def info(self, text: str) -> None:
        """Progress and notes: stderr, so stdout stays parseable (`plan --format json`)."""
        self.err(text)

    def debug(self, text: str) -> None:
        if self.verbose:
            self.err(self._err_style(f"debug: {text}", "dim"))

    def _err_style(self, text: str, *styles: str) -> str:
        return self.style(text, *styles) if _isatty(self.stderr) and self.color else text


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

"""All terminal output goes through here: one `Environment`, colour decided once."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any, TextIO

from revox_sync.sensitive import MIN_SECRET_LENGTH, SENSITIVE, preferred, scrub_shown

COLORS = {"red": "31", "green": "32", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}
# C0 and C1 controls but tab, DEL, line and paragraph separators, the bidirectional marks and overrides, and
# lone surrogates (how Python reads a file name's bytes that are not UTF-8: no UTF-8 output can hold one)
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# A workflow command's first character: `::` at the start after whitespace (the runner trims Unicode spaces
# too), or the legacy `##[`, which the runner reads anywhere in a line
_COMMAND = re.compile(r"\A(\s*):(?=:)|#(?=#\[)")

MAX_VALUE_CHARS = 2_000  # of one value or diff line as printed; the JSON plan keeps every value whole
MAX_MESSAGE_CHARS = 4_000  # of one line of an error, warning or note


def clip(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """At most `limit` characters of `text`, and how many more there were."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


def _escaped(char: str) -> str:
    return f"\\u{ord(char):04x}"


def _command_broken(match: re.Match[str]) -> str:
    """A workflow command's first character escaped, the whitespace before it kept."""
    lead = match.group(1) or ""
    return lead + _escaped(match.group()[len(lead)])


def quoted(name: Any) -> str:
    """A name set in the dashboard, as a message quotes it: one line, escaped like JSON, cut if huge."""
    return clip(json.dumps(str(name), ensure_ascii=False), 200)


def listed(names: Sequence[Any], limit: int = 10) -> str:
    """The first `limit` names, quoted, and how many more there are."""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(quoted(n) for n in names[:limit]) + more


def printable(text: str) -> str:
    """`text` safe to print as one terminal line or log line: control characters (ESC, CR, backspace,
    newline, C1), bidirectional overrides and lone surrogates (a file name's bytes that are not UTF-8) become visible `\\uXXXX` escapes, so a name set in the dashboard
    cannot rewrite, hide or reorder the line it is printed on; and the first character of what GitHub's runner
    would take for a workflow command (`::` starting the text, `##[` anywhere) becomes one too, so no text
    from a file or the account can mask a value, stop the commands or fake an annotation in a step log.
    In JSON, each escape is the JSON escape of the same character. Tabs, accents and emoji are left as they
    are."""
    return _COMMAND.sub(_command_broken, _UNPRINTABLE.sub(lambda m: _escaped(m.group()), text))


def printable_lines(text: str) -> str:
    """Each line of `text` made printable; its line breaks kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


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
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # value -> what it prints as

    def __post_init__(self) -> None:
        if self.stdin_isatty is None:
            self.stdin_isatty = _isatty(self.stdin)
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)
        if self.color is None:
            self.color = bool(self.stdout_isatty) and not self.environ.get("NO_COLOR")  # no-color.org

    def diverted(self) -> Environment:
        """This environment with what it would print on stdout sent to stderr instead (sharing its secrets):
        for the people watching a run whose stdout is one JSON document."""
        return dataclasses.replace(self, stdout=self.stderr, stdout_isatty=_isatty(self.stderr))

    @property
    def interactive(self) -> bool:
        return bool(self.stdin_isatty and self.stdout_isatty)

    def style(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(COLORS[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def add_secrets(self, values: Iterable[str], shown: str = SENSITIVE) -> None:
        """Values that must never be printed, wherever they turn up (a secret inside a prompt diff, say),
        and what each prints as instead (`sensitive.shown_as`: the variable it came from)."""
        for value in values:
            if len(value) >= MIN_SECRET_LENGTH:
                # as it is, as it reads inside JSON, inside JSON that escapes every non-ASCII letter, as printed
                # (a secret holding `##[`); json.dumps's own encoders of a string, without its per-call set-up,
                # and each form once (usually all four are one text): a plan learns a secret per assistant
                for form in dict.fromkeys(
                    (
                        value,
                        encode_basestring(value)[1:-1],
                        encode_basestring_ascii(value)[1:-1],
                        printable(value),
                    )
                ):
                    known = self.secrets.get(form)
                    self.secrets[form] = shown if known is None or known == shown else preferred(known, shown)

    def scrub(self, text: str) -> str:
        return str(scrub_shown(text, self.secrets))

    def out(self, text: str = "") -> None:
        """Rendered output: its renderer made every line printable before styling it."""
        self.stdout.write(self.scrub(text) + "\n")
        self.stdout.flush()

    def err(self, text: str) -> None:
        self._emit(self._safe(text))

    def error(self, text: str) -> None:
        self._emit(self._err_style(f"error: {self._safe(text)}", "red"))

    def warn(self, text: str) -> None:
        self._emit(self._err_style(self._safe(text), "yellow"))

    def info(self, text: str) -> None:
        """Progress and notes: stderr, so stdout stays parseable (`plan --format json`)."""
        self.err(text)

    def debug(self, text: str) -> None:
        if self.verbose:
            self._emit(self._err_style(f"debug: {self._safe(text)}", "dim"))

    def _safe(self, text: str) -> str:
        """Messages quote what servers and files said: no secret, no control character, no line longer than
        MAX_MESSAGE_CHARS gets through."""
        return "\n".join(clip(printable(line), MAX_MESSAGE_CHARS) for line in self.scrub(text).split("\n"))

    def _emit(self, text: str) -> None:
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def _err_style(self, text: str, *styles: str) -> str:
        return self.style(text, *styles) if _isatty(self.stderr) and self.color else text


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

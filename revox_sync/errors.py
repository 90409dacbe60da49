"""The one family of expected failures: each becomes a short message and exit code 1 at the CLI boundary."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from revox_sync.output import printable


class FatalError(Exception):
    """An expected failure the user can act on; the CLI prints it without a traceback."""


@dataclass(frozen=True, order=True)
class Location:
    """Where a value came from: 1-based line and column, as editors count."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        if self.col <= 0:  # a line of a file that has no columns to speak of (a CSV row)
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class LocatedWarning:
    location: Location
    message: str

    def __str__(self) -> str:
        return printable(f"{self.location}: warning: {self.message}")


class LocatedError(FatalError):
    """An error that points into a file: printed as `path:line:col: message`, one line (a line break the
    message quotes from a file is escaped)."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(printable(f"{location}: {message}"))
        self.location = location
        self.message = message

    def __reduce__(self) -> tuple[type[LocatedError], tuple[Location, str]]:
        """Pickled as what it was made from (validate's worker processes send errors back)."""
        return (type(self), (self.location, self.message))

    def reworded(self, message: str) -> LocatedError:
        """The same error, at the same place and of the same kind, with another message."""
        return LocatedError(self.location, message)


class UnsetSecret(LocatedError):
    """`${NAME}` without a value nor a default where a secret goes (a sensitive field, or a variable with a
    sensitive name): an error for plan and apply, which send the value; an offline check reads the file
    without it (a teammate without the production secret can still check the files)."""

    def __init__(self, location: Location, message: str, variable: str) -> None:
        super().__init__(location, message)
        self.variable = variable

    def __reduce__(self) -> tuple[type[UnsetSecret], tuple[Location, str, str]]:  # type: ignore[override]
        return (type(self), (self.location, self.message, self.variable))

    def reworded(self, message: str) -> UnsetSecret:
        return UnsetSecret(self.location, message, self.variable)


def blocking(errors: Iterable[LocatedError]) -> list[LocatedError]:
    """The errors that leave a file's data unusable: all but the unset secrets, whose stand-in (the
    reference as written) keeps the file's shape."""
    return [e for e in errors if not isinstance(e, UnsetSecret)]


class ConfigErrors(FatalError):
    """Every error of one run, reported together."""

    def __init__(self, errors: Iterable[LocatedError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.location, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))


class ApiError(FatalError):
    """The Revox API answered with an error, or could not be reached."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class StalePlanError(FatalError):
    """A saved plan no longer matches the remote state or the configuration."""

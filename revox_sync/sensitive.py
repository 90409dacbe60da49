"""What is sensitive (CONTRACT §1), in one place: it never reaches output, logs or saved plans.

Kept free of heavy imports: every command consults it at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

SENSITIVE = "(sensitive)"  # what a sensitive value prints as

Path = tuple[str | int, ...]

# Sensitive fields by name; "*" matches any list index.
SENSITIVE_PATTERNS: tuple[Path, ...] = (
    ("llm_model", "api_key"),
    ("custom_tools", "*", "headers", "*", "value"),
)
# Any value that came from a variable whose name contains one of these words.
SENSITIVE_VARIABLE_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")


def is_sensitive_path(path: Path) -> bool:
    """True when `path` (or an ancestor) is a sensitive field by name."""
    for pattern in SENSITIVE_PATTERNS:
        if len(path) >= len(pattern) and all(
            (p == "*" and isinstance(x, int)) or p == x for p, x in zip(pattern, path, strict=False)
        ):
            return True
    return False


MIN_SECRET_LENGTH = 6  # shorter values would blank out ordinary words; real keys are far longer


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """`value` (a string, or lists and dicts of them) with every occurrence of a secret replaced by
    SENSITIVE: the one way a known secret is kept out of text, data and saved plans."""
    if isinstance(value, str):
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH and secret in value:
                value = value.replace(secret, SENSITIVE)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    return value


def is_secret(path: Path, from_variables: Iterable[Path] = ()) -> bool:
    """True when the value at `path` is sensitive: by field name, or because it (or an ancestor) came
    from a sensitive variable (`from_variables`: the loader's record of such paths)."""
    return is_sensitive_path(path) or any(path[: len(p)] == p for p in from_variables)


def secret_values(value: Any, loc: Path = (), from_variables: Iterable[Path] = ()) -> Iterator[str]:
    """Every value inside `value` (found at `loc`) that is secret: what output must blank wherever it
    turns up, whether it came from a variable or was written in a file literally."""
    if is_secret(loc, from_variables):
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
            yield str(value)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from secret_values(item, (*loc, key), from_variables)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_values(item, (*loc, index), from_variables)


def is_sensitive_variable(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in SENSITIVE_VARIABLE_WORDS)

"""What is sensitive (CONTRACT §1), in one place: it never reaches output, logs or saved plans.

Kept free of heavy imports: every command consults it at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

SENSITIVE = "(sensitive)"  # what a sensitive value prints as, when no variable names it

Path = tuple[str | int, ...]

# Sensitive fields by name; "*" matches any list index.
SENSITIVE_PATTERNS: tuple[Path, ...] = (
    ("llm_model", "api_key"),
    ("custom_tools", "*", "headers", "*", "value"),
)
# Any value that came from a variable whose name contains one of these words.
SENSITIVE_VARIABLE_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")


SENSITIVE_TOP_FIELDS = frozenset(pattern[0] for pattern in SENSITIVE_PATTERNS)  # where sensitive paths start


def is_sensitive_path(path: Path) -> bool:
    """True when `path` (or an ancestor) is a sensitive field by name."""
    if not path or path[0] not in SENSITIVE_TOP_FIELDS:  # most paths: asked once per value walked
        return False
    for pattern in SENSITIVE_PATTERNS:
        if len(path) >= len(pattern) and all(
            (p == "*" and isinstance(x, int)) or p == x for p, x in zip(pattern, path, strict=False)
        ):
            return True
    return False


# Shorter values are never searched for in text: a 2-character token would blank out ordinary words (and
# `import` would shred prompts into placeholders). Real keys and tokens are far longer.
MIN_SECRET_LENGTH = 6


class Shown(str):
    """A sensitive value as it may be printed: SENSITIVE, or the variables it came from. Never a secret."""


def shown_as(names: Sequence[str] = ()) -> Shown:
    """What a secret made from the variables `names` prints as: `(sensitive: ${A}, ${B})`, or SENSITIVE for
    one written in a file: the reviewer sees which secret goes where, never its value."""
    if not names:
        return Shown(SENSITIVE)
    return Shown(f"(sensitive: {', '.join('${' + n + '}' for n in names)})")


def preferred(a: str, b: str) -> str:
    """Of two ways to show one secret value, the one every run picks whatever order it learns them in: one
    that names a variable, and of two such, the first in order."""
    return min(a, b, key=lambda shown: (shown == SENSITIVE, shown))


class Source(NamedTuple):
    """The variables a value of a file was made from (in the order written). `inline`: the value is a text
    whose secrets are all long enough to be found again (MIN_SECRET_LENGTH) and all came from variables
    that are set, so it may be shown with each blanked where it stands rather than blanked whole."""

    names: tuple[str, ...]
    inline: bool = False
    defaulted: tuple[str, ...] = ()  # those unset (or empty) whose `${NAME:-default}` default was used


def secret_names(path: Path, source: Source | None) -> tuple[str, ...]:
    """The variables that name the secret at `path`: every one it was made from at a sensitive field, and
    elsewhere the sensitive ones (the rest of a prompt is no secret)."""
    if source is None:
        return ()
    if is_sensitive_path(path):
        return source.names
    return tuple(n for n in source.names if is_sensitive_variable(n))


def shown_inline(path: Path, source: Source | None) -> bool:
    """True when the value at `path` is shown with its secrets blanked in place: a text from a sensitive
    variable at a field that is not sensitive itself (a prompt holding `${STRIPE_TOKEN}`)."""
    return source is not None and source.inline and not is_sensitive_path(path)


def secret_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of `secrets` (those of at least MIN_SECRET_LENGTH), the longest first, so a
    secret that contains another is matched whole; None when there is none to look for."""
    return _pattern(tuple(sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH})))


@lru_cache(maxsize=64)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    if not secrets:
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """`value` (a string, or lists and dicts of them) with every occurrence of a secret replaced by
    SENSITIVE: the one way a known secret is kept out of text, data and saved plans."""
    pattern = secret_pattern(secrets)
    return value if pattern is None else _scrub(value, lambda text: pattern.sub(SENSITIVE, text))


def scrub_shown(value: Any, shown: Mapping[str, str]) -> Any:
    """`scrub`, each secret replaced by what `shown` says it prints as (the variable it came from)."""
    return blanker(shown)(value)


def blanker(shown: Mapping[str, str]) -> Callable[[Any], Any]:
    """`scrub_shown` with `shown` fixed, its pattern made once: for the many values of one plan."""
    pattern = secret_pattern(shown)
    if pattern is None:
        return lambda value: value

    def sub(text: str) -> str:
        return pattern.sub(lambda m: shown.get(m.group(), SENSITIVE), text)

    return lambda value: _scrub(value, sub)


def _scrub(value: Any, sub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return sub(value)
    if isinstance(value, dict):
        return {k: _scrub(v, sub) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, sub) for v in value]
    return value


def is_secret(path: Path, from_variables: Iterable[Path] = ()) -> bool:
    """True when the value at `path` is sensitive: by field name, or because it (or an ancestor) came
    from a sensitive variable (`from_variables`: the loader's record of such paths)."""
    return is_sensitive_path(path) or any(path[: len(p)] == p for p in from_variables)


# Where secrets can be, as tries of path parts whose ends are marked: a walk over a value follows them and
# leaves alone every branch no secret can be under (most of an assistant). In the tries of the patterns "*"
# stands for any list index; a path that came from a variable is matched part for part.
_END = object()
Cursor = tuple[tuple[dict[Any, Any], bool], ...]  # (trie node, "*" is a wildcard there); empty: nothing below


def _trie(paths: Iterable[Path]) -> dict[Any, Any]:
    root: dict[Any, Any] = {}
    for path in paths:
        node = root
        for part in path:
            node = node.setdefault(part, {})
        node[_END] = True
    return root


_PATTERNS_TRIE = _trie(SENSITIVE_PATTERNS)


@lru_cache(maxsize=256)
def _start(from_variables: frozenset[Path]) -> Cursor:
    return ((_PATTERNS_TRIE, True), (_trie(from_variables), False))


def secret_cursor(loc: Path, from_variables: Iterable[Path] = ()) -> Cursor:
    """Where `loc` stands among the secret paths: `is_end` of it is `is_secret(loc, from_variables)`."""
    variables = from_variables if isinstance(from_variables, frozenset) else frozenset(from_variables)
    cursor = _start(variables)
    for part in loc:
        if is_end(cursor):
            break
        cursor = step(cursor, part)
    return cursor


def step(cursor: Cursor, part: str | int) -> Cursor:
    """The cursor of a child (`part`: its key or index)."""
    out = []
    for node, wild in cursor:
        child = node.get(part)
        if child is not None:
            out.append((child, wild))
        if wild and isinstance(part, int):
            star = node.get("*")
            if star is not None:
                out.append((star, wild))
    return tuple(out)


def is_end(cursor: Cursor) -> bool:
    return any(_END in node for node, _ in cursor)


def secret_values(value: Any, loc: Path = (), from_variables: Iterable[Path] = ()) -> Iterator[str]:
    """Every value inside `value` (found at `loc`) that is secret: what output must blank wherever it
    turns up, whether it came from a variable or was written in a file literally."""
    return (text for _, text in secret_items(value, loc, from_variables))


def secret_items(
    value: Any, loc: Path = (), from_variables: Iterable[Path] = ()
) -> Iterator[tuple[Path, str]]:
    """(path, value as text) of every secret inside `value`, found at `loc`."""
    return _secret_items(value, loc, secret_cursor(loc, from_variables))


def _secret_items(value: Any, loc: Path, cursor: Cursor) -> Iterator[tuple[Path, str]]:
    if not cursor:
        return
    if is_end(cursor):
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
            yield loc, str(value)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _secret_items(item, (*loc, key), step(cursor, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secret_items(item, (*loc, index), step(cursor, index))


def replace_secrets(value: Any, cursor: Cursor, stand_in: Callable[[Any, Path], Any], loc: Path = ()) -> Any:
    """`value` (found at `loc`, where `cursor` stands) with each value at a secret path replaced by
    `stand_in(value, its path)`; a part with no secret under it is not copied."""
    if not cursor:
        return value
    if is_end(cursor):
        return stand_in(value, loc)
    if isinstance(value, dict):
        return {k: replace_secrets(v, step(cursor, k), stand_in, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_secrets(v, step(cursor, i), stand_in, (*loc, i)) for i, v in enumerate(value)]
    return value


class Hidden(str):
    """What a policy rule sees where a sensitive value is: the text SENSITIVE, equal to nothing but itself, so
    that no rule's verdict (a pattern, a bound, two values compared) depends on a secret."""

    __slots__ = ()

    def __new__(cls) -> Hidden:
        return super().__new__(cls, SENSITIVE)

    def __getnewargs__(self) -> tuple[()]:  # type: ignore[override]  # a copy (or a pickle) is made anew
        return ()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __hash__(self) -> int:
        return id(self)


def hide_secrets(data: Any, from_variables: Iterable[Path] = ()) -> Any:
    """`data` as the rules see it: every value at a secret path a new Hidden, null included (an empty
    variable reads as null, which would tell a rule that much of it)."""
    return replace_secrets(data, secret_cursor((), from_variables), lambda _value, _at: Hidden())


def is_sensitive_variable(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in SENSITIVE_VARIABLE_WORDS)

"""How names compare: in one Unicode form. "é" typed is one code point; pasted from some systems it is "e"
and a combining accent. Both spell the same name to anyone who reads it, so every match of a name (a file
to its remote object, duplicates, `previous_names`, `owns`/`protect` patterns, `--target`, references
between kinds, import) goes through `name_key`. Names are never rewritten: what is sent is what the file
spells."""

from __future__ import annotations

import unicodedata
from fnmatch import fnmatchcase


def name_key(name: str) -> str:
    """What two names must share to be one name: their NFC form."""
    return unicodedata.normalize("NFC", name)


def same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


def glob_matches(name: str, pattern: str) -> bool:
    """`fnmatchcase` of a name and a glob, both in one form (an accent in the pattern matches either)."""
    return fnmatchcase(name_key(name), name_key(pattern))


def as_first_spelt(name: str, first: str) -> str:
    """What the error of a duplicate name adds when the first one spells it otherwise (the two look alike)."""
    return "" if name == first else f" (as {first!r}: the same name in another Unicode form)"

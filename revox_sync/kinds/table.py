"""Kinds declared in one file at the root of the config directory (`voices.yaml`, `phone_numbers.yaml`):
`KEY:` holding a mapping of entries by name, each read by the kind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from revox_sync.config.discovery import find_one
from revox_sync.config.yaml import YamlDoc, read_table
from revox_sync.engine.change import Desired
from revox_sync.engine.kind import LoadContext, Loaded
from revox_sync.errors import ConfigErrors, LocatedError
from revox_sync.names import as_first_spelt, name_key

Entry = Callable[[YamlDoc, str, Any, Any, list[LocatedError]], "Desired | None"]


def load_table(
    context: LoadContext, names: Sequence[str], key: str, entries: str, entry: Entry
) -> Loaded | None:
    """The kind's file (`names`: its spellings), each entry read by `entry(doc, name, key node, value node,
    errors)`; None when there is no such file (the kind is then unmanaged). Every error of the file at once."""
    path = find_one(context.config_dir, names)
    if path is None:
        return None
    doc, pairs, errors = read_table(path, key, entries)
    desired = [
        d for name, key_node, node in pairs if (d := entry(doc, name, key_node, node, errors)) is not None
    ]
    errors += _lookalikes(desired)
    if errors:
        raise ConfigErrors(errors)
    return Loaded(desired, path=path)


def _lookalikes(desired: Sequence[Desired]) -> list[LocatedError]:
    """Two entries whose names differ only in Unicode form are one name declared twice (keys spelt alike
    are the reader's duplicate keys)."""
    first: dict[str, Desired] = {}
    errors = []
    for d in desired:
        other = first.setdefault(name_key(d.name), d)
        if other is not d:
            errors.append(
                LocatedError(
                    d.location,
                    f"duplicate name {d.name!r}: line {other.location.line} already declares it"
                    + as_first_spelt(d.name, other.name),
                )
            )
    return errors

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
    if errors:
        raise ConfigErrors(errors)
    return Loaded(desired, path=path)

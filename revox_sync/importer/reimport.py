"""Re-import into a file that already pins the assistant (or, without a pin, declares its exact name): a
ruamel.yaml round-trip edit of only the values whose comparable form (`normalize.canonical`) differs from the
remote, so comments, key order, quoting, `!file` includes and `${VAR}` references survive. A re-import also
turns known secrets that the file holds in plaintext into placeholders."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from revox_sync.config.discovery import display_path
from revox_sync.config.yaml import VARIABLE_RE
from revox_sync.engine.change import dotted
from revox_sync.errors import FatalError
from revox_sync.importer.clean import FIELD_ORDER, Canon, Loc, get_at, set_at
from revox_sync.importer.comments import (
    commented,
    is_block,
    pop_trailing,
    push_trailing,
    suggested,
    with_suggestions,
)
from revox_sync.importer.create import Importer
from revox_sync.importer.layout import LONG_TEXT, TEXT_FILE_SUFFIX, Existing, inside
from revox_sync.importer.outcome import Outcome, Secret, Write
from revox_sync.importer.placeholders import Placeholders, secrets_and_escapes
from revox_sync.importer.protect import protect
from revox_sync.importer.style import dump, file_tag_path, guess_indent, to_yaml, yaml_writer
from revox_sync.importer.voices import switches_voice
from revox_sync.kinds.assistant import normalize
from revox_sync.sensitive import is_sensitive_path


class FileUpdate:
    """One re-import into an existing file: a ruamel round-trip edit of only the values that differ."""

    def __init__(self, importer: Importer, remote: dict[str, Any], existing: Existing) -> None:
        self.importer = importer
        self.remote = remote
        self.path = existing.path
        self.outcome = Outcome(remote, existing.path)
        self.original = existing.path.read_text(encoding="utf-8")
        taken = frozenset(m.group(1) for m in VARIABLE_RE.finditer(self.original) if m.group(1))
        self.make = Placeholders(self.outcome, existing.path.stem, importer.known, taken)
        indent, offset = guess_indent(self.original)
        self.yaml = yaml_writer(indent, offset, explicit_start=self.original.lstrip().startswith("---"))
        self.doc = self.yaml.load(self.original)
        self.data = self._resolved()
        self.remote = importer.clones.by_name(remote, like=self.data.get("voice"))
        self.unknown = set(self._unset_references(self.doc, ()))
        self.text_writes: dict[str, tuple[Path, str]] = {}

    def _resolved(self) -> dict[str, Any]:
        from revox_sync.config.yaml import read_document

        document = read_document(self.path, self.importer.config_dir, self.importer.variables, {})
        errors = [e for e in document.errors if "is not set (and" not in e.message]
        if errors or not isinstance(document.data, dict):
            shown = "\n".join(str(e) for e in errors) or f"{display_path(self.path)}: cannot be read"
            raise FatalError(f"cannot re-import into {display_path(self.path)}: fix it first:\n{shown}")
        return document.data

    def _unset_references(self, node: Any, loc: Loc) -> Iterator[Loc]:
        """Paths whose value references a variable that is not set (without a default): value unknown."""
        if isinstance(node, Mapping):
            for k, v in node.items():
                yield from self._unset_references(v, (*loc, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from self._unset_references(v, (*loc, i))
        elif isinstance(node, str) and file_tag_path(node) is None:
            for m in VARIABLE_RE.finditer(node):
                if m.group(1) and m.group(2) is None and not self.importer.variables.get(m.group(1)):
                    yield loc
                    return

    def _list_unset_variables(self) -> None:
        """Variables the file references that are still unset: a `plan` needs them too."""
        label = json.dumps(self.remote.get("name"), ensure_ascii=False)
        listed = {s.variable for s in self.outcome.secrets}
        for loc in sorted(self.unknown, key=str):
            try:
                node = get_at(self.doc, loc)
            except (KeyError, IndexError, TypeError):
                continue
            for m in VARIABLE_RE.finditer(str(node)):
                name = m.group(1)
                if (
                    name
                    and m.group(2) is None
                    and not self.importer.variables.get(name)
                    and name not in listed
                ):
                    listed.add(name)
                    self.outcome.secrets.append(Secret(name, f"{dotted(loc)} of {label} (not set)"))

    def _assume_unknown_match(self, canon: Canon) -> None:
        """Values behind unset variables cannot be compared: take them as equal to the remote."""
        for loc in self.unknown:
            if loc[0] != canon.field:
                continue
            found, value = self._remote_at(loc)
            if not found:
                continue
            if len(loc) == 1:
                canon.top = copy.deepcopy(value)
            else:
                set_at(canon.top, loc[1:], copy.deepcopy(value))

    def _remote_at(self, loc: Loc) -> tuple[bool, Any]:
        """The remote value at a file path (keyed list items matched by their key)."""
        file_value: Any = self.data
        remote_value: Any = self.remote
        for i, part in enumerate(loc):
            if isinstance(part, int):
                if not (isinstance(file_value, list) and isinstance(remote_value, list)) or part >= len(
                    file_value
                ):
                    return False, None
                item = file_value[part]
                key = normalize.rule_for(loc[:i]).key
                if key and isinstance(item, dict):
                    hits = [r for r in remote_value if isinstance(r, dict) and r.get(key) == item.get(key)]
                    if len(hits) != 1:
                        return False, None
                    remote_value = hits[0]
                elif part < len(remote_value):
                    remote_value = remote_value[part]
                else:
                    return False, None
                file_value = item
            else:
                if not (isinstance(file_value, dict) and isinstance(remote_value, dict)):
                    return False, None
                if part not in file_value or part not in remote_value:
                    return False, None
                file_value, remote_value = file_value[part], remote_value[part]
        return True, remote_value

    def _has_unknown(self, loc: Loc) -> bool:
        return any(u[: len(loc)] == loc for u in self.unknown)

    def run(self) -> Outcome:
        """The file edited to match the remote, and the text files it now reads."""
        importer = self.importer
        wanted = importer.wanted(self.remote)
        changed = False
        # A file matched by its exact name keeps matching by name: the user chose not to pin an id.
        for name in FIELD_ORDER:
            if name == "id" or name not in self.remote:
                continue
            if name in self.doc:
                if name not in self.data:
                    continue
                canon = Canon(name, copy.deepcopy(self.data[name]))
                self._assume_unknown_match(canon)
                if self._equivalent_top(name, canon.top):
                    continue
                changed |= self._patch(canon, self.doc, name, (name,), self.remote[name])
            elif name in wanted:
                self._insert_top(name, wanted[name])
                changed = True
        inlined: list[tuple[Loc, str]] = []
        changed |= protect(self.doc, (), self.make, self._included, inlined)
        for loc, ref in inlined:
            self._no_longer_read(loc, ref)
        self._list_unset_variables()
        text = dump(self.yaml, self.doc) if changed else self.original
        self.outcome.suggestions = suggested(self.remote)
        text = with_suggestions(text, commented(importer.known, self.outcome.suggestions, self.make))
        self.outcome.writes.insert(0, Write(self.path, text, existed=True, changed=text != self.original))
        for path, text_value in self.text_writes.values():
            current = path.read_text(encoding="utf-8") if path.is_file() else None
            self.outcome.writes.append(
                Write(path, text_value, existed=current is not None, changed=current != text_value)
            )
        return self.outcome

    def _included(self, ref: str) -> str | None:
        """The text a `!file` reference of this file reads after the run."""
        target = (self.path.parent / ref).resolve()
        pending = self.text_writes.get(str(target))
        if pending is not None:
            return pending[1]
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def _no_longer_read(self, loc: Loc, ref: str) -> None:
        """A `!file` text that now stands inline: it is not written, and the user learns what to delete."""
        target = (self.path.parent / ref).resolve()
        self.text_writes.pop(str(target), None)
        if not target.is_file():
            return
        held = self.importer.known.found(target.read_text(encoding="utf-8"))
        where = f"the {dotted(loc)} is now inline in {display_path(self.path)}, with placeholders"
        if held:
            self.outcome.notes.append(
                f"warning: {display_path(target)} holds secrets ({', '.join(held)}) and is no longer read: "
                f"{where}; delete the file, and remove it from the git history if it was committed"
            )
        else:
            self.outcome.notes.append(
                f"{display_path(target)} is no longer read: {where} (text read with !file is not "
                "interpolated); delete the file"
            )

    def _equivalent_top(self, name: str | int, file_value: Any) -> bool:
        name = str(name)
        return bool(normalize.canonical(name, file_value) == normalize.canonical(name, self.remote[name]))

    def _insert_top(self, name: str, value: Any) -> None:
        later = FIELD_ORDER[FIELD_ORDER.index(name) + 1 :]
        keys = list(self.doc)
        position = next((keys.index(k) for k in keys if k in later), len(keys))
        node = self.importer.field_node(self.outcome, self.path, name, value, self.make)
        for write in self.outcome.writes:
            if not write.existed:
                self.text_writes[os.path.abspath(write.path)] = (write.path, write.text)
        self.outcome.writes = []
        trailing = pop_trailing(self.doc, keys[position - 1]) if position > 0 else ""
        self.doc.insert(position, name, node)
        push_trailing(self.doc, name, trailing)

    # -- the recursive edit ------------------------------------------------------------------------------
    def _patch(self, canon: Canon, parent: Any, key: Any, loc: Loc, remote: Any) -> bool:
        """Make the value at `loc` (node `parent[key]`) equivalent to `remote`; True when anything changed."""
        path = loc[1:]
        if loc in self.unknown:
            return False
        current = get_at(canon.top, path) if path else canon.top
        if path and canon.same_with(path, remote):
            return False
        if not path and self._equivalent_top(loc[0], canon.top):
            return False
        node = parent[key]
        if (
            isinstance(current, dict)
            and isinstance(remote, dict)
            and isinstance(node, Mapping)
            and not switches_voice(loc, current, remote)
        ):
            return self._patch_map(canon, node, loc, current, remote)
        if isinstance(current, list) and isinstance(remote, list) and isinstance(node, list):
            if self._patch_list(canon, node, loc, current, remote):
                return True
            if self._has_unknown(loc):
                self.importer.env.warn(
                    f"{display_path(self.path)}: {dotted(loc)} differs from the remote value but holds "
                    "an unset variable; left as it is"
                )
                return False
        return self._replace(canon, parent, key, loc, remote)

    def _patch_map(
        self,
        canon: Canon,
        node: Any,
        loc: Loc,
        current: dict[str, Any],
        remote: dict[str, Any],
    ) -> bool:
        changed = False
        path = loc[1:]
        for k, r in remote.items():
            if k in current and k in node:
                changed |= self._patch(canon, node, k, (*loc, k), r)
                continue
            current[k] = copy.deepcopy(r)
            if canon.same_without((*path, k)):
                del current[k]
                continue
            canon.prune((*path, k), defaults=not self.importer.with_defaults)
            value = secrets_and_escapes(current[k], (*loc, k), self.make)
            trailing = pop_trailing(node, list(node)[-1]) if len(node) else ""
            node.insert(len(node), k, to_yaml(value))
            push_trailing(node, k, trailing)
            changed = True
        return changed

    def _patch_list(
        self,
        canon: Canon,
        node: Any,
        loc: Loc,
        current: list[Any],
        remote: list[Any],
    ) -> bool:
        """Item-wise edit of a list; False when only replacing the whole list can do it."""
        rule = normalize.rule_for(loc)
        if rule.drop_suggestions:
            remote = [i for i in remote if not normalize.is_suggestion(i)]
        path = loc[1:]
        if rule.key:
            file_keys = [i.get(rule.key) if isinstance(i, dict) else None for i in current]
            remote_keys = [i.get(rule.key) if isinstance(i, dict) else None for i in remote]
            usable = all(isinstance(k, str) for k in [*file_keys, *remote_keys])
            if (
                not usable
                or len(set(file_keys)) != len(file_keys)
                or len(set(remote_keys)) != len(remote_keys)
            ):
                return False
            by_key = dict(zip(remote_keys, remote, strict=True))
            changed = False
            for index in reversed(range(len(current))):
                if file_keys[index] not in by_key:
                    del current[index]
                    last = index == len(node) - 1 and index > 0
                    trailing = pop_trailing(node, index) if last else ""
                    del node[index]
                    if last:
                        push_trailing(node, index - 1, trailing)
                    changed = True
            for index, item in enumerate(list(current)):
                changed |= self._patch(canon, node, index, (*loc, index), by_key[item[rule.key]])
            present = {i.get(rule.key) for i in current}
            for k in remote_keys:
                if k not in present:
                    current.append(copy.deepcopy(by_key[k]))
                    index = len(current) - 1
                    canon.prune((*path, index), defaults=not self.importer.with_defaults)
                    value = secrets_and_escapes(current[index], (*loc, index), self.make)
                    trailing = pop_trailing(node, len(node) - 1) if len(node) else ""
                    node.append(to_yaml(value))
                    push_trailing(node, len(node) - 1, trailing)
                    changed = True
            if not canon.same_with(path, remote) if path else not self._equivalent_top(loc[0], canon.top):
                return False  # the order differs where it matters
            return changed
        if len(current) == len(remote) and any(isinstance(v, (dict, list)) for v in remote):
            changed = False
            for index, r in enumerate(remote):
                changed |= self._patch(canon, node, index, (*loc, index), r)
            same = canon.same_with(path, remote) if path else self._equivalent_top(loc[0], canon.top)
            return changed and same
        return False

    def _replace(self, canon: Canon, parent: Any, key: Any, loc: Loc, remote: Any) -> bool:
        path = loc[1:]
        node = parent[key]
        if is_sensitive_path(loc) and isinstance(node, str) and "${" in node:
            names = [m.group(1) for m in VARIABLE_RE.finditer(node) if m.group(1)]
            self.importer.env.warn(
                f"{display_path(self.path)}: {dotted(loc)} differs from the remote value; "
                f"it comes from {', '.join(names)}: update the variable (the value is not written)"
            )
            return False
        new = copy.deepcopy(remote)
        if path:
            set_at(canon.top, path, new)
        else:
            canon.top = new
        canon.prune(path, defaults=not self.importer.with_defaults)
        new = get_at(canon.top, path) if path else canon.top
        ref = file_tag_path(node)
        if ref is not None and isinstance(new, str):
            target = (self.path.parent / ref).resolve()
            if not inside(target, self.importer.config_dir):
                raise FatalError(f"{display_path(self.path)}: !file {ref} is outside the config directory")
            self.text_writes[str(target)] = (target, new)
            return True
        if (
            not path
            and isinstance(new, str)
            and loc[0] in TEXT_FILE_SUFFIX
            and ("\n" in new or len(new) > LONG_TEXT)
            and not isinstance(node, str)  # was null: give long text its own file
        ):
            parent[key] = self.importer.field_node(self.outcome, self.path, loc[0], new, self.make)
            for write in self.outcome.writes:
                self.text_writes[os.path.abspath(write.path)] = (write.path, write.text)
            self.outcome.writes = []
            return True
        value = secrets_and_escapes(new, loc, self.make)
        trailing = pop_trailing(parent, key) if is_block(node) else ""
        parent[key] = to_yaml(value, like=node)
        push_trailing(parent, key, trailing)
        return True

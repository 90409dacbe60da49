"""Cloned voices: an assistant whose voice is a clone of the account refers to it by name
(`voice: {clone: NAME}`), which each account resolves to its own id, and `voices.yaml` declares that clone.
The API cannot return a clone's sample, so a new entry gets a placeholder path that the user fills."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from revox_sync.config.discovery import display_path, find_one
from revox_sync.config.yaml import YamlDoc, is_mapping, is_null, read_yaml_file
from revox_sync.engine.scope import EVERYTHING, Scope
from revox_sync.errors import LocatedError
from revox_sync.importer.clean import Loc
from revox_sync.importer.comments import pop_trailing, push_trailing
from revox_sync.importer.layout import slugify
from revox_sync.importer.outcome import Write
from revox_sync.importer.style import dump, guess_indent, styled_str, yaml_writer
from revox_sync.kinds.assistant.kind import VOICE
from revox_sync.names import name_key
from revox_sync.output import quoted

VOICE_FILES = ("voices.yaml", "voices.yml")
SAMPLES_DIR = "samples"
SAMPLE_SUFFIX = ".wav"
HEADER = (
    "# Cloned voices of the account, imported by `revox-sync import`. The API cannot return a sample:\n"
    "# put each voice's audio at its sample path before `revox-sync validate`.\n"
)


class Clones:
    """The account's cloned voices, and the names this run's files refer to them by.

    A clone is referred to by name only when exactly one clone has its id and no other clone its name (in
    any Unicode form), and `scope` owns it: anything else would make the reference point at a guess, or
    voices.yaml declare what this configuration may not."""

    def __init__(self, voices: list[dict[str, Any]], scope: Scope = EVERYTHING) -> None:
        clones = [v for v in voices if v.get("isCloned") is True]
        ids = Counter(str(v.get("id")) for v in clones)
        self.names = Counter(name_key(str(v.get("name"))) for v in clones)  # a name in any Unicode form
        self.by_id = {str(v.get("id")): v for v in clones if ids[str(v.get("id"))] == 1}
        # in the account's order: voices.yaml lists them that way
        self.declarable = [
            v
            for v in clones
            if isinstance(v.get("name"), str)
            and v["name"].strip()
            and self.names[name_key(v["name"])] == 1
            and scope.owned(VOICE, v["name"])
        ]
        self.used: set[str] = set()
        self.ambiguous_used: set[str] = set()

    def _name_of(self, voice: Any) -> str | None:
        if not isinstance(voice, dict) or voice.get("provider") != "cartesia":
            return None
        clone = self.by_id.get(str(voice.get("id")))
        if clone is None:
            return None
        name = clone.get("name")
        if self.names[name_key(str(name))] > 1:
            self.ambiguous_used.add(name_key(str(name)))
            return None
        return name if clone in self.declarable else None

    def by_name(self, remote: dict[str, Any], like: Any = None) -> dict[str, Any]:
        """`remote` with its voice as a `clone:` reference when it is a clone of the account, unless the
        file's voice (`like`) pins that same voice by id: the user chose the id there."""
        voice = remote.get("voice")
        name = self._name_of(voice)
        if name is None or not isinstance(voice, dict):
            return remote
        if isinstance(like, dict) and "clone" not in like and like.get("id") == voice.get("id"):
            return remote
        self.used.add(name)
        rest = {k: v for k, v in voice.items() if k not in ("provider", "id")}
        return {**remote, "voice": {"clone": name, **rest}}

    def warnings(self, *, every: bool) -> list[str]:
        """A warning per clone name that several clones share and that this run met (`every`: all)."""
        shared = [str(n) for n, c in self.names.items() if c > 1 and (every or n in self.ambiguous_used)]
        return [
            f"warning: {self.names[n]} cloned voices of the account are named {quoted(n)}: assistants keep their "
            "voice by provider and id, and voices.yaml does not declare it; rename one in the account to "
            "refer to it by name"
            for n in shared
        ]


def switches_voice(loc: Loc, current: dict[str, Any], remote: dict[str, Any]) -> bool:
    """A voice going from a `clone:` reference to provider and id, or back: `clone` and `id` exclude each
    other, so the value is replaced whole rather than key by key."""
    return loc == ("voice",) and ("clone" in current) != ("clone" in remote)


def declare(config_dir: Path, clones: Clones, *, every: bool) -> tuple[Write | None, list[str]]:
    """The write that adds to voices.yaml (created when absent) the clones this run refers to (`every`:
    all of the account's), and a note per added entry. Existing entries, comments and order are kept; a
    malformed voices.yaml is refused, since adding to it would be a guess."""
    wanted = [v for v in clones.declarable if every or v["name"] in clones.used]
    if not wanted:
        return None, []
    path = find_one(config_dir, VOICE_FILES) if config_dir.is_dir() else None
    original: str | None = None
    declared: dict[str, str | None] = {}
    if path is None:
        path = config_dir / VOICE_FILES[0]
    else:
        declared = _declared(path)
        original = path.read_text(encoding="utf-8")
    keys = {name_key(n) for n in declared}
    missing = [v for v in wanted if name_key(v["name"]) not in keys]
    if not missing:
        return None, []
    from ruamel.yaml.comments import CommentedMap

    if original is None:
        yaml = yaml_writer()
        doc: Any = None
    else:
        indent, offset = guess_indent(original)
        yaml = yaml_writer(indent, offset, explicit_start=original.lstrip().startswith("---"))
        doc = yaml.load(original)
    if doc is None:
        doc = CommentedMap()
    if doc.get("voices") is None:
        doc["voices"] = CommentedMap()
    table = doc["voices"]
    taken = {os.path.normpath(config_dir / s) for s in declared.values() if s is not None}
    notes: list[str] = []
    for voice in missing:
        sample = _free_sample(config_dir, slugify(voice["name"], fallback="voice"), taken)
        entry = CommentedMap()
        entry["language"] = styled_str(voice["language"]) if isinstance(voice.get("language"), str) else None
        entry["sample"] = sample
        trailing = pop_trailing(table, list(table)[-1]) if len(table) else ""
        table.insert(len(table), voice["name"], entry)
        push_trailing(table, voice["name"], trailing)
        notes.append(
            f"{display_path(path)}: voice {quoted(voice['name'])}: the API cannot return the sample of a cloned "
            f"voice; put its audio at {display_path(config_dir / sample)} (`revox-sync validate` fails until "
            "it is there)"
        )
    text = dump(yaml, doc)
    if original is None:
        text = HEADER + text
    return Write(path, text, existed=original is not None, changed=True, adds_only=True), notes


def _free_sample(config_dir: Path, slug: str, taken: set[str]) -> str:
    """`samples/<slug>.wav` (`-2`, `-3`... when a file or another entry has it), claimed in `taken`."""
    n = 1
    while True:
        sample = f"{SAMPLES_DIR}/{slug}{'' if n == 1 else f'-{n}'}{SAMPLE_SUFFIX}"
        target = os.path.normpath(config_dir / sample)
        if target not in taken and not os.path.lexists(target):
            taken.add(target)
            return sample
        n += 1


def _declared(path: Path) -> dict[str, str | None]:
    """The voices an existing voices.yaml declares, with their sample paths; a located error when the file
    is not a mapping with a `voices` mapping (or nothing) in it."""

    def refuse(error: LocatedError) -> LocatedError:
        return LocatedError(error.location, f"{error.message}; fix it first (nothing was written)")

    try:
        root = read_yaml_file(path)
    except LocatedError as exc:
        raise refuse(exc) from None
    if root is None:
        return {}
    doc = YamlDoc(path, display_path(path), root)
    if not is_mapping(root):
        raise refuse(doc.error(root, "the top level must be a mapping with the key 'voices'"))
    errors: list[LocatedError] = []
    table = next((v for k, _, v in doc.pairs(root, errors) if k == "voices"), None)
    declared: dict[str, str | None] = {}
    if table is not None and not is_null(table):
        if not is_mapping(table):
            errors.append(doc.error(table, "voices must be a mapping of names, e.g. 'Brand voice:'"))
        else:
            for name, _, node in doc.pairs(table, errors):
                sample = None
                if is_mapping(node):
                    found = [v for k, _, v in doc.pairs(node, errors) if k == "sample"]
                    sample = str(found[0].value) if found and found[0].id == "scalar" else None
                declared[name] = sample
    if errors:
        raise refuse(errors[0])
    return declared

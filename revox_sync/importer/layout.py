"""Where each assistant goes: the files already there (matched by pinned id, else by exact name), and free
names for new ones (`<slug>.yaml`, long text in `prompts/<slug><suffix>.md`) that collide with nothing on disk
or claimed by this run."""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from revox_sync.config.discovery import display_path, is_within
from revox_sync.config.templates import EXTENDS, FOR_EACH
from revox_sync.errors import FatalError
from revox_sync.kinds.assistant.load import RESERVED_ROOT_FILES, LoadedAssistant, find_assistant_files
from revox_sync.names import name_key

# Text fields that go to their own Markdown file: the prompt always, the others when long or multi-line.
TEXT_FILE_SUFFIX = {
    "prompt": "",
    "structured_output_prompt": ".structured-output",
    "after_call_sms_prompt": ".sms",
    "voicemail_sms_prompt": ".voicemail-sms",
    "warm_transfer_summary_instructions": ".transfer-summary",
    "sms_template": ".sms-template",
}
LONG_TEXT = 200
PROMPTS_DIR = "prompts"
MAX_SLUG = 60


def slugify(name: str, fallback: str = "assistant") -> str:
    """'Réception — Zoë!' -> 'reception-zoe'; nothing left -> `fallback`."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] if "-" in slug[:MAX_SLUG] else slug[:MAX_SLUG]
    return slug or fallback


def inside(path: Path | str, root: Path | str) -> bool:
    """Whether `path` is under `root` once symbolic links are resolved: where a write really lands."""
    return is_within(os.path.realpath(path), os.path.realpath(root))


@dataclass
class Existing:
    """An assistant file found under the config directory; for a file that generates assistants (`fleet`),
    one of them, `generated` (see `fleet.generated`)."""

    path: Path
    id: str | None
    name: str | None
    readable: bool
    extends: Path | None = None  # the template it names
    fleet: bool = False  # it has for_each or extends: what it declares is generated, never written
    generated: LoadedAssistant | None = None


def existing_files(config_dir: Path, variables: Mapping[str, str]) -> list[Existing]:
    """The assistant files already there, read as `plan` reads them (so `id: ${SALES_ID}` is matched)."""
    from revox_sync.config.yaml import read_document

    if not config_dir.is_dir():
        return []
    found: list[Existing] = []
    for file in find_assistant_files(config_dir):
        data = read_document(file, config_dir, variables, {}).data
        if not isinstance(data, Mapping):
            found.append(Existing(file, None, None, readable=False))
            continue
        pinned, name, extends = data.get("id"), data.get("name"), data.get(EXTENDS)
        found.append(
            Existing(
                file,
                pinned if isinstance(pinned, str) else None,
                name if isinstance(name, str) else None,
                readable=True,
                extends=Path(os.path.normpath(config_dir / extends)) if isinstance(extends, str) else None,
                fleet=EXTENDS in data or FOR_EACH in data,
            )
        )
    return found


class Paths:
    """The file names of this run: a new file never takes a name that exists or that the run claimed."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self.claimed: set[str] = set()  # absolute paths this run writes or reserved

    def new_yaml_path(self, name: str) -> Path:
        """A free `<slug>.yaml` for a new file (`-2`, `-3`... when taken), claimed."""
        base = slugify(name)
        n = 1
        while True:
            slug = base if n == 1 else f"{base}-{n}"
            if self._free(slug):
                path = self.config_dir / f"{slug}.yaml"
                self.claimed.add(os.path.abspath(path))
                return path
            n += 1

    def _free(self, slug: str) -> bool:
        """Nothing there, claimed, or reserved for another kind (`voices.yaml`): an assistant named "voices"
        written there would be read as the account's clones."""
        for suffix in (".yaml", ".yml"):
            path = self.config_dir / f"{slug}{suffix}"
            if path.name in RESERVED_ROOT_FILES or path.exists() or os.path.abspath(path) in self.claimed:
                return False
        prompts = self.config_dir / PROMPTS_DIR
        for suffix in TEXT_FILE_SUFFIX.values():
            path = prompts / f"{slug}{suffix}.md"
            if path.exists() or os.path.abspath(path) in self.claimed:
                return False
        return True

    def text_file(self, yaml_path: Path, field_name: str) -> tuple[Path, str]:
        """A free `prompts/<stem><suffix>.md` beside the YAML file, and its `!file` reference."""
        stem = yaml_path.stem
        suffix = TEXT_FILE_SUFFIX[field_name]
        n = 1
        while True:
            name = f"{stem}{suffix}.md" if n == 1 else f"{stem}{suffix}-{n}.md"
            path = yaml_path.parent / PROMPTS_DIR / name
            if not path.exists() and os.path.abspath(path) not in self.claimed:
                self.claimed.add(os.path.abspath(path))
                return path, f"{PROMPTS_DIR}/{name}"
            n += 1


def pair_files(
    chosen: list[dict[str, Any]], remote: list[dict[str, Any]], existing: list[Existing], paths: Paths
) -> list[tuple[dict[str, Any], Existing | None]]:
    """Each chosen assistant with the file that holds it: the one pinning its id, else the one unpinned file
    declaring its name when no other remote assistant has that name (a generated one whatever their number:
    it must never get a file of its own); None for a new file."""
    by_id: dict[str, Existing] = {}
    problems: list[str] = []
    for e in existing:
        if e.id is None:
            continue
        if e.id in by_id:
            problems.append(f"{display_path(e.path)} and {display_path(by_id[e.id].path)} both pin id {e.id}")
        by_id[e.id] = e
    if problems:
        raise FatalError("; ".join(problems))
    name_count = Counter(name_key(str(r.get("name"))) for r in remote)
    by_name = {name_key(e.name): e for e in existing if e.id is None and e.name is not None}
    for e in existing:
        paths.claimed.add(os.path.abspath(e.path))
    pairs: list[tuple[dict[str, Any], Existing | None]] = []
    for r in chosen:
        match = by_id.get(str(r.get("id")))
        key = name_key(str(r.get("name")))
        named = by_name.get(key) if match is None else None
        if named is not None and (name_count[key] == 1 or named.generated is not None):
            match = named
        pairs.append((r, match))
    return pairs

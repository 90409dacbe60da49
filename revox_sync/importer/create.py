"""A new assistant file: `name`, the pinned `id`, then `prompt`, `voice`, the first-sentence fields, then the
spec's field order; the prompt (and other long text) in its own `prompts/*.md` file read with `!file`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.config.discovery import display_path
from revox_sync.importer.clean import wanted_fields
from revox_sync.importer.comments import commented, suggested, with_suggestions
from revox_sync.importer.emit import plain_dump, top_level
from revox_sync.importer.layout import LONG_TEXT, TEXT_FILE_SUFFIX, Paths
from revox_sync.importer.outcome import Outcome, Write
from revox_sync.importer.placeholders import Known, Placeholders, escape_vars, secrets_and_escapes, strings
from revox_sync.importer.protect import protect
from revox_sync.importer.style import dump, tagged, to_yaml, yaml_writer
from revox_sync.importer.voices import Clones

if TYPE_CHECKING:
    from revox_sync.output import Environment

HEADER = "# Imported from Revox by `revox-sync import`. Edit here, then run `revox-sync plan`.\n"


class Importer:
    """One run of import: its options, the secrets it knows, the account's cloned voices, the file names it
    claimed, and the remote fields it could not import (new files are made here; re-imports use it too)."""

    def __init__(
        self,
        env: Environment,
        config_dir: Path,
        *,
        overwrite: bool,
        with_defaults: bool,
        variables: Mapping[str, str] | None = None,
        api_key: str | None = None,
        clones: Clones | None = None,
    ) -> None:
        self.env = env
        self.variables: Mapping[str, str] = env.environ if variables is None else variables
        self.known = Known(self.variables, api_key)
        self.config_dir = Path(config_dir)
        self.overwrite = overwrite
        self.with_defaults = with_defaults
        self.paths = Paths(self.config_dir)
        self.unknown_keys: set[str] = set()
        self.clones = Clones([]) if clones is None else clones

    def wanted(self, remote: dict[str, Any]) -> dict[str, Any]:
        """The top-level fields a file of `remote` manages, in file form."""
        return wanted_fields(remote, with_defaults=self.with_defaults, unknown=self.unknown_keys)

    def field_node(self, outcome: Outcome, yaml_path: Path, name: str, value: Any, make: Placeholders) -> Any:
        """The YAML node of one top-level field; long text goes to its own file, unless it holds a secret:
        text read with !file is not interpolated, so a placeholder there would be read literally."""
        if (
            name in TEXT_FILE_SUFFIX
            and isinstance(value, str)
            and value
            and (name == "prompt" or "\n" in value or len(value) > LONG_TEXT)
        ):
            if not self.known.found(value):
                path, ref = self.paths.text_file(yaml_path, name)
                outcome.writes.append(Write(path, value, existed=False, changed=True))
                return tagged(ref)
            outcome.notes.append(
                f"{display_path(yaml_path)}: {name} holds a secret, so it is written inline with placeholders "
                "(text read with !file is not interpolated)"
            )
        return to_yaml(secrets_and_escapes(value, (name,), make))

    def create(self, remote: dict[str, Any]) -> Outcome:
        """The files of an assistant that no file holds yet."""
        from ruamel.yaml.comments import CommentedMap

        remote = self.clones.by_name(remote)
        yaml_path = self.paths.new_yaml_path(self.known.masked(str(remote.get("name") or "")))
        outcome = Outcome(remote, yaml_path)
        make = Placeholders(outcome, yaml_path.stem, self.known)
        fields = self.wanted(remote)
        doc = CommentedMap()
        doc["name"] = to_yaml(escape_vars(str(remote.get("name"))))
        doc["id"] = str(remote["id"])
        for name, value in fields.items():
            if name != "name":
                doc[name] = self.field_node(outcome, yaml_path, name, value, make)
        # protect has nothing to do where no value holds a known secret; new text files hold none (field_node)
        if self.known.found("\n".join(strings([str(remote.get("name")), doc["id"], fields]))):
            protect(doc, (), make, lambda _ref: None, [])
        from revox_sync.fmt import lay_out

        plain = plain_dump(doc)
        if plain is not None:  # the layout `fmt` keeps
            text = lay_out(HEADER + plain, spans=top_level(HEADER + plain))
        else:
            text = lay_out(HEADER + dump(yaml_writer(), doc))
        outcome.suggestions = suggested(remote)
        text = with_suggestions(text, commented(self.known, outcome.suggestions, make))
        outcome.writes.insert(0, Write(yaml_path, text, existed=False, changed=True))
        return outcome

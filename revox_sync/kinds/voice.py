"""Cloned voices as code: `voices.yaml` at the root of the config directory.

```yaml
voices:
  Brand voice:
    language: en                 # one of the API's languages
    sample: samples/brand.wav    # audio inside the config directory; content type from the extension
```

A voice is matched to the account's cloned voice of the same name (`id:` pins one). The API cannot change
a clone and stores no digest of its sample: a changed sample is invisible remotely, and a new language is
refused. To clone again, give the voice a new name (and point the assistants at it): the plan creates the
new clone, moves the assistants, and `--prune` destroys the old one. Without `voices.yaml`, cloned voices
are unmanaged. Catalogue voices are never touched.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.config.discovery import display_path, is_within
from revox_sync.config.yaml import unknown_key_message
from revox_sync.engine.change import ABSENT, Action, Desired, FieldChange
from revox_sync.engine.kind import KindPlan, LoadContext, Loaded, Refs, Written
from revox_sync.engine.plan import fingerprint, match_by_name, plan_strays, record_names
from revox_sync.errors import ConfigErrors, FatalError, LocatedError, Location
from revox_sync.kinds.table import load_table

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient

FILE_NAMES = ("voices.yaml", "voices.yml")
LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "ru", "zh")
CONTENT_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".webm": "audio/webm",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
}
MAX_SAMPLE_BYTES = int(7.5 * 1024 * 1024)  # the API's limit on the decoded audio
VOICE_KEYS = ("language", "sample", "id")


@dataclass(frozen=True)
class Sample:
    """A voice's audio file: where it is, how it is sent, and its digest (so that a saved plan whose sample
    changed since is stale: the API itself keeps no digest to compare)."""

    path: Path
    shown: str
    content_type: str
    data: bytes = field(repr=False)
    missing: LocatedError | None = None  # the file is not there: only a clone (a create) needs it

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def digest(self) -> str | None:
        return None if self.missing else hashlib.sha256(self.data).hexdigest()

    def encoded(self) -> str:
        return base64.b64encode(self.data).decode("ascii")


class VoiceKind:
    name = "voice"
    plural = "voices"
    depends_on: tuple[str, ...] = ()
    compact = False
    guarded: tuple[str, ...] = ()

    # --- files ---------------------------------------------------------------------------------------
    def load(self, context: LoadContext) -> Loaded | None:
        """`voices.yaml`; a sample that is not there is deferred: only cloning (a create) needs it, and an
        imported voice has none to give (`validate` still reports it)."""
        loaded = load_table(
            context,
            FILE_NAMES,
            "voices",
            "names, e.g. 'Brand voice:'",
            lambda doc, name, key_node, node, errors: self._voice(
                doc, context.config_dir, name, key_node, node, errors
            ),
        )
        if loaded is not None:
            loaded.deferred = [d.source.missing for d in loaded.desired if d.source.missing is not None]
        return loaded

    def _voice(
        self, doc: Any, config_dir: Path, name: str, key_node: Any, node: Any, errors: list[LocatedError]
    ) -> Desired | None:
        count = len(errors)
        if not name.strip():
            errors.append(doc.error(key_node, "a voice name must not be blank"))
        if node.id != "mapping":
            errors.append(doc.error(node, f"voice {name!r}: give its language and sample"))
            return None
        fields: dict[str, str] = {}
        nodes: dict[str, Any] = {}
        for key, k_node, value in doc.pairs(node, errors):
            if key not in VOICE_KEYS:
                errors.append(doc.error(k_node, unknown_key_message(key, VOICE_KEYS, f"voice {name!r}")))
                continue
            text = doc.string(value, errors, f"voice {name!r}: {key}")
            if text is not None:
                fields[key], nodes[key] = text, value
        for key in ("language", "sample"):
            if key not in fields and len(errors) == count:
                errors.append(doc.error(key_node, f"voice {name!r}: {key} is required"))
        language = fields.get("language")
        if language is not None and language not in LANGUAGES:
            close = difflib.get_close_matches(language.strip().casefold(), LANGUAGES, n=1)  # 'EN' too
            hint = f"; did you mean {close[0]!r}?" if close else ""
            errors.append(
                doc.error(
                    nodes["language"], f"voice {name!r}: language must be one of {', '.join(LANGUAGES)}{hint}"
                )
            )
        sample = None
        if "sample" in fields:
            sample = _sample(doc, config_dir, name, fields["sample"], nodes["sample"], errors)
        if len(errors) > count or sample is None or language is None:
            return None
        return Desired(
            kind=self.name,
            name=name,
            data={"language": language, "sample": sample.shown, "sample_sha256": sample.digest},
            id=fields.get("id"),
            file=doc.shown,
            name_location=doc.location(key_node),
            id_location=doc.location(nodes["id"]) if "id" in nodes else None,
            source=sample,
        )

    def check(self, loaded: Loaded, others: Mapping[str, Loaded | None]) -> list[LocatedError]:
        return []

    def sandbox(self, state: Any, loaded: Loaded) -> list[str]:
        return []

    # --- the account ---------------------------------------------------------------------------------
    def check_online(self, loaded: Loaded, client: RevoxClient) -> list[LocatedError]:
        """A declared voice the account already has must match it (a clone cannot change)."""
        try:
            self.plan(loaded, self.fetch(client), Refs(), prune=False, key=b"")
        except ConfigErrors as exc:
            return exc.errors
        return []

    def fetch(self, client: RevoxClient) -> list[dict[str, Any]]:
        """The account's cloned voices: the catalogue's are not this configuration's to manage."""
        return [v for v in client.list_voices() if v.get("isCloned")]

    def plan(
        self, loaded: Loaded, remote: Sequence[dict[str, Any]], refs: Refs, *, prune: bool, key: bytes
    ) -> KindPlan:
        errors: list[LocatedError] = []
        pairs = match_by_name(self.name, loaded.desired, remote, errors, scope=refs.scope)
        for d, found in pairs:
            if found is not None and found.get("language") != d.data["language"]:
                errors.append(
                    LocatedError(
                        d.location,
                        f"voice {d.name!r}: the account's clone ({found['id']}) speaks "
                        f"{found.get('language')!r}; a clone cannot change: give the voice a new name to "
                        "clone it again",
                    )
                )
        if errors:
            raise ConfigErrors(errors)
        strays = record_names(self.name, pairs, remote, refs)
        out = KindPlan(fingerprints={str(v["id"]): fingerprint(v, key) for v in remote})
        out.actions += [self._create(d) for d, found in pairs if found is None]
        shown = display_path(loaded.path) if loaded.path else None
        deletes, out.undeclared = plan_strays(self.name, strays, refs, prune=prune, file=shown)
        out.actions += deletes
        return out

    def _create(self, d: Desired) -> Action:
        sample: Sample = d.source
        if sample.missing is not None:
            raise ConfigErrors([sample.missing])
        changes = (
            FieldChange("language", ABSENT, d.data["language"]),
            FieldChange("sample", ABSENT, f"{sample.shown} ({sample.content_type}, {sample.size:,} bytes)"),
        )
        body = {
            "name": d.name,
            "language": d.data["language"],
            "contentType": sample.content_type,
            "audio": sample.encoded(),
        }
        return Action(self.name, "create", d.name, None, d.file, changes, body, desired=d)

    def check_plan(self, actions: Sequence[Action], refs: Refs) -> list[LocatedError]:
        """A clone still used by an assistant after this plan is never destroyed (the API answers 409)."""
        errors = []
        for action in actions:
            if action.kind == self.name and action.op == "delete":
                users = refs.users_of((self.name, str(action.id)), actions)
                if users:
                    names = ", ".join(f'"{u}"' for u in users)
                    errors.append(
                        LocatedError(
                            Location(action.file or "voices.yaml"),
                            f'cannot destroy cloned voice "{action.name}" ({action.id}): assistants still use '
                            f"it: {names}; point them at another voice first",
                        )
                    )
        return errors

    def write(self, client: RevoxClient, action: Action, body: dict[str, Any]) -> Written:
        if action.op == "create":
            stored = client.clone_voice(body)
            return Written(id=str(stored.get("id")))
        if action.op == "delete":
            assert action.id is not None
            client.delete_voice(action.id)
            return Written(id=action.id)
        raise FatalError(f"voice {action.name!r}: a cloned voice cannot be updated")

    def pattern_problem(self, pattern: str) -> str | None:
        return None

    def restorable(
        self,
        state: dict[str, Any],
        gone: Mapping[tuple[str, str], str],
        where: Location,
        fields: Collection[str] | None = None,
    ) -> tuple[Desired | None, str | None]:
        """A clone cannot change, so one still in the account needs nothing; a destroyed one cannot come
        back: the API keeps no sample to clone it from."""
        ident = str(state.get("id"))
        if (self.name, ident) not in gone:
            return None, None
        return None, (
            f'voice "{state.get("name")}" ({ident}) was destroyed and cannot be restored (the API keeps no '
            "sample of a clone): clone it again from voices.yaml"
        )

    def differs(self, body: dict[str, Any], stored: dict[str, Any]) -> tuple[list[str], list[FieldChange]]:
        """A clone is never updated, so no write of one is compared; plainly, field by field."""
        changes = [FieldChange(f, stored.get(f), v) for f, v in body.items() if stored.get(f) != v]
        return [c.path for c in changes], changes

    def as_written(self, stored: dict[str, Any]) -> dict[str, Any]:
        return stored


def _sample(
    doc: Any, config_dir: Path, name: str, text: str, node: Any, errors: list[LocatedError]
) -> Sample | None:
    """The sample file: inside the config directory (symbolic links resolved), a known audio type, and
    no larger than the API takes."""
    where = f"voice {name!r}: sample {text!r}"
    path = (doc.path.parent / text) if not os.path.isabs(text) else Path(text)
    if not is_within(os.path.realpath(path), os.path.realpath(config_dir)):
        errors.append(doc.error(node, f"{where} is outside the config directory {display_path(config_dir)}/"))
        return None
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    if content_type is None:
        known = ", ".join(sorted(CONTENT_TYPES))
        errors.append(doc.error(node, f"{where}: unknown audio type (use one of {known})"))
        return None
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise IsADirectoryError(21, "not a file")
        data = path.read_bytes() if size <= MAX_SAMPLE_BYTES else b""
    except FileNotFoundError as exc:  # an imported voice: the API cannot give its audio back
        missing = doc.error(node, f"{where}: cannot read: {exc.strerror or exc}")
        return Sample(path, display_path(path), content_type, b"", missing)
    except OSError as exc:
        errors.append(doc.error(node, f"{where}: cannot read: {exc.strerror or exc}"))
        return None
    if size > MAX_SAMPLE_BYTES:
        errors.append(
            doc.error(node, f"{where} is {size:,} bytes; the API takes at most {MAX_SAMPLE_BYTES:,}")
        )
        return None
    if size == 0:
        errors.append(doc.error(node, f"{where} is empty"))
        return None
    return Sample(path, display_path(path), content_type, data)


KIND = VoiceKind()

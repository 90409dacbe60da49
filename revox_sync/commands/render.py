"""`render`: the assistants exactly as `plan` compares them (templates, rows and variables applied), so a
reviewer sees the final configuration, like `kustomize build`. Secrets print as `(sensitive)`."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.commands import EXIT_OK
from revox_sync.errors import FatalError
from revox_sync.names import name_key

if TYPE_CHECKING:
    from revox_sync.commands.session import Session
    from revox_sync.engine.change import Desired


def run_render(
    session: Session, config_dir: Path | None, names: Sequence[str] = (), *, fmt: str = "yaml"
) -> int:
    from revox_sync.commands.plan import load_config
    from revox_sync.engine.change import redact
    from revox_sync.sensitive import scrub

    loaded = load_config(session, config_dir)["assistant"]
    assert loaded is not None
    chosen = _chosen(loaded.desired, names)
    documents = [
        scrub(
            redact((), {"name": d.name, **({"id": d.id} if d.id else {}), **d.data}, frozenset(d.sensitive)),
            session.env.secrets,
        )
        for d in chosen
    ]
    if fmt == "json":
        from revox_sync.engine.render import json_document

        session.env.out(json_document(documents))
    else:
        session.env.out(_yaml(chosen, documents).rstrip("\n"))
    return EXIT_OK


def _chosen(desired: Sequence[Desired], names: Sequence[str]) -> list[Desired]:
    if not names:
        return list(desired)
    by_name = {name_key(d.name): d for d in desired}  # one name in any Unicode form
    for name in names:
        if name_key(name) not in by_name:
            close = difflib.get_close_matches(name, sorted(d.name for d in desired), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise FatalError(f"render {name!r}: no assistant of that name{hint}")
    return [by_name[key] for key in dict.fromkeys(name_key(n) for n in names)]


def _yaml(chosen: Sequence[Desired], documents: Sequence[dict[str, Any]]) -> str:
    """One YAML document per assistant, each a file `revox-sync` would load back as it is (`${` escaped,
    long text as a literal block), headed by the file (and row) it came from."""
    from revox_sync.importer.style import dump, yaml_writer
    from revox_sync.output import printable

    writer = yaml_writer()
    parts = []
    for d, doc in zip(chosen, documents, strict=True):
        origin = d.file or ""
        row = getattr(d.source, "row", None)
        if row is not None:
            origin += f" (row {row.location})"
        parts.append(f"---\n# {printable(origin)}\n" + dump(writer, _styled(doc)))
    return "".join(parts)


def _styled(value: Any) -> Any:
    from ruamel.yaml.scalarstring import LiteralScalarString

    if isinstance(value, dict):
        return {k: _styled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_styled(v) for v in value]
    if isinstance(value, str):
        text = value.replace("${", "$${")
        return LiteralScalarString(text) if "\n" in text else text
    return value

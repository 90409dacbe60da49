"""What shell completion offers for values read from the configuration: the environments of revox-sync.yaml
and the names of the objects the config directory declares. Best effort: a file that does not load offers
nothing and never prints an error into the shell."""

from __future__ import annotations

import os
from pathlib import Path


def environment_names() -> list[str]:
    from revox_sync.config.project import find_project_file, load_project

    try:
        path = find_project_file()
        return sorted(load_project(path).environments) if path is not None else []
    except Exception:
        return []


def object_names(config_dir: Path | None) -> list[str]:
    """The names (and pinned ids) of what the config directory declares, of every kind."""
    from revox_sync import options
    from revox_sync.engine.kind import LoadContext
    from revox_sync.kinds import KINDS

    try:
        if config_dir is None:
            from revox_sync.config.project import find_project_file, load_project

            path = find_project_file()
            project = load_project(path) if path is not None else None
            config_dir = (project.config_dir if project else None) or options.DEFAULT_CONFIG_DIR
        context = LoadContext(Path(config_dir), dict(os.environ))
    except Exception:
        return []
    names: list[str] = []
    for kind in KINDS:
        try:
            loaded = kind.load(context)
        except Exception:
            continue
        for desired in loaded.desired if loaded is not None else ():
            names += [desired.name, *([desired.id] if desired.id else [])]
    return sorted(dict.fromkeys(names))

"""`fmt`: rewrite revox-sync's YAML files in the canonical layout (`revox_sync.fmt`), or with `--check` /
`--diff` say which would change and how, like `terraform fmt`."""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from revox_sync.commands import EXIT_ERROR, EXIT_OK
from revox_sync.errors import ConfigErrors, LocatedError, Location

if TYPE_CHECKING:
    from revox_sync.commands.session import Session


def run_fmt(
    session: Session,
    paths: Sequence[Path],
    *,
    config_dir: Path | None = None,
    check: bool = False,
    diff: bool = False,
) -> int:
    """Format the files of `paths` (default: the config directory and revox-sync.yaml). Writes them unless
    `check` or `diff`; exits 1 when one would change (with `check` or `diff`) or one cannot be read."""
    from revox_sync.config.yaml import read_text
    from revox_sync.fmt import UNORDERED_FILES, format_text, literal_secrets
    from revox_sync.output import printable

    env = session.env
    files, errors = _files(session, paths, config_dir)
    changed: list[str] = []
    for path, shown in files:
        shown = printable(shown)  # a file name may hold ESC or a line break
        try:
            before = read_text(path)
            after = format_text(before, ordered=path.name not in UNORDERED_FILES, shown=shown)
        except LocatedError as exc:
            errors.append(exc)
            continue
        if after == before:
            continue
        changed.append(shown)
        if diff:
            env.add_secrets(literal_secrets(before))
            lines = difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{shown}", f"b/{shown}"
            )
            env.out("".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip("\n"))
        elif check:
            env.out(shown)
        else:
            from revox_sync.files import write_atomic

            try:
                write_atomic(Path(os.path.realpath(path)), after)
            except OSError as exc:  # a read-only checkout, a full disk: the file is left as it was
                errors.append(LocatedError(Location(shown), f"cannot write: {exc.strerror or exc}"))
                continue
            env.out(f"formatted {shown}")
    if errors:
        raise ConfigErrors(errors)
    if changed and (check or diff):
        count = f"{len(changed)} file{'s' if len(changed) != 1 else ''}"
        env.info(
            f"{count} would be reformatted: run `revox-sync fmt` to rewrite {'it' if len(changed) == 1 else 'them'}."
        )
        return EXIT_ERROR
    return EXIT_OK


def _files(
    session: Session, paths: Sequence[Path], config_dir: Path | None
) -> tuple[list[tuple[Path, str]], list[LocatedError]]:
    """The YAML files to format, each once, as shown in messages: those under each directory (hidden ones
    skipped, links checked as the loader checks them) and each file named."""
    from revox_sync.config.discovery import YAML_SUFFIXES, display_path, scan

    if not paths:
        from revox_sync.config.project import find_project_file

        project = find_project_file()
        paths = [session.config_dir(config_dir), *([project] if project is not None else [])]
    found: dict[str, tuple[Path, str]] = {}
    errors: list[LocatedError] = []
    for path in paths:
        if path.is_dir():
            files, problems = scan(path, path)
            errors += problems
        elif not path.exists():
            errors.append(LocatedError(Location(display_path(path)), "no such file or directory"))
            continue
        elif not path.name.endswith(YAML_SUFFIXES):
            errors.append(
                LocatedError(Location(display_path(path)), "not a YAML file (expected .yaml or .yml)")
            )
            continue
        else:
            files = [path]
        for file in files:
            found.setdefault(os.path.realpath(file), (file, display_path(file)))
    return list(found.values()), errors

"""Finding files under the config directory without ever skipping one silently.

A folder that cannot be listed, a link that points to nothing or loops, and a link (to a folder or a YAML
file) that resolves outside the directory are errors; a link that stays inside is followed, and a file
reached twice is loaded once.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from revox_sync.errors import ConfigErrors, LocatedError, Location

YAML_SUFFIXES = (".yaml", ".yml")


def scan(
    directory: Path, root: Path, skip: frozenset[str] = frozenset()
) -> tuple[list[Path], list[LocatedError]]:
    """`*.yaml` / `*.yml` under `directory`, recursively, sorted (hidden files and folders, and the names in
    `skip` at `root`, left out), and an error for each entry it cannot read or must not follow.

    A symbolic link (to a folder, or to a YAML file) is followed when it resolves inside `root`, and is an
    error when it resolves outside, points to nothing, or loops back to a folder it sits in. A file reached
    twice (a link to a folder that is walked anyway) is loaded once, preferably under its own path. Other
    files (prompts) are only read through `!file`, which checks its own links.
    """
    root_real = os.path.realpath(root)
    found: dict[str, tuple[bool, tuple[str, ...], Path]] = {}  # real path -> (via a link, sort key, path)
    errors: list[LocatedError] = []
    stack: list[tuple[Path, tuple[str, ...], bool]] = [(directory, (os.path.realpath(directory),), False)]
    while stack:
        here, chain, via_link = stack.pop()
        try:
            with os.scandir(here) as listing:
                entries = list(listing)
        except OSError as exc:
            errors.append(_error(display_path(here), f"cannot read: {exc.strerror or exc}"))
            continue
        at_root = same_dir(here, root)
        for entry in entries:
            name, path = entry.name, here / entry.name
            is_yaml = name.endswith(YAML_SUFFIXES)
            if name.startswith(".") or (at_root and name in skip):
                continue
            try:  # the entry's type is usually known from the listing; else it costs an lstat
                linked, is_dir = entry.is_symlink(), entry.is_dir(follow_symlinks=False)
            except OSError as exc:  # removed since it was listed
                errors.append(_error(display_path(path), f"cannot read: {exc.strerror or exc}"))
                continue
            real = os.path.join(chain[-1], name)
            if linked:
                followed = _follow_link(path, is_yaml, root_real, chain, errors)
                if followed is None:
                    continue
                is_dir, real = followed
            if is_dir:
                stack.append((path, (*chain, real), via_link or linked))
            elif is_yaml:
                candidate = (via_link or linked, path.relative_to(directory).parts, path)
                found[real] = min(found.get(real, candidate), candidate)
    return [path for _, _, path in sorted(found.values(), key=lambda f: f[1])], errors


def link_error(path: Path, root: Path) -> LocatedError | None:
    """The error for `path` (under `root`) when it is a symbolic link that points to nothing, or when it or a
    folder on its way resolves outside `root`."""
    root_real = os.path.realpath(root)
    if os.path.islink(path):
        errors: list[LocatedError] = []
        _follow_link(path, True, root_real, (), errors)
        return errors[0] if errors else None
    real = os.path.realpath(path)
    if os.path.exists(real) and not is_within(real, root_real):
        return _error(
            display_path(path),
            f"resolves through a symbolic link outside the config directory (to {display_path(real)})",
        )
    return None


def _follow_link(
    link: Path, is_yaml: bool, root_real: str, chain: tuple[str, ...], errors: list[LocatedError]
) -> tuple[bool, str] | None:
    """(is a folder, real path) of a link worth walking, or None: not an assistant file, or an error."""
    shown = display_path(link)
    try:
        target = os.readlink(link)
    except OSError as exc:  # replaced or removed since it was listed
        errors.append(_error(shown, f"cannot read: {exc.strerror or exc}"))
        return None
    try:
        is_dir = stat.S_ISDIR(os.stat(link).st_mode)
    except FileNotFoundError:
        errors.append(_error(shown, f"cannot read: symbolic link to {target} points to nothing"))
        return None
    except OSError as exc:
        errors.append(_error(shown, f"cannot read: {exc.strerror or exc} (symbolic link to {target})"))
        return None
    if not is_dir and not is_yaml:
        return None
    real = os.path.realpath(link)
    if not is_within(real, root_real):
        errors.append(
            _error(
                shown,
                f"symbolic link to {target} leads outside the config directory (to {display_path(real)})",
            )
        )
        return None
    if is_dir and real in chain:
        errors.append(
            _error(shown, f"symbolic link to {target} loops back to {display_path(real)} (a cycle)")
        )
        return None
    return is_dir, real


def display_path(path: Path | str) -> str:
    """`path` relative to the current directory when it is under it, else absolute."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        return absolute
    if relative == os.curdir:
        return relative
    if relative.startswith(os.pardir + os.sep) or relative == os.pardir:
        return absolute
    return relative


def is_within(path: Path | str, root: Path | str) -> bool:
    path, root = os.path.abspath(path), os.path.abspath(root)
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def same_dir(a: Path | str, b: Path | str) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _error(path: str, message: str) -> LocatedError:
    return LocatedError(Location(path), message)


def find_one(config_dir: Path, names: Sequence[str]) -> Path | None:
    """The one file of `names` at the root of `config_dir` (a kind's own file), or None when there is none.

    Two spellings at once, a dangling link, or a link that leads outside the directory are errors."""
    found = [Path(config_dir) / n for n in names if os.path.lexists(Path(config_dir) / n)]
    if len(found) > 1:
        where = Location(display_path(found[1]))
        raise ConfigErrors([LocatedError(where, f"both {found[0].name} and {found[1].name} exist; keep one")])
    if not found:
        return None
    problem = link_error(found[0], Path(config_dir))
    if problem is not None:
        raise ConfigErrors([problem])
    return found[0]

"""`doctor`: the set-up a user gets wrong, checked one thing per line, each failure with what to do.

The project file is valid; the config directory is there; each environment (or the default account) has
its key set, its base URL answers and accepts the key (one GET); `.revox-local/` and `.revox-sync/`
(the emulator's state and the backups) are git-ignored."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from revox_sync.commands import EXIT_ERROR, EXIT_OK
from revox_sync.errors import FatalError
from revox_sync.output import printable

if TYPE_CHECKING:
    from revox_sync.commands.session import Session
    from revox_sync.config.project import Project

API_CHECK_SECONDS = 15.0  # the whole of one account's check, retries included, unless --timeout says
IGNORED = (".revox-local/", ".revox-sync/")  # the local emulator's state (secrets resolved), the backups


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, how it went, and what to do when it failed."""

    name: str
    ok: bool | None  # None: not applicable here (skipped)
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = {True: "✓", False: "✗", None: "-"}[self.ok]
        fix = f": {self.fix}" if self.ok is False and self.fix else ""
        return f"{mark} {self.name}: {self.detail}{fix}"


def run_doctor(session: Session, config_dir: Path | None = None) -> int:
    env = session.env
    checks = list(_checks(session, config_dir))
    for check in checks:
        env.out(env.style(printable(check.line()), {True: "green", False: "red", None: "dim"}[check.ok]))
    failed = sum(1 for c in checks if c.ok is False)
    if failed:
        env.error(f"{failed} of {len(checks)} checks failed.")
        return EXIT_ERROR
    env.out(f"\nAll {sum(1 for c in checks if c.ok)} checks passed.")
    return EXIT_OK


def _checks(session: Session, config_dir: Path | None) -> Iterator[Check]:
    from revox_sync.config.project import find_project_file, load_project

    project: Project | None = None
    path = find_project_file()
    if path is None:
        yield Check("project file", None, "no revox-sync.yaml (optional: it names environments)")
    else:
        try:
            project = load_project(path)
            names = ", ".join(project.environments) or "none"
            yield Check("project file", True, f"{path} is valid (environments: {names})")
        except FatalError as exc:
            yield Check("project file", False, str(exc).splitlines()[0], "fix the file")
    yield _config_dir(session, config_dir)
    if project is not None and project.environments and session.env_name is None:
        for name in project.environments:
            yield from _account(session, name)
    else:
        yield from _account(session, session.env_name)
    root = path.parent if path is not None else Path.cwd()
    for ignored in IGNORED:
        yield _ignored(root, ignored)


def _config_dir(session: Session, given: Path | None) -> Check:
    from revox_sync import options

    try:
        config_dir = session.config_dir(given)
    except FatalError:  # the project file is broken: said above
        config_dir = options.DEFAULT_CONFIG_DIR
    if config_dir.is_dir():
        count = sum(1 for _ in config_dir.rglob("*.y*ml"))
        return Check("config directory", True, f"{config_dir}/ ({count} YAML files)")
    return Check(
        "config directory",
        False,
        f"{config_dir}/ not found",
        "create it (revox-sync import --all writes it from the account), or set config_dir in revox-sync.yaml",
    )


def _account(session: Session, env_name: str | None) -> Iterator[Check]:
    """The key of one environment (or of the default account), then one request with it, to a base URL the
    session allows (one it refuses is a failed check: nothing is sent)."""
    from revox_sync.client import RevoxClient

    label = f"environment {env_name}" if env_name else "account"
    if session.local:
        yield Check(f"API key ({label})", None, "--local: the embedded emulator needs no key")
        return
    try:
        settings = session.settings(env_name)
    except FatalError as exc:
        yield Check(f"API key ({label})", False, str(exc).splitlines()[0], "fix the environment")
        return
    key, where = session.credentials(settings)
    if not key:
        yield Check(
            f"API key ({label})",
            False,
            f"{where} is not set",
            f"export {where.split()[0]}=... (a CI secret in CI)",
        )
        return
    yield Check(f"API key ({label})", True, f"set ({where})")
    try:
        url = session.destination(settings)
    except FatalError as exc:
        yield Check(f"API ({label})", False, str(exc).splitlines()[0], "nothing was sent")
        return
    try:
        with RevoxClient(
            key,
            url,
            run_timeout=session.run_timeout or API_CHECK_SECONDS,
            max_retries=1,
            key_source=where,
            secrets=session.env.secrets,
        ) as client:
            count = len(client.list_assistants())
    except FatalError as exc:
        status = getattr(exc, "status_code", None)
        if status in (401, 403):
            yield Check(
                f"API ({label})",
                False,
                f"{url} refused the key ({status})",
                f"check {where}: a key of this account, not revoked",
            )
        else:
            yield Check(
                f"API ({label})",
                False,
                f"{url}: {str(exc).splitlines()[0]}",
                "check the base URL and the network",
            )
        return
    yield Check(f"API ({label})", True, f"{url} accepted the key ({count} assistants)")


def _ignored(root: Path, directory: str) -> Check:
    name = f"git ignores {directory}"
    git = shutil.which("git")
    if git is None:
        return Check(name, None, "git is not installed")
    try:
        answer = subprocess.run(
            [git, "check-ignore", "-q", directory], cwd=root, capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return Check(name, None, f"cannot run git: {exc}")
    if answer.returncode == 0:
        return Check(name, True, "yes")
    if answer.returncode == 1:
        return Check(name, False, "no", f"add `{directory}` to {root / '.gitignore'}")
    return Check(name, None, "not a git repository")

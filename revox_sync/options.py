"""Click options defined once, shared by the commands that take them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CONFIG_DIR = Path("assistants")
DEFAULT_PARALLELISM = 4  # apply's concurrent writes

config_dir = click.option(
    "-d",
    "--dir",
    "config_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Config directory of assistant files (default: assistants/).",
)


def _complete_target(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The names the config directory declares (assistants, numbers, voices), for shell completion."""
    from revox_sync.commands.complete import object_names

    return [n for n in object_names(ctx.params.get("config_dir")) if n.startswith(incomplete)]


target = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    shell_complete=_complete_target,
    help="Only this object (an assistant, a phone number, a voice), by name or id (repeatable).",
)
prune = click.option(
    "--prune",
    is_flag=True,
    help="Also destroy remote assistants and cloned voices that no file declares (only those revox-sync.yaml "
    "owns).",
)


allow_policy_errors = click.option(
    "--allow-policy-errors",
    is_flag=True,
    help="Let apply go ahead although the policy rules find errors in what it changes (saved in --out's plan).",
)


def applying(command: F) -> F:
    """The options of every command that writes: confirmation, parallelism, safety limit, backups."""
    for option in reversed(
        (
            click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation."),
            click.option(
                "--parallelism",
                type=click.IntRange(1, 64),
                default=DEFAULT_PARALLELISM,
                show_default=True,
                help="Actions at once.",
            ),
            click.option(
                "--force",
                is_flag=True,
                help="Go past the safety limit (30% of 10 or more objects of a kind).",
            ),
            click.option(
                "--backup-dir",
                type=click.Path(path_type=Path, file_okay=False),
                default=None,
                help="Where to save the backup made before the first write (default: .revox-sync/backups/).",
            ),
        )
    ):
        command = option(command)
    return command


def output_format(*choices: str, help: str) -> Callable[[F], F]:
    """`--format` of a command: its `choices`, the first the default."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=choices[0], show_default=True, help=help
    )


results_format = output_format(
    "text",
    "json",
    help="text for people; json: one JSON document of the results on stdout, the rest on stderr.",
)

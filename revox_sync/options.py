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
    help="Config directory of assistant files (default: config_dir of revox-sync.yaml, else assistants/).",
)


class ConfigDirArgument(click.UsageError):
    """A directory given where a command takes none (`plan assistants`): every command takes the config
    directory as `-d DIR`, and this one-line error says so (no "Try --help": the message is the fix), with the
    run's global options, so the command printed reads the same account."""

    def __init__(self, ctx: click.Context, argument: str) -> None:
        from revox_sync.commands.session import Session

        session = ctx.find_object(Session)
        fix = ""
        if Path(argument).is_dir() and session is not None and ctx.info_name:
            fix = f": {session.command(ctx.info_name, config_dir=Path(argument))}"
        super().__init__(
            f"unexpected argument {argument!r}: the config directory is given as -d DIR{fix}", ctx
        )


class TakesNoArguments(click.Command):
    """A command of options only: a stray argument is a `ConfigDirArgument`, not click's "extra argument"."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.allow_extra_args = True
        rest = super().parse_args(ctx, args)
        if ctx.args and not ctx.resilient_parsing:
            raise ConfigDirArgument(ctx, ctx.args[0])
        return rest


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
allow_default_secrets = click.option(
    "--allow-default-secrets",
    is_flag=True,
    help="Let apply store a secret from the default of ${VAR:-default} when VAR is not set (plan --out keeps it "
    "in the saved plan; --local implies it).",
)


allow_policy_errors = click.option(
    "--allow-policy-errors",
    is_flag=True,
    help="Let apply go ahead although the policy rules find errors in what it changes (plan --out keeps it in "
    "the saved plan).",
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

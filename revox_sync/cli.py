"""The command line: click declarations that hand each command to its plain function in `commands/`,
and `main(argv) -> int`, the one error boundary that maps outcomes to exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from revox_sync import __version__, options
from revox_sync.commands import EXIT_ERROR, EXIT_OK
from revox_sync.commands.session import Session
from revox_sync.errors import FatalError
from revox_sync.output import Environment

COMPLETE_VAR = "_REVOX_SYNC_COMPLETE"  # click's variable for the program name revox-sync
GLOBAL_OPTIONS = frozenset(
    {"--api-key", "--base-url", "--local", "--env", "--var", "--var-file", "--timeout", "--no-color", "-v"}
)


def _session() -> Session:
    session = click.get_current_context().find_object(Session)
    assert session is not None
    return session


def _print_version(ctx: click.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    lines = [f"revox-sync {__version__}"]
    if ctx.params.get("verbose"):
        import platform
        from importlib.metadata import PackageNotFoundError, version

        lines.append(f"Python {platform.python_version()} ({platform.python_implementation()})")
        for package in ("pydantic", "httpx", "ruamel.yaml", "click"):
            try:
                lines.append(f"{package} {version(package)}")
            except PackageNotFoundError:
                lines.append(f"{package} (not installed)")
    env = ctx.obj if isinstance(ctx.obj, Environment) else Environment()
    env.out("\n".join(lines))
    ctx.exit(0)


def _complete_env(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    """The environments of revox-sync.yaml, for shell completion of --env."""
    from revox_sync.commands.complete import environment_names

    return [name for name in environment_names() if name.startswith(incomplete)]


def _quote_bash_completions() -> None:
    """bash puts a completion on the command line as it is (zsh's compadd and fish quote what they insert):
    a name with a space, a quote or `$(...)` must come quoted for the shell, or it becomes several words."""
    import shlex

    from click.shell_completion import BashComplete, CompletionItem, add_completion_class

    class QuotingBashComplete(BashComplete):
        def format_completion(self, item: CompletionItem) -> str:
            return f"{item.type},{shlex.quote(item.value) if item.type == 'plain' else item.value}"

    add_completion_class(QuotingBashComplete)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--api-key", envvar="REVOX_API_KEY", metavar="KEY", help="Revox API key (env REVOX_API_KEY).")
@click.option(
    "--base-url",
    envvar="REVOX_BASE_URL",
    metavar="URL",
    help="API base URL (env REVOX_BASE_URL; default https://www.getrevox.com/api).",
)
@click.option(
    "--local", is_flag=True, help="Use the embedded emulator, state in .revox-local/; no key needed."
)
@click.option(
    "--env",
    "env_name",
    metavar="NAME",
    shell_complete=_complete_env,
    help="Environment of revox-sync.yaml: its variable files, API key and base URL.",
)
@click.option(
    "--var",
    "vars",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a variable (repeatable; beats --var-file).",
)
@click.option(
    "--var-file",
    "var_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML file of NAME: value (repeatable; later files win; beats the environment's files).",
)
@click.option(
    "--timeout",
    "run_timeout",
    envvar="REVOX_TIMEOUT",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Bound the run's time on the API (env REVOX_TIMEOUT; default: no bound, but each request gives "
    "up after 120s and its retries are bounded): past it, requests not yet sent fail and those in "
    "flight are cut. The clock stops while apply waits for 'yes'.",
)
@click.option("--no-color", is_flag=True, help="Plain output (also NO_COLOR).")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    is_eager=True,  # read before --version, which shows more with it
    help="Log requests; show tracebacks of unexpected errors; with --version, the libraries' versions.",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    callback=lambda ctx, _param, value: _print_version(ctx, value),
    help="Show the version (with -v, also Python's and the libraries').",
)
@click.pass_context
def cli(
    ctx: click.Context,
    api_key: str | None,
    base_url: str | None,
    local: bool,
    env_name: str | None,
    vars: tuple[str, ...],
    var_files: tuple[Path, ...],
    run_timeout: float | None,
    no_color: bool,
    verbose: bool,
) -> None:
    """Keep Revox voice assistants as YAML files in git and sync them to the Revox API."""
    from click.core import ParameterSource

    env: Environment = ctx.obj
    env.verbose = verbose
    if no_color:
        env.color = False
    explicit = frozenset(
        p for p in ("api_key", "base_url") if ctx.get_parameter_source(p) == ParameterSource.COMMANDLINE
    )
    session = Session(
        env,
        api_key=api_key or None,
        base_url=base_url or None,
        local=local,
        env_name=env_name,
        var_files=var_files,
        vars=vars,
        explicit=explicit,
        run_timeout=run_timeout,
    )
    ctx.call_on_close(session.close)
    ctx.obj = session


# --- commands ------------------------------------------------------------------------------------------------
@cli.command()
@options.config_dir
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--online", is_flag=True, help="Also check voice ids and owned phone numbers against the API.")
@click.option(
    "--env",
    "env_name",
    metavar="NAME",
    shell_complete=_complete_env,
    help="Check the files as this environment resolves them.",
)
@click.option("--all-envs", is_flag=True, help="Check the files once per environment of revox-sync.yaml.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts, sarif for code scanning, github for workflow annotations.",
)
@click.option("--strict", is_flag=True, help="Fail on policy warnings too.")
@click.option("--show-suppressed", is_flag=True, help="Also list findings silenced by ignore comments.")
def validate(paths: tuple[Path, ...], **flags: Any) -> int:
    """Check the config files offline (PATHS, default: the config directory), then the policy rules. Exit 0
    valid, 1 invalid."""
    from revox_sync.commands.validate import run_validate

    if flags["all_envs"] and (flags["env_name"] or flags["online"]):
        raise click.UsageError("--all-envs checks offline every environment: no --env or --online with it")
    return run_validate(_session(), paths, **flags)  # the options, by run_validate's own names


@cli.command("rules")
@click.option("--env", "env_name", metavar="NAME", help="The rules as this environment sets them.")
def rules_command(env_name: str | None) -> int:
    """List every policy rule: its id, severity, whether it is on, and its source."""
    from revox_sync.commands.rules import run_rules

    return run_rules(_session(), env_name)


@cli.command()
@options.config_dir
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; list the files that would change and exit 1.")
@click.option("--diff", is_flag=True, help="Write nothing; print the changes as a unified diff (exit 1).")
def fmt(config_dir: Path | None, paths: tuple[Path, ...], check: bool, diff: bool) -> int:
    """Rewrite YAML files in the canonical layout (default: the config directory and revox-sync.yaml)."""
    from revox_sync.commands.fmt import run_fmt

    return run_fmt(_session(), paths, config_dir=config_dir, check=check, diff=diff)


@cli.command(cls=options.TakesNoArguments)
@options.config_dir
def doctor(config_dir: Path | None) -> int:
    """Check the set-up: project file, config directory, each environment's key and API, git-ignores."""
    from revox_sync.commands.doctor import run_doctor

    return run_doctor(_session(), config_dir)


@cli.command()
def schema() -> int:
    """Print the JSON Schema of an assistant file, for editors."""
    from revox_sync.commands.emulator import run_schema

    return run_schema(_session())


@cli.command(cls=options.TakesNoArguments)
@options.config_dir
@click.option(
    "--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), help="Save the plan as JSON."
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@options.target
@options.prune
@options.allow_default_secrets
@options.output_format(
    "text",
    "json",
    "markdown",
    help="text for people, json for machines, markdown for a pull-request comment.",
)
@options.allow_policy_errors
def plan(
    config_dir: Path | None,
    out_file: Path | None,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    prune: bool,
    allow_default_secrets: bool,
    fmt: str,
    allow_policy_errors: bool,
) -> int:
    """Fetch live state and print what apply would do, with the policy rules' findings on it; changes nothing
    (exit 0 with findings: validate is the check that fails)."""
    from revox_sync.commands.plan import run_plan

    return run_plan(
        _session(),
        config_dir,
        out_file=out_file,
        detailed_exitcode=detailed_exitcode,
        targets=targets,
        prune=prune,
        fmt=fmt,
        allow_default_secrets=allow_default_secrets,
        allow_policy_errors=allow_policy_errors,
    )


@cli.command(short_help="Make the account match the files (or a saved plan).")
@options.config_dir
@click.argument("plan_file", required=False, type=click.Path(path_type=Path))
@options.target
@options.prune
@options.allow_default_secrets
@options.applying
@options.allow_policy_errors
@options.results_format
def apply(
    config_dir: Path | None,
    plan_file: Path | None,
    targets: tuple[str, ...],
    prune: bool,
    allow_default_secrets: bool,
    allow_policy_errors: bool,
    **how: Any,
) -> int:
    """Make the account match the files, or a saved PLAN_FILE (refused if stale). Before the first write,
    what it changes or destroys is saved to a backup that `restore` puts back. Nothing is written while the
    policy rules find errors in what it changes, unless --allow-policy-errors."""
    from revox_sync.commands.apply import Applying, run_apply

    if plan_file is not None and plan_file.is_dir():
        raise options.ConfigDirArgument(click.get_current_context(), str(plan_file))
    return run_apply(
        _session(),
        config_dir,
        Applying(**how),
        plan_file=plan_file,
        targets=targets,
        prune=prune,
        allow_default_secrets=allow_default_secrets,
        allow_policy_errors=allow_policy_errors,
    )


@cli.command(short_help="Put back what an apply changed or destroyed, from its backup.")
@click.argument("backup_file", metavar="BACKUP", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Only plan the restore and save it, for `restore BACKUP PLAN_FILE`.",
)
@click.option(
    "--force-conflicts",
    is_flag=True,
    help="Also put back the fields changed since the apply (conflicts), and what was destroyed since.",
)
@options.applying
@options.results_format
def restore(
    backup_file: Path, plan_file: Path | None, out_file: Path | None, force_conflicts: bool, **how: Any
) -> int:
    """Plan undoing the apply that made BACKUP (each field it changed goes back where the account still
    holds what it wrote; a destroyed assistant is created again; numbers routed back) and apply it, or a
    saved PLAN_FILE of that restore."""
    from revox_sync.commands.apply import Applying
    from revox_sync.commands.restore import run_restore

    return run_restore(
        _session(),
        backup_file,
        Applying(**how),
        plan_file,
        out_file=out_file,
        force_conflicts=force_conflicts,
    )


@cli.command()
@options.config_dir
@click.argument("names", nargs=-1, metavar="[NAME]...")
@options.output_format("yaml", "json", help="yaml (files revox-sync loads back) or json.")
def render(config_dir: Path | None, names: tuple[str, ...], fmt: str) -> int:
    """Print the assistants as plan compares them: templates, rows and variables applied."""
    from revox_sync.commands.render import run_render

    return run_render(_session(), config_dir, names, fmt=fmt)


@cli.command("import")
@options.config_dir
@click.argument("names", nargs=-1, metavar="[NAME_OR_ID]...")
@click.option("--all", "import_all", is_flag=True, help="Import every assistant of the account.")
@click.option("--overwrite", is_flag=True, help="Update files that already exist.")
@click.option("--with-defaults", is_flag=True, help="Also write fields equal to the API default.")
@options.results_format
def import_(
    config_dir: Path | None,
    names: tuple[str, ...],
    import_all: bool,
    overwrite: bool,
    with_defaults: bool,
    fmt: str,
) -> int:
    """Write YAML files from live assistants (prompts to prompts/*.md)."""
    from revox_sync.commands.import_ import run_import

    if import_all == bool(names):
        raise click.UsageError("name the assistants to import, or pass --all (not both)")
    return run_import(
        _session(), config_dir, names, overwrite=overwrite, with_defaults=with_defaults, fmt=fmt
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port)."
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON state file, with FILE.journal and FILE.lock beside it (default: in memory, gone at Ctrl-C).",
)
@click.option("--api-key", "emulator_key", metavar="KEY", help="Require this Bearer key (default: any).")
@click.option(
    "--phone-number",
    "phone_numbers",
    multiple=True,
    metavar="E164",
    help="A number the account owns (repeatable).",
)
def emulator(
    host: str, port: int, state_file: Path | None, emulator_key: str | None, phone_numbers: tuple[str, ...]
) -> int:
    """Serve the local Revox API emulator on loopback."""
    from revox_sync.commands.emulator import run_emulator
    from revox_sync.kinds.assistant.fields import E164_RE

    bad = [n for n in phone_numbers if not E164_RE.match(n)]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not an E.164 number", param_hint="--phone-number")
    return run_emulator(host, port, state_file, emulator_key, phone_numbers)


# --- the error boundary --------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run the CLI; every expected failure becomes a message and exit 1, never a traceback."""
    env = env or Environment()
    args = list(sys.argv[1:] if argv is None else argv)
    if COMPLETE_VAR in os.environ:  # click answers the shell's completion request itself, then exits
        _quote_bash_completions()
    try:
        result = cli.main(args=args, prog_name="revox-sync", standalone_mode=False, obj=env)
    except click.exceptions.NoArgsIsHelpError as exc:
        env.out(exc.ctx.get_help() if exc.ctx else "")
        return EXIT_OK
    except click.UsageError as exc:
        message = exc.format_message()
        hint = f"\nTry '{exc.ctx.command_path} --help' for help." if exc.ctx else ""
        option = getattr(exc, "option_name", None)
        if isinstance(exc, options.ConfigDirArgument):
            hint = ""
        elif option in GLOBAL_OPTIONS and exc.ctx is not None:
            command = exc.ctx.info_name
            message = f"{option} is a global option: it goes before the command (revox-sync {option} ... {command} ...)"
            hint = ""
        env.error(f"{message}{hint}")
        return EXIT_ERROR
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        env.error("interrupted")
        return EXIT_ERROR
    except FatalError as exc:
        _print_fatal(env, exc)
        return EXIT_ERROR
    except click.ClickException as exc:
        env.error(exc.format_message())
        return EXIT_ERROR
    except Exception as exc:
        if env.verbose:
            import traceback

            env.err(traceback.format_exc().rstrip())
        env.error(f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback; please report it)")
        return EXIT_ERROR
    return int(result or 0)


def _print_fatal(env: Environment, exc: FatalError) -> None:
    from revox_sync.errors import ConfigErrors

    if isinstance(exc, ConfigErrors):
        for error in exc.errors:
            env.err(str(error))
        count = len(exc.errors)
        env.err(f"{count} error{'s' if count != 1 else ''}.")
    else:
        env.error(str(exc))


def console_main() -> NoReturn:
    sys.exit(main())

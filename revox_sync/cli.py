"""The command line: a thin shell that wires loader, client, plan, render and apply, and maps outcomes
to exit codes. `main(argv) -> int` is the one error boundary."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from revox_sync import __version__, options
from revox_sync.errors import FatalError
from revox_sync.output import Environment, printable

if TYPE_CHECKING:
    from revox_sync.apply import Result
    from revox_sync.client import RevoxClient
    from revox_sync.config.project import Project, Settings
    from revox_sync.errors import LocatedError
    from revox_sync.kinds.assistant.load import LoadedAssistant, LoadResult
    from revox_sync.plan import Desired, Plan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
NAMES_MAX_AGE = 5.0  # seconds a listing of names may be old when a create looks at it
GLOBAL_OPTIONS = frozenset(
    {"--api-key", "--base-url", "--local", "--env", "--var", "--var-file", "--timeout", "--no-color", "-v"}
)


class App:
    """Per-run state handed to every command: the environment and a lazily built API client."""

    def __init__(
        self,
        env: Environment,
        *,
        api_key: str | None,
        base_url: str | None,
        local: bool,
        env_name: str | None = None,
        var_files: Sequence[Path] = (),
        vars: Sequence[str] = (),
        explicit: frozenset[str] = frozenset(),
        run_timeout: float | None = None,
    ) -> None:
        self.env = env
        self.run_timeout = run_timeout  # --timeout: the bound of the run's time on the API
        self.api_key = api_key
        self.base_url = base_url
        self.local = local
        self.env_name = env_name
        self.var_files = tuple(var_files)
        self.vars = tuple(vars)
        self.explicit = explicit  # global options given on the command line (they beat the project file)
        self._project: Any = False  # not looked up yet
        self._settings: dict[str | None, Settings] = {}
        self._client: RevoxClient | None = None
        self.server: Any = None  # the embedded emulator, with --local
        self.target: str | None = None  # the account plans are made against, set with the client
        self.key = b""  # the API key in use, which keys the fingerprints of secret-bearing values

    def project(self) -> Project | None:
        """revox-sync.yaml, found by walking up from the working directory (None when there is none)."""
        if self._project is False:
            from revox_sync.config.project import find_project_file, load_project

            path = find_project_file()
            self._project = load_project(path) if path is not None else None
        return self._project  # type: ignore[no-any-return]

    def settings(self, env_name: str | None = None) -> Settings:
        """Variables, config directory and credentials for `env_name` (default: the global --env)."""
        from revox_sync.config.project import resolve

        name = env_name or self.env_name
        if name not in self._settings:
            settings = resolve(self.project(), name, self.var_files, self.vars, self.env.environ)
            self.env.add_secrets(
                settings.variables[n] for n in settings.sensitive_names if n in settings.variables
            )
            self._settings[name] = settings
        return self._settings[name]

    def config_dir(self, given: Path | None) -> Path:
        return given or self.settings().config_dir or options.DEFAULT_CONFIG_DIR

    def client(self) -> RevoxClient:
        if self._client is None:
            from revox_sync.client import DEFAULT_BASE_URL, RevoxClient

            settings = self.settings()
            api_key = self.api_key
            if "api_key" not in self.explicit and settings.api_key_env and not self.local:
                api_key = settings.require_api_key()  # the environment's own key, never REVOX_API_KEY
            base_url = self.base_url if "base_url" in self.explicit else settings.base_url or self.base_url
            base_url = base_url or DEFAULT_BASE_URL
            self.target = base_url.rstrip("/")
            if self.local:
                from revox_sync.local import start_local

                try:
                    self.server = start_local()
                except (ValueError, OSError) as exc:
                    raise FatalError(f"cannot start the local emulator: {exc}") from None
                api_key, base_url, self.target = None, self.server.url, "local (.revox-local/)"
                self.env.info(f"Using the local emulator ({self.server.url}, state in .revox-local/).")
            elif not api_key:
                raise FatalError(
                    "no API key: set REVOX_API_KEY or pass --api-key (or try everything locally with --local)"
                )
            self.key = (api_key or "").encode()
            if api_key:  # the account, not only the URL: a plan made with one key must not apply with another
                from revox_sync.plan import fingerprint

                self.target += f" (key {fingerprint('account', self.key)[:8]})"
            self._client = RevoxClient(
                api_key,
                base_url,
                run_timeout=self.run_timeout,
                on_retry=self.env.info,
                verbose_log=self.env.debug,
            )
        return self._client

    def global_args(self) -> list[str]:
        """The global options that chose this run's account and variables, to repeat in a hint."""
        args = ["--local"] if self.local else []
        args += ["--env", self.env_name] if self.env_name else []
        args += ["--base-url", self.base_url] if self.base_url and "base_url" in self.explicit else []
        args += [a for f in self.var_files for a in ("--var-file", str(f))]
        return args + (["--var ..."] if self.vars else [])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.server is not None:
            self.server.stop()


def _app() -> App:
    app = click.get_current_context().find_object(App)
    assert app is not None
    return app


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
@click.option("-v", "--verbose", is_flag=True, help="Log requests; show tracebacks of unexpected errors.")
@click.version_option(__version__, "--version", prog_name="revox-sync")
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
    env.add_secrets([api_key or ""])  # sensitive variables are added as settings() resolves them
    app = App(
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
    ctx.call_on_close(app.close)
    ctx.obj = app


# --- loading the configuration -----------------------------------------------------------------------------
def load_config(config_dir: Path | None) -> list[LoadedAssistant]:
    """Every file of the config directory, or stop: a missing, empty or broken directory plans nothing."""
    from revox_sync.kinds.assistant.load import load_directory
    from revox_sync.sensitive import secret_values

    directory = _app().config_dir(config_dir)
    settings = _app().settings()
    with settings.explaining():
        loaded, warnings = load_directory(directory, variables=settings.variables)
    for warning in warnings:
        _app().env.warn(str(warning))
    for assistant in loaded:  # a secret written literally must not leak when an API error quotes it
        _app().env.add_secrets(secret_values(assistant.data, (), assistant.sensitive))
    if not loaded:
        raise FatalError(f"no assistant files (*.yaml, *.yml) in {directory}/: nothing to plan")
    return loaded


def to_desired(loaded: LoadedAssistant) -> Desired:
    from revox_sync.config.discovery import display_path
    from revox_sync.plan import Desired

    data = {k: v for k, v in loaded.data.items() if k != "id"}
    return Desired(
        name=loaded.name,
        data=data,
        id=loaded.id,
        file=display_path(loaded.path),
        sensitive=loaded.sensitive,
        name_location=loaded.positions.value(("name",)),
        id_location=loaded.positions.value(("id",)) if loaded.id else None,
    )


def compute_plan(
    config_dir: Path | None, *, prune: bool, targets: Sequence[str]
) -> tuple[Plan, list[dict[str, Any]]]:
    """The assistant plan plus, when the config directory has phone_numbers.yaml, its routing changes."""
    import dataclasses

    from revox_sync import routing
    from revox_sync.plan import build_plan

    desired = [to_desired(a) for a in load_config(config_dir)]
    routes = routing.load_routes(_app().config_dir(config_dir))  # a broken file stops before any request
    client = _app().client()
    remote = client.list_assistants()
    plan = build_plan(desired, remote, prune=prune, targets=targets, key=_app().key)
    plan = dataclasses.replace(plan.redacted(_app().env.secrets), target=_app().target)
    if routes.path is not None and targets:
        _app().env.info(
            "Note: phone_numbers.yaml is not planned with --target (only the targeted assistants are)."
        )
    elif routes.path is not None:
        numbers = _local_numbers(routes, client.list_phone_numbers())
        changes = routing.plan_routes(routes, numbers, routing.assistant_index(plan, desired, remote))
        plan = dataclasses.replace(
            plan, routes=tuple(changes), routes_fingerprint=routing.routes_fingerprint(routes, numbers)
        )
    return plan, remote


def _local_numbers(routes: Any, numbers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """--local: the sandbox account owns every number phone_numbers.yaml lists (added on first use)."""
    app = _app()
    if not app.local or app.server is None:
        return numbers
    owned = {n.get("phone_number") for n in numbers}
    for route in routes.routes:
        if route.number not in owned:
            numbers.append(app.server.state.add_phone_number(route.number))
            app.env.info(f"Local emulator: added {route.number} to the local account.")
    return numbers


def print_plan(plan: Plan, fmt: str = "text") -> None:
    from revox_sync.render import RENDERERS

    env = _app().env
    env.out(RENDERERS[fmt](env.style).render(plan))


# --- commands ------------------------------------------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--online", is_flag=True, help="Also check voice ids and owned phone numbers against the API.")
@click.option("--env", "env_name", metavar="NAME", help="Check the files as this environment resolves them.")
@click.option("--all-envs", is_flag=True, help="Check the files once per environment of revox-sync.yaml.")
def validate(paths: tuple[Path, ...], online: bool, env_name: str | None, all_envs: bool) -> int:
    """Check assistant files offline (default: assistants/). Exit 0 valid, 1 invalid."""
    from revox_sync.config.project import all_environments
    from revox_sync.errors import ConfigErrors, LocatedError

    app = _app()
    if all_envs and (env_name or online):
        raise click.UsageError("--all-envs checks offline every environment: no --env or --online with it")
    if env_name:
        app.env_name = env_name  # --online then checks against that environment's account
    names: list[str | None] = list(all_environments(app.project())) if all_envs else [env_name]
    errors: list[LocatedError] = []
    shown: set[str] = set()
    for name in names:
        settings = app.settings(name)
        result, found = _validate_once(paths, settings)
        for warning in result.warnings:
            if str(warning) not in shown:
                shown.add(str(warning))
                app.env.warn(str(warning))
        if all_envs:
            found = [LocatedError(e.location, f"[{name}] {e.message}") for e in found]
        errors += found
        if found:
            continue
        if not result.files:
            where = (
                ", ".join(str(p) for p in paths) or f"{settings.config_dir or options.DEFAULT_CONFIG_DIR}/"
            )
            raise FatalError(f"no assistant files (*.yaml, *.yml) found in {where}")
        if online:
            _check_online(result.assistants)
        count = len(result.assistants)
        prefix = f"{name}: " if all_envs else ""
        app.env.out(f"{prefix}{count} assistant file{'s' if count != 1 else ''} valid.")
    if errors:
        raise ConfigErrors(errors)
    return EXIT_OK


def _validate_once(paths: tuple[Path, ...], settings: Settings) -> tuple[LoadResult, list[LocatedError]]:
    """collect_paths with this environment's variables, plus the routing file of the config directory."""
    import os

    from revox_sync.errors import ConfigErrors, LocatedError, Location
    from revox_sync.kinds.assistant.load import collect_paths
    from revox_sync.routing import load_routes

    config_dir = settings.config_dir or options.DEFAULT_CONFIG_DIR
    targets = list(paths) or [config_dir]
    result = collect_paths(targets, config_dir=config_dir, variables=settings.variables)
    errors: list[LocatedError] = settings.explain(result.errors)
    for path in targets:
        if path.is_dir() and os.path.abspath(path) == os.path.abspath(config_dir):
            try:
                load_routes(path)
            except ConfigErrors as exc:
                errors += exc.errors
            except FatalError as exc:
                errors.append(LocatedError(Location(str(path)), str(exc)))
    return result, errors


def _check_online(assistants: list[LoadedAssistant]) -> None:
    from revox_sync.errors import ConfigErrors, LocatedError

    client = _app().client()
    voices = {(v.get("provider"), v.get("id")) for v in client.list_voices()}
    owned = {n.get("phone_number") for n in client.list_phone_numbers()}
    errors: list[LocatedError] = []
    for a in assistants:
        voice = a.spec.voice
        if voice is not None and (voice.provider, voice.id) not in voices:
            errors.append(
                LocatedError(
                    a.positions.value(("voice", "id")),
                    f"voice.id: no {voice.provider} voice '{voice.id}' in this account (see GET /voices)",
                )
            )
        number = a.spec.from_phone_number
        if number is not None and number not in owned:
            errors.append(
                LocatedError(
                    a.positions.value(("from_phone_number",)),
                    f"from_phone_number: {number} is not a number this account owns",
                )
            )
    if errors:
        raise ConfigErrors(errors)


@cli.command()
def schema() -> int:
    """Print the JSON Schema of an assistant file, for editors."""
    import json

    from revox_sync.kinds.assistant.spec import json_schema

    _app().env.out(json.dumps(json_schema(), indent=2))
    return EXIT_OK


@cli.command()
@options.config_dir
@click.option(
    "--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), help="Save the plan as JSON."
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@options.target
@options.prune
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for machines, markdown for a pull-request comment.",
)
def plan(
    config_dir: Path | None,
    out_file: Path | None,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    prune: bool,
    fmt: str,
) -> int:
    """Fetch live state and print what apply would do; changes nothing."""
    import dataclasses

    from revox_sync.plan import safety_violation

    current, remote = compute_plan(config_dir, prune=prune, targets=targets)
    current = dataclasses.replace(current, key=_plan_key())
    print_plan(current, fmt)
    env = _app().env
    limit = safety_violation(current, len(remote))
    if limit:
        env.warn(f"warning: apply will refuse this plan without --force ({limit})")
    if out_file is not None:
        import shlex

        from revox_sync.files import write_atomic
        from revox_sync.render import json_document

        doc = current.to_dict()
        write_atomic(out_file, json_document(doc) + "\n")
        directory = ["-d", str(config_dir)] if config_dir is not None else []
        words = ["revox-sync", *_app().global_args(), "apply", *directory, str(out_file)]
        # global_args() stands "--var ..." for the --var options, whose values it does not repeat
        command = " ".join(w if w == "--var ..." else shlex.quote(w) for w in words)
        env.info(f"Saved the plan to {out_file} ({doc['checksum']}). Apply it with: {command}")
    return EXIT_CHANGES if detailed_exitcode and current.has_changes else EXIT_OK


def _plan_key() -> bytes:
    """What keys a saved plan's checksum: the account's API key, or with --local a secret of the local state."""
    app = _app()
    app.client()  # sets the key and the target
    if app.local:
        from revox_sync.local import plan_key

        return plan_key()
    return app.key


@cli.command(short_help="Make the account match the files (or a saved plan).")
@options.config_dir
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@options.target
@options.prune
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=options.DEFAULT_PARALLELISM,
    show_default=True,
    help="Actions at once.",
)
@click.option("--force", is_flag=True, help="Go past the safety limit (30% of 10 or more assistants).")
def apply(
    config_dir: Path | None,
    plan_file: Path | None,
    auto_approve: bool,
    targets: tuple[str, ...],
    prune: bool,
    parallelism: int,
    force: bool,
) -> int:
    """Make the account match the files, or a saved PLAN_FILE (refused if stale)."""
    from revox_sync import plan as planning
    from revox_sync.apply import RemoteNames, apply_plan, catching_interrupts, find_duplicates

    env = _app().env
    saved = None
    if plan_file is not None:
        if targets or prune:
            raise FatalError("--target and --prune come from the saved plan; do not pass them with PLAN_FILE")
        saved = planning.load_saved(plan_file, _plan_key(), _app().target)
        prune, targets = saved["options"]["prune"], tuple(saved["options"]["targets"])
    current, remote = compute_plan(config_dir, prune=prune, targets=targets)
    if saved is not None:
        planning.check_fresh(saved, current, str(plan_file))
    print_plan(current)
    if not current.has_changes:
        return EXIT_OK
    limit = planning.safety_violation(current, len(remote))
    if limit and not force:
        raise FatalError(limit)
    client = _app().client()
    names = RemoteNames(client, remote, max_age=NAMES_MAX_AGE)
    if not auto_approve:
        with client.paused():  # the run's time limit does not count a person's reading time
            _confirm(env)
        names.expire()  # a person may have taken minutes to answer
    from revox_sync.routing import apply_routes

    total = len(current.actions) + len(current.routes)
    env.out(
        f"\nApplying {total} action{'s' if total != 1 else ''} (parallelism {min(parallelism, total)})..."
    )
    progress = iter(range(1, total + 1))
    with catching_interrupts() as interrupts:
        results = apply_plan(
            current,
            client,
            parallelism=parallelism,
            on_result=lambda r: _report(env, r, f"[{next(progress)}/{total}]"),
            interrupts=interrupts,
            on_interrupt=lambda count, in_flight: _announce_interrupt(env, count, in_flight),
            names=names,
        )
        # phone numbers last: a route may point at an assistant this apply just created
        created = {r.action.name: r.id for r in results if r.ok and r.action.kind == "create" and r.id}
        routed = apply_routes(
            current.routes,
            client,
            created,
            on_result=lambda r: _report_route(env, r, f"[{next(progress)}/{total}]"),
            stopping=lambda: interrupts.stopping,
        )
    duplicates = [] if interrupts.abandoning or not created else find_duplicates(client, created)
    return _finish(
        env, results, routed, current.routes, interrupted=interrupts.stopping
    ) | _report_duplicates(env, duplicates, current)


def _announce_interrupt(env: Environment, count: int, in_flight: int) -> None:
    if count == 1:
        env.err(
            f"\nInterrupt received: no new writes start; waiting for the {in_flight} in flight to finish "
            "(interrupt again to abandon them)."
        )
    else:
        env.err(
            f"\nSecond interrupt: abandoning the {in_flight} writes in flight; their outcome is unknown "
            "until the next plan."
        )


def _finish(
    env: Environment,
    results: Sequence[Result],
    routed: Sequence[Any],
    routes: Sequence[Any],
    *,
    interrupted: bool,
) -> int:
    """The closing lines of an apply: what succeeded, failed, was abandoned in flight or never started."""
    done = [r for r in results if r.ok]
    s = {k: sum(1 for r in done if r.action.kind == k) for k in ("create", "update", "delete")}
    counts = f"{s['create']} added, {s['update']} changed, {s['delete']} destroyed"
    if routes:
        counts += f"; phone numbers: {sum(1 for r in routed if r.ok)} changed"
    outcomes = [(f'{r.action.kind} "{r.action.name}"', _outcome(r), r.error) for r in results]
    outcomes += [(f'update phone_number "{r.change.number}"', _outcome(r), r.error) for r in routed]
    outcomes += [(f'update phone_number "{c.number}"', "not started", None) for c in routes[len(routed) :]]
    succeeded = [label for label, outcome, _ in outcomes if outcome == "succeeded"]
    if len(succeeded) == len(outcomes):
        env.out("")
        env.out(env.style(f"Apply complete! Assistants: {counts}.", "green", "bold"))
        return EXIT_OK
    verb = "interrupted" if interrupted else "incomplete"
    env.error(f"apply {verb}: {len(succeeded)} of {len(outcomes)} actions succeeded ({counts}).")
    for shown in ("succeeded", "failed", "abandoned", "not started"):
        for label, outcome, error in outcomes:
            if outcome == shown:
                detail = {"failed": f": {error}", "abandoned": " (in flight when abandoned: outcome unknown)"}
                env.err(f"  {outcome + ':':<10} {label}{detail.get(outcome, '')}")
    failed = any(outcome == "failed" for _, outcome, _ in outcomes)
    env.err(f"{'Fix the cause and run' if failed else 'Run'} apply again: it will do only what is left.")
    return EXIT_ERROR


def _outcome(result: Any) -> str:
    if result.ok:
        return "succeeded"
    if result.error is not None:
        return "failed"
    return "abandoned" if getattr(result, "started", True) else "not started"


def _report_duplicates(
    env: Environment, duplicates: Sequence[tuple[str, list[dict[str, Any]]]], plan: Plan
) -> int:
    """Name what a concurrent apply duplicated, and how to remove it (this run cannot know which to keep)."""
    files = {a.name: a.file for a in plan.actions}
    for name, same in duplicates:
        kept, *extra = sorted(same, key=lambda r: (str(r.get("created_at")), str(r.get("id"))))
        ids = ", ".join(str(r["id"]) for r in (kept, *extra))
        env.error(
            f'{len(same)} remote assistants are now named "{name}" ({ids}): another apply ran at the same '
            "time. Keep the oldest and remove the others:"
        )
        env.err(f"  add `id: {kept['id']}` to {files.get(name) or 'its file'}, then run")
        for r in extra:
            command = ["revox-sync", *_app().global_args(), "apply", "--prune", "--target", str(r["id"])]
            env.err(f"  {' '.join(command)}")
    return EXIT_ERROR if duplicates else EXIT_OK


def _report_route(env: Environment, result: Any, counter: str) -> None:
    env.out(env.style(printable(f"  {counter}{result.line()}"), "green" if result.ok else "red"))
    for field in result.not_stored:
        env.warn(f'    warning: phone_number "{result.change.number}": the server did not store {field}')


def _confirm(env: Environment) -> None:
    if not env.interactive:
        raise FatalError("refusing to apply without confirmation: no terminal; pass --auto-approve")
    env.stdout.write(
        "\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: "
    )
    env.stdout.flush()
    answer = env.stdin.readline().strip()
    if answer != "yes":
        raise FatalError("apply cancelled (the answer was not 'yes'); nothing was changed")


def _report(env: Environment, result: Any, counter: str) -> None:
    r: Result = result
    ident = f" ({r.id})" if r.id else ""
    if r.ok:
        line, color = f'  {counter} ✓ {r.verb} "{r.action.name}"{ident} in {r.seconds:.1f}s', "green"
    else:
        line, color = f'  {counter} ✗ {r.action.kind} "{r.action.name}"{ident} failed: {r.error}', "red"
    env.out(env.style(printable(line), color))
    for field in r.not_stored:
        env.warn(f'    warning: "{r.action.name}": the server did not store {field}')
    if r.notice:
        env.warn(f'    note: "{r.action.name}": {r.notice}')


@cli.command("import")
@options.config_dir
@click.argument("names", nargs=-1, metavar="[NAME_OR_ID]...")
@click.option("--all", "import_all", is_flag=True, help="Import every assistant of the account.")
@click.option("--overwrite", is_flag=True, help="Update files that already exist.")
@click.option("--with-defaults", is_flag=True, help="Also write fields equal to the API default.")
def import_(
    config_dir: Path | None, names: tuple[str, ...], import_all: bool, overwrite: bool, with_defaults: bool
) -> int:
    """Write YAML files from live assistants (prompts to prompts/*.md)."""
    from revox_sync.importer import run_import

    if import_all == bool(names):
        raise click.UsageError("name the assistants to import, or pass --all (not both)")
    client = _app().client()  # sets the key in use: its value is a secret import must not write
    return int(
        run_import(
            client,
            _app().env,
            _app().config_dir(config_dir),
            names=list(names),
            overwrite=overwrite,
            with_defaults=with_defaults,
            variables=_app().settings().variables,
            api_key=_app().key.decode() or None,
        )
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port)."
)
@click.option(
    "--state", "state_file", type=click.Path(path_type=Path, dir_okay=False), help="JSON state file."
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
    from revox_sync.emulator import serve
    from revox_sync.kinds.assistant.spec import E164_RE

    bad = [n for n in phone_numbers if not E164_RE.match(n)]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not an E.164 number", param_hint="--phone-number")
    try:
        serve(host=host, port=port, state_file=state_file, api_key=emulator_key, phone_numbers=phone_numbers)
    except (ValueError, OSError) as exc:
        raise FatalError(f"cannot serve the emulator on {host}:{port}: {exc}") from None
    return EXIT_OK


# --- the error boundary --------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run the CLI; every expected failure becomes a message and exit 1, never a traceback."""
    env = env or Environment()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=args, prog_name="revox-sync", standalone_mode=False, obj=env)
    except click.exceptions.NoArgsIsHelpError as exc:
        env.out(exc.ctx.get_help() if exc.ctx else "")
        return EXIT_OK
    except click.UsageError as exc:
        message = exc.format_message()
        hint = f"\nTry '{exc.ctx.command_path} --help' for help." if exc.ctx else ""
        option = getattr(exc, "option_name", None)
        if option in GLOBAL_OPTIONS and exc.ctx is not None:
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

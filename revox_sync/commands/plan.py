"""`plan`: every kind's files and remote objects to one Plan; printed, and saved with `--out`."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync.commands import EXIT_CHANGES, EXIT_OK
from revox_sync.errors import ConfigErrors, FatalError, LocatedError

if TYPE_CHECKING:
    from revox_sync.commands.session import Session
    from revox_sync.engine.change import Desired
    from revox_sync.engine.kind import Loaded
    from revox_sync.engine.plan import Plan
    from revox_sync.kinds.assistant.load import LoadedAssistant
    from revox_sync.output import Environment
    from revox_sync.rules.config import Policy
    from revox_sync.rules.rule import Finding


@dataclass(frozen=True)
class Computed:
    """A plan and what it was computed from."""

    plan: Plan
    loaded: dict[str, Loaded | None]
    remote: dict[str, list[dict[str, Any]]]


def load_config(session: Session, config_dir: Path | None) -> dict[str, Loaded | None]:
    """Every kind's files, checked alone and across kinds; every error of every kind before any request."""
    from revox_sync.engine.kind import LoadContext
    from revox_sync.kinds import KINDS

    settings = session.settings()
    context = LoadContext(session.config_dir(config_dir), settings.variables)
    loaded: dict[str, Loaded | None] = {}
    errors: list[LocatedError] = []
    with settings.explaining():
        for kind in KINDS:
            try:
                loaded[kind.name] = kind.load(context)
            except ConfigErrors as exc:
                errors += exc.errors
                loaded[kind.name] = None
    for kind in KINDS:
        config = loaded[kind.name]
        if config is not None and not errors:
            errors += kind.check(config, loaded)
    if not errors:
        from revox_sync.engine.plan import unowned

        errors += unowned(KINDS, loaded, session.scope())
    if errors:
        raise ConfigErrors(errors)
    for config in loaded.values():
        for warning in config.warnings if config is not None else ():
            session.env.warn(str(warning))
        for d in config.desired if config is not None else ():
            learn_desired_secrets(session.env, d)
    return loaded


def learn_desired_secrets(env: Environment, d: Desired) -> None:
    """Blank in all output the values `d` holds at sensitive places (a secret written literally must not
    leak either), each as the variables it came from. A text shown with its secrets blanked in place is not
    one: the values of its variables are already known."""
    from revox_sync.sensitive import secret_items, secret_names, shown_as, shown_inline

    for loc, value in secret_items(d.data, (), d.sensitive):
        source = d.variables.get(loc)
        if not shown_inline(loc, source):
            env.add_secrets([value], shown_as(secret_names(loc, source)))


def compute_plan(
    session: Session,
    config_dir: Path | None,
    *,
    prune: bool,
    targets: Sequence[str],
    allow_default_secrets: bool = False,
    allow_policy_errors: bool = False,
) -> Computed:
    """Load, fetch one listing per managed kind, and plan, with the policy findings on what it changes. A
    broken file stops before any request. With `--local`, a secret from its default is stored without
    `--allow-default-secrets`: the emulator is no account, and the README's first command applies the examples,
    whose keys are not set on a new machine."""
    from revox_sync.rules.config import load_policy
    from revox_sync.rules.custom import PatternBudget

    policy = load_policy(
        session.project(), session.env_name, PatternBudget()
    )  # its mistakes before a request
    with gc_paused():
        computed = _compute_plan(session, config_dir, prune=prune, targets=targets)
        findings = policy_findings(session, policy, computed, session.config_dir(config_dir))
    plan = dataclasses.replace(
        computed.plan,
        findings=findings,
        allow_policy_errors=allow_policy_errors,
        allow_default_secrets=allow_default_secrets or session.local,
    )
    return dataclasses.replace(computed, plan=plan)


def policy_findings(
    session: Session, policy: Policy, computed: Computed, config_dir: Path
) -> tuple[Finding, ...]:
    """What `validate` finds with `policy` (this environment's rules, suppressions honoured) on the objects
    the plan creates or updates."""
    from revox_sync.rules.evaluate import changed_subjects, evaluate
    from revox_sync.rules.report import shown

    changing = [a.desired for a in computed.plan.actions if a.op != "delete" and a.desired is not None]
    if not changing:
        return ()

    def found(sources: Mapping[int, LoadedAssistant] | None = None) -> list[Finding]:
        everything, changed = changed_subjects(computed.loaded, changing, sources)
        return shown(evaluate(policy, everything, changed), show_suppressed=False)

    first = found()
    if not first:
        return ()
    # a plan keeps two levels of each file's positions: the files of what changes, read again, place the
    # findings exactly where `validate` does
    return tuple(found(_reread(session, changing, config_dir)))


def _reread(session: Session, changing: Sequence[Desired], config_dir: Path) -> dict[int, LoadedAssistant]:
    """The files of the assistants among `changing` loaded again with every position, by the `id` of each
    assistant's Desired."""
    from revox_sync.kinds.assistant.load import LoadedAssistant, load_paths
    from revox_sync.names import name_key

    sources = {id(d): d.source for d in changing if isinstance(d.source, LoadedAssistant)}
    if not sources:
        return {}
    files = sorted({a.path for a in sources.values()})
    again, _ = load_paths(files, config_dir=config_dir, variables=session.settings().variables)
    by_name = {(a.path, name_key(a.name)): a for a in again}
    return {key: by_name.get((a.path, name_key(a.name)), a) for key, a in sources.items()}


# The saved options a flag sets, and the flag: what advice to plan again repeats
_OPTION_FLAGS = (
    ("prune", "--prune"),
    ("allow_default_secrets", "--allow-default-secrets"),
    ("allow_policy_errors", "--allow-policy-errors"),
    ("force_conflicts", "--force-conflicts"),
)


def option_args(options: Mapping[str, Any]) -> list[str]:
    """The flags that make a plan with these saved `options` again, so a rerun keeps what was approved."""
    flags = [flag for key, flag in _OPTION_FLAGS if options.get(key) is True]
    return flags + [f"--target={t}" for t in options.get("targets") or ()]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while files load and the plan is made (or import makes its files): they
    allocate millions of objects that mostly live to the end of the run, and full collections walking them
    again and again find little to free (15% of a plan of 10,000). What was made is then frozen, out of
    every later collection's way."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _compute_plan(
    session: Session, config_dir: Path | None, *, prune: bool, targets: Sequence[str]
) -> Computed:
    from revox_sync.engine.plan import build_plan, default_secrets
    from revox_sync.kinds import KINDS

    loaded = load_config(session, config_dir)
    client = session.client()
    managed = [k for k in KINDS if loaded[k.name] is not None]
    if session.server is not None:
        for kind in managed:
            config = loaded[kind.name]
            assert config is not None
            for note in kind.sandbox(session.server.state, config):
                session.env.info(note)
    remote = {k.name: k.fetch(client) for k in managed}
    learn_remote_secrets(session, remote)
    plan = build_plan(
        KINDS, loaded, remote, prune=prune, targets=targets, key=session.key, scope=session.scope()
    )
    plan = dataclasses.replace(
        plan.redacted(session.env.secrets),
        target=session.target,
        key=session.key,
        default_secrets=default_secrets(plan.actions),
    )
    return Computed(plan, loaded, remote)


def learn_remote_secrets(session: Session, remote: Mapping[str, Sequence[dict[str, Any]]]) -> None:
    """Blank in all output the values the account holds at sensitive fields: an old key may sit in a text
    the account also holds."""
    from revox_sync.sensitive import secret_values

    for objects in remote.values():
        for r in objects:
            session.env.add_secrets(secret_values(r))


def print_plan(session: Session, plan: Plan, fmt: str = "text") -> None:
    from revox_sync.engine.render import RENDERERS

    session.env.out(RENDERERS[fmt](session.env.style).render(plan))


def save_plan(
    session: Session, plan: Plan, out_file: Path, words: Sequence[str], config_dir: Path | None = None
) -> None:
    """Write `plan` to `out_file` and say which command (`words`) applies it."""
    from revox_sync.engine.render import json_document
    from revox_sync.files import refuse_linked_directories, write_atomic

    doc = plan.to_dict()
    try:  # a link at `out_file` is replaced by the plan, never written through
        refuse_linked_directories(out_file)
        write_atomic(out_file, json_document(doc) + "\n")
    except OSError as exc:
        raise FatalError(f"cannot save the plan to {out_file}: {exc.strerror or exc}") from None
    command = session.command(*words, config_dir=config_dir)
    session.env.info(f"Saved the plan to {out_file} ({doc['checksum']}). Apply it with: {command}")


def run_plan(
    session: Session,
    config_dir: Path | None,
    *,
    out_file: Path | None = None,
    detailed_exitcode: bool = False,
    targets: Sequence[str] = (),
    prune: bool = False,
    fmt: str = "text",
    allow_default_secrets: bool = False,
    allow_policy_errors: bool = False,
) -> int:
    """Fetch live state and print what apply would do (and the policy findings on it: `validate` is the
    check that fails); changes nothing (but `--out`'s file)."""
    from revox_sync.engine.plan import safety_violation

    current = compute_plan(
        session,
        config_dir,
        prune=prune,
        targets=targets,
        allow_default_secrets=allow_default_secrets,
        allow_policy_errors=allow_policy_errors,
    ).plan
    print_plan(session, current, fmt)
    env = session.env
    limit = safety_violation(current)
    if limit:
        env.warn(f"warning: apply will refuse this plan without --force ({limit})")
    if fmt == "json" and current.policy_errors and not allow_policy_errors:  # the others say it themselves
        from revox_sync.engine.render import POLICY_REFUSAL

        env.warn(f"warning: {POLICY_REFUSAL}")
    if out_file is not None:
        save_plan(session, current, out_file, ("apply", str(out_file)), config_dir)
    return EXIT_CHANGES if detailed_exitcode and current.has_changes else EXIT_OK

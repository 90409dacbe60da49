"""`rules`: every policy rule as the project file sets it (for an environment), with its source, and the
state profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from revox_sync.commands import EXIT_OK
from revox_sync.errors import FatalError

if TYPE_CHECKING:
    from revox_sync.commands.session import Session


def run_rules(session: Session, env_name: str | None = None) -> int:
    from revox_sync.rules.builtin import PROFILES
    from revox_sync.rules.config import load_policy

    env_name = env_name or session.env_name
    project = session.project()
    if env_name is not None and (project is None or env_name not in project.environments):
        raise FatalError(f"--env {env_name}: unknown environment (no such environment in revox-sync.yaml)")
    policy = load_policy(project, env_name)
    rows = []
    for rule in policy.rules:
        setting = policy.default(rule)
        state = "off" if setting.severity == "off" else "on"
        missing = [p for p in rule.needs if not setting.params.get(p)]
        if state == "on" and missing:
            state = f"on, checks nothing until {' and '.join(missing)} is set"
        if any(rule.id in o.settings for o in policy.overrides):
            state += ", overridden for some names"
        rows.append((rule.id, setting.severity, state, rule.source))
    width = max(len(r[0]) for r in rows)
    session.env.out(f"{'RULE':<{width}}  {'SEVERITY':<8}  STATE / SOURCE")
    for rule_id, severity, state, source in rows:
        session.env.out(f"{rule_id:<{width}}  {severity:<8}  {state}: {source}")
    session.env.out("")
    selected = set(policy.profiles)
    session.env.out("State profiles (rules.profiles in revox-sync.yaml); this is not legal advice:")
    for name, profile in PROFILES.items():
        mark = "selected" if name in selected else "available"
        checked = "from the statute" if profile.statute else "needs checking"
        session.env.out(f"  {name:<12} {mark:<9}  {checked}: {profile.source}")
    return EXIT_OK

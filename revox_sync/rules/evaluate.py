"""Running the rules over a loaded configuration: per-object rules (`check_each`, independent of every
other file, so they may run wherever the file is loaded) and rules across objects (`check_across`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from revox_sync.config.yaml import Loc
from revox_sync.engine.change import dotted
from revox_sync.errors import Location
from revox_sync.rules.config import Policy
from revox_sync.rules.rule import Finding, Hit, Rule, Subject
from revox_sync.rules.suppress import suppress
from revox_sync.sensitive import hide_secrets

if TYPE_CHECKING:
    from revox_sync.engine.change import Desired
    from revox_sync.engine.kind import Loaded
    from revox_sync.kinds.assistant.load import LoadedAssistant


def assistant_subject(loaded: LoadedAssistant) -> Subject:
    seen = hide_secrets(loaded.data, loaded.sensitive)
    return Subject(
        "assistant",
        seen["name"],  # a name made of a secret is the stand-in too, for the rules' name patterns
        seen,
        loaded.positions.value(("name",)),
        loaded.positions,
        loaded.row.location if loaded.row is not None else None,
    )


def subjects(assistants: Sequence[LoadedAssistant], others: Mapping[str, Loaded | None]) -> list[Subject]:
    """What the rules see: every assistant, and each object of the other kinds' files, each sensitive value
    a stand-in (a rule that could test a secret could spell it out in the ids of the rules that fire)."""
    found = [assistant_subject(a) for a in assistants]
    for kind, loaded in others.items():
        found += [desired_subject(kind, d) for d in loaded.desired] if loaded is not None else []
    return found


def desired_subject(kind: str, d: Desired) -> Subject:
    """An object of a kind other than assistants, as the rules see it."""
    located: dict[Loc, Location] = {}
    assistant_at = getattr(d.source, "assistant_location", None)
    if assistant_at is not None:
        located[("assistant",)] = located[("assistant_id",)] = assistant_at
    return Subject(kind, d.name, hide_secrets(d.data, d.sensitive), d.location, located=located)


def changed_subjects(
    loaded: Mapping[str, Loaded | None],
    changing: Iterable[Desired],
    sources: Mapping[int, LoadedAssistant] | None = None,
) -> tuple[list[Subject], list[Subject]]:
    """Every object of a plan's configuration as the rules see it, and those of them declared by the
    `changing` objects (what the plan creates or updates: the findings a plan shows are theirs). `sources`:
    an assistant's file as loaded again (by the `id` of its Desired), to be seen instead."""
    wanted = {id(d) for d in changing}
    again = sources or {}
    everything, changed = [], []
    for kind, config in loaded.items():
        for d in config.desired if config is not None else []:
            if kind == "assistant":
                subject = assistant_subject(again.get(id(d), d.source))
            else:
                subject = desired_subject(kind, d)
            everything.append(subject)
            if id(d) in wanted:
                changed.append(subject)
    return everything, changed


def _finding(rule: Rule, severity: str, subject: Subject, hit: Hit) -> Finding:
    return Finding(
        subject.at(hit.loc),
        rule.id,
        f"{dotted(hit.loc)}: {hit.message}" if hit.loc else hit.message,
        "warning" if severity == "warning" else "error",
        (subject.row,) if subject.row is not None else (),
    )


def check_each(policy: Policy, subject: Subject) -> list[Finding]:
    """The per-object rules on one object."""
    out = []
    for rule in policy.rules:
        if rule.check is None or subject.kind not in rule.kinds:
            continue
        setting = policy.setting(rule, subject.name)
        if setting.severity == "off" or any(not setting.params.get(p) for p in rule.needs):
            continue
        out += [_finding(rule, setting.severity, subject, hit) for hit in rule.check(subject, setting.params)]
    return out


def check_across(
    policy: Policy, everything: Sequence[Subject], keep: Callable[[Subject], bool]
) -> list[Finding]:
    """The rules that compare objects (of one kind or several); the findings on the subjects `keep` says."""
    out = []
    for rule in policy.rules:
        if rule.across is None:
            continue
        items = []
        for subject in everything:
            if subject.kind == rule.kinds[0]:
                setting = policy.setting(rule, subject.name)
                if setting.severity != "off":
                    items.append((subject, setting.params))
        for subject, hit in rule.across(items, everything):
            if not keep(subject):
                continue
            severity = policy.setting(rule, subject.name).severity
            out.append(_finding(rule, severity, subject, hit))
    return out


def evaluate(
    policy: Policy, everything: Sequence[Subject], only: Sequence[Subject] | None = None
) -> list[Finding]:
    """Every finding (`only`: those on these subjects, compared with everything by the rules across
    objects), one per place (the rows of a fleet that share it listed in it), suppressions marked."""
    checked = everything if only is None else only
    found: list[Finding] = []
    for subject in checked:
        found += check_each(policy, subject)
    wanted = {id(s) for s in checked}
    found += check_across(policy, everything, lambda s: id(s) in wanted)
    return suppress(group_rows(found))


def group_rows(findings: Iterable[Finding]) -> list[Finding]:
    """A mistake in a template is the same in every row of its fleet: one finding naming the rows."""
    rows: dict[tuple[Location, str, str, str], list[Location]] = {}
    for f in findings:
        rows.setdefault((f.location, f.rule, f.message, f.severity), []).extend(f.rows)
    return sorted(
        Finding(location, rule, message, severity, tuple(dict.fromkeys(where)))  # type: ignore[arg-type]
        for (location, rule, message, severity), where in rows.items()
    )

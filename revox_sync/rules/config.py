"""The `rules:` section of `revox-sync.yaml`, top level and per environment (the environment's settings win).

```yaml
rules:
  profiles: [florida, mississippi]      # opt-in state profiles: stricter windows, caps, Sunday bans
  opt-out: error                        # a rule's severity: error, warning or off
  ai-disclosure:                        # or a mapping: severity and the rule's parameters
    phrases: ["virtual assistant", "AI assistant"]
  voicemail-business: {business: [Northwind Analytics]}
  custom: [...]                         # custom rules (revox_sync.rules.custom)
  overrides:                            # per name pattern, later entries win
    - names: ["Internal *"]
      rules: {ai-disclosure: off}
```

Every mistake is an error at its place in revox-sync.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from revox_sync.config.yaml import YamlDoc, is_mapping, is_null, unknown_key_message
from revox_sync.errors import ConfigErrors, LocatedError, Location
from revox_sync.kinds.assistant.fields import parse_time
from revox_sync.names import glob_matches
from revox_sync.rules.builtin import BUILTIN, PROFILES, profile_params
from revox_sync.rules.custom import PatternBudget, _scalar, _strings, read_custom, read_severity
from revox_sync.rules.rule import Rule, Severity

if TYPE_CHECKING:
    from revox_sync.config.project import Project, RulesNode

SECTION_KEYS = ("profiles", "custom", "overrides")
OVERRIDE_KEYS = ("names", "rules")
INTERNAL_PARAMS = frozenset({"because"})  # set by profiles, to name the law in messages


@dataclass(frozen=True)
class Setting:
    severity: Severity
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Override:
    names: tuple[str, ...]
    settings: Mapping[str, Mapping[str, Any]]


@dataclass
class Policy:
    """The rules of one environment and how each is set, for each object name."""

    rules: tuple[Rule, ...]
    base: Mapping[str, Mapping[str, Any]]  # rule id -> severity and params, before overrides
    overrides: tuple[Override, ...] = ()
    profiles: tuple[str, ...] = ()
    _matched: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)  # name -> overrides
    _cache: dict[tuple[str, tuple[int, ...]], Setting] = field(default_factory=dict, repr=False)

    def setting(self, rule: Rule, name: str) -> Setting:
        """The rule's setting for the object named `name`: the overrides whose names match, over the base."""
        matched = () if not self.overrides else self._matched.get(name)
        if matched is None:
            matched = self._matched[name] = tuple(
                i for i, o in enumerate(self.overrides) if any(glob_matches(name, p) for p in o.names)
            )
        key = (rule.id, tuple(i for i in matched if rule.id in self.overrides[i].settings) if matched else ())
        found = self._cache.get(key)
        if found is None:
            merged: dict[str, Any] = {"severity": rule.severity, **rule.params, **self.base.get(rule.id, {})}
            for i in key[1]:
                merged.update(self.overrides[i].settings[rule.id])
            severity = merged.pop("severity")
            found = self._cache[key] = Setting(severity, merged)
        return found

    def default(self, rule: Rule) -> Setting:
        """The setting for an object no override names."""
        return self.setting(rule, "\0")


@dataclass
class _Section:
    """What one `rules:` section says, before it is checked against the known rules."""

    profiles: tuple[str, ...] | None = None
    custom: list[Rule] = field(default_factory=list)
    settings: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)  # id, key node, setting
    overrides: list[tuple[tuple[str, ...], list[tuple[str, Any, dict[str, Any]]]]] = field(
        default_factory=list
    )


def load_policy(
    project: Project | None, env_name: str | None = None, budget: PatternBudget | None = None
) -> Policy:
    """The policy of one environment (the top level's when `env_name` is None), its custom rules' searches
    spending `budget` (the run's; default a new one); ConfigErrors when the section is wrong."""
    from revox_sync.kinds import KINDS
    from revox_sync.kinds.assistant.shape import ASSISTANT_FIELDS

    kinds = [k.name for k in KINDS]
    fields = {"assistant": ASSISTANT_FIELDS}
    errors: list[LocatedError] = []
    nodes: list[RulesNode] = []
    if project is not None and project.rules is not None:
        nodes.append(project.rules)
    env = project.environments.get(env_name) if project is not None and env_name else None
    if env is not None and env.rules is not None:
        nodes.append(env.rules)
    budget = budget or PatternBudget()
    sections = [_read_section(n.doc, n.node, kinds, fields, errors, budget) for n in nodes]
    custom: dict[str, Rule] = {}
    builtin_ids = {r.id for r in BUILTIN}
    for section in sections:
        for rule in section.custom:
            if rule.id in builtin_ids:
                where = rule.defined_at or Location(str(project.path) if project else "revox-sync.yaml")
                errors.append(LocatedError(where, f"custom rule id {rule.id!r} is a built-in rule's id"))
            custom[rule.id] = rule  # an environment's rule replaces the top level's of the same id
    rules = (*BUILTIN, *custom.values())
    by_id = {r.id: r for r in rules}
    profiles: tuple[str, ...] = ()
    for section in sections:
        if section.profiles is not None:
            profiles = section.profiles
    base: dict[str, dict[str, Any]] = {k: dict(v) for k, v in profile_params(profiles).items()}
    overrides: list[Override] = []
    for section, node in zip(sections, nodes, strict=True):
        doc = node.doc
        for rule_id, setting in _known(doc, section.settings, by_id, errors):
            base.setdefault(rule_id, {}).update(setting)
        for names, settings in section.overrides:
            overrides.append(Override(names, dict(_known(doc, settings, by_id, errors))))
    if errors:
        raise ConfigErrors(errors)
    return Policy(rules, base, tuple(overrides), profiles)


def _known(
    doc: YamlDoc,
    settings: Sequence[tuple[str, Any, dict[str, Any]]],
    by_id: Mapping[str, Rule],
    errors: list[LocatedError],
) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for rule_id, key_node, setting in settings:
        rule = by_id.get(rule_id)
        if rule is None:
            errors.append(
                doc.error(
                    key_node, unknown_key_message(rule_id, list(by_id), "rules").replace("key", "rule", 1)
                )
            )
            continue
        checked = _params(doc, rule, setting, errors)
        if checked is not None:
            out.append((rule_id, checked))
    return out


def _read_section(
    doc: YamlDoc,
    node: Any,
    kinds: Sequence[str],
    fields: Mapping[str, Sequence[str]],
    errors: list[LocatedError],
    budget: PatternBudget,
) -> _Section:
    section = _Section()
    if is_null(node):
        return section
    if not is_mapping(node):
        errors.append(
            doc.error(node, "rules must be a mapping of rule ids (and profiles, custom, overrides)")
        )
        return section
    for key, key_node, value in doc.pairs(node, errors):
        if key == "profiles":
            names = _strings(doc, value, errors, "profiles") if not is_null(value) else []
            for item, name in zip(value.value if value.id == "sequence" else [value], names, strict=False):
                if name not in PROFILES:
                    errors.append(
                        doc.error(
                            item,
                            unknown_key_message(name, list(PROFILES), "profiles").replace(
                                "key", "profile", 1
                            ),
                        )
                    )
            section.profiles = tuple(n for n in names if n in PROFILES)
        elif key == "custom":
            items = value.value if value.id == "sequence" else None
            if items is None and not is_null(value):
                errors.append(doc.error(value, "custom must be a list of rules"))
            seen: dict[str, Any] = {}
            for item in items or []:
                rule = read_custom(doc, item, kinds, fields, errors, budget)
                if rule is not None and rule.id in seen:
                    errors.append(doc.error(item, f"custom rule {rule.id!r} twice in this list"))
                elif rule is not None:
                    seen[rule.id] = item
                    section.custom.append(rule)
        elif key == "overrides":
            section.overrides += _overrides(doc, value, errors)
        else:
            setting = _setting(doc, value, errors)
            if setting is not None:
                section.settings.append((key, key_node, setting))
    return section


def _overrides(
    doc: YamlDoc, node: Any, errors: list[LocatedError]
) -> list[tuple[tuple[str, ...], list[tuple[str, Any, dict[str, Any]]]]]:
    if is_null(node):
        return []
    if node.id != "sequence":
        errors.append(doc.error(node, "overrides must be a list of {names: [...], rules: {...}}"))
        return []
    out = []
    for item in node.value:
        if not is_mapping(item):
            errors.append(doc.error(item, "an override must be a mapping: names and rules"))
            continue
        got = {}
        for key, key_node, value in doc.pairs(item, errors):
            if key in OVERRIDE_KEYS:
                got[key] = value
            else:
                errors.append(doc.error(key_node, unknown_key_message(key, OVERRIDE_KEYS, "override")))
        if "names" not in got or "rules" not in got:
            errors.append(doc.error(item, "an override needs names (patterns) and rules"))
            continue
        names = tuple(_strings(doc, got["names"], errors, "names"))
        settings = []
        if not is_mapping(got["rules"]):
            errors.append(doc.error(got["rules"], "rules must be a mapping of rule ids"))
            continue
        for rule_id, key_node, value in doc.pairs(got["rules"], errors):
            setting = _setting(doc, value, errors)
            if setting is not None:
                settings.append((rule_id, key_node, setting))
        out.append((names, settings))
    return out


def _setting(doc: YamlDoc, node: Any, errors: list[LocatedError]) -> dict[str, Any] | None:
    """`error` / `warning` / `off`, or a mapping of severity and parameters (nodes, checked per rule)."""
    if node.id == "scalar":
        severity = read_severity(doc, node, errors)
        return {"severity": severity} if severity is not None else None
    if not is_mapping(node):
        errors.append(doc.error(node, "a rule's setting is a severity (error, warning, off) or a mapping"))
        return None
    count = len(errors)
    out: dict[str, Any] = {}
    for key, key_node, value in doc.pairs(node, errors):
        if key == "severity":
            out[key] = read_severity(doc, value, errors)
        else:
            out[key] = (key_node, value)  # a parameter: read once the rule is known
    return out if len(errors) == count else None


def _params(
    doc: YamlDoc, rule: Rule, setting: Mapping[str, Any], errors: list[LocatedError]
) -> dict[str, Any] | None:
    """A setting's parameters read with the types of the rule's defaults."""
    count = len(errors)
    out: dict[str, Any] = {}
    for key, value in setting.items():
        if key == "severity":
            out[key] = value
            continue
        key_node, node = value
        known = [k for k in rule.params if k not in INTERNAL_PARAMS]
        if key not in known:
            where = f"rule {rule.id}" + ("" if known else " (it takes no parameters)")
            errors.append(doc.error(key_node, unknown_key_message(key, ["severity", *known], where)))
            continue
        parsed = _param(doc, key, rule.params[key], node, errors)
        if parsed is not None:
            out[key] = parsed
    return out if len(errors) == count else None


def _param(doc: YamlDoc, key: str, default: Any, node: Any, errors: list[LocatedError]) -> Any:
    if key == "window":
        items = node.value if node.id == "sequence" else []
        times = [parse_time(str(i.value)) if i.id == "scalar" else None for i in items]
        if len(times) != 2 or None in times:
            errors.append(doc.error(node, 'window must be two times, like ["08:00", "20:00"] or [8am, 8pm]'))
            return None
        start, end = times
        if start is None or end is None or end <= start:
            errors.append(doc.error(node, f"window ends ({end}) before it starts ({start})"))
            return None
        return (start, end)
    if isinstance(default, tuple):
        if node.id != "sequence":
            errors.append(doc.error(node, f"{key} must be a list of phrases"))
            return None
        count = len(errors)
        phrases = tuple(_strings(doc, node, errors, key))
        return phrases if len(errors) == count else None
    if isinstance(default, int):
        number = _scalar(node)
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            errors.append(doc.error(node, f"{key} must be a whole number of at least 1"))
            return None
        return number
    return doc.string(node, errors, key)

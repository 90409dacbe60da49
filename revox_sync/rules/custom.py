"""Custom rules written in `revox-sync.yaml`, no Python: a field path, one condition, a scope, a message.

```yaml
rules:
  custom:
    - id: short-calls                 # lowercase letters, digits and -; not a built-in id
      path: max_call_duration_secs    # dotted; `[]` is every item of a list: transfer_destinations[].label
      max: 900                        # or: required: true | match: REGEX | forbid: REGEX | min: N | one_of: [...]
      kind: assistant                 # assistant (default), phone_number or voice
      names: ["Harbor Dental *"]      # name patterns (shell-style); default every object of the kind
      message: calls end within 15 minutes
      severity: warning               # error (default), warning or off
```

Only `required` looks at what a file leaves out; every other condition checks the values that are there.
Patterns are searched with the `regex` module and a time limit, per search and per run, so one that
backtracks without end (a pull request could add `^(a|aa)+$`), or many values each searched near the limit,
are an error at its place here rather than a stalled CI run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from revox_sync.config.yaml import Loc, YamlDoc, is_null, resolve_plain, unknown_key_message
from revox_sync.errors import ConfigErrors, LocatedError, Location
from revox_sync.names import glob_matches
from revox_sync.rules.rule import SEVERITIES, Hit, Params, Rule, Severity, Subject

CUSTOM_KEYS = ("id", "path", "kind", "names", "message", "severity")
CONDITIONS = ("required", "match", "forbid", "min", "max", "one_of")
RULE_ID_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_SEGMENT_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d*\])*)")
EVERY = "[]"  # a path part meaning every item of a list
_MISSING: Any = object()
PATTERN_SECONDS = 1.0  # what one search of one value may take
RUN_PATTERN_SECONDS = 5.0  # what all the searches of one run may take together
Pattern = Any  # a compiled pattern of the `regex` module, searched with a timeout


class PatternBudget:
    """The time left to the searches of one run: one search may take PATTERN_SECONDS, all of them together
    RUN_PATTERN_SECONDS, so that many values each searched near the limit are an error, not a long stall."""

    def __init__(self) -> None:
        self.left = self.total = RUN_PATTERN_SECONDS

    @property
    def spent(self) -> bool:
        return self.left <= 0

    def search(self, pattern: Pattern, text: str) -> bool:
        """Whether `pattern` is found in `text`; TimeoutError when the search (or the run) is out of time."""
        if self.spent:  # (the regex module reads a negative timeout as none)
            raise TimeoutError
        limit = min(PATTERN_SECONDS, self.left)
        start = time.perf_counter()
        try:
            return pattern.search(text, timeout=limit) is not None
        finally:
            self.left -= time.perf_counter() - start

    def why_slow(self, key: str, pattern: Pattern, rule_id: str, at: Location) -> str:
        """What a search that ran out of time says: the pattern's own time, or the run's."""
        if not self.spent:
            return (
                f"{key}: /{pattern.pattern}/ took more than {PATTERN_SECONDS:g} s on {at} (it backtracks too "
                "much): simplify the pattern"
            )
        return (
            f"[{rule_id}] {key}: /{pattern.pattern}/ on {at}: the custom rules' patterns took more than "
            f"{self.total:g} s in all (the limit of one run): simplify them"
        )


@dataclass(frozen=True)
class Condition:
    """The one test of a custom rule (min and max may go together)."""

    required: bool = False
    match: Pattern | None = None
    forbid: Pattern | None = None
    low: float | None = None
    high: float | None = None
    one_of: tuple[Any, ...] | None = None
    pattern_at: Location | None = None  # where match or forbid is written


def parse_path(text: str) -> tuple[str | int, ...] | None:
    """`a.b[].c[0]` as parts (`[]` is EVERY); None when it is not such a path."""
    parts: list[str | int] = []
    for segment in text.split("."):
        m = _SEGMENT_RE.fullmatch(segment)
        if m is None:
            return None
        parts.append(m.group(1))
        for index in re.findall(r"\[(\d*)\]", m.group(2)):
            parts.append(int(index) if index else EVERY)
    return tuple(parts)


def _values(data: Any, parts: Sequence[str | int], loc: Loc = ()) -> Iterator[tuple[Loc, Any]]:
    """(loc, value) at the path; a missing step gives (loc of the deepest step there, _MISSING)."""
    if not parts:
        yield loc, data
        return
    head, rest = parts[0], parts[1:]
    if head == EVERY:
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from _values(item, rest, (*loc, i))
        return
    if isinstance(head, int):
        if isinstance(data, list) and head < len(data):
            yield from _values(data[head], rest, (*loc, head))
        else:
            yield loc, _MISSING
        return
    if isinstance(data, dict) and head in data and data[head] is not None:
        yield from _values(data[head], rest, (*loc, head))
    else:
        yield (*loc, head) if isinstance(data, dict) else loc, _MISSING


def _text(value: Any) -> str | None:
    return None if isinstance(value, (dict, list)) or value is None else str(value)


def _failure(condition: Condition, value: Any, budget: PatternBudget) -> str | None:
    """Why `value` fails the condition, or None when it passes (present values only, but `required`)."""
    if value is _MISSING or value in ("", [], {}):
        return "is required" if condition.required else None
    text = _text(value)
    if condition.match is not None and (text is None or not budget.search(condition.match, text)):
        return f"does not match /{condition.match.pattern}/"
    if condition.forbid is not None and text is not None and budget.search(condition.forbid, text):
        return f"matches the forbidden /{condition.forbid.pattern}/"
    if condition.low is not None or condition.high is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "is not a number"
        if condition.low is not None and value < condition.low:
            return f"is {value}, below the minimum {condition.low:g}"
        if condition.high is not None and value > condition.high:
            return f"is {value}, above the maximum {condition.high:g}"
    if condition.one_of is not None and value not in condition.one_of:
        return f"is not one of {', '.join(str(v) for v in condition.one_of)}"
    return None


def custom_check(
    rule_id: str,
    parts: tuple[str | int, ...],
    condition: Condition,
    names: tuple[str, ...],
    message: str | None,
    budget: PatternBudget,
) -> Any:
    """The check function of one custom rule; its searches spend `budget`, the run's."""

    def check(subject: Subject, params: Params) -> Iterator[Hit]:
        if names and not any(glob_matches(subject.name, p) for p in names):
            return
        for loc, value in _values(subject.data, parts):
            try:
                why = _failure(condition, value, budget)
            except TimeoutError:
                pattern: Pattern = condition.match if condition.match is not None else condition.forbid
                key = "match" if condition.match is not None else "forbid"
                where = condition.pattern_at or Location("revox-sync.yaml")
                slow = budget.why_slow(key, pattern, rule_id, subject.at(loc))
                raise ConfigErrors([LocatedError(where, slow)]) from None
            if why is not None:
                yield Hit(loc, message or why)

    return check


# --- reading one from revox-sync.yaml ---------------------------------------------------------------------
def _scalar(node: Any) -> Any:
    if node.id != "scalar":
        return _MISSING
    return str(node.value) if node.tag.endswith(":str") else resolve_plain(str(node.value))


def read_custom(
    doc: YamlDoc,
    node: Any,
    kinds: Sequence[str],
    fields: Mapping[str, Sequence[str]],
    errors: list[LocatedError],
    budget: PatternBudget,
) -> Rule | None:
    """One `custom:` entry as a Rule, its searches spending `budget`; every mistake is an error at its place
    in revox-sync.yaml."""
    if node.id != "mapping":
        errors.append(doc.error(node, "a custom rule must be a mapping (id, path, a condition, message)"))
        return None
    count = len(errors)
    got: dict[str, tuple[Any, Any]] = {}
    for key, key_node, value in doc.pairs(node, errors):
        if key not in (*CUSTOM_KEYS, *CONDITIONS):
            errors.append(
                doc.error(key_node, unknown_key_message(key, (*CUSTOM_KEYS, *CONDITIONS), "custom rule"))
            )
        else:
            got[key] = (key_node, value)
    for key in ("id", "path"):
        if key not in got:
            errors.append(doc.error(node, f"a custom rule needs {key}"))
    if len(errors) > count:
        return None
    rule_id = doc.string(got["id"][1], errors, "id")
    if rule_id is not None and not RULE_ID_RE.fullmatch(rule_id):
        errors.append(doc.error(got["id"][1], f"rule id {rule_id!r}: lowercase letters, digits and - only"))
    kind = "assistant"
    if "kind" in got:
        kind = doc.string(got["kind"][1], errors, "kind") or kind
        if kind not in kinds:
            errors.append(
                doc.error(got["kind"][1], unknown_key_message(kind, kinds, "kinds").replace("key", "kind", 1))
            )
    path_text = doc.string(got["path"][1], errors, "path")
    parts = parse_path(path_text) if path_text is not None else None
    if path_text is not None and parts is None:
        errors.append(
            doc.error(
                got["path"][1],
                f"path {path_text!r}: expected dotted keys, like voice.speed or faq_items[].question",
            )
        )
    elif parts is not None and kind in fields and parts[0] not in fields[kind]:
        errors.append(
            doc.error(
                got["path"][1],
                unknown_key_message(str(parts[0]), list(fields[kind]), f"{kind} fields").replace(
                    "unknown key", "unknown field", 1
                ),
            )
        )
    condition = _condition(doc, node, got, errors)
    names = tuple(_strings(doc, got["names"][1], errors, "names")) if "names" in got else ()
    message = doc.string(got["message"][1], errors, "message") if "message" in got else None
    severity: Severity = "error"
    if "severity" in got:
        severity = read_severity(doc, got["severity"][1], errors) or severity
    if len(errors) > count or rule_id is None or parts is None or condition is None:
        return None
    return Rule(
        rule_id,
        severity,
        message or f"custom: {path_text} ({', '.join(k for k in CONDITIONS if k in got)})",
        f"custom rule in {doc.location(got['id'][1])}",
        check=custom_check(rule_id, parts, condition, names, message, budget),
        kinds=(kind,),
        defined_at=doc.location(got["id"][1]),
    )


def _condition(
    doc: YamlDoc, node: Any, got: dict[str, tuple[Any, Any]], errors: list[LocatedError]
) -> Condition | None:
    given = [k for k in CONDITIONS if k in got]
    if not given or (len(given) > 1 and set(given) != {"min", "max"}):
        what = "no condition" if not given else f"{' and '.join(given)} together"
        errors.append(
            doc.error(
                node, f"a custom rule needs one condition ({', '.join(CONDITIONS)}; min with max), not {what}"
            )
        )
        return None
    key = given[0]
    value = got[key][1]
    if key == "required":
        if _scalar(value) is not True:
            errors.append(
                doc.error(value, "required must be true (remove the rule to not require the field)")
            )
            return None
        return Condition(required=True)
    if key in ("match", "forbid"):
        import regex

        pattern = doc.string(value, errors, key)
        if pattern is None:
            return None
        try:
            compiled = regex.compile(pattern)
        except regex.error as exc:
            errors.append(doc.error(value, f"{key}: not a regular expression ({exc})"))
            return None
        at = doc.location(value)
        return (
            Condition(match=compiled, pattern_at=at)
            if key == "match"
            else Condition(forbid=compiled, pattern_at=at)
        )
    if key == "one_of":
        if value.id != "sequence" or not value.value or any(_scalar(v) is _MISSING for v in value.value):
            errors.append(doc.error(value, "one_of must be a list of values"))
            return None
        return Condition(one_of=tuple(_scalar(v) for v in value.value))
    bounds: dict[str, float] = {}
    for bound in given:
        number = _scalar(got[bound][1])
        if isinstance(number, bool) or not isinstance(number, (int, float)) or number != number:  # NaN
            errors.append(doc.error(got[bound][1], f"{bound} must be a number"))
            return None
        bounds[bound] = float(number)
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        errors.append(doc.error(got["max"][1], f"max {bounds['max']:g} is below min {bounds['min']:g}"))
        return None
    return Condition(low=bounds.get("min"), high=bounds.get("max"))


def _strings(doc: YamlDoc, node: Any, errors: list[LocatedError], what: str) -> list[str]:
    items = node.value if node.id == "sequence" else [node]
    out = []
    for item in items:
        text = doc.string(item, errors, what)
        if text is not None and not text.strip():
            errors.append(doc.error(item, f"{what}: an empty entry"))
        elif text is not None:
            out.append(text)
    return out


def read_severity(doc: YamlDoc, node: Any, errors: list[LocatedError]) -> Severity | None:
    # YAML 1.2 reads `off` as a string, but a 1.1 habit may write `false`
    text = (
        "off"
        if _scalar(node) is False
        else (str(node.value) if node.id == "scalar" and not is_null(node) else None)
    )
    for severity in SEVERITIES:
        if text == severity:
            return severity
    errors.append(doc.error(node, f"severity must be one of {', '.join(SEVERITIES)}, not {text or node.id}"))
    return None

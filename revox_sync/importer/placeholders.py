"""No secret in a written file: values at sensitive paths become `"${VAR}"` placeholders (a new
`REVOX_<SLUG>_...` variable unless a known one holds exactly that value), and every value the run knows to be
secret (a sensitive variable's, the API key) is written `${NAME}` wherever it occurs, longest first."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from revox_sync.config.yaml import references
from revox_sync.engine.change import dotted, leaves
from revox_sync.importer.clean import Loc
from revox_sync.importer.outcome import Outcome, Secret
from revox_sync.sensitive import (
    MIN_SECRET_LENGTH,
    SENSITIVE_TOP_FIELDS,
    is_sensitive_path,
    is_sensitive_variable,
    secret_pattern,
)

API_KEY_VARIABLE = "REVOX_API_KEY"  # the placeholder of the run's own key, when no variable holds it


def env_name(*parts: str) -> str:
    """An environment variable name: REVOX_SALES_QUALIFIER_LLM_API_KEY."""
    words = [re.sub(r"[^A-Z0-9]+", "_", p.upper()).strip("_") for p in parts]
    return "_".join(w for w in words if w)


def escape_vars(text: str) -> str:
    """A string as it must be written in a YAML scalar so the loader reads `text` back: `${` -> `$${`."""
    return text.replace("${", "$${")


class Known:
    """The secrets this run knows by value, each with the variable that holds it: the values of sensitive
    variables (environment, --var, --var-file) and the run's own API key."""

    def __init__(self, variables: Mapping[str, str], api_key: str | None) -> None:
        self.names: dict[str, str] = {}
        for name in sorted(variables):
            if is_sensitive_variable(name) and variables[name]:
                self.names.setdefault(variables[name], name)
        if api_key:
            self.names.setdefault(api_key, API_KEY_VARIABLE)
        # too short to look for (sensitive.MIN_SECRET_LENGTH): variable -> value
        self.short = {
            n: v for v, n in sorted(self.names.items(), key=lambda i: i[1]) if len(v) < MIN_SECRET_LENGTH
        }
        self.pattern = secret_pattern(self.names)

    def adopt(self, remote: list[dict[str, Any]]) -> None:
        """Values at sensitive fields of the remote assistants are secrets too, wherever else they occur
        (an old key pasted into a prompt): each is known by the variable its field's placeholder names."""
        from revox_sync.importer.layout import slugify

        for r in remote:
            for loc, value in _sensitive_strings(r, ()):
                if value not in self.names:
                    self.names[value] = env_name(
                        "REVOX", slugify(str(r.get("name"))), *variable_parts(loc, r)
                    )
        self.pattern = secret_pattern(self.names)

    def found(self, text: str) -> list[str]:
        """The variables whose values occur in `text`, in order of first occurrence."""
        if self.pattern is None:
            return []
        return list(dict.fromkeys(self.names[m.group(0)] for m in self.pattern.finditer(text)))

    def masked(self, text: str) -> str:
        """`text` with each secret replaced by its variable's name (for file names)."""
        return text if self.pattern is None else self.pattern.sub(lambda m: self.names[m.group(0)], text)

    def placeholders(self, raw: str) -> tuple[str, list[str]] | None:
        """`raw` (a string as a file holds it: `$${` escapes, `${VAR}` references) with every secret in its
        literal text written `${NAME}`, and the names used; None when a `$` right before a secret leaves no
        way to write one there (`$${` reads as a literal `${`)."""
        pattern = self.pattern
        if pattern is None:
            return raw, []
        out: list[str] = []
        used: list[str] = []
        literal: list[str] = []

        def flush() -> bool:
            text, position = "".join(literal), 0
            literal.clear()
            for m in pattern.finditer(text):
                before = escape_vars(text[position : m.start()])
                if before.endswith("$"):
                    return False
                out.append(before + "${" + self.names[m.group(0)] + "}")
                used.append(self.names[m.group(0)])
                position = m.end()
            out.append(escape_vars(text[position:]))
            return True

        for piece in references(raw):
            if isinstance(piece, str):
                literal.append(piece)
            elif flush():
                out.append(piece.group(0))  # a reference stays as written
            else:
                return None
        return ("".join(out), used) if flush() else None


class Placeholders:
    """The placeholders of one file, each listed for the user to set: new `${REVOX_<SLUG>_...}` variables
    for values at sensitive paths (and texts no placeholder can go into), and the known variables."""

    def __init__(
        self, outcome: Outcome, slug: str, known: Known, taken: frozenset[str] = frozenset()
    ) -> None:
        self.outcome = outcome
        self.slug = slug
        self.known = known
        self.used = {s.variable for s in outcome.secrets} | set(taken)
        self.label = json.dumps(outcome.remote.get("name"), ensure_ascii=False)

    def where(self, loc: Loc) -> str:
        return f"{dotted(loc)} of {self.label}"

    def note(self, variable: str, where: str) -> Secret:
        secret = Secret(variable, where)
        self.outcome.secrets.append(secret)
        return secret

    def __call__(self, loc: Loc, value: str, *, whole: bool = False) -> Secret:
        """The placeholder of the sensitive `value` at `loc`: the known variable holding exactly that value,
        else a new variable (`whole`: the text holds a secret that no placeholder can stand for)."""
        known = self.known.names.get(value)
        if known is not None:
            return self.note(known, self.where(loc))
        base = env_name("REVOX", self.slug, *variable_parts(loc, self.outcome.remote))
        variable, n = base, 2
        while variable in self.used:
            variable, n = f"{base}_{n}", n + 1
        self.used.add(variable)
        return self.note(variable, self.where(loc) + (" (set it to the whole text)" if whole else ""))


def variable_parts(loc: Loc, remote: dict[str, Any]) -> list[str]:
    """What names the variable of the sensitive field at `loc`: LLM_API_KEY, or the tool and the header."""
    tools = remote.get("custom_tools") or []
    if loc[:2] == ("llm_model", "api_key"):
        return ["LLM_API_KEY"]
    if loc[0] == "custom_tools" and len(loc) > 4 and loc[2] == "headers":
        tool = tools[loc[1]] if isinstance(loc[1], int) and loc[1] < len(tools) else {}
        headers = tool.get("headers") or [] if isinstance(tool, dict) else []
        header = headers[loc[3]] if isinstance(loc[3], int) and loc[3] < len(headers) else {}
        return [str(tool.get("name", "tool")), str(header.get("key", "header"))]
    return [p for p in loc if isinstance(p, str)]


def strings(value: Any) -> Iterator[str]:
    """Every string in plain data."""
    return (leaf for leaf in leaves(value) if isinstance(leaf, str))


def _sensitive_strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            if loc or k in SENSITIVE_TOP_FIELDS:  # no other top-level field holds a sensitive path
                yield from _sensitive_strings(v, (*loc, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _sensitive_strings(v, (*loc, i))
    elif isinstance(value, str) and value and is_sensitive_path(loc):
        yield loc, value


def secrets_and_escapes(value: Any, loc: Loc, make_secret: Placeholders) -> Any:
    """Sensitive strings become Secret placeholders; `${` in every other string is escaped."""
    if isinstance(value, dict):
        return {k: secrets_and_escapes(v, (*loc, k), make_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [secrets_and_escapes(v, (*loc, i), make_secret) for i, v in enumerate(value)]
    if isinstance(value, str):
        if is_sensitive_path(loc):
            return make_secret(loc, value)
        return escape_vars(value)
    return value

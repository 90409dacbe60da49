"""The project file `revox-sync.yaml`, named environments, and the variables a run interpolates.

The project file is optional. It sits at the repository root and is found by walking up from the working
directory: each directory is checked for `revox-sync.yaml` (or `.yml`), and the walk stops after the first
directory that holds `.git` (the repository root), or at the filesystem root when there is no repository.
A project file outside the repository (say, in a home directory) is therefore never picked up by accident.

```yaml
# revox-sync.yaml
config_dir: assistants                 # optional; relative to this file (default: assistants/)
environments:
  staging:
    var_files: [env/staging.yaml]      # relative to this file; later files win
    api_key_env: REVOX_API_KEY_STAGING # the variable that holds this account's key: REVOX_API_KEY(_*)
  production:
    var_files: [env/common.yaml, env/production.yaml]
    api_key_env: REVOX_API_KEY_PRODUCTION
    base_url: https://www.getrevox.com/api   # optional; another host only if the operator allows it
    protect: {phone_numbers: ["+15551234567"]}  # added to the top level's protect
    rules: {opt-out: error}            # optional; over the top level's
owns:                                  # optional: what this configuration owns in a shared account
  assistants: ["Harbor *"]             # glob patterns of names, per kind (an environment's replace these)
protect:                               # optional: never destroyed, never rerouted
  assistants: ["Main line"]
rules: {profiles: [florida]}           # optional: the policy rules, read by revox_sync.rules.config
```

A variable file is plain YAML, `NAME: value`; strings, numbers and booleans are accepted and kept as they
are written (`1.10` stays `"1.10"`); null, lists and mappings are errors.

Precedence of variables, highest first:

1. `--var NAME=VALUE` (later ones win),
2. `--var-file FILE` (later files win; relative to the working directory),
3. the selected environment's `var_files` (later files win; relative to the project file),
4. the process environment.

A variable whose name contains KEY, TOKEN, SECRET or PASSWORD is sensitive wherever it comes from: its
value never appears in output, logs or saved plans (CONTRACT §1). Nothing in this module ever prints a
variable's value; `Settings` hides them from its repr.

Every error is a `FatalError` naming what is missing; errors inside a file are `path:line:col: ...`.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revox_sync.config.discovery import display_path, is_within
from revox_sync.config.yaml import (
    YamlDoc,
    is_mapping,
    is_null,
    is_plain_value,
    read_yaml,
    unknown_key_message,
)
from revox_sync.engine.scope import Pattern, Patterns, Scope
from revox_sync.errors import ConfigErrors, FatalError, LocatedError, Location
from revox_sync.sensitive import is_sensitive_variable

__all__ = [
    "PROJECT_FILE_NAMES",
    "Environment",
    "Project",
    "Settings",
    "all_environments",
    "find_project_file",
    "load_project",
    "load_var_file",
    "parse_var",
    "resolve",
]

PROJECT_FILE_NAMES = ("revox-sync.yaml", "revox-sync.yml")
ENV_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
VAR_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What `api_key_env` may name: the variables meant for revox-sync's key, so that a file cannot have another
# secret of the job (PATH, AWS_SECRET_ACCESS_KEY) sent as the Bearer token.
API_KEY_ENV_RE = re.compile(r"REVOX_API_KEY(_[A-Za-z0-9_]+)?")
PROJECT_KEYS = ("config_dir", "environments", "owns", "protect", "rules")
ENVIRONMENT_KEYS = ("var_files", "api_key_env", "base_url", "owns", "protect", "rules")
# The message the loader gives for `${NAME}` without a value and without a default.
_UNSET_RE = re.compile(
    r"^environment variable ([A-Za-z_][A-Za-z0-9_]*) is not set \(and \$\{\1\} has no default\)$"
)


# --- data ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Environment:
    name: str
    var_files: tuple[Path, ...] = ()  # absolute, or relative to the working directory as the user wrote
    api_key_env: str | None = None
    base_url: str | None = None
    location: Location | None = None  # where the environment is declared
    base_url_at: Location | None = None  # where its base_url is written
    owns: Patterns | None = None
    protect: Patterns = field(default_factory=dict)
    rules: RulesNode | None = field(default=None, compare=False, repr=False)  # read by revox_sync.rules


@dataclass(frozen=True)
class Project:
    path: Path  # the project file
    config_dir: Path | None = None  # resolved against the project file's directory
    environments: dict[str, Environment] = field(default_factory=dict)
    owns: Patterns | None = None
    protect: Patterns = field(default_factory=dict)
    rules: RulesNode | None = field(default=None, compare=False, repr=False)  # read by revox_sync.rules

    def scope(self, env_name: str | None) -> Scope:
        """What this configuration owns and protects in `env_name`: an environment's `owns` of a kind
        replaces the top level's, its `protect` adds to it (production may protect what staging does not)."""
        env = self.environments.get(env_name) if env_name else None
        owns = self.owns
        if env is not None and env.owns is not None:
            owns = {**(owns or {}), **env.owns}
        protect = dict(self.protect)
        if env is not None:
            for kind, patterns in env.protect.items():
                protect[kind] = protect.get(kind, ()) + patterns
        from revox_sync.kinds import KINDS

        return Scope(owns, protect, {k.name: k.plural for k in KINDS})


@dataclass(frozen=True)
class RulesNode:
    """A `rules:` section as written, for `revox_sync.rules.config` to read with its positions."""

    doc: YamlDoc
    node: Any


@dataclass
class Settings:
    """Everything a run needs from the project file, the environment and the command line.

    `api_key` is None when the selected environment's `api_key_env` is unset (or no environment is
    selected): only commands that talk to the API need it; they call `require_api_key()`.
    """

    config_dir: Path | None
    variables: dict[str, str] = field(repr=False)
    sensitive_names: set[str] = field(repr=False)
    api_key: str | None = field(repr=False)
    base_url: str | None
    env_name: str | None
    api_key_env: str | None = None
    sources: tuple[str, ...] = ()  # where variables came from, highest precedence first, for messages
    project_file: Path | None = None
    base_url_at: Location | None = None  # where the project file sets base_url

    def require_api_key(self) -> str:
        """The environment's API key, or a FatalError naming the variable to set."""
        if self.api_key:
            return self.api_key
        if self.api_key_env:
            raise FatalError(
                f"no API key for environment '{self.env_name}': set the environment variable "
                f"{self.api_key_env} (api_key_env in {self.project_file})"
            )
        raise FatalError(
            "no API key: set REVOX_API_KEY or pass --api-key (or try everything locally with --local)"
        )

    def explain(self, errors: Sequence[LocatedError]) -> list[LocatedError]:
        """The loader's 'environment variable X is not set' errors, reworded to name every place looked at."""
        if not self.sources:
            return list(errors)
        places = _join_or(list(self.sources))
        out: list[LocatedError] = []
        for error in errors:
            match = _UNSET_RE.match(error.message)
            if match:
                name = match.group(1)
                env = f" for environment '{self.env_name}'" if self.env_name else ""
                error = LocatedError(
                    error.location,
                    f"variable {name} is not defined{env}: not in {places} "
                    f"(define it there, or write ${{{name}:-default}})",
                )
            out.append(error)
        return out

    @contextlib.contextmanager
    def explaining(self) -> Iterator[None]:
        """Re-raise ConfigErrors from the loader with missing-variable errors reworded by `explain`."""
        try:
            yield
        except ConfigErrors as exc:
            raise ConfigErrors(self.explain(exc.errors)) from None


def _join_or(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


# --- finding and loading the project file -------------------------------------------------------------------
def find_project_file(start: Path | None = None) -> Path | None:
    """The nearest `revox-sync.yaml` from `start` (default: the working directory) up to the repository root.

    The walk checks `start` and each parent; it stops after the first directory that contains `.git`
    (file or folder, so worktrees and submodules count), or at the filesystem root. A link that points to
    nothing is returned too: reading it then fails, rather than the run going on without the project's
    `config_dir` and environments.
    """
    here = Path(os.path.abspath(start if start is not None else Path.cwd()))
    for directory in (here, *here.parents):
        for name in PROJECT_FILE_NAMES:
            candidate = directory / name
            if candidate.is_file() or candidate.is_symlink():  # a broken link is reported, not skipped
                return candidate
        if (directory / ".git").exists():
            return None
    return None


def load_project(path: Path) -> Project:
    """Read and check a project file strictly: unknown keys and wrong types are `path:line:col` errors."""
    path = Path(os.path.abspath(path))
    doc = read_yaml(path)
    errors: list[LocatedError] = []
    root = doc.root
    if root is None:
        return Project(path)  # an empty project file: all defaults
    if not is_mapping(root):
        raise ConfigErrors([doc.error(root, "the top level must be a mapping (config_dir, environments)")])
    config_dir: Path | None = None
    environments: dict[str, Environment] = {}
    owns: Patterns | None = None
    protect: Patterns = {}
    rules: RulesNode | None = None
    for key, key_node, value in doc.pairs(root, errors):
        if key == "config_dir":
            text = doc.string(value, errors, "config_dir")
            if text is not None:
                if not text.strip():
                    errors.append(doc.error(value, "config_dir must not be empty"))
                else:
                    config_dir = _inside_project(
                        doc, value, text, "config_dir", "the config directory", errors
                    )
        elif key == "environments":
            if is_null(value):
                continue
            if not is_mapping(value):
                errors.append(doc.error(value, "environments must be a mapping of environment names"))
                continue
            for env_name, env_key, env_node in doc.pairs(value, errors):
                if not ENV_NAME_RE.fullmatch(env_name):
                    errors.append(
                        doc.error(env_key, f"invalid environment name {env_name!r} (letters, digits, _ . -)")
                    )
                    continue
                env = _environment(doc, env_name, env_key, env_node, errors)
                if env is not None:
                    environments[env_name] = env
        elif key == "owns":
            owns = _patterns(doc, value, "owns", errors)
        elif key == "protect":
            protect = _patterns(doc, value, "protect", errors)
        elif key == "rules":
            rules = RulesNode(doc, value)
        else:
            errors.append(doc.error(key_node, unknown_key_message(key, PROJECT_KEYS, "project file")))
    if errors:
        raise ConfigErrors(errors)
    return Project(path, config_dir, environments, owns, protect, rules)


def _patterns(
    doc: YamlDoc, node: Any, section: str, errors: list[LocatedError]
) -> dict[str, tuple[Pattern, ...]]:
    """`{assistants: ["Harbor *"], phone_numbers: "+1555*"}`: name patterns per kind, by the kind's plural."""
    from revox_sync.kinds import KINDS

    plurals = {k.plural: k for k in sorted(KINDS, key=lambda k: k.plural)}
    out: dict[str, tuple[Pattern, ...]] = {}
    if is_null(node):
        return out
    if not is_mapping(node):
        errors.append(
            doc.error(node, f"{section} must be a mapping of kinds ({', '.join(plurals)}) to name patterns")
        )
        return out
    for plural, key_node, value in doc.pairs(node, errors):
        if plural not in plurals:
            errors.append(doc.error(key_node, unknown_key_message(plural, tuple(plurals), section)))
            continue
        items = [] if is_null(value) else value.value if value.id == "sequence" else [value]
        patterns = []
        for item in items:
            text = doc.string(item, errors, f"{section}.{plural}")
            if text is None:
                continue
            # a pattern that can never match would protect nothing without a word
            problem = (
                "a name pattern must not be empty"
                if not text.strip()
                else f"{text!r} never matches a name: names have no leading or trailing whitespace"
                if text != text.strip()
                else plurals[plural].pattern_problem(text)
            )
            if problem is not None:
                errors.append(doc.error(item, f"{section}.{plural}: {problem}"))
                continue
            patterns.append(Pattern(text, doc.location(item), f"{section}.{plural}"))
        out[plurals[plural].name] = tuple(patterns)
    return out


def _inside_project(
    doc: YamlDoc, node: Any, text: str, key: str, what: str, errors: list[LocatedError]
) -> Path | None:
    """The path `text` names, relative to the project file, if it stays in the project file's directory once
    links are resolved: a pull request edits these files, and what they name is read into plans (a variable
    file's values, a prompt's `!file`), so they never reach the machine's other files (`--var-file` may)."""
    root = doc.path.parent
    named = Path(os.path.normpath(root / text))
    if is_within(os.path.realpath(named), os.path.realpath(root)):
        return named
    errors.append(
        doc.error(
            node,
            f"{key}: {what} of revox-sync.yaml must be inside its directory {display_path(root) or '.'}/, not "
            f"{text!r} (pass a file elsewhere with --var-file)",
        )
    )
    return None


def _environment(
    doc: YamlDoc, name: str, key_node: Any, node: Any, errors: list[LocatedError]
) -> Environment | None:
    location = doc.location(key_node)
    if is_null(node):
        return Environment(name, location=location)
    if not is_mapping(node):
        errors.append(
            doc.error(node, f"environment '{name}' must be a mapping ({', '.join(ENVIRONMENT_KEYS)})")
        )
        return None
    var_files: list[Path] = []
    api_key_env: str | None = None
    base_url: str | None = None
    base_url_at: Location | None = None
    owns: Patterns | None = None
    protect: Patterns = {}
    rules: RulesNode | None = None
    count = len(errors)
    for key, k_node, value in doc.pairs(node, errors):
        if key == "var_files":
            items = value.value if value.id == "sequence" else [value]  # a single file is fine too
            for item in items:
                text = doc.string(item, errors, f"environments.{name}.var_files")
                if text is not None:
                    file = _inside_project(doc, item, text, "var_files", "a variable file", errors)
                    var_files += [file] if file is not None else []
        elif key == "api_key_env":
            text = doc.string(value, errors, f"environments.{name}.api_key_env")
            if text is not None:
                if not API_KEY_ENV_RE.fullmatch(text):
                    errors.append(
                        doc.error(
                            value,
                            "api_key_env must be REVOX_API_KEY or a name starting REVOX_API_KEY_, not "
                            f"{text!r} (no other variable is ever sent as the key)",
                        )
                    )
                else:
                    api_key_env = text
        elif key == "base_url":
            base_url = doc.string(value, errors, f"environments.{name}.base_url")
            base_url_at = doc.location(value)
        elif key in ("owns", "protect"):
            patterns = _patterns(doc, value, f"environments.{name}.{key}", errors)
            owns, protect = (patterns, protect) if key == "owns" else (owns, patterns)
        elif key == "rules":
            rules = RulesNode(doc, value)
        else:
            errors.append(
                doc.error(k_node, unknown_key_message(key, ENVIRONMENT_KEYS, f"environment '{name}'"))
            )
    if len(errors) > count:
        return None
    return Environment(
        name, tuple(var_files), api_key_env, base_url, location, base_url_at, owns, protect, rules
    )


def all_environments(project: Project | None) -> list[str]:
    """Every environment name in the order the project file declares them (for `validate --all-envs`)."""
    if project is None:
        raise FatalError(
            "--all-envs needs a project file: no revox-sync.yaml in this directory or its parents "
            "(up to the repository root)"
        )
    if not project.environments:
        raise FatalError(f"{project.path}: declares no environments (add an `environments:` mapping)")
    return list(project.environments)


# --- variables ----------------------------------------------------------------------------------------------
def parse_var(text: str) -> tuple[str, str]:
    """`NAME=VALUE` from `--var`; the value may be empty and may contain '='."""
    name, sep, value = text.partition("=")
    if not sep:
        raise FatalError(f"--var {_shown_arg(text)}: expected NAME=VALUE")
    if not VAR_NAME_RE.fullmatch(name):
        raise FatalError(
            f"--var {_shown_arg(text)}: {name!r} is not a variable name (letters, digits and _, not starting with a digit)"
        )
    return name, value


def _shown_arg(text: str) -> str:
    """A `--var` argument as it may be echoed: the value of a sensitive name is hidden."""
    name, sep, _ = text.partition("=")
    if sep and is_sensitive_variable(name):
        return f"{name}=(sensitive)"
    return text if len(text) <= 80 else text[:79] + "…"


def load_var_file(path: Path, *, shown: str | None = None) -> dict[str, str]:
    """A variable file: a YAML mapping of NAME to a string, number or boolean (kept as written)."""
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "no such file"
        raise FatalError(f"variable file {shown or path}: {what}")
    doc = read_yaml(path)
    root = doc.root
    if root is None:
        return {}
    if not is_mapping(root):
        raise ConfigErrors([doc.error(root, "a variable file must be a mapping of NAME: value")])
    errors: list[LocatedError] = []
    result: dict[str, str] = {}
    for name, key_node, value in doc.pairs(root, errors):
        if not VAR_NAME_RE.fullmatch(name):
            errors.append(doc.error(key_node, f"{name!r} is not a variable name (letters, digits and _)"))
            continue
        if value.id != "scalar" or is_null(value):
            kind = {"sequence": "a list", "mapping": "a mapping"}.get(value.id, "null")
            hint = " (write '' for an empty string)" if kind == "null" else ""
            where = key_node if kind == "null" else value  # an empty value has no position of its own
            errors.append(
                doc.error(where, f"{name}: a variable must be a string, number or boolean, not {kind}{hint}")
            )
            continue
        if not is_plain_value(value):
            errors.append(doc.error(value, f"{name}: unsupported tag {value.tag!r} in a variable file"))
            continue
        result[name] = str(value.value)
    if errors:
        raise ConfigErrors(errors)
    return result


def resolve(
    project: Project | None,
    env_name: str | None,
    var_files: Sequence[Path] = (),
    vars: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings for one run: `--var` over `--var-file` over the environment's var_files over `environ`."""
    environ = os.environ if environ is None else environ
    env: Environment | None = None
    if env_name is not None:
        if project is None:
            raise FatalError(
                f"--env {env_name}: no project file (revox-sync.yaml) in this directory or its parents "
                "(up to the repository root) declares environments"
            )
        env = project.environments.get(env_name)
        if env is None:
            known = list(project.environments)
            message = f"--env {env_name}: unknown environment"
            close = difflib.get_close_matches(env_name, known, n=1, cutoff=0.5)
            if close:
                message += f"; did you mean '{close[0]}'?"
            message += f" ({project.path} declares: {', '.join(known) or 'none'})"
            raise FatalError(message)

    variables: dict[str, str] = dict(environ)
    sources: list[str] = []
    if env is not None:
        for file in env.var_files:
            shown = display_path(file)
            if not file.exists():
                where = f" (listed by environment '{env.name}' at {env.location})" if env.location else ""
                raise FatalError(f"variable file {shown}: no such file{where}")
            variables.update(load_var_file(file, shown=shown))
            sources.append(shown)
    for file in var_files:
        file = Path(file)
        if not file.exists():
            raise FatalError(f"--var-file {file}: no such file")
        variables.update(load_var_file(file, shown=display_path(file)))
        sources.append(display_path(file))
    for text in vars:
        name, value = parse_var(text)
        variables[name] = value
    if vars:
        sources.append("--var")
    sources.reverse()  # highest precedence first
    sources.append("the process environment")

    api_key = None
    if env is not None and env.api_key_env:
        api_key = environ.get(env.api_key_env) or None
    return Settings(
        config_dir=project.config_dir if project is not None else None,
        variables=variables,
        sensitive_names={n for n in variables if is_sensitive_variable(n)},
        api_key=api_key,
        base_url=env.base_url if env is not None else None,
        env_name=env_name,
        api_key_env=env.api_key_env if env is not None else None,
        sources=tuple(sources) if (env is not None or var_files or vars) else (),
        project_file=project.path if project is not None else None,
        base_url_at=env.base_url_at if env is not None else None,
    )

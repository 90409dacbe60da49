"""What every command needs, resolved once and returned: settings, the account's key, the client, and
`--local`'s embedded emulator. Nothing happens on construction; each part is made when first asked for."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revox_sync import options
from revox_sync.errors import ConfigErrors, FatalError, LocatedError, Location
from revox_sync.output import Environment

if TYPE_CHECKING:
    from revox_sync.client import RevoxClient
    from revox_sync.config.project import Project, Settings
    from revox_sync.engine.scope import Scope


class Session:
    """One run: the environment (streams, secrets), the global options, and what they resolve to."""

    def __init__(
        self,
        env: Environment,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        local: bool = False,
        env_name: str | None = None,
        var_files: Sequence[Path] = (),
        vars: Sequence[str] = (),
        explicit: frozenset[str] = frozenset(),
        run_timeout: float | None = None,
    ) -> None:
        self.env = env
        self.api_key = api_key
        self.base_url = base_url
        self.local = local
        self.env_name = env_name
        self.var_files = tuple(var_files)
        self.vars = tuple(vars)
        self.explicit = explicit  # global options given on the command line (they beat the project file)
        self.run_timeout = run_timeout  # --timeout: the bound of the run's time on the API
        self._project: Any = False  # not looked up yet
        self._settings: dict[str | None, Settings] = {}
        self._client: RevoxClient | None = None
        self.server: Any = None  # the embedded emulator, with --local
        self.target: str | None = None  # the account plans are made against, set with the client
        self.key = b""  # keys fingerprints and saved plans: the API key, or with --local the local plan key
        self.api_key_used: str | None = None  # the key requests carry (a secret import must never write)
        env.add_secrets([api_key or ""])  # sensitive variables are added as settings() resolves them

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
        from revox_sync.sensitive import shown_as

        name = env_name or self.env_name
        if name not in self._settings:
            settings = resolve(self.project(), name, self.var_files, self.vars, self.env.environ)
            for n in settings.sensitive_names & settings.variables.keys():
                self.env.add_secrets([settings.variables[n]], shown_as([n]))
            self._settings[name] = settings
        return self._settings[name]

    def scope(self, env_name: str | None = None) -> Scope:
        """What the configuration owns and protects in `env_name` (default: the global --env)."""
        from revox_sync.engine.scope import EVERYTHING

        project = self.project()
        return project.scope(env_name or self.env_name) if project is not None else EVERYTHING

    def config_dir(self, given: Path | None) -> Path:
        return given or self.settings().config_dir or options.DEFAULT_CONFIG_DIR

    def credentials(self, settings: Settings) -> tuple[str | None, str]:
        """The key requests carry, and where it comes from (what a rejected key's message says to check):
        `--api-key` when given, else an environment's own variable (never REVOX_API_KEY, so staging files
        cannot reach production by accident), else REVOX_API_KEY."""
        if "api_key" in self.explicit:
            return self.api_key, "--api-key"
        if settings.api_key_env:
            return settings.api_key, settings.api_key_env
        return self.api_key, "REVOX_API_KEY (or --api-key)"

    def destination(self, settings: Settings) -> str:
        """The base URL the key goes to, checked before any request: the operator's (`--base-url`,
        REVOX_BASE_URL) as given, or the project file's only to a host the operator allows (hosts.py), else
        an error at its place in the file."""
        from revox_sync.client import DEFAULT_BASE_URL, check_base_url
        from revox_sync.hosts import KeyHosts

        if "base_url" in self.explicit or not settings.base_url:
            return check_base_url(self.base_url or DEFAULT_BASE_URL)
        hosts = KeyHosts.of_operator(self.base_url, self.env.environ)
        try:
            return check_base_url(settings.base_url, hosts)
        except FatalError as exc:
            where = settings.base_url_at or Location(str(settings.project_file))
            raise ConfigErrors([LocatedError(where, str(exc))]) from None

    def client(self) -> RevoxClient:
        """The API client (with --local, the embedded emulator's); sets `key`, `target` and `api_key_used`."""
        if self._client is None:
            from revox_sync.client import RevoxClient
            from revox_sync.engine.plan import fingerprint

            settings = self.settings()
            if self.local:
                from revox_sync.local import plan_key, start_local

                try:
                    self.server = start_local()
                except (ValueError, OSError) as exc:
                    raise FatalError(f"cannot start the local emulator: {exc}") from None
                api_key, key_source = None, "--local"  # the embedded emulator takes any key
                base_url, target = self.server.url, "local (.revox-local/)"
                self.key = plan_key()
                self.env.info(f"Using the local emulator ({self.server.url}, state in .revox-local/).")
            else:
                base_url = target = self.destination(settings)
                api_key, key_source = self.credentials(settings)
                api_key = api_key or settings.require_api_key()  # or names what to set
                # the account, not only the URL: a plan made with one key must not apply with another
                self.key = api_key.encode()
                target += f" (key {fingerprint('account', self.key)[:8]})"
            self.target, self.api_key_used = target, api_key
            self._client = RevoxClient(
                api_key,
                base_url,
                run_timeout=self.run_timeout,
                key_source=key_source,
                on_retry=self.env.info,
                verbose_log=self.env.debug,
                secrets=self.env.secrets,
            )
        return self._client

    def divert(self) -> Environment:
        """Send this run's human output to stderr; returns the environment whose stdout is kept for one
        JSON document (`--format json`)."""
        kept = self.env
        self.env = kept.diverted()
        return kept

    def command(self, *words: str, config_dir: Path | None = None) -> str:
        """A revox-sync command line to print as advice: the global options that chose this run's account
        and variables, then the command `words[0]`, `-d DIR` when one was given, and the rest of `words`;
        every argument quoted for a shell. Never the API key; a `--var` whose value is a secret (by its
        name, or where it lands) is shown as `--var NAME=...`, for the reader to fill in."""
        args = ["--local"] if self.local else []
        args += ["--env", self.env_name] if self.env_name else []
        args += ["--base-url", self.base_url] if self.base_url and "base_url" in self.explicit else []
        args += [a for f in self.var_files for a in ("--var-file", str(f))]
        args += [a for v in self.vars for a in ("--var", self._shown_var(v))]
        tail = [words[0], *(["-d", str(config_dir)] if config_dir is not None else []), *words[1:]]
        return " ".join(shlex.quote(w) for w in ("revox-sync", *args, *tail))

    def _shown_var(self, assignment: str) -> str:
        """`NAME=VALUE` as advice may repeat it: `NAME=...` when the value is a secret."""
        from revox_sync.sensitive import is_sensitive_variable

        name, _, value = assignment.partition("=")
        secret = is_sensitive_variable(name) or self.env.scrub(value) != value
        return f"{name}=..." if secret else assignment

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.server is not None:
            self.server.stop()

"""Which hosts are this machine's own (the only ones plain http:// may reach and the emulator may bind), which
may receive the API key, and URLs as messages show them.

The key goes to the official API, to loopback, or to a host the operator named outside the repository: the
host of `--base-url` / `REVOX_BASE_URL`, or one listed in `REVOX_ALLOWED_HOSTS` (read from the process
environment only, never from a variable file). A `base_url` that the repository's files set is checked
against these; one the operator gave is allowed by being given."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from revox_sync.errors import FatalError

DEFAULT_BASE_URL = "https://www.getrevox.com/api"
OFFICIAL_HOST = str(urlsplit(DEFAULT_BASE_URL).hostname)
ALLOWED_HOSTS_VARIABLE = "REVOX_ALLOWED_HOSTS"
# Everything between `scheme://` and the last `@` before the query, the fragment or a space: the userinfo.
# Greedier than the URL grammar (a `/` does not stop it), so a malformed URL keeps its password hidden too.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^?#\s]*@")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost (the hosts file's). Not `*.localhost`: no hosts file lists those, so the
    resolver asks DNS, and a runner's DNS may answer with any address."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown_url(text: str) -> str:
    """`text` with the credentials of every URL in it dropped: `https://user:pass@host/api` -> `https://host/api`."""
    return _USERINFO.sub(r"\1", text)


def host_of(url: str) -> str | None:
    """The host of `url` as compared (lower case, IDNA decoded), or None when it has none or is not a URL."""
    import httpx

    try:
        return httpx.URL(url).host.strip("[]").lower() or None
    except Exception:
        return None


@dataclass(frozen=True)
class KeyHosts:
    """The hosts the operator named, besides the official API's and loopback, that may receive the key."""

    named: frozenset[str] = frozenset()

    @classmethod
    def of_operator(cls, base_url: str | None, environ: Mapping[str, str]) -> KeyHosts:
        """The host of the operator's base URL (`--base-url`, `REVOX_BASE_URL`) and REVOX_ALLOWED_HOSTS."""
        named = [host_of(base_url)] if base_url else []
        for entry in filter(None, (e.strip() for e in environ.get(ALLOWED_HOSTS_VARIABLE, "").split(","))):
            host = None if re.search(r"[/@:?#\s]", entry) else host_of(f"https://{entry}/")
            if host is None:
                raise FatalError(
                    f"{ALLOWED_HOSTS_VARIABLE}: {entry!r} is not a host name (comma-separated names, "
                    "such as api.example.com)"
                )
            named.append(host)
        return cls(frozenset(h for h in named if h))

    def check(self, url: str) -> None:
        """Refuse `url` (a base URL already read as one) unless its host may receive the key."""
        host = host_of(url) or ""
        if not (host == OFFICIAL_HOST or is_loopback(host) or host in self.named):
            raise FatalError(
                f"base_url host {host!r} is not allowed: the API key goes only to {OFFICIAL_HOST}, loopback, "
                f"or a host in --base-url, REVOX_BASE_URL or {ALLOWED_HOSTS_VARIABLE}"
            )

"""The hostile pass of issue 21: what an attacker with only YAML edits in a pull request, or a user at the
keyboard, tried against the merged work, and found. Each test is one finding, through the CLI or the action's
own steps."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_trust import Internet, _project, _run, internet  # noqa: F401  (fixture)


# --- the key's destination ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://collector.localhost/api", "base_url host 'collector.localhost' is not allowed"),
        (
            "http://collector.localhost/api",
            "refusing plain http:// base URL 'http://collector.localhost/api'",
        ),
    ],
)
def test_a_name_under_localhost_is_not_loopback_for_the_key(
    workdir: Path,
    internet: Internet,  # noqa: F811
    url: str,
    message: str,
) -> None:
    """`*.localhost` is loopback only where the resolver says so: a CI runner's DNS may answer it with any
    address, so a file naming it must not get the key (nor plain http)."""
    _project(workdir, url)
    result = _run("--env", "staging", "plan")
    assert result.code == 1
    assert result.err.startswith(f"revox-sync.yaml:4:15: {message}") and result.err.endswith("\n1 error.\n")
    assert internet.lookups == [] and internet.sent == []

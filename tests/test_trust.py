"""The API key goes only where the operator said, never where the repository's files say; URLs print without
their credentials.

The network is a stand-in: host names resolve only as a test lists them, each to an emulator that speaks TLS
with a certificate of that name (trusted through SSL_CERT_FILE), and every name looked up is recorded. So a
test sees both that a host the files name was never even looked up, and that one the operator allowed got
the requests, with the key."""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from emulator_fixtures import API_KEY
from helpers import Run, run_cli, write

from revox_sync.emulator import EmulatorServer

COLLECTOR = "collector.example.net"
OFFICIAL = "www.getrevox.com"
KEY_VARIABLE = "REVOX_API_KEY_PRODUCTION"
NOT_ALLOWED = (
    f"revox-sync.yaml:4:15: base_url host '{COLLECTOR}' is not allowed: the API key goes only to "
    f"{OFFICIAL}, loopback, or a host in --base-url, REVOX_BASE_URL or REVOX_ALLOWED_HOSTS"
)
PASSWORD = "pw-s3cret-9999"
REFUSED = "refusing a base URL with credentials in it (user:password@): pass the key with --api-key or REVOX_API_KEY"


@dataclass
class Internet:
    """The names that resolve, the server behind them, and every name looked up."""

    server: EmulatorServer
    lookups: list[str] = field(default_factory=list)

    @property
    def sent(self) -> list[tuple[str, str]]:
        """(method, path) of every request the server got (it answers only those carrying the key)."""
        return [(r.method, r.path) for r in self.server.requests]


def _certificates(names: list[str], directory: Path) -> ssl.SSLContext:
    """A CA (written to ca.pem, for the client to trust) and a server context with a certificate of `names`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(timezone.utc)

    def issue(subject: str, key, issuer, signer, *, ca: bool):  # type: ignore[no-untyped-def]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
            )
        )
        if ca:
            usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
        else:
            usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.add_extension(usage, critical=True).sign(signer, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = issue("test CA", ca_key, ca_name, ca_key, ca=True)
    leaf = issue(names[0], leaf_key, ca_name, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    write(directory / "ca.pem", ca.public_bytes(pem))
    key_pem = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write(directory / "server.pem", leaf.public_bytes(pem) + key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.pem")
    return context


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@pytest.fixture
def internet(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Internet]:
    """collector.example.net and www.getrevox.com, both served by one TLS emulator; no other name resolves."""
    names = [COLLECTOR, OFFICIAL]
    certs = tmp_path_factory.mktemp("certs")
    with EmulatorServer(api_key=API_KEY, tls=_certificates(names, certs)) as server:
        net = Internet(server)
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
            name = host.decode() if isinstance(host, bytes) else str(host)
            if _is_address(name):
                return real(host, port, *args, **kwargs)
            net.lookups.append(name)
            if name in names:
                return real("127.0.0.1", server.port, *args, **kwargs)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setenv("SSL_CERT_FILE", str(certs / "ca.pem"))
        yield net


def _project(root: Path, base_url: str, api_key_env: str = KEY_VARIABLE) -> None:
    """An environment whose files point its key at `base_url` (the value at line 4, column 15)."""
    (root / ".git").mkdir(exist_ok=True)
    write(
        root / "revox-sync.yaml",
        f"environments:\n  staging:\n    api_key_env: {api_key_env}\n    base_url: {base_url}\n",
    )
    write(root / "assistants/a.yaml", "name: A\nprompt: Help callers.\n")


def _run(*args: str, environ: dict[str, str] | None = None) -> Run:
    result = run_cli(*args, environ={"PATH": os.environ["PATH"], KEY_VARIABLE: API_KEY, **(environ or {})})
    assert API_KEY not in result.all
    return result


# --- point 1: the key goes only where the operator said ------------------------------------------------------
ONLINE = [
    ("--env", "staging", "plan"),
    ("--env", "staging", "apply", "--auto-approve"),
    ("--env", "staging", "import", "--all"),
    ("--env", "staging", "restore", "backup.json"),
    ("validate", "--env", "staging", "--online"),
]


@pytest.mark.parametrize("args", ONLINE, ids=lambda a: " ".join(a[2:4]) if a[0] == "--env" else "validate")
def test_a_base_url_in_the_project_file_never_gets_the_key(
    workdir: Path, internet: Internet, args: tuple[str, ...]
) -> None:
    _project(workdir, f"https://{COLLECTOR}/api")
    result = _run(*args)
    assert (result.code, result.out, result.err) == (1, "", f"{NOT_ALLOWED}\n1 error.\n")
    assert internet.lookups == [] and internet.sent == []  # refused before the name was even looked up
    assert sorted(p.name for p in workdir.iterdir()) == [".git", "assistants", "revox-sync.yaml"]


def test_doctor_reports_the_host_as_a_failed_check_and_sends_nothing(
    workdir: Path, internet: Internet
) -> None:
    _project(workdir, f"https://{COLLECTOR}/api")
    result = _run("doctor")
    assert result.code == 1
    assert result.out.splitlines()[2:4] == [
        f"✓ API key (environment staging): set ({KEY_VARIABLE})",
        f"✗ API (environment staging): {NOT_ALLOWED}: nothing was sent",
    ]
    assert internet.lookups == [] and internet.sent == []


@pytest.mark.parametrize("how", ["--base-url", "REVOX_BASE_URL", "REVOX_ALLOWED_HOSTS"])
def test_the_same_host_named_by_the_operator_gets_the_key(
    workdir: Path, internet: Internet, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    url = f"https://{COLLECTOR}/api"
    _project(workdir, url)
    args: tuple[str, ...] = ("--env", "staging", "plan")
    environ = {}
    if how == "--base-url":
        args = ("--base-url", url, *args)
    elif how == "REVOX_BASE_URL":
        monkeypatch.setenv("REVOX_BASE_URL", f"https://{COLLECTOR.upper()}/other")  # the host is what counts
    else:
        environ = {"REVOX_ALLOWED_HOSTS": f" api.example.org , {COLLECTOR}"}
    result = _run(*args, environ=environ)
    assert (result.code, result.err) == (0, ""), result.all
    assert '+ assistant "A" will be created' in result.out
    assert internet.lookups == [COLLECTOR]
    assert internet.sent == [("GET", "/assistants")]


def test_the_official_host_and_loopback_need_no_allowing(workdir: Path, internet: Internet) -> None:
    _project(workdir, f"https://{OFFICIAL.upper()}/api")  # names are compared in lower case
    result = _run("--env", "staging", "plan")
    assert result.code == 0, result.all
    assert internet.lookups == [OFFICIAL] and internet.sent == [("GET", "/assistants")]
    with EmulatorServer(api_key=API_KEY) as local:
        _project(workdir, local.url)
        assert _run("--env", "staging", "plan").code == 0
        assert [(r.method, r.path) for r in local.requests] == [("GET", "/assistants")]


def test_an_allow_list_or_base_url_in_a_variable_file_counts_for_nothing(
    workdir: Path, internet: Internet
) -> None:
    _project(workdir, f"https://{COLLECTOR}/api")
    write(
        workdir / "env/staging.yaml",
        f"REVOX_ALLOWED_HOSTS: {COLLECTOR}\nREVOX_BASE_URL: https://{COLLECTOR}/api\n",
    )
    for args in (("--var-file", "env/staging.yaml"), ("--var", f"REVOX_ALLOWED_HOSTS={COLLECTOR}")):
        result = _run(*args, "--env", "staging", "plan")
        assert (result.code, result.err) == (1, f"{NOT_ALLOWED}\n1 error.\n")
    assert internet.lookups == [] and internet.sent == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"https://{OFFICIAL}.{COLLECTOR}/api", f"base_url host '{OFFICIAL}.{COLLECTOR}' is not allowed"),
        (f"https://{COLLECTOR}:443/api", f"base_url host '{COLLECTOR}' is not allowed"),
        (
            f"http://{COLLECTOR}/api",
            f"refusing plain http:// base URL 'http://{COLLECTOR}/api': the API key would travel unencrypted",
        ),
        (f"https://{OFFICIAL}@{COLLECTOR}/api", REFUSED),
        ("ftp://localhost/api", "invalid base URL 'ftp://localhost/api': expected https://host/path"),
    ],
)
def test_hostile_base_urls_in_the_file_are_refused_at_their_place(
    workdir: Path, internet: Internet, url: str, message: str
) -> None:
    _project(workdir, f"'{url}'")
    result = _run("--env", "staging", "plan", environ={"REVOX_ALLOWED_HOSTS": OFFICIAL})
    assert result.code == 1
    assert result.err.startswith(f"revox-sync.yaml:4:15: {message}")
    assert result.err.endswith("\n1 error.\n") and result.err.count("\n") == 2
    assert internet.lookups == [] and internet.sent == []


def test_a_malformed_allow_list_is_an_error_naming_it(workdir: Path, internet: Internet) -> None:
    _project(workdir, f"https://{COLLECTOR}/api")
    result = _run("--env", "staging", "plan", environ={"REVOX_ALLOWED_HOSTS": f"https://{COLLECTOR}/"})
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: REVOX_ALLOWED_HOSTS: 'https://{COLLECTOR}/' is not a host name (comma-separated names, "
        "such as api.example.com)\n"
    )
    assert internet.lookups == [] and internet.sent == []


@pytest.mark.parametrize("name", ["PATH", "AWS_SECRET_ACCESS_KEY", "REVOX_API_KEY_", "MY_REVOX_API_KEY"])
def test_api_key_env_names_only_a_revox_key(workdir: Path, internet: Internet, name: str) -> None:
    _project(workdir, f"https://{OFFICIAL}/api", api_key_env=name)
    expected = (
        f"revox-sync.yaml:3:18: api_key_env must be REVOX_API_KEY or a name starting REVOX_API_KEY_, not "
        f"{name!r} (no other variable is ever sent as the key)\n1 error.\n"
    )
    for args in (("--env", "staging", "plan"), ("validate",)):
        result = _run(*args, environ={name: "value-of-another-secret"})
        assert (result.code, result.out, result.err) == (1, "", expected)
        assert "value-of-another-secret" not in result.all
    assert internet.lookups == [] and internet.sent == []


def test_api_key_env_may_be_revox_api_key_itself(workdir: Path, internet: Internet) -> None:
    _project(workdir, f"https://{OFFICIAL}/api", api_key_env="REVOX_API_KEY")
    result = _run("--env", "staging", "plan", environ={"REVOX_API_KEY": API_KEY})
    assert (result.code, internet.sent) == (0, [("GET", "/assistants")]), result.all


# --- point 12: URLs print without their credentials ------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{PASSWORD}@{COLLECTOR}/api",
        f"https://user:{PASSWORD}@{COLLECTOR}:port/api",  # not a URL httpx reads: refused all the same
        f"https://user:{PASSWORD}/x@{COLLECTOR}/api",  # httpx would read the password as a port
    ],
)
def test_doctor_and_plan_never_print_the_password_of_a_base_url(
    workdir: Path, internet: Internet, url: str
) -> None:
    (workdir / ".git").mkdir()
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    doctor = _run("--base-url", url, "--api-key", API_KEY, "doctor")
    assert doctor.code == 1
    assert doctor.out.splitlines()[2:4] == [
        "✓ API key (account): set (--api-key)",  # where the key came from (issue 22)
        f"✗ API (account): {REFUSED}: nothing was sent",
    ]
    plan = _run("-v", "--base-url", url, "--api-key", API_KEY, "plan")  # verbose: nothing more to say
    assert (plan.code, plan.out, plan.err) == (1, "", f"error: {REFUSED}\n")
    _project(workdir, f"'{url}'")
    in_file = _run("--env", "staging", "plan")
    assert (in_file.code, in_file.err) == (1, f"revox-sync.yaml:4:15: {REFUSED}\n1 error.\n")
    for result in (doctor, plan, in_file):
        assert PASSWORD not in result.all
    assert internet.lookups == [] and internet.sent == []


def test_a_redirect_is_reported_without_the_credentials_of_its_location(cli, emulator, workdir: Path) -> None:
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    emulator.inject(
        "GET",
        "^/assistants$",
        status=302,
        body=b"",
        headers={"Location": f"https://u:{PASSWORD}@{COLLECTOR}/x"},
    )
    result = cli("-v", "plan")
    assert result.code == 1
    assert f"with a redirect (302) to https://{COLLECTOR}/x: " in result.err
    assert PASSWORD not in result.all and API_KEY not in result.all


def test_the_pr_comment_reports_a_failure_without_the_credentials_of_the_api_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from http.server import ThreadingHTTPServer

    from helpers import JsonHandler

    from revox_sync import pr_comment

    class NotFound(JsonHandler):
        def do_GET(self) -> None:
            self._answer(404, {"message": "Not Found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        write(tmp_path / "event.json", '{"pull_request": {"number": 7}}')
        write(tmp_path / "plan.md", "plan")
        for name, value in {
            "GITHUB_API_URL": f"http://user:{PASSWORD}@127.0.0.1:{server.server_address[1]}",
            "GITHUB_TOKEN": "ghs-token-1234",
            "GITHUB_REPOSITORY": "acme/voice",
            "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        }.items():
            monkeypatch.setenv(name, value)
        assert pr_comment.main(["--environment", "staging", "--body-file", str(tmp_path / "plan.md")]) == 1
    finally:
        server.shutdown()
    printed = capsys.readouterr()
    assert f"http://127.0.0.1:{server.server_address[1]}/repos/acme/voice/issues/7/comments" in printed.err
    assert PASSWORD not in printed.out + printed.err and "ghs-token-1234" not in printed.out + printed.err

"""SMTP security as configured through NotifierSettings, against a real aiosmtpd server with a
certificate made for the test: STARTTLS + AUTH required, implicit TLS, and what happens when
the settings do not match the server (the email is kept and retried, never sent in clear)."""

from __future__ import annotations

import ssl
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from keepword_notifier import sendlog
from keepword_notifier.compose import compose, to_wire
from keepword_notifier.sender import Sender
from keepword_notifier.sendlog import Send
from keepword_notifier.settings import NotifierSettings
from keepword_notifier.smtp import deliver, server_from
from keepword_platform.company import CompanyConfig
from pydantic import ValidationError

from .mail import Catcher, catching

pytestmark = [pytest.mark.postgres, pytest.mark.smtp]

USER, PASSWORD = "keepword", "correct horse battery staple"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (the `cryptography` package is not installed:
    the openssl command line makes it)."""
    folder = tmp_path_factory.mktemp("tls")
    made = Certificate(folder / "cert.pem", folder / "key.pem")
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(made.key), "-out", str(made.cert), "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return made


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False, auth_data=auth_data)


@pytest.fixture
def strict_server(certificate: Certificate) -> Iterator[tuple[Catcher, int]]:
    """A server that takes mail only after STARTTLS and AUTH."""
    with catching(
        tls_context=certificate.server_context(),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticator,
    ) as running:
        yield running


def _settings(port: int, **security: Any) -> NotifierSettings:
    return NotifierSettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=5, **security
    )


def _send() -> Send:
    run = uuid.uuid4().hex[:12]
    thread = f"thr-{run}abcd"
    return Send(
        idempotency_key=f"evt-{run}:dana@example.com:acknowledgement_customer",
        notification_id=f"ntf-{run}",
        source_event_id=f"evt-{run}",
        thread_id=thread,
        template="acknowledgement_customer",
        recipient="dana@example.com",
        recipient_role="customer",
        message_id=f"<kw.{thread}.{run}@brightline.example>",
        subject=f"We received your message [#{thread}]",
        body_text="Dear Dana,\n\nWe received your message.\n",
        body_html="<p>Dear Dana,</p><p>We received your message.</p>\n",
    )


async def test_starttls_and_auth_from_the_settings_deliver(
    db: asyncpg.Pool, strict_server: tuple[Catcher, int], certificate: Certificate
) -> None:
    catcher, port = strict_server
    settings = _settings(
        port,
        smtp_security="starttls",
        smtp_username=USER,
        smtp_password=PASSWORD,
        smtp_ca_file=certificate.cert,
    )
    sender = Sender(lambda: db, server_from(settings), CompanyConfig)
    send = _send()
    async with db.acquire() as conn:
        await sendlog.add(conn, send)

    await sender.send_due()

    [delivered] = catcher.mail
    assert delivered.message_id == send.message_id
    assert delivered.tls
    assert delivered.login == USER
    assert delivered.rcpt_tos == ["dana@example.com"]


async def test_implicit_tls_from_the_settings_delivers(certificate: Certificate) -> None:
    with catching(ssl_context=certificate.server_context()) as (catcher, port):
        settings = _settings(port, smtp_security="tls", smtp_ca_file=certificate.cert)
        delivery = await _deliver(settings)

    assert delivery.accepted
    assert [m.tls for m in catcher.mail] == [True]


@pytest.mark.parametrize(
    ("security", "code"),
    [
        ({"smtp_security": "starttls", "smtp_username": USER, "smtp_password": "wrong"}, 535),
        ({"smtp_security": "none"}, 530),  # the server insists on STARTTLS first
    ],
)
async def test_a_server_refusing_our_settings_keeps_the_email_for_a_retry(
    strict_server: tuple[Catcher, int], certificate: Certificate, security: Any, code: int
) -> None:
    catcher, port = strict_server
    delivery = await _deliver(_settings(port, smtp_ca_file=certificate.cert, **security))

    assert (delivery.accepted, delivery.permanent, delivery.code) == (False, False, code)
    assert catcher.mail == []


async def test_an_untrusted_certificate_is_not_talked_to(
    strict_server: tuple[Catcher, int],
) -> None:
    catcher, port = strict_server
    settings = _settings(port, smtp_security="starttls", smtp_username=USER, smtp_password=PASSWORD)

    delivery = await _deliver(settings)  # the system's CAs do not know the test's certificate

    assert (delivery.accepted, delivery.permanent) == (False, False)
    assert "CERTIFICATE_VERIFY_FAILED" in (delivery.error or "")
    assert catcher.mail == []


def test_credentials_are_never_configured_for_plain_text() -> None:
    for security in ("auto", "none"):
        with pytest.raises(ValidationError, match="starttls or tls"):
            _settings(25, smtp_security=security, smtp_username=USER, smtp_password=PASSWORD)
    with pytest.raises(ValidationError, match="go together"):
        _settings(25, smtp_security="tls", smtp_username=USER)


def test_the_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, certificate: Certificate
) -> None:
    monkeypatch.setenv("KEEPWORD_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("KEEPWORD_SMTP_USERNAME", USER)
    monkeypatch.setenv("KEEPWORD_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("KEEPWORD_SMTP_CA_FILE", str(certificate.cert))

    settings = NotifierSettings()
    server = server_from(settings)

    assert (server.start_tls, server.use_tls, server.username) == (True, False, USER)
    assert server.password == PASSWORD
    assert PASSWORD not in repr(settings)  # a SecretStr: never printed with the settings


async def _deliver(settings: NotifierSettings) -> Any:
    message = compose(
        _send(), sender_name="Co", sender_address="support@brightline.example", at=datetime.now(UTC)
    )
    data = to_wire(message)
    return await deliver(
        data,
        sender="support@brightline.example",
        recipient="dana@example.com",
        server=server_from(settings),
    )

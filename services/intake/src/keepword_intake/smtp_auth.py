"""SMTP AUTH on intake's listener, and which door (`MailOrigin`) a session's mail came through.

Logins are people's addresses; passwords are generated tokens (256 random bits), stored as
their SHA-256: a token that long cannot be guessed from its digest, so a slow hash buys nothing
and checking one never stalls the event loop. AUTH is offered only over STARTTLS, unless
development allows it in plain text from the machine itself. A login vouches for mail From:
that same address only (sender_trust).

Make a password: `python -m keepword_intake.smtp_auth ADDRESS` prints the token (give it to the
person's mail client) and the JSON entry for KEEPWORD_INTAKE_SMTP_USERS.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import ssl
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .mail_origin import MailOrigin
from .settings import IntakeSettings

log = structlog.get_logger(__name__)

_PREFIX = "sha256:"
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def password_digest(password: str) -> str:
    """What KEEPWORD_INTAKE_SMTP_USERS holds for `password`."""
    return _PREFIX + hashlib.sha256(password.encode()).hexdigest()


def new_password() -> str:
    """A fresh password: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SmtpAuth:
    """Who may log in, over what, and which peers are relays whose checks are believed."""

    users: Mapping[str, str] = field(default_factory=dict)  # lowercase login -> digest
    tls_context: ssl.SSLContext | None = None
    plaintext_localhost: bool = False
    trusted_relays: tuple[_Network, ...] = ()

    @classmethod
    def of(cls, settings: IntakeSettings) -> SmtpAuth:
        """From the settings; a certificate without its key (or the reverse) is refused."""
        context = None
        if settings.smtp_tls_cert or settings.smtp_tls_key:
            if not (settings.smtp_tls_cert and settings.smtp_tls_key):
                raise ValueError("STARTTLS needs both KEEPWORD_INTAKE_SMTP_TLS_CERT and _KEY")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key)
        return cls(
            users={login.lower(): digest for login, digest in settings.smtp_users.items()},
            tls_context=context,
            plaintext_localhost=settings.smtp_auth_plaintext_localhost,
            trusted_relays=tuple(ipaddress.ip_network(n) for n in settings.trusted_relays),
        )

    def smtp_options(self) -> dict[str, Any]:
        """aiosmtpd.SMTP's keyword arguments for AUTH and STARTTLS."""
        return {
            "authenticator": self.authenticate,
            # aiosmtpd's own check refuses AUTH before STARTTLS; with plain text allowed for
            # development, `authenticate` still refuses it from anywhere but this machine.
            "auth_require_tls": not self.plaintext_localhost,
            "tls_context": self.tls_context,
        }

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """aiosmtpd's authenticator: the login's digest must match, over TLS or from here."""
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        if session.ssl is None and not _is_loopback(session.peer):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace").strip().lower()
        expected = self.users.get(login, "")
        given = password_digest(data.password.decode("utf-8", "replace"))
        # Compared even for an unknown login, so the answer's timing tells nothing.
        matches = hmac.compare_digest(given, expected or _PREFIX + "0" * 64)
        if not (matches and expected):
            log.info("smtp auth refused", mechanism=mechanism)
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=data)

    def origin_of(self, session: Session) -> tuple[MailOrigin, str | None]:
        """Which door a session's mail came through, and its AUTH login if it logged in."""
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            return MailOrigin.SMTP_AUTH, session.auth_data.login.decode("utf-8", "replace")
        if self.trusted_relays and _peer_in(session.peer, self.trusted_relays):
            return MailOrigin.SMTP_RELAY, None
        return MailOrigin.SMTP, None


def _peer_ip(peer: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    host = peer[0] if isinstance(peer, tuple) and peer else None
    try:
        return ipaddress.ip_address(str(host))
    except ValueError:
        return None


def _is_loopback(peer: object) -> bool:
    ip = _peer_ip(peer)
    return ip is not None and ip.is_loopback


def _peer_in(peer: object, networks: tuple[_Network, ...]) -> bool:
    ip = _peer_ip(peer)
    return ip is not None and any(ip in n for n in networks)


def main(argv: list[str] | None = None) -> int:
    """Print a new password for ADDRESS and its KEEPWORD_INTAKE_SMTP_USERS entry."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or "@" not in args[0]:
        print("usage: python -m keepword_intake.smtp_auth ADDRESS", file=sys.stderr)
        return 2
    password = new_password()
    print(f"password: {password}")
    print(f"entry:    {json.dumps({args[0].lower(): password_digest(password)})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

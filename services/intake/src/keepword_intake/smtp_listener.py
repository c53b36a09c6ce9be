"""Inbound email: an SMTP listener (aiosmtpd) that turns mail to the support addresses into
events, answering "250" only once Kafka has the event and "451" (try later) when it cannot."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import traceback
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session
from keepword_platform.company import CompanyConfig
from keepword_platform.logging import withhold_arguments
from prometheus_client import Counter
from pydantic import ValidationError

from . import metrics
from .inbound_email import EmailParseError, InboundEmail, parse_inbound_email
from .mail_intake import MailIntake
from .publishing import BrokerUnavailable, EventPublisher, EventTooLarge
from .sender_trust import MailTrust
from .settings import IntakeSettings
from .smtp_auth import SmtpAuth

log = structlog.get_logger(__name__)
CONNECTIONS_REFUSED = Counter(
    "keepword_intake_smtp_connections_refused_total",
    "SMTP connections answered 421 because the listener served its maximum already.",
)

TRY_LATER = "451 4.3.0 Temporarily unable to accept the message; please try again later"
TOO_MANY_CONNECTIONS = "421 4.7.0 keepword-intake Too many connections; please try again later"
# aiosmtpd's loggers: they name the peer and every address of MAIL FROM and RCPT TO.
SMTP_LIBRARY_LOGGERS = ("mail.log", "mail.debug")


def _smtp_safe(text: str) -> str:
    # A reply line must stay one printable ASCII line whatever the error text holds.
    return "".join(c if 32 <= ord(c) < 127 else " " for c in text)[:200]


class InboundMailHandler:
    """aiosmtpd handler: refuses unknown recipients, publishes each accepted email once."""

    def __init__(
        self,
        *,
        company: Callable[[], CompanyConfig],
        pool: Callable[[], asyncpg.Pool],
        publisher: EventPublisher,
        trust: Callable[[], MailTrust] = MailTrust,
        auth: SmtpAuth | None = None,
    ) -> None:
        self._company = company
        self._mail = MailIntake(company=company, pool=pool, publisher=publisher, trust=trust)
        self.auth = auth or SmtpAuth()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept only the configured support addresses."""
        if address.lower() not in self._company().company.inbound_addresses:
            metrics.EMAILS.labels(outcome="unknown_recipient").inc()
            return "550 5.1.1 Recipient address rejected: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Parse, find the thread, publish; the reply code tells the sender what happened."""
        raw = envelope.original_content or b""
        try:
            # In a thread: crafted MIME can take the parser a good fraction of a second, which
            # must not stall the event loop that serves the API.
            email = await asyncio.to_thread(
                parse_inbound_email, raw, envelope_from=envelope.mail_from
            )
        except EmailParseError as error:
            metrics.EMAILS.labels(outcome="unparseable").inc()
            return f"554 5.6.0 Message rejected: {_smtp_safe(str(error))}"
        try:
            return await self._accept(email, raw, session)
        except ValidationError as error:
            metrics.EMAILS.labels(outcome="invalid").inc()
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
            return f"554 5.6.0 Message rejected: invalid {_smtp_safe(fields)}"
        except EventTooLarge:  # e.g. thousands of attachments: sending it again cannot help
            metrics.EMAILS.labels(outcome="too_large").inc()
            return "552 5.3.4 Message too big to be accepted"
        except BrokerUnavailable:
            metrics.EMAILS.labels(outcome="deferred").inc()
            return TRY_LATER
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.exception("inbound email deferred")
            metrics.EMAILS.labels(outcome="deferred").inc()
            return TRY_LATER

    async def handle_exception(self, error: Exception) -> str:
        """An unexpected failure: try later (aiosmtpd would tell the client the error's text)."""
        # Neither the message nor the traceback: either may hold an address of the email.
        where = traceback.extract_tb(error.__traceback__)[-1:]
        log.error(
            "smtp session failed",
            error=type(error).__name__,
            at=f"{where[0].filename}:{where[0].lineno}" if where else None,
        )
        metrics.EMAILS.labels(outcome="deferred").inc()
        return TRY_LATER

    async def _accept(self, email: InboundEmail, raw: bytes, session: Session) -> str:
        origin, login = self.auth.origin_of(session)
        accepted = await self._mail.accept(email, origin, raw=raw, smtp_login=login)
        if accepted.duplicate:
            metrics.EMAILS.labels(outcome="duplicate").inc()
            return "250 2.0.0 Already accepted"
        metrics.EMAILS.labels(outcome="accepted").inc()
        return f"250 2.0.0 Accepted as {accepted.event_id}"


@dataclass(frozen=True)
class SmtpLimits:
    """What one SMTP client may take of the listener (see IntakeSettings for each)."""

    max_message_bytes: int = 10 * 1024 * 1024
    max_connections: int = 100
    idle_timeout_seconds: float = 300
    max_command_bytes: int = 512
    max_line_bytes: int = 1001

    @classmethod
    def of(cls, settings: IntakeSettings) -> SmtpLimits:
        """The limits `settings` name."""
        return cls(
            max_message_bytes=settings.max_email_bytes,
            max_connections=settings.smtp_max_connections,
            idle_timeout_seconds=settings.smtp_idle_timeout_seconds,
            max_command_bytes=settings.smtp_max_command_bytes,
            max_line_bytes=settings.smtp_max_line_bytes,
        )


@dataclass
class _Slots:
    """Connections the listener may still serve."""

    free: int


class _LimitedSMTP(SMTP):
    """aiosmtpd's session with per-listener limits on connections, command and line sizes."""

    def __init__(self, handler: object, *, limits: SmtpLimits, slots: _Slots, **options: Any):
        self.line_length_limit = limits.max_line_bytes  # read by SMTP.__init__ for its reader
        super().__init__(
            handler,
            data_size_limit=limits.max_message_bytes,  # aiosmtpd answers 552 above it
            timeout=limits.idle_timeout_seconds,  # no valid command for this long: closed
            **options,
        )
        # aiosmtpd keeps these on the class, shared by every session; each session its own.
        self.command_size_limit = limits.max_command_bytes
        self.command_size_limits = collections.defaultdict(lambda: limits.max_command_bytes)
        self._slots = slots
        self._state = "new"  # then "served" (holding a slot) or "refused"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._state == "new" and self._slots.free <= 0:
            self._state = "refused"
            CONNECTIONS_REFUSED.inc()
            if isinstance(transport, asyncio.WriteTransport):
                transport.write(TOO_MANY_CONNECTIONS.encode() + b"\r\n")
            transport.close()
            return  # no session: the client was told to come back later
        if self._state == "new":
            self._state = "served"
            self._slots.free -= 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._state == "refused":
            return
        self._state = "refused"  # released once, whatever calls this again
        self._slots.free += 1
        super().connection_lost(error)

    def eof_received(self) -> bool | None:
        return False if self._state == "refused" else super().eof_received()


@contextlib.asynccontextmanager
async def smtp_listener(
    handler: object,
    *,
    host: str,
    port: int,
    limits: SmtpLimits,
    auth: SmtpAuth | None = None,
) -> AsyncIterator[asyncio.Server]:
    """Serve SMTP on `host:port` on the running event loop until the context ends.

    `handler` is an aiosmtpd handler (`InboundMailHandler`). The library logs every address
    it hears at INFO; its records keep their wording but not what was filled in.
    """
    withhold_arguments(*SMTP_LIBRARY_LOGGERS)
    loop = asyncio.get_running_loop()
    slots = _Slots(limits.max_connections)
    server = await loop.create_server(
        lambda: _LimitedSMTP(
            handler,
            limits=limits,
            slots=slots,
            enable_SMTPUTF8=True,
            hostname="keepword-intake",
            ident="Keepword intake",
            loop=loop,
            **(auth or SmtpAuth()).smtp_options(),  # SMTP AUTH, STARTTLS (smtp_auth)
        ),
        host=host,
        port=port,
    )
    log.info("smtp listener started", port=port, max_connections=limits.max_connections)
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()

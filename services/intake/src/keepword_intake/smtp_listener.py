"""Inbound email: an SMTP listener (aiosmtpd) that turns mail to the support addresses into
events, answering "250" only once Kafka has the event and "451" (try later) when it cannot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import asyncpg
import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session
from keepword_platform.company import CompanyConfig
from pydantic import ValidationError

from . import metrics
from .inbound_email import EmailParseError, InboundEmail, parse_inbound_email
from .mail_intake import MailIntake, MailOrigin
from .publishing import BrokerUnavailable, EventPublisher, EventTooLarge

log = structlog.get_logger(__name__)

TRY_LATER = "451 4.3.0 Temporarily unable to accept the message; please try again later"


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
    ) -> None:
        self._company = company
        self._mail = MailIntake(company=company, pool=pool, publisher=publisher)

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
            return await self._accept(email)
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

    async def _accept(self, email: InboundEmail) -> str:
        accepted = await self._mail.accept(email, MailOrigin.SMTP)
        if accepted.duplicate:
            metrics.EMAILS.labels(outcome="duplicate").inc()
            return "250 2.0.0 Already accepted"
        metrics.EMAILS.labels(outcome="accepted").inc()
        return f"250 2.0.0 Accepted as {accepted.event_id}"


@contextlib.asynccontextmanager
async def smtp_listener(
    handler: InboundMailHandler, *, host: str, port: int, max_bytes: int
) -> AsyncIterator[asyncio.Server]:
    """Serve SMTP on `host:port` on the running event loop until the context ends."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            data_size_limit=max_bytes,  # aiosmtpd answers 552 above it
            enable_SMTPUTF8=True,
            hostname="keepword-intake",
            ident="Keepword intake",
            loop=loop,
        ),
        host=host,
        port=port,
    )
    log.info("smtp listener started", port=port)
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()

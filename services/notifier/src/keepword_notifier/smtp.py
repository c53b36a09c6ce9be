"""Handing an email to the SMTP server, and what its answer means for retrying."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to send."""

    host: str
    port: int
    timeout_seconds: float = 30.0
    use_tls: bool = False
    start_tls: bool | None = None  # None: upgrade if the server offers it
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """The server's verdict: accepted, or refused for now (retry) or for good."""

    accepted: bool
    permanent: bool = False
    code: int | None = None
    error: str | None = None


async def deliver(message: EmailMessage, server: SmtpServer) -> Delivery:
    """Send `message`; never raises for the server's refusals, only reports them."""
    try:
        await aiosmtplib.send(
            message,
            hostname=server.host,
            port=server.port,
            timeout=server.timeout_seconds,
            use_tls=server.use_tls,
            start_tls=server.start_tls,
            username=server.username,
            password=server.password,
        )
    except aiosmtplib.SMTPRecipientsRefused as refused:
        codes = [r.code for r in refused.recipients]
        worst = max(codes) if codes else 550
        return Delivery(False, permanent=worst >= 500, code=worst, error=str(refused)[:500])
    except aiosmtplib.SMTPResponseException as answer:
        return Delivery(
            False, permanent=answer.code >= 500, code=answer.code, error=answer.message[:500]
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as failure:
        # Connection trouble: the server may be down for a moment; worth another try.
        return Delivery(False, permanent=False, error=repr(failure)[:500])
    return Delivery(True, code=250)

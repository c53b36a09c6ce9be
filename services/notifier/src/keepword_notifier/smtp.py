"""Handing an email to the SMTP server, and what its answer means for retrying."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import aiosmtplib
from keepword_platform.settings import NotifierSettings

# Refusals about how we connect (authentication or encryption required, bad credentials).
_OUR_CONFIGURATION = frozenset({530, 534, 535, 538})


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
    tls_context: ssl.SSLContext | None = None  # None: the system's CAs


def server_from(settings: NotifierSettings) -> SmtpServer:
    """The SMTP server and security the settings name (`KEEPWORD_SMTP_*`)."""
    security = settings.smtp_security
    context = None
    if settings.smtp_ca_file is not None:
        context = ssl.create_default_context(cafile=str(settings.smtp_ca_file))
    return SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        timeout_seconds=settings.smtp_timeout_seconds,
        use_tls=security == "tls",
        start_tls={"auto": None, "none": False, "starttls": True, "tls": False}[security],
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        tls_context=context,
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """The server's verdict: accepted, or refused for now (retry) or for good."""

    accepted: bool
    permanent: bool = False
    code: int | None = None
    error: str | None = None


async def deliver(data: bytes, *, sender: str, recipient: str, server: SmtpServer) -> Delivery:
    """Send the serialised email `data` to `recipient` alone; never raises for the server's
    refusals, only reports them.

    The envelope (MAIL FROM, RCPT TO) is given explicitly, never read from the headers: whatever
    a header might say, the email reaches `recipient` and nobody else.
    """
    try:
        await aiosmtplib.send(
            data,
            sender=sender,
            recipients=[recipient],
            hostname=server.host,
            port=server.port,
            timeout=server.timeout_seconds,
            use_tls=server.use_tls,
            start_tls=server.start_tls,
            username=server.username,
            password=server.password,
            tls_context=server.tls_context,
        )
    except aiosmtplib.SMTPRecipientsRefused as refused:
        codes = [r.code for r in refused.recipients]
        worst = max(codes) if codes else 550
        error = _without(refused, recipient)
        return Delivery(False, permanent=worst >= 500, code=worst, error=error)
    except aiosmtplib.SMTPResponseException as answer:
        # 530/534/535/538: our security settings or credentials, not this email, are wrong.
        # Keep the email and retry with backoff (an operator fixes them) rather than fail
        # every email for good.
        permanent = answer.code >= 500 and answer.code not in _OUR_CONFIGURATION
        return Delivery(False, permanent=permanent, code=answer.code, error=answer.message[:500])
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as failure:
        # Connection or TLS trouble: the server may be down for a moment; worth another try.
        return Delivery(False, permanent=False, error=repr(failure)[:500])
    return Delivery(True, code=250)


def _without(error: Exception, address: str) -> str:
    # Refusals quote the address; what we keep of them (events, the send log) names the
    # recipient elsewhere already, and logs must not carry it at all.
    return str(error).replace(address, "<recipient>")[:500]

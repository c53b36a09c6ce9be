"""Handing an email to the SMTP server, and what its answer means for retrying."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from dataclasses import dataclass

import aiosmtplib

from .settings import NotifierSettings

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
    local_hostname: str | None = None  # our EHLO name; None: looked up on every connection


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
        # Once, here: aiosmtplib would otherwise call getfqdn (a DNS round trip, in a thread)
        # for every connection — measured at a quarter of the sender's time in bench/notifier.
        local_hostname=socket.getfqdn(),
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """The server's verdict: accepted, or refused for now (retry) or for good."""

    accepted: bool
    permanent: bool = False
    code: int | None = None
    error: str | None = None


class SmtpConnections:
    """Open SMTP connections, reused email after email: no TCP, TLS and EHLO/AUTH handshake
    per email. At most `keep` idle ones are kept, none idle longer than `max_idle_seconds`
    (servers drop quiet clients)."""

    def __init__(self, server: SmtpServer, keep: int, max_idle_seconds: float = 30.0) -> None:
        self._server = server
        self._keep = keep
        self._max_idle = max_idle_seconds
        self._idle: list[tuple[float, aiosmtplib.SMTP]] = []

    async def deliver(self, data: bytes, *, sender: str, recipient: str) -> Delivery:
        """Send the serialised email `data` to `recipient` alone; never raises for the
        server's refusals, only reports them.

        The envelope (MAIL FROM, RCPT TO) is given explicitly, never read from the headers:
        whatever a header might say, the email reaches `recipient` and nobody else.
        """
        client = self._reusable()
        if client is not None:
            try:
                return await self._send(client, data, sender, recipient)
            except _GONE:
                # The server closed the reused connection while it sat idle. Whether or not
                # it had taken the email, a fresh connection sends the same bytes (the same
                # Message-ID): at worst a duplicate inside the accept instant.
                pass
            except Exception as failure:  # as below
                return _verdict(failure, recipient)
        try:
            client = await self._connect()
            return await self._send(client, data, sender, recipient)
        except Exception as failure:  # what an SMTP conversation can end with, reported
            return _verdict(failure, recipient)

    async def close(self) -> None:
        """Say goodbye on every idle connection."""
        idle, self._idle = self._idle, []
        for _, client in idle:
            with contextlib.suppress(Exception):
                await client.quit(timeout=2)
            _discard(client)

    async def _send(
        self, client: aiosmtplib.SMTP, data: bytes, sender: str, recipient: str
    ) -> Delivery:
        try:
            await _transaction(client, sender, recipient, data)
        except aiosmtplib.SMTPResponseException as refused:
            self._keep_open(client)  # aiosmtplib reset the envelope: the connection is fine
            return _verdict(refused, recipient)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            self._keep_open(client)
            return _verdict(refused, recipient)
        except BaseException:
            _discard(client)
            raise
        self._keep_open(client)
        return Delivery(True, code=250)

    async def _connect(self) -> aiosmtplib.SMTP:
        server = self._server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            timeout=server.timeout_seconds,
            use_tls=server.use_tls,
            start_tls=server.start_tls,
            username=server.username,
            password=server.password,
            tls_context=server.tls_context,
            local_hostname=server.local_hostname,
        )
        await client.connect()  # also STARTTLS and AUTH, as configured
        return client

    def _reusable(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            since, client = self._idle.pop()
            if now - since < self._max_idle and client.is_connected:
                return client
            _discard(client)
        return None

    def _keep_open(self, client: aiosmtplib.SMTP) -> None:
        if len(self._idle) < self._keep and client.is_connected:
            self._idle.append((time.monotonic(), client))
        else:
            _discard(client)


async def deliver(data: bytes, *, sender: str, recipient: str, server: SmtpServer) -> Delivery:
    """Send one email over a connection of its own (see `SmtpConnections.deliver`)."""
    connections = SmtpConnections(server, keep=0)
    return await connections.deliver(data, sender=sender, recipient=recipient)


# A reused connection the server had closed: the email may go again on a fresh one.
_GONE = (aiosmtplib.SMTPServerDisconnected, ConnectionError)


async def _transaction(client: aiosmtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """aiosmtplib's `sendmail` for one recipient, with the DATA bytes prepared once.

    `sendmail` rewrites every line ending of the email with a regular expression twice (once
    to count its SIZE) and dot-stuffs it with another: a tenth of the sender's time. Our emails
    already end their lines in CRLF, so a check and a plain replace do. Refusals raise what
    `sendmail` raises, after the same RSET.
    """
    lines = _crlf_lines(data)
    options = [f"SIZE={len(lines)}"] if client.supports_extension("size") else []
    try:
        await client.mail(sender, options=options)
        try:
            await client.rcpt(recipient)
        except aiosmtplib.SMTPRecipientRefused as refused:
            raise aiosmtplib.SMTPRecipientsRefused([refused]) from None
        await _data(client, _dot_stuffed(lines))
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.rset()  # the envelope is reset for the next email, as sendmail does
        raise


def _crlf_lines(data: bytes) -> bytes:
    """`data` with every line ending in CRLF (RFC 5321 2.3.8)."""
    bare = data.replace(b"\r\n", b"")
    if b"\r" in bare or b"\n" in bare:  # never in our emails, but never sent bare either
        return aiosmtplib.protocol.normalize_message_line_endings(data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _dot_stuffed(lines: bytes) -> bytes:
    """What DATA sends: a line's leading dot doubled, then the final "." (RFC 5321 4.5.2)."""
    stuffed = lines.replace(b"\r\n.", b"\r\n..")
    return (b"." if stuffed.startswith(b".") else b"") + stuffed + b".\r\n"


async def _data(client: aiosmtplib.SMTP, wire: bytes) -> None:
    # aiosmtplib's protocol.execute_data_command, less its rewriting of the bytes.
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    start = await client.execute_command(b"DATA")
    if start.code != aiosmtplib.SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(start.code, start.message)
    protocol.write(wire)
    # No await between the write and read_response, which arms the protocol for the answer.
    response = await protocol.read_response(timeout=client.timeout)
    if response.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(response.code, response.message)


def _discard(client: aiosmtplib.SMTP) -> None:
    client.close()  # drop the transport without a goodbye


def _verdict(failure: Exception, recipient: str) -> Delivery:
    """What a failed conversation means for the email."""
    if isinstance(failure, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in failure.recipients]
        worst = max(codes) if codes else 550
        error = _without(failure, recipient)
        return Delivery(False, permanent=worst >= 500, code=worst, error=error)
    if isinstance(failure, aiosmtplib.SMTPResponseException):
        # 530/534/535/538: our security settings or credentials, not this email, are wrong.
        # Keep the email and retry with backoff (an operator fixes them) rather than fail
        # every email for good.
        code = failure.code
        permanent = code >= 500 and code not in _OUR_CONFIGURATION
        return Delivery(False, permanent=permanent, code=code, error=failure.message[:500])
    # Connection or TLS trouble (the server may be down for a moment), or something unforeseen:
    # worth another try, with backoff, until the sender's attempts run out.
    return Delivery(False, permanent=False, error=repr(failure)[:500])


def _without(error: Exception, address: str) -> str:
    # Refusals quote the address; what we keep of them (events, the send log) names the
    # recipient elsewhere already, and logs must not carry it at all.
    return str(error).replace(address, "<recipient>")[:500]

"""Handing an email to the SMTP server, and what its answer means for retrying."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

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


# Awaited before the bytes that let the server accept an email (its body and final dot): the
# caller may hold them back until it is ready to record one more acceptance.
BeforeAccept = Callable[[], Awaitable[object]]


class SmtpConnections:
    """Open SMTP connections, reused email after email: no TCP, TLS and EHLO/AUTH handshake
    per email. At most `keep` idle ones are kept, none idle longer than `max_idle_seconds`
    (servers drop quiet clients)."""

    def __init__(self, server: SmtpServer, keep: int, max_idle_seconds: float = 30.0) -> None:
        self._server = server
        self._keep = keep
        self._max_idle = max_idle_seconds
        self._idle: list[tuple[float, SmtpSession]] = []

    async def deliver(
        self,
        data: bytes,
        *,
        sender: str,
        recipient: str,
        before_accept: BeforeAccept | None = None,
    ) -> Delivery:
        """Send the serialised email `data` to `recipient` alone; never raises for the
        server's refusals, only reports them. `before_accept` is awaited once the server is
        ready for the email's bytes, before they are sent.

        The envelope (MAIL FROM, RCPT TO) is given explicitly, never read from the headers:
        whatever a header might say, the email reaches `recipient` and nobody else.
        """
        session = self._reusable()
        if session is not None:
            try:
                return await self._send(session, data, sender, recipient, before_accept)
            except _GONE:
                # The server closed the reused connection while it sat idle. Whether or not
                # it had taken the email, a fresh connection sends the same bytes (the same
                # Message-ID): at worst a duplicate inside the accept instant.
                pass
            except Exception as failure:  # as below
                return _verdict(failure, recipient)
        try:
            session = await self._connect()
            return await self._send(session, data, sender, recipient, before_accept)
        except Exception as failure:  # what an SMTP conversation can end with, reported
            return _verdict(failure, recipient)

    async def close(self) -> None:
        """Say goodbye on every idle connection."""
        idle, self._idle = self._idle, []
        for _, session in idle:
            with contextlib.suppress(Exception):
                await session.quit()
            session.close()

    async def _send(
        self,
        session: SmtpSession,
        data: bytes,
        sender: str,
        recipient: str,
        before_accept: BeforeAccept | None,
    ) -> Delivery:
        try:
            await session.transaction(sender, recipient, data, before_accept)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as refused:
            self._keep_open(session)  # the envelope was reset: the connection is fine
            return _verdict(refused, recipient)
        except BaseException:
            session.close()
            raise
        self._keep_open(session)
        return Delivery(True, code=250)

    async def _connect(self) -> SmtpSession:
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
        if client.is_ehlo_or_helo_needed:  # (not yet said when neither was needed)
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()  # a server from before ESMTP, as sendmail falls back
        return SmtpSession.taking_over(client, server.timeout_seconds)

    def _reusable(self) -> SmtpSession | None:
        now = time.monotonic()
        while self._idle:
            since, session = self._idle.pop()
            if now - since < self._max_idle and session.is_connected:
                return session
            session.close()
        return None

    def _keep_open(self, session: SmtpSession) -> None:
        if len(self._idle) < self._keep and session.is_connected:
            self._idle.append((time.monotonic(), session))
        else:
            session.close()


async def deliver(data: bytes, *, sender: str, recipient: str, server: SmtpServer) -> Delivery:
    """Send one email over a connection of its own (see `SmtpConnections.deliver`)."""
    connections = SmtpConnections(server, keep=0)
    return await connections.deliver(data, sender=sender, recipient=recipient)


# A reused connection the server had closed: the email may go again on a fresh one.
_GONE = (aiosmtplib.SMTPServerDisconnected, ConnectionError)


class SmtpSession:
    """One SMTP connection, ready for mail: aiosmtplib opens it (TLS, STARTTLS, EHLO, AUTH as
    configured), then its transport is handed to `_Replies`, which can wait for several
    replies at once. So, when the server offers PIPELINING (RFC 2920), an email's MAIL FROM,
    RCPT TO and DATA go in one write and their replies come back together: two round trips per
    email instead of four (aiosmtplib reads exactly one reply per command written)."""

    def __init__(self, replies: _Replies, *, pipelining: bool, size: bool, timeout: float) -> None:
        self._replies = replies
        self.pipelining = pipelining
        self._size = size
        self._timeout = timeout

    @classmethod
    def taking_over(cls, client: aiosmtplib.SMTP, timeout: float) -> SmtpSession:
        """The connection `client` has just opened, from now on talked to here."""
        # (uvloop's transports are no asyncio.Transport subclasses, but behave as one.)
        transport = cast(asyncio.Transport | None, client.transport)
        if transport is None or transport.is_closing():
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        replies = _Replies(transport)
        transport.set_protocol(replies)  # aiosmtplib's protocol hears nothing more
        return cls(
            replies,
            pipelining=client.supports_extension("pipelining"),
            size=client.supports_extension("size"),
            timeout=timeout,
        )

    @property
    def is_connected(self) -> bool:
        """Whether the connection is still open (as far as this end knows)."""
        return self._replies.is_connected

    def close(self) -> None:
        """Drop the connection without a goodbye."""
        self._replies.close()

    async def quit(self) -> None:
        """Say goodbye, and close."""
        try:
            await self._exchange(b"QUIT\r\n", seconds=min(self._timeout, 2.0))
        finally:
            self.close()

    async def transaction(
        self, sender: str, recipient: str, data: bytes, before_accept: BeforeAccept | None = None
    ) -> None:
        """Send `data` from `sender` to `recipient`. Refusals raise what aiosmtplib's `sendmail`
        raises, after the same RSET; a failed connection raises SMTPServerDisconnected or a
        timeout (and is closed).

        The DATA bytes are prepared once: `sendmail` rewrites every line ending of the email
        with a regular expression twice (once to count its SIZE) and dot-stuffs it with
        another. Our emails already end their lines in CRLF, so a check and a plain replace do.
        """
        lines = _crlf_lines(data)
        mail_from = _command(b"MAIL FROM:<%s>", sender, f" SIZE={len(lines)}" if self._size else "")
        rcpt_to = _command(b"RCPT TO:<%s>", recipient)
        try:
            if self.pipelining:
                self._replies.write(mail_from + rcpt_to + b"DATA\r\n", replies=3)
                mail, rcpt, start = await self._replies.read(3, self._timeout)
                if start.code == _START_INPUT and (mail.code != _OK or rcpt.code not in _RCPT_OK):
                    # DATA was taken although the envelope was not (RFC 2920 3.1): end it empty.
                    await self._exchange(b".\r\n")
            else:
                mail = rcpt = start = await self._exchange(mail_from)
                if mail.code == _OK:
                    rcpt = start = await self._exchange(rcpt_to)
                    if rcpt.code in _RCPT_OK:
                        start = await self._exchange(b"DATA\r\n")
            if mail.code != _OK:
                raise aiosmtplib.SMTPSenderRefused(mail.code, mail.message, sender)
            if rcpt.code not in _RCPT_OK:
                refused = aiosmtplib.SMTPRecipientRefused(rcpt.code, rcpt.message, recipient)
                raise aiosmtplib.SMTPRecipientsRefused([refused])
            if start.code != _START_INPUT:
                raise aiosmtplib.SMTPDataError(start.code, start.message)
            if before_accept is not None:
                await before_accept()
            done = await self._exchange(_dot_stuffed(lines))
            if done.code != _OK:
                raise aiosmtplib.SMTPDataError(done.code, done.message)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
            with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
                await self._exchange(b"RSET\r\n")  # reset for the next email, as sendmail does
            raise

    async def _exchange(
        self, command: bytes, seconds: float | None = None
    ) -> aiosmtplib.SMTPResponse:
        self._replies.write(command, replies=1)
        [reply] = await self._replies.read(1, seconds or self._timeout)
        return reply


_OK = aiosmtplib.SMTPStatus.completed
_START_INPUT = aiosmtplib.SMTPStatus.start_input
_RCPT_OK = (aiosmtplib.SMTPStatus.completed, aiosmtplib.SMTPStatus.will_forward)
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_MAX_REPLY = 32 * 1024  # no SMTP server's reply is longer (aiosmtplib's bound too)


def _command(template: bytes, address: str, options: str = "") -> bytes:
    # As aiosmtplib's execute_command: no control character reaches the wire (an address with
    # a CR or LF in it would be a command of its own).
    argument = address.encode("utf-8")
    if _CONTROL.search(argument) or _CONTROL.search(options.encode()):
        raise ValueError("Command arg contains a prohibited control character")
    return template % argument + options.encode() + b"\r\n"


class _Replies(asyncio.Protocol):
    """The protocol of an open SMTP connection: writes commands, and hands out the server's
    replies in order, as many as commands were written. Bytes that arrive while no reply is
    owed (a 421 before the server hangs up on an idle client) are dropped, never taken for the
    answer to a later command."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._buffer = bytearray()
        self._owed = 0  # replies owed for the commands written
        self._ready: collections.deque[aiosmtplib.SMTPResponse] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._lost = False

    @property
    def is_connected(self) -> bool:
        return not self._lost and not self._transport.is_closing()

    def close(self) -> None:
        self._lost = True
        self._transport.close()
        self._wake()

    def write(self, data: bytes, *, replies: int) -> None:
        if not self.is_connected:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        self._owed += replies
        self._transport.write(data)

    async def read(self, count: int, seconds: float) -> list[aiosmtplib.SMTPResponse]:
        """The next `count` replies, each within `seconds`."""
        while len(self._ready) < count:
            if self._lost:
                raise aiosmtplib.SMTPServerDisconnected("Connection lost")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(seconds):
                    await self._waiter
            except TimeoutError:
                self.close()  # the replies still owed would answer the wrong commands
                raise aiosmtplib.SMTPReadTimeoutError("Timed out waiting for the server") from None
            finally:
                self._waiter = None
        return [self._ready.popleft() for _ in range(count)]

    def data_received(self, data: bytes) -> None:
        if self._owed == 0:
            return
        self._buffer += data
        while self._owed and (reply := self._parsed()) is not None:
            self._owed -= 1
            self._ready.append(reply)
        if len(self._buffer) > _MAX_REPLY:
            self.close()
        elif self._ready:
            self._wake()

    def eof_received(self) -> bool:
        return False  # the transport closes: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _parsed(self) -> aiosmtplib.SMTPResponse | None:
        """The first whole reply in the buffer (taken out of it), if there is one."""
        lines: list[bytes] = []
        offset = 0
        while (end := self._buffer.find(b"\n", offset)) != -1:
            line = bytes(self._buffer[offset : end + 1])
            offset = end + 1
            lines.append(line[4:].strip(b" \t\r\n"))
            if line[3:4] != b"-":
                del self._buffer[:offset]
                code = int(line[:3]) if line[:3].isdigit() else _INVALID
                text = b"\n".join(lines).decode("utf-8", "surrogateescape")
                return aiosmtplib.SMTPResponse(code, text)
        return None


_INVALID = aiosmtplib.SMTPStatus.invalid_response


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

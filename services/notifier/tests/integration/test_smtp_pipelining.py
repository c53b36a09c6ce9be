"""The notifier's SMTP conversations against a real aiosmtpd server, offering PIPELINING (MAIL
FROM, RCPT TO and DATA written at once, their three replies read together) or not (one command,
one reply): every reply is read and paired with its command — the connection stays usable email
after email, through a refused recipient, a refusal at MAIL FROM, a 4xx or 5xx after the data —
and a connection the server drops is reported as worth a retry, then replaced."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvloop
from keepword_notifier.settings import NotifierSettings
from keepword_notifier.smtp import Delivery, SmtpConnections, SmtpServer, server_from

from .mail import Catcher, catching
from .test_smtp_security import PASSWORD, USER, Certificate, certificate, strict_server

__all__ = ["certificate", "strict_server"]  # the TLS fixtures, shared with the security tests

pytestmark = [pytest.mark.smtp]

SENDER = "support@brightline.example"
REFUSED = "nobody@example.com"  # the server refuses this recipient
BUSY = "busy@brightline.example"  # the server refuses this sender for now


def email(n: int) -> bytes:
    return (
        f"Message-ID: <kw.test.{n}@brightline.example>\r\nSubject: n{n}\r\n\r\n"
        f".a line that starts with a dot\r\nemail {n}\r\n"
    ).encode()


@dataclass
class Server(Catcher):
    """The test's catcher, offering PIPELINING or not, refusing `REFUSED` at RCPT TO and `BUSY`
    at MAIL FROM, and dropping the connection at the data of the emails it is told to."""

    pipelining: bool = True
    drop: set[int] = field(default_factory=set)  # the nth DATA (counting from 1) is cut off
    datas: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        offered = ["250-PIPELINING"] if self.pipelining else []
        return [*responses[:-1], *offered, responses[-1]]

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == BUSY:
            return "451 4.3.2 Sender busy, try later"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.datas += 1
        if self.datas in self.drop:
            server.transport.close()
            return "250 2.0.0 OK"  # never heard: the connection is gone
        return await super().handle_DATA(server, session, envelope)


def connections(port: int) -> SmtpConnections:
    return SmtpConnections(SmtpServer(host="127.0.0.1", port=port, timeout_seconds=5), keep=1)


async def deliver(smtp: SmtpConnections, n: int, to: str, sender: str = SENDER) -> Delivery:
    return await smtp.deliver(email(n), sender=sender, recipient=to)


@pytest.mark.parametrize("pipelining", [True, False])
async def test_every_reply_is_read_through_refusals_on_one_connection(pipelining: bool) -> None:
    server = Server(pipelining=pipelining, replies=["", "451 4.3.0 Try later", "554 5.6.0 No"])
    server.replies.pop(0)  # (the first email is accepted; the next two are refused at DATA)
    with catching(server) as (_, port):
        before = server.opened  # aiosmtpd's own connection, checking it is up
        smtp = connections(port)
        try:
            deferred = await deliver(smtp, 1, "dana@example.com")
            refused = await deliver(smtp, 2, "dana@example.com")
            sent = await deliver(smtp, 3, "dana@example.com")
            unknown = await deliver(smtp, 4, REFUSED)
            busy = await deliver(smtp, 5, "lee@example.com", sender=BUSY)
            after = [await deliver(smtp, n, f"r{n}@example.com") for n in range(6, 10)]
        finally:
            await smtp.close()

    assert (deferred.accepted, deferred.permanent, deferred.code) == (False, False, 451)
    assert (refused.accepted, refused.permanent, refused.code) == (False, True, 554)
    assert sent.accepted
    assert (unknown.accepted, unknown.permanent, unknown.code) == (False, True, 550)
    assert REFUSED not in str(unknown.error)
    assert (busy.accepted, busy.permanent, busy.code) == (False, False, 451)
    assert all(d.accepted for d in after)
    # Each accepted email arrived as sent (dot-stuffed and unstuffed), to its recipient alone,
    # all over the one connection.
    assert [(m.rcpt_tos, m.raw) for m in server.mail] == [
        (["dana@example.com"], email(3)),
        *[([f"r{n}@example.com"], email(n)) for n in range(6, 10)],
    ]
    assert server.opened - before == 1


@pytest.mark.parametrize("pipelining", [True, False])
async def test_a_dropped_connection_is_worth_a_retry_and_replaced(pipelining: bool) -> None:
    # The server drops the first connection at its email's data, and the second at its second
    # email's: a new connection's failure is reported (retried later); a reused connection's
    # means the server may have closed it while it sat idle, so the email goes at once on a
    # new one (the same bytes).
    server = Server(pipelining=pipelining, drop={1, 3})
    with catching(server) as (_, port):
        before = server.opened
        smtp = connections(port)
        try:
            dropped = await deliver(smtp, 1, "dana@example.com")
            again = await deliver(smtp, 1, "dana@example.com")
            reused = await deliver(smtp, 2, "dana@example.com")
        finally:
            await smtp.close()

    assert (dropped.accepted, dropped.permanent) == (False, False)
    assert "Disconnected" in str(dropped.error)
    assert again.accepted
    assert reused.accepted
    assert [m.message_id for m in server.mail] == [
        "<kw.test.1@brightline.example>",
        "<kw.test.2@brightline.example>",
    ]
    assert server.opened - before == 3


async def test_the_email_goes_only_once_the_caller_is_ready() -> None:
    # What lets the server accept the email (its bytes and final dot) waits for `before_accept`;
    # the envelope went before.
    server = Server()
    asked, ready = asyncio.Event(), asyncio.Event()
    waited: list[int] = []

    async def before_accept() -> None:
        waited.append(len(server.mail))
        asked.set()
        await ready.wait()

    with catching(server) as (_, port):
        smtp = connections(port)
        try:
            sending = asyncio.create_task(
                smtp.deliver(
                    email(1),
                    sender=SENDER,
                    recipient="dana@example.com",
                    before_accept=before_accept,
                )
            )
            await asyncio.wait_for(asked.wait(), 5)
            await asyncio.sleep(0.2)  # time enough for the server to take an email sent early
            held = len(server.mail)
            ready.set()
            delivery = await sending
        finally:
            await smtp.close()

    assert waited == [0]
    assert held == 0
    assert delivery.accepted
    assert len(server.mail) == 1


def test_the_connection_works_on_uvloop_as_the_service_runs() -> None:
    # The service runs on uvloop, whose transports are handed over the same way.
    server = Server()

    async def three(port: int) -> list[Delivery]:
        smtp = connections(port)
        try:
            return [await deliver(smtp, n, "dana@example.com") for n in range(3)]
        finally:
            await smtp.close()

    with catching(server) as (_, port):
        before = server.opened
        deliveries = uvloop.run(three(port))

    assert all(d.accepted for d in deliveries)
    assert len(server.mail) == 3
    assert server.opened - before == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_encrypted_connections_work_on_uvloop(
    security: str, certificate: Certificate, strict_server: tuple[Catcher, int]
) -> None:
    # After STARTTLS and AUTH (or implicit TLS), the encrypted transport is handed over too.
    context = certificate.server_context()
    with contextlib.ExitStack() as stack:
        fields: dict[str, Any] = {"smtp_security": security, "smtp_ca_file": certificate.cert}
        if security == "starttls":
            catcher, port = strict_server
            fields |= {"smtp_username": USER, "smtp_password": PASSWORD}
        else:
            catcher, port = stack.enter_context(catching(ssl_context=context))
        settings = NotifierSettings(
            smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=5, **fields
        )

        async def two() -> list[Delivery]:
            smtp = SmtpConnections(server_from(settings), keep=1)
            try:
                return [await deliver(smtp, n, "dana@example.com") for n in range(2)]
            finally:
                await smtp.close()

        deliveries = uvloop.run(two())

    assert all(d.accepted for d in deliveries)
    assert [m.tls for m in catcher.mail] == [True, True]

"""The SMTP listener's limits and quiet logs, on a real listener and real sockets: one
connection more than the maximum is told 421 and closed, an idle client is closed, over-long
commands, lines and messages are refused, and the library's log records carry no address."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from keepword_intake.smtp_listener import SmtpLimits, smtp_listener
from keepword_testkit.processes import free_port

SAFETY_SECONDS = 20  # only so that a broken listener fails the test instead of hanging it
ADDRESS = "dana.whitfield.s2@customer-example.com"
SMALL = SmtpLimits(max_message_bytes=2000, max_connections=2, idle_timeout_seconds=60)


class Accepting:
    """A handler that takes any recipient and any message."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 Accepted"


@asynccontextmanager
async def listening(limits: SmtpLimits = SMALL) -> AsyncIterator[int]:
    port = free_port()
    async with smtp_listener(Accepting(), host="127.0.0.1", port=port, limits=limits):
        yield port


class Client:
    """One raw SMTP connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def line(self) -> bytes:
        """The server's next reply line, or b"" once it closed the connection."""
        async with asyncio.timeout(SAFETY_SECONDS):
            try:
                return await self.reader.readline()
            except ConnectionResetError:
                return b""

    async def say(self, command: bytes) -> bytes:
        self.writer.write(command + b"\r\n")
        await self.writer.drain()
        return await self.line()

    def close(self) -> None:
        self.writer.close()


async def connect(port: int) -> Client:
    return Client(*await asyncio.open_connection("127.0.0.1", port))


async def test_one_connection_more_than_the_maximum_is_told_421_and_closed() -> None:
    async with listening(replace(SMALL, max_connections=2)) as port:
        served = [await connect(port) for _ in range(2)]
        banners = [await c.line() for c in served]
        extra = await connect(port)
        refused = (await extra.line(), await extra.line())
        served.pop().close()
        answers: list[bytes] = []  # the listener sees the close a moment later: ask until served
        async with asyncio.timeout(SAFETY_SECONDS):
            while not answers or not answers[-1].startswith(b"220"):
                again = await connect(port)
                answers.append(await again.line())
                again.close()
        still = await served[0].say(b"NOOP")
        served[0].close()

    assert [b[:4] for b in banners] == [b"220 ", b"220 "]
    assert refused[0].startswith(b"421 4.7.0 ")
    assert refused[1] == b""  # refused, not queued
    assert all(a[:4] in (b"220 ", b"421 ") for a in answers)
    assert still.startswith(b"250")  # the sessions being served were never disturbed


async def test_an_idle_client_is_closed_after_the_timeout() -> None:
    async with listening(replace(SMALL, idle_timeout_seconds=0.5)) as port:
        client = await connect(port)
        banner = await client.line()
        busy = await client.say(b"EHLO client.example")
        while busy.startswith(b"250-"):
            busy = await client.line()
        closed = await client.line()  # nothing more said: the listener hangs up
        client.close()

    assert banner.startswith(b"220")
    assert busy.startswith(b"250 ")
    assert closed == b""


async def test_over_long_commands_lines_and_messages_are_refused() -> None:
    async with listening() as port:
        client = await connect(port)
        await client.line()
        long_command = await client.say(b"NOOP " + b"x" * 600)
        huge_line = await client.say(b"NOOP " + b"x" * 100_000)
        helo = await client.say(b"HELO client.example")
        mail = await client.say(b"MAIL FROM:<sender@example.com>")
        rcpt = await client.say(b"RCPT TO:<support@example.com>")
        data = await client.say(b"DATA")
        client.writer.write(b"Subject: long\r\n\r\n" + b"y" * 1500 + b"\r\n.\r\n")
        long_line = await client.line()
        await client.say(b"MAIL FROM:<sender@example.com>")
        await client.say(b"RCPT TO:<support@example.com>")
        await client.say(b"DATA")
        client.writer.write(
            b"Subject: big\r\n\r\n" + b"z" * 900 + b"\r\n" + b"z" * 900 + b"\r\n" * 3
        )
        client.writer.write(b"z" * 900 + b"\r\n.\r\n")
        too_big = await client.line()
        bye = await client.say(b"QUIT")
        client.close()

    assert long_command.startswith(b"500 Command line too long")
    assert huge_line.startswith(b"500 Command line too long")
    assert [r[:3] for r in (helo, mail, rcpt, data)] == [b"250", b"250", b"250", b"354"]
    assert long_line.startswith(b"500 Line too long")
    assert too_big.startswith(b"552")
    assert bye.startswith(b"221")


async def test_the_smtp_library_logs_no_address(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="mail.log")
    async with listening() as port:

        def conversation() -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=SAFETY_SECONDS) as client:
                client.sendmail(
                    ADDRESS,
                    [ADDRESS],
                    f"From: {ADDRESS}\r\nTo: {ADDRESS}\r\nSubject: hi\r\n\r\nHello\r\n",
                )
                client.docmd(ADDRESS)  # an "unrecognised command": a warning quoting it
                client.docmd("VRFY", ADDRESS)

        await asyncio.to_thread(conversation)

    library = [r for r in caplog.records if r.name.startswith("mail.")]
    assert len(library) >= 10  # the library did tell of the conversation
    assert any(r.levelno >= logging.WARNING for r in library)
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + str(record.exc_info)
        assert "customer-example" not in text, text
        assert "127.0.0.1" not in text or not record.name.startswith("mail."), text

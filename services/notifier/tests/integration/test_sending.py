"""Sending over real SMTP (aiosmtpd): temporary refusals are retried with backoff and the email
arrives once; a permanent refusal is reported at once, without a retry storm."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from keepword_events import decode
from keepword_notifier import sendlog
from keepword_notifier.dispatcher import SCHEMA
from keepword_notifier.sender import Sender
from keepword_notifier.sendlog import Send
from keepword_notifier.smtp import SmtpServer
from keepword_platform.company import CompanyConfig
from keepword_platform.messaging.records import headers_from_json

from .mail import Catcher, catching

pytestmark = [pytest.mark.postgres, pytest.mark.smtp]


def a_send() -> Send:
    run = uuid.uuid4().hex[:12]
    thread = f"thr-{run[:12]}aaaa"
    return Send(
        idempotency_key=f"evt-{run}:dana@example.com:ack",
        notification_id=f"ntf-{run}",
        source_event_id=f"evt-{run}",
        thread_id=thread,
        template="customer_ack",
        recipient="dana@example.com",
        recipient_role="customer",
        message_id=f"<kw.{thread}.ntf-{run}@brightline.example>",
        subject=f"We received your message [#{thread}]",
        body_text="Dear Dana,\n\nWe received your message.\n",
        body_html="<p>Dear Dana,</p><p>We received your message.</p>",
    )


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def _announced(db: asyncpg.Pool, send: Send) -> list[Any]:
    rows = await db.fetch(
        f"SELECT value, headers::text AS headers FROM {SCHEMA}.outbox WHERE topic = $1",
        "keepword.notifications.v1",
    )
    events = [decode(r["value"], headers_from_json(r["headers"])).data for r in rows]
    return [e for e in events if getattr(e, "notification_id", None) == send.notification_id]


async def test_451_twice_then_accepted_is_delivered_once(
    db: asyncpg.Pool, smtp: tuple[Catcher, SmtpServer]
) -> None:
    handler, server = smtp
    handler.replies = ["451 4.3.0 Try later", "451 4.3.0 Try later"]
    clock = Clock()
    sender = Sender(lambda: db, server, CompanyConfig, clock=clock)
    send = a_send()
    async with db.acquire() as conn:
        assert await sendlog.add(conn, send)
        assert not await sendlog.add(conn, send)  # the same event again: nothing new

    for _ in range(6):  # each round, jump past any backoff
        await sender.send_due()
        clock.now += timedelta(minutes=20)

    [delivered] = handler.mail
    assert delivered.message_id == send.message_id
    assert delivered.message["Subject"] == send.subject
    assert delivered.rcpt_tos == ["dana@example.com"]
    [sent] = await _announced(db, send)
    assert type(sent).__name__ == "NotificationSent"
    assert sent.attempts == 3


async def test_550_fails_at_once_without_retries(
    db: asyncpg.Pool, smtp: tuple[Catcher, SmtpServer]
) -> None:
    handler, server = smtp
    handler.replies = ["550 5.1.1 No such user"]
    clock = Clock()
    sender = Sender(lambda: db, server, CompanyConfig, clock=clock)
    send = a_send()
    async with db.acquire() as conn:
        await sendlog.add(conn, send)

    for _ in range(4):
        await sender.send_due()
        clock.now += timedelta(minutes=20)

    assert handler.mail == []
    assert handler.replies == []  # the server was asked exactly once
    [failed] = await _announced(db, send)
    assert type(failed).__name__ == "NotificationFailed"
    assert (failed.smtp_code, failed.permanent, failed.attempts) == (550, True, 1)


async def test_connections_are_reused_and_replaced_when_the_server_closed_them(
    db: asyncpg.Pool,
) -> None:
    # The server hangs up on a client quiet for a second, as real ones do after minutes.
    with catching(timeout=1) as (catcher, port):
        server = SmtpServer(host="127.0.0.1", port=port, timeout_seconds=5)
        clock = Clock()
        sender = Sender(lambda: db, server, CompanyConfig, clock=clock, connections=3)
        before = catcher.opened  # aiosmtpd's own connection, checking it is up
        try:
            for round_ in range(2):
                async with db.acquire() as conn:
                    for _ in range(3):
                        await sendlog.add(conn, a_send())
                clock.now += timedelta(minutes=1)
                assert await sender.send_due() == 3
                assert len(catcher.mail) == 3 * (round_ + 1)
            assert (
                catcher.opened - before == 3
            )  # the second round went over the first one's connections

            await until(lambda: catcher.sessions == 0, "the server to hang up")
            async with db.acquire() as conn:
                sends = [a_send() for _ in range(3)]
                for send in sends:
                    await sendlog.add(conn, send)
            clock.now += timedelta(minutes=1)
            assert await sender.send_due() == 3
        finally:
            await sender.close()

    assert len(catcher.mail) == 9  # nothing lost to the closed connections, nothing retried
    for send in sends:
        [sent] = await _announced(db, send)
        assert sent.attempts == 1


async def until(check: Callable[[], bool], what: str, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


async def test_an_email_sent_again_after_its_sender_died_is_the_same_bytes(
    db: asyncpg.Pool, smtp: tuple[Catcher, SmtpServer]
) -> None:
    # A sender killed between the server's "250" and recording it: the email's lease runs out
    # and another sender sends it again, minutes later. Same Message-ID, and the same bytes
    # (its Date is when it was recorded as due, not when it was sent).
    handler, server = smtp
    sender = Sender(lambda: db, server, CompanyConfig)
    send = a_send()

    async def claim(at: datetime) -> Send:
        async with db.acquire() as conn:
            due = await sendlog.claim_due(conn, at, 100, lease_until=at, excluding=[])
        [mine] = [s for s in due if s.idempotency_key == send.idempotency_key]
        return mine

    async with db.acquire() as conn:
        await sendlog.add(conn, send)
    first_at = datetime.now(UTC) + timedelta(minutes=1)
    first = await claim(first_at)
    again_at = first_at + timedelta(minutes=5)
    again = await claim(again_at)

    for send, at in ((first, first_at), (again, again_at)):
        assert (await sender._deliver(send, at)).accepted
    await sender.close()

    one, other = handler.mail
    assert one.message_id == other.message_id
    assert one.raw == other.raw


async def test_an_email_added_while_the_sender_waits_wakes_it(
    db: asyncpg.Pool, smtp: tuple[Catcher, SmtpServer]
) -> None:
    # The sender polls once an hour here: only the notification of the adding commit can
    # bring the second email out while the test waits.
    handler, server = smtp
    sender = Sender(lambda: db, server, CompanyConfig, poll_seconds=3600)
    first, second = a_send(), a_send()
    async with db.acquire() as conn:
        await sendlog.add(conn, first)
    running = asyncio.create_task(sender.run())
    try:
        await until(lambda: len(handler.mail) == 1, "the first email")
        await _until_listening(db)
        async with db.acquire() as conn, conn.transaction():
            await sendlog.add(conn, second)

        await until(lambda: len(handler.mail) == 2, "the second email")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    assert [m.message_id for m in handler.mail] == [first.message_id, second.message_id]


async def _until_listening(db: asyncpg.Pool) -> None:
    for _ in range(200):
        listening = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query = $1",
            f'LISTEN "{sendlog.CHANNEL}"',
        )
        if listening:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the sender never listened")

"""Sending over real SMTP (aiosmtpd): temporary refusals are retried with backoff and the email
arrives once; a permanent refusal is reported at once, without a retry storm."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from keepword_events import decode
from keepword_notifier import sendlog
from keepword_notifier.app import MIGRATIONS
from keepword_notifier.dispatcher import SCHEMA
from keepword_notifier.sender import Sender
from keepword_notifier.sendlog import Send
from keepword_notifier.smtp import SmtpServer
from keepword_platform.company import CompanyConfig
from keepword_platform.messaging.records import headers_from_json
from keepword_platform.migrations import apply_migrations
from keepword_testkit.processes import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.smtp]


class ScriptedServer:
    """An SMTP handler that answers each DATA with the next scripted reply, then 250."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.accepted: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            return self.replies.pop(0)
        self.accepted.append(envelope.original_content)
        return "250 2.0.0 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[ScriptedServer, SmtpServer]]:
    handler = ScriptedServer([])
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, SmtpServer(host="127.0.0.1", port=port, timeout_seconds=5)
    finally:
        controller.stop()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    async with pool.acquire() as conn:
        await apply_migrations(conn, SCHEMA, MIGRATIONS)
        # The sender takes whatever is due: settle what earlier tests left pending, so these
        # tests count only their own emails.
        await conn.execute(
            "UPDATE notifier.sends SET status = 'failed', last_error = 'settled by a test'"
            " WHERE status = 'pending'"
        )
    yield pool
    await pool.close()


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
    db: asyncpg.Pool, smtp: tuple[ScriptedServer, SmtpServer]
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

    assert len(handler.accepted) == 1
    delivered = message_from_bytes(handler.accepted[0])
    assert delivered["Message-ID"] == send.message_id
    assert delivered["Subject"] == send.subject
    [sent] = await _announced(db, send)
    assert type(sent).__name__ == "NotificationSent"
    assert sent.attempts == 3


async def test_550_fails_at_once_without_retries(
    db: asyncpg.Pool, smtp: tuple[ScriptedServer, SmtpServer]
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

    assert handler.accepted == []
    assert handler.replies == []  # the server was asked exactly once
    [failed] = await _announced(db, send)
    assert type(failed).__name__ == "NotificationFailed"
    assert (failed.smtp_code, failed.permanent, failed.attempts) == (550, True, 1)

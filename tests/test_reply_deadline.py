"""The reply time the acknowledgement promises a customer is the deadline escalation's clock holds.

Both services read the same messages and replies of a thread; with `next_reply` unlike
`first_reply` and business hours on, the time in the acknowledgement's text (and the instant
behind it) equals escalation's `reply_due_at`, for a first message and for a follow-up after an
answer; a message added to an unanswered wait moves neither.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from keepword_escalation import repository
from keepword_escalation.watch import Watch
from keepword_events import Channel, Customer, MessageReceived, Person, ReplySent, Role
from keepword_events.envelope import new_envelope
from keepword_notifier.dispatcher import ACKNOWLEDGE, Dispatcher
from keepword_platform.company import CompanyConfig
from keepword_platform.messaging import timers
from keepword_platform.migrations import apply_migrations
from keepword_platform.settings import KeepwordSettings

pytestmark = [pytest.mark.postgres]

CONFIG = CompanyConfig.model_validate(
    {
        "company": {"timezone": "America/New_York"},
        "sla": {
            "first_reply": "24h",  # three business days
            "next_reply": "4h",
            "acknowledge_after": "15m",
            "business_hours": {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"},
        },
        "people": [
            {
                "email": "morgan@brightline.example",
                "name": "Morgan",
                "role": "management",
                "level": 1,
            }
        ],
    }
)
DANA = Customer(email="dana@example.com", name="Dana Whitfield")
MONDAY = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York


def _message(thread_id: str, at: datetime, body: str) -> MessageReceived:
    return MessageReceived(
        thread_id=thread_id,
        correlation_id=thread_id,
        message_id=f"msg-{uuid.uuid4().hex}",
        channel=Channel.EMAIL,
        customer=DANA,
        author=Person(email="dana@example.com", name="Dana Whitfield", role=Role.CUSTOMER),
        subject="My report",
        body=body,
        sent_at=at,
        received_at=at,
    )


def _reply(thread_id: str, at: datetime) -> ReplySent:
    return ReplySent(
        thread_id=thread_id,
        correlation_id=thread_id,
        message_id=f"msg-{uuid.uuid4().hex}",
        channel=Channel.EMAIL,
        customer=DANA,
        author=Person(email="casey@brightline.example", name="Casey", role=Role.SERVICE),
        body="Here it is.",
        sent_at=at,
        received_at=at,
    )


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await apply_migrations(
        connection, "escalation", ("keepword_platform.messaging", "keepword_escalation")
    )
    await apply_migrations(
        connection, "notifier", ("keepword_platform.messaging", "keepword_notifier")
    )
    yield connection
    await connection.close()


class BothServices:
    """Escalation's watch and the notifier's dispatcher, fed the same events in the same order."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.watch = Watch(lambda: CONFIG, clock=lambda: MONDAY)
        settings: Any = KeepwordSettings.model_construct()
        self.notifier = Dispatcher(lambda: CONFIG, settings, horizon=timedelta(days=36_500))

    async def read(self, event: MessageReceived | ReplySent) -> None:
        envelope = new_envelope(event, source="/test")
        async with self.conn.transaction():
            await self.watch.on_event(self.conn, envelope)
            await self.notifier.on_event(self.conn, envelope)

    async def escalation_deadline(self, thread_id: str) -> datetime | None:
        clock = await repository.load_clock(self.conn, thread_id)
        assert clock is not None
        return clock.reply_due_at

    async def acknowledgement_due(self, thread_id: str) -> tuple[datetime, str] | None:
        """Fire the notifier's acknowledgement timer, if one is set: its promised time, as an
        instant and as the customer reads it."""
        row = await self.conn.fetchrow(
            "SELECT kind, subject, fire_at, payload::text AS payload, attempts"
            " FROM notifier.timers WHERE kind = $1 AND subject = $2",
            ACKNOWLEDGE,
            thread_id,
        )
        if row is None:
            return None
        timer = timers.timer_of(*row.values())
        assert isinstance(timer, timers.Timer)
        await self.conn.execute("DELETE FROM notifier.timers WHERE subject = $1", thread_id)
        async with self.conn.transaction():
            await self.notifier.on_timer(self.conn, timer)
        text = await self.conn.fetchval(
            "SELECT body_text FROM notifier.sends WHERE idempotency_key LIKE $1",
            f"{timer.payload['event_id']}:%:acknowledgement_customer",
        )
        return datetime.fromisoformat(timer.payload["due_by"]), text


def _as_read(moment: datetime) -> str:
    """How the acknowledgement writes a time (`rendering`'s local_time, New York)."""
    local = moment.astimezone(ZoneInfo(CONFIG.company.timezone))
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {local.tzname()}"


async def test_the_acknowledgement_promises_the_deadline_escalation_holds(
    conn: asyncpg.Connection,
) -> None:
    both = BothServices(conn)
    thread_id = f"thr-{uuid.uuid4().hex[:16]}"

    await both.read(_message(thread_id, MONDAY, "Hello, where is my report?"))
    first_deadline = await both.escalation_deadline(thread_id)
    first_ack = await both.acknowledgement_due(thread_id)
    assert first_deadline == datetime(2026, 11, 5, 15, 0, tzinfo=UTC)  # Thursday 10:00 EST
    assert first_ack is not None
    assert first_ack[0] == first_deadline
    assert "by Thursday 5 November 2026 at 10:00 EST" in first_ack[1]
    assert _as_read(first_deadline) in first_ack[1]

    await both.read(_reply(thread_id, MONDAY + timedelta(hours=1)))
    follow_up_at = MONDAY + timedelta(days=1, hours=5)  # Tuesday 15:00 EST
    await both.read(_message(thread_id, follow_up_at, "Thanks. One more question."))
    next_deadline = await both.escalation_deadline(thread_id)
    # Escalation follows next_reply after an answer: the notifier used to promise first_reply.
    assert next_deadline == datetime(2026, 11, 4, 16, 0, tzinfo=UTC)  # Wednesday 11:00 EST
    # Kept for the next read: a message added to the wait moves neither deadline nor promise.
    await both.read(_message(thread_id, follow_up_at + timedelta(hours=1), "Any news?"))
    assert await both.escalation_deadline(thread_id) == next_deadline
    next_ack = await both.acknowledgement_due(thread_id)
    assert next_ack is not None
    assert next_ack[0] == next_deadline
    assert "by Wednesday 4 November 2026 at 11:00 EST" in next_ack[1]
    assert await both.acknowledgement_due(thread_id) is None  # one acknowledgement per wait

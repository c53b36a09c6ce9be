"""Digests over real PostgreSQL and SMTP: a manager's escalation emails within the window go out
as one digest, exactly once — also when the send log could not take its outcome at once; a
sender dead between the server's accept and the record is followed by the same digest again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from keepword_events import NotificationSent, decode
from keepword_notifier import sendlog
from keepword_notifier.dispatcher import SCHEMA
from keepword_notifier.sender import Sender
from keepword_notifier.sendlog import Send
from keepword_notifier.smtp import SmtpServer
from keepword_platform.company import CompanyConfig
from keepword_platform.messaging.records import headers_from_json

from .mail import Catcher
from .running import until

pytestmark = [pytest.mark.postgres, pytest.mark.smtp]

WINDOW = timedelta(minutes=5)
COMPANY = CompanyConfig.model_validate(
    {
        "company": {"name": "Brightline Digital", "support_address": "support@brightline.example"},
        "people": [
            {
                "email": "morgan.lead@brightline.example",
                "name": "Morgan Reyes",
                "role": "management",
                "level": 1,
            }
        ],
    }
)


class Clock:
    def __init__(self) -> None:
        # A moment ahead of the database's clock, which stamps rows as they are added.
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now


def escalation(manager: str) -> Send:
    """A held escalation email to `manager`, on a thread of its own."""
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    event = f"evt-{uuid.uuid4().hex[:12]}"
    return Send(
        idempotency_key=f"{event}:{manager}:escalation_opened_manager",
        notification_id=f"ntf-{uuid.uuid4().hex[:20]}",
        source_event_id=event,
        thread_id=thread,
        template="escalation_opened_manager",
        recipient=manager,
        recipient_role="management",
        message_id=f"<kw.{thread}.{event[4:]}@brightline.example>",
        subject=f"Decision needed: a customer is waiting [#{thread}]",
        body_text="Dear Morgan,\n\nA customer needs your decision.\n",
        body_html="<p>Dear Morgan,</p><p>A customer needs your decision.</p>\n",
        digest_group=f"manager:{manager}",
        digest_text=f"A customer needs your decision ({thread}).\n",
        digest_html=f"<p>A customer needs your decision ({thread}).</p>\n",
    )


async def _add(db: asyncpg.Pool, *sends: Send) -> None:
    async with db.acquire() as conn:
        for send in sends:
            assert await sendlog.add(conn, send)


async def _statuses(db: asyncpg.Pool, *sends: Send) -> list[str]:
    rows = await db.fetch(
        "SELECT status FROM notifier.sends WHERE idempotency_key = ANY($1::text[])"
        " ORDER BY created_at, idempotency_key",
        [s.idempotency_key for s in sends],
    )
    return [r["status"] for r in rows]


async def _announced(db: asyncpg.Pool, *sends: Send) -> list[Any]:
    ids = {s.notification_id for s in sends}
    rows = await db.fetch(
        f"SELECT value, headers::text AS headers FROM {SCHEMA}.outbox WHERE topic = $1",
        "keepword.notifications.v1",
    )
    events = [decode(r["value"], headers_from_json(r["headers"])).data for r in rows]
    return [e for e in events if getattr(e, "notification_id", None) in ids]


def _manager() -> str:
    return f"morgan.{uuid.uuid4().hex[:6]}@brightline.example"


async def test_escalations_within_the_window_go_out_as_one_digest(
    db: asyncpg.Pool, smtp: tuple[Catcher, SmtpServer]
) -> None:
    catcher, server = smtp
    clock = Clock()
    sender = Sender(lambda: db, server, lambda: COMPANY, clock=clock, digest_window=WINDOW)
    morgan, drew = _manager(), _manager()
    first, second, third, elsewhere = (
        escalation(morgan),
        escalation(morgan),
        escalation(morgan),
        escalation(drew),
    )

    await _add(db, first)
    await sender.send_due()
    assert [m.message_id for m in catcher.to(morgan)] == [first.message_id]  # at once, alone

    clock.now += timedelta(minutes=1)
    await _add(db, second, third, elsewhere)
    await sender.send_due()
    assert len(catcher.to(morgan)) == 1  # held: Morgan heard from us a minute ago
    assert [m.message_id for m in catcher.to(drew)] == [elsewhere.message_id]  # not Drew's turn
    assert await _statuses(db, second, third) == ["held", "held"]

    clock.now += timedelta(minutes=3, seconds=59)
    await sender.send_due()
    assert len(catcher.to(morgan)) == 1  # one second before the window ends

    clock.now += timedelta(seconds=1)
    await sender.send_due()
    await sender.send_due()
    _alone, digest = catcher.to(morgan)
    assert digest.rcpt_tos == [morgan]
    assert digest.message["Subject"] == "2 escalations need your decision"
    assert digest.message_id.startswith("<kw.digest.")
    text = digest.text()
    assert str(second.thread_id) in text
    assert str(third.thread_id) in text
    assert str(first.thread_id) not in text
    assert await _statuses(db, second, third) == ["sent", "sent"]

    # Each email the digest carried is announced as sent, under the digest's Message-ID.
    announced = await _announced(db, second, third)
    assert sorted(e.notification_id for e in announced) == sorted(
        [second.notification_id, third.notification_id]
    )
    assert all(isinstance(e, NotificationSent) for e in announced)
    assert {e.email_message_id for e in announced} == {digest.message_id}
    assert {e.thread_id for e in announced} == {second.thread_id, third.thread_id}

    async with db.acquire() as conn:
        assert not await sendlog.add(conn, second)  # redelivered: nothing new
    clock.now += WINDOW * 2
    await sender.send_due()
    assert len(catcher.to(morgan)) == 2


async def test_a_sender_dead_between_accept_and_record_is_replaced_by_the_same_digest(
    db: asyncpg.Pool, smtp: tuple[Catcher, SmtpServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    catcher, server = smtp
    clock = Clock()
    sender = Sender(lambda: db, server, lambda: COMPANY, clock=clock, digest_window=WINDOW)
    morgan = _manager()
    held = [escalation(morgan) for _ in range(3)]
    await _add(db, *held)
    assert await sender.plan_digests() == 1  # a burst: one digest, decided and committed

    async def dies(*_: object) -> None:
        raise RuntimeError("the process died after the server's 250")

    with monkeypatch.context() as patched:
        patched.setattr(sender, "_record", dies)
        assert await sender.send_due() == 1
    assert len(catcher.to(morgan)) == 1
    assert await _statuses(db, *held) == ["digested"] * 3
    del sender  # gone with what it knew

    # Another sender (or this one restarted) leaves the digest alone while it is leased...
    successor = Sender(lambda: db, server, lambda: COMPANY, clock=clock, digest_window=WINDOW)
    assert await successor.send_due() == 0
    # ...and sends it again once the lease has run out.
    clock.now += successor.lease + timedelta(seconds=1)
    assert await successor.send_due() == 1
    clock.now += WINDOW * 2
    await successor.send_due()

    copies = catcher.to(morgan)
    assert len(copies) == 2  # the accept→record instant: the same email again...
    assert len({m.message_id for m in copies}) == 1  # ...with the same Message-ID
    assert copies[0].raw.split(b"\r\n\r\n", 1)[1] == copies[1].raw.split(b"\r\n\r\n", 1)[1]
    assert await _statuses(db, *held) == ["sent"] * 3
    assert len(await _announced(db, *held)) == 3


async def test_a_digest_whose_record_failed_is_recorded_later_and_not_sent_again(
    db: asyncpg.Pool, smtp: tuple[Catcher, SmtpServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    catcher, server = smtp
    clock = Clock()
    sender = Sender(lambda: db, server, lambda: COMPANY, clock=clock, digest_window=WINDOW)
    morgan = _manager()
    held = [escalation(morgan) for _ in range(3)]
    await _add(db, *held)

    async def database_away(*_: object) -> None:
        raise ConnectionRefusedError("the database is away")

    with monkeypatch.context() as patched:
        patched.setattr(sender, "_record", database_away)
        assert await sender.send_due() == 1  # planned, sent, not recorded
        assert sender.unrecorded == 1
        clock.now += sender.lease * 3  # its lease has run out meanwhile

    await until(lambda: _recorded(sender), "the digest's outcome recorded")
    clock.now += WINDOW * 2
    await sender.send_due()

    [digest] = catcher.to(morgan)
    assert digest.message_id.startswith("<kw.digest.")
    assert await _statuses(db, *held) == ["sent"] * 3
    assert {e.email_message_id for e in await _announced(db, *held)} == {digest.message_id}
    assert len(await _announced(db, *held)) == 3


async def _recorded(sender: Sender) -> bool:
    await sender.send_due()
    return sender.unrecorded == 0

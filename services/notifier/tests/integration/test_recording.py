"""Outcomes recorded in one statement (`sendlog.record_outcomes`): the send log's rows and the
outbox rows announcing the finished emails commit together, and recording them again (a commit
whose answer was lost) changes nothing and announces nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from keepword_notifier import sendlog
from keepword_notifier.sender import _announcements, _Outcome
from keepword_notifier.sendlog import Send
from keepword_notifier.smtp import Delivery
from keepword_platform.messaging.consumer import outgoing
from keepword_platform.messaging.records import Outgoing

from .test_sending import _announced, a_send

pytestmark = [pytest.mark.postgres]


def announcement(send: Send, record: sendlog.Outcome) -> tuple[str, Outgoing]:
    """The event the sender would announce `send`'s outcome with."""
    delivery = Delivery(record.error is None, permanent=True, code=550 if record.error else 250)
    [event] = _announcements([send], _Outcome(send, delivery, record.at), record)
    return send.idempotency_key, outgoing(event, "/test")


async def test_outcomes_and_their_announcements_commit_once(db: asyncpg.Pool) -> None:
    sent, failed, deferred = a_send(), a_send(), a_send()
    async with db.acquire() as conn:
        await sendlog.add_many(conn, [sent, failed, deferred])
    at = datetime.now(UTC)
    retry_at = at + timedelta(minutes=5)
    finished = [
        sendlog.Outcome(sent.idempotency_key, 1, at),
        sendlog.Outcome(failed.idempotency_key, 1, at, "550 no such user"),
    ]
    retries = [(sendlog.Outcome(deferred.idempotency_key, 1, at, "451 later"), retry_at)]
    # Announcements of the finished emails and, wrongly, of the deferred one: only what the
    # statement finishes is announced.
    announcements = [announcement(sent, finished[0]), announcement(failed, finished[1])]
    announcements.append(announcement(deferred, retries[0][0]))

    async with db.acquire() as conn:
        first = await sendlog.record_outcomes(conn, finished, retries, announcements)
        again = await sendlog.record_outcomes(conn, finished, retries, announcements)
        rows = {
            r["idempotency_key"]: r
            for r in await conn.fetch(
                """SELECT idempotency_key, status, attempts, last_error, finished_at,
                          next_attempt_at, leased_until
                     FROM notifier.sends WHERE idempotency_key = ANY($1::text[])""",
                [sent.idempotency_key, failed.idempotency_key, deferred.idempotency_key],
            )
        }
    assert first == {sent.idempotency_key, failed.idempotency_key}
    assert again == set()
    done, refused = rows[sent.idempotency_key], rows[failed.idempotency_key]
    assert (done["status"], done["last_error"], done["finished_at"]) == ("sent", None, at)
    assert (refused["status"], refused["last_error"]) == ("failed", "550 no such user")
    later = rows[deferred.idempotency_key]
    assert (later["status"], later["attempts"], later["last_error"]) == ("pending", 1, "451 later")
    assert later["next_attempt_at"] == retry_at
    assert later["finished_at"] is None
    assert all(r["leased_until"] is None for r in rows.values())
    # Announced once each; the deferred email not at all.
    assert [type(e).__name__ for e in await _announced(db, sent)] == ["NotificationSent"]
    assert [type(e).__name__ for e in await _announced(db, failed)] == ["NotificationFailed"]
    assert await _announced(db, deferred) == []


async def test_a_digest_is_not_recorded_this_way(db: asyncpg.Pool) -> None:
    outcome = sendlog.Outcome(f"{sendlog.DIGEST_KEY_PREFIX}group:x", 1, datetime.now(UTC))
    async with db.acquire() as conn:
        with pytest.raises(ValueError, match="digest"):
            await sendlog.record_outcomes(conn, [outcome], [], [])

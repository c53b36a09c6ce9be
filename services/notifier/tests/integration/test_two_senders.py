"""Two senders against one send log (as two notifier processes would be): they share the work
through the leases, and every email reaches the server exactly once, announced once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import asyncpg
import pytest
from keepword_notifier import sendlog
from keepword_notifier.sender import Sender
from keepword_notifier.smtp import SmtpServer
from keepword_platform.company import CompanyConfig

from .mail import catching
from .running import until
from .test_sending import _announced, a_send

pytestmark = [pytest.mark.postgres, pytest.mark.smtp]

EMAILS = 300


async def test_two_senders_share_the_work_and_send_each_email_once(
    db: asyncpg.Pool, database_url: str
) -> None:
    run = uuid.uuid4().hex[:8]
    sends = [replace(a_send(), recipient=f"r{i}.{run}@example.com") for i in range(EMAILS)]
    async with db.acquire() as conn:
        for send in sends:
            assert await sendlog.add(conn, send)

    pools = [await _pool(database_url) for _ in "ab"]
    with catching() as (catcher, port):
        senders = [
            Sender(
                _of(pool),
                # Each names itself in EHLO, so the server can tell who sent what.
                SmtpServer(host="127.0.0.1", port=port, local_hostname=f"sender-{name}"),
                CompanyConfig,
                batch_size=20,  # small claims, so the two interleave
                connections=4,
            )
            for name, pool in zip("ab", pools, strict=True)
        ]
        running = [asyncio.create_task(sender.run()) for sender in senders]
        try:
            await until(lambda: _all_sent(db, sends), "every email sent", within=120)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            for pool in pools:
                await pool.close()

    ours = [m for m in catcher.mail if m.rcpt_tos[0].endswith(f".{run}@example.com")]
    received = Counter(m.message_id for m in ours)
    assert received == Counter({s.message_id: 1 for s in sends})  # each exactly once
    by_sender = Counter(m.helo for m in ours)
    print(f"emails sent by each sender: {dict(by_sender)}")
    assert set(by_sender) == {"sender-a", "sender-b"}  # both took a share
    for send in sends[:: EMAILS // 30]:
        [sent] = await _announced(db, send)  # announced once
        assert type(sent).__name__ == "NotificationSent"


async def _pool(database_url: str) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=5)
    assert pool is not None
    return pool


def _of(pool: asyncpg.Pool) -> Callable[[], asyncpg.Pool]:
    return lambda: pool


async def _all_sent(db: asyncpg.Pool, sends: list[sendlog.Send]) -> bool:
    sent: int = await db.fetchval(
        """SELECT count(*) FROM notifier.sends
            WHERE idempotency_key = ANY($1::text[]) AND status = 'sent'""",
        [s.idempotency_key for s in sends],
    )
    return sent == len(sends)

"""The database goes away while the server is accepting a round of emails (the connections
through a proxy are cut and refused): every email accepted meanwhile is recorded once the
database answers again — its lease long run out — and none is sent twice, although the sender
kept trying to send all along."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from keepword_notifier import sendlog
from keepword_notifier.sender import Sender
from keepword_notifier.sendlog import Send
from keepword_notifier.smtp import SmtpServer
from keepword_platform.company import CompanyConfig

from .dbproxy import DatabaseProxy, proxied
from .mail import Catcher, catching
from .running import until
from .test_sending import _announced
from .test_sending import a_send as _a_send

pytestmark = [pytest.mark.postgres, pytest.mark.smtp]

EMAILS = 30
CUT_AT = 5  # the database goes away as the server accepts the fifth email
SHORT_LEASE = timedelta(seconds=1)  # so that it runs out while the database is away


class CuttingCatcher(Catcher):
    """Accepts every email and, before answering the `CUT_AT`th, cuts the database away."""

    proxy: DatabaseProxy
    loop: asyncio.AbstractEventLoop

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.mail) == CUT_AT:  # runs in the SMTP server's thread: cut in the test's loop
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.proxy.cut(), self.loop))
        return reply


def a_send(run: str) -> Send:
    """An email to a recipient of its own, named after the test's run."""
    return replace(_a_send(), recipient=f"r{uuid.uuid4().hex[:8]}.{run}@example.com")


async def test_outcomes_accepted_while_the_database_is_away_are_recorded_later_never_resent(
    db: asyncpg.Pool, database_url: str
) -> None:
    run = uuid.uuid4().hex[:8]
    sends = [a_send(run) for _ in range(EMAILS)]
    async with db.acquire() as conn:
        for send in sends:
            assert await sendlog.add(conn, send)

    catcher = CuttingCatcher()
    async with proxied(database_url) as proxy:
        catcher.proxy, catcher.loop = proxy, asyncio.get_running_loop()
        pool = await asyncpg.create_pool(proxy.url, min_size=1, max_size=10)
        assert pool is not None
        with catching(catcher) as (_, port):
            server = SmtpServer(host="127.0.0.1", port=port, timeout_seconds=5)
            sender = Sender(lambda: pool, server, CompanyConfig, lease=SHORT_LEASE)
            running = asyncio.create_task(sender.run())
            try:
                await until(lambda: _all_accepted(catcher, run), "every email accepted")
                await until(lambda: _unrecorded_and_unleased(db, sender, sends), "leases out")
                kept = sender.unrecorded
                await proxy.restore()
                await until(lambda: _all_sent(db, sends, sender), "every outcome recorded")
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
                await pool.close()
            again = Sender(lambda: db, server, CompanyConfig)
            assert await again.send_due() == 0  # nothing left to send
            await again.close()

    print(f"{kept} outcomes kept in memory while the database was away")
    assert proxy.cuts == 1
    assert kept > 0
    received = Counter(m.message_id for m in catcher.mail if run in m.rcpt_tos[0])
    assert received == Counter({s.message_id: 1 for s in sends})  # each exactly once
    for send in sends:
        [sent] = await _announced(db, send)  # recorded, and announced once
        assert type(sent).__name__ == "NotificationSent"
        assert sent.attempts == 1


async def _all_accepted(catcher: Catcher, run: str) -> bool:
    return sum(run in m.rcpt_tos[0] for m in catcher.mail) >= EMAILS


async def _unrecorded_and_unleased(db: asyncpg.Pool, sender: Sender, sends: list[Send]) -> bool:
    """The sender holds outcomes the send log lacks, and their leases have run out: another
    sender could take them now (this one must not)."""
    if sender.unrecorded == 0:
        return False
    leased: int = await db.fetchval(
        """SELECT count(*) FROM notifier.sends WHERE idempotency_key = ANY($1::text[])
              AND status = 'pending' AND leased_until > now()""",
        [s.idempotency_key for s in sends],
    )
    return leased == 0


async def _all_sent(db: asyncpg.Pool, sends: list[Send], sender: Sender) -> bool:
    sent: int = await db.fetchval(
        """SELECT count(*) FROM notifier.sends
            WHERE idempotency_key = ANY($1::text[]) AND status = 'sent'""",
        [s.idempotency_key for s in sends],
    )
    return sent == len(sends) and sender.unrecorded == 0

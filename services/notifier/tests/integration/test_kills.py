"""200 notifications with the notifier process killed (SIGKILL) twice in the middle: after the
restart every notification was delivered, and the catcher holds each Message-ID once — except
those the server accepted in the instant before a killed process could record them, which arrive
exactly once more, with the same Message-ID. Each email's outcome is recorded on its own right
after the server's answer, so that instant holds at most the emails in flight: no more than the
sender's SMTP conversations at once (10), whatever the number claimed.

The first kill is a SIGKILL from outside at an arbitrary moment (after 60 emails arrived); the
second is the process killing itself at the crash point right after the server accepted an email
(`KEEPWORD_CRASH_AT=notifier:after_accept`), so that instant is certainly hit at least once.
A short lease (2 s) lets each new life take up what the dead one had claimed.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from keepword_notifier.sender import Sender
from keepword_testkit.processes import ServiceProcess

from .conftest import settle
from .mail import Catcher, catching
from .running import (
    escalation,
    new_thread,
    own_pool,
    send_events,
    sent_message_ids,
    settled_after_death,
    start_notifier,
    until,
    waiting,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

NOTIFICATIONS = 200
FIRST_KILL_AFTER = 60
IN_FLIGHT = Sender.connections  # SMTP conversations at once: the most a death can leave unlogged


async def test_two_sigkills_lose_nothing_and_duplicate_only_the_unlogged(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    db = await own_pool(database_url)
    # One escalation per manager: each email is held, then released on its own (no digests).
    threads = [new_thread() for _ in range(NOTIFICATIONS)]
    events = [escalation(f"m.{t[4:]}@brightline.example", t) for t in threads]
    try:
        async with db.acquire() as conn:
            await settle(conn)
        with catching() as (catcher, port):

            def ours() -> list[str]:
                return [mid for mid in catcher.message_ids() if _thread_of(mid) in threads]

            def start(**env: str) -> ServiceProcess:
                return start_notifier(
                    tmp_path,
                    fresh_kafka,
                    database_url,
                    port,
                    KEEPWORD_NOTIFIER_LEASE_SECONDS="2",
                    **env,
                )

            lives: list[tuple[int, int]] = []  # the slice of catcher.mail each life received
            unlogged: list[set[str]] = []  # accepted in a life that died before logging them

            async def died(service: ServiceProcess, began: int) -> None:
                code = await asyncio.to_thread(service.process.wait, 60)
                assert code == -signal.SIGKILL, service.log()[-3000:]
                await settled_after_death(db, catcher)
                lives.append((began, len(catcher.mail)))
                unlogged.append(await _unlogged(db, catcher, threads, *lives[-1]))

            # Life 1: killed from outside once 60 emails arrived.
            await send_events(fresh_kafka, events)
            first = start()
            await until(lambda: _count(ours, FIRST_KILL_AFTER), "the first 60 emails", every=0.01)
            first.kill()
            await died(first, 0)
            assert len(set(ours())) < NOTIFICATIONS, "the first life was to die in the middle"

            # Life 2: kills itself right after the server accepted its first email.
            began = len(catcher.mail)
            second = start(KEEPWORD_CRASH_AT="notifier:after_accept")
            await died(second, began)

            # Life 3: runs to the end.
            began = len(catcher.mail)
            third = start()
            try:
                await asyncio.to_thread(third.wait_healthy, 60)
                await until(lambda: _all_sent(db, threads), "every notification", within=120)
            finally:
                third.stop()
            lives.append((began, len(catcher.mail)))

        logged = await sent_message_ids(db, threads)
        announced = await _announced(db, threads)
    finally:
        await db.close()

    received = Counter(ours())
    print(  # the run's story, for whoever reads the test output
        f"lives received {[b - a for a, b in lives]} emails; unlogged at each death: "
        f"{[len(w) for w in unlogged]}; copies in the catcher: {sum(received.values())}"
    )
    # Every notification was delivered, under its own Message-ID, and announced once.
    assert len(logged) == NOTIFICATIONS
    assert set(received) == set(logged.values())
    assert sorted(announced) == sorted(logged)
    # Exactly once, except for what a killed life had accepted and not logged: once more each.
    expected = Counter({mid: 1 for mid in logged.values()})
    for window in unlogged:
        expected.update(window)
    assert received == expected
    assert unlogged[1], "the crash point lies between accept and log: something was unlogged"
    assert all(len(w) <= IN_FLIGHT for w in unlogged), "more unlogged than were in flight"
    assert sum(received.values()) - NOTIFICATIONS == sum(len(w) for w in unlogged)


def _thread_of(message_id: str) -> str:
    # <kw.THREAD.UNIQUE@DOMAIN>
    return message_id.removeprefix("<kw.").split(".", 1)[0]


async def _count(ours: object, at_least: int) -> bool:
    assert callable(ours)
    return len(ours()) >= at_least


async def _all_sent(db: asyncpg.Pool, threads: list[str]) -> bool:
    return len(await sent_message_ids(db, threads)) == len(threads) and await waiting(db) == 0


async def _unlogged(
    db: asyncpg.Pool, catcher: Catcher, threads: list[str], began: int, ended: int
) -> set[str]:
    """Message-IDs a (dead) life got accepted that the send log does not say are sent."""
    logged = set((await sent_message_ids(db, threads)).values())
    accepted = {m.message_id for m in catcher.mail[began:ended]}
    return {mid for mid in accepted if _thread_of(mid) in threads} - logged


async def _announced(db: asyncpg.Pool, threads: list[str]) -> list[str]:
    """Notification ids of the NotificationSent events waiting in or relayed from the outbox."""
    rows = await db.fetch(
        """SELECT s.notification_id FROM notifier.outbox o
             JOIN notifier.sends s ON o.event_id IS NOT NULL
              AND convert_from(o.value, 'UTF8')::jsonb ->> 'notification_id' = s.notification_id
            WHERE o.topic = 'keepword.notifications.v1' AND s.thread_id = ANY($1::text[])""",
        threads,
    )
    return [r["notification_id"] for r in rows]

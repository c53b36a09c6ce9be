"""One weekly report per manager and week, through a killed notifier and a replay.

The week's WeeklyReportDue events (one per manager, each published twice with its one event
id, as an outbox relay that died between Kafka's acknowledgement and its own record would) reach
the notifier as a process; it is SIGKILLed while sending them, started again, and then its
consumer group is rewound to the start of its input topics, as an operator replaying them would.
At the SMTP catcher every manager holds the week's report under one Message-ID; a second copy
of it only where the killed process had the server's "250" but no time to record it.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from keepword_events import Envelope, Person, Role, WeeklyReportDue, new_envelope
from keepword_events.examples import every_event
from keepword_notifier.app import MIGRATIONS
from keepword_notifier.dispatcher import SCHEMA
from keepword_platform.kafka import make_broker, publish
from keepword_platform.migrations import apply_migrations
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.processes import ServiceProcess

from .conftest import settle
from .mail import catching
from .running import (
    group_lag,
    own_pool,
    rewind_group,
    sent_message_ids,
    settled_after_death,
    start_notifier,
    until,
    waiting,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

MANAGERS = 60
KILL_AFTER = 20
EXAMPLE = next(e for e in every_event() if isinstance(e, WeeklyReportDue))


def _reports(run: str) -> list[Envelope[WeeklyReportDue]]:
    """The week's report for each of the run's managers, each on its manager's report thread."""
    found = []
    for n in range(MANAGERS):
        email = f"lead.{run}.{n}@brightline.example"
        thread = f"report-{run}{n:04d}"
        report = EXAMPLE.model_copy(
            update={
                "thread_id": thread,
                "correlation_id": thread,
                "manager": Person(email=email, name=f"Lead {n}", role=Role.MANAGEMENT),
            }
        )
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"weekly-report:{report.week}:{email}"))
        found.append(new_envelope(report, source="/keepword/insights", event_id=event_id))
    return found


async def _publish(bootstrap: str, envelopes: list[Envelope[WeeklyReportDue]]) -> None:
    producer = make_broker(KeepwordSettings(kafka_bootstrap=bootstrap), client_id="test-reports")
    await producer.start()
    try:
        for envelope in envelopes:
            await publish(producer, envelope)
    finally:
        await producer.stop()


async def test_each_manager_gets_the_weeks_report_once_through_a_kill_and_a_replay(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    db = await own_pool(database_url)
    run = uuid.uuid4().hex[:8]
    reports = _reports(run)
    threads = [r.data.thread_id for r in reports]
    managers = {str(r.data.manager.email): r.data.thread_id for r in reports}
    mine = f".report-{run}"  # in the Message-ID of each of this run's reports
    try:
        async with db.acquire() as conn:
            await apply_migrations(conn, SCHEMA, MIGRATIONS)  # a database of its own may be new
            await settle(conn)
        with catching() as (catcher, port):

            def ours() -> list[str]:
                return [
                    m.message_id for m in list(catcher.mail) if f".report-{run}" in m.message_id
                ]

            async def some_arrived() -> bool:
                return len(ours()) >= KILL_AFTER

            async def all_sent() -> bool:
                return len(await sent_message_ids(db, threads)) == MANAGERS

            async def caught_up() -> bool:
                return await group_lag(fresh_kafka) == 0 and await waiting(db, "report-") == 0

            def start() -> ServiceProcess:
                return start_notifier(
                    tmp_path, fresh_kafka, database_url, port, KEEPWORD_NOTIFIER_LEASE_SECONDS="2"
                )

            # Each report published twice under its one event id (an at-least-once relay).
            await _publish(fresh_kafka, reports + reports[: MANAGERS // 2])

            # Life 1: killed while sending.
            first = start()
            await until(some_arrived, f"the first {KILL_AFTER} reports", every=0.01)
            first.kill()
            code = await asyncio.to_thread(first.process.wait, 60)
            assert code == -signal.SIGKILL, first.log()[-3000:]
            await settled_after_death(db, catcher)
            accepted_by_the_dead = set(ours())
            logged = set((await sent_message_ids(db, threads)).values())
            unlogged = accepted_by_the_dead - logged
            assert len(set(ours())) < MANAGERS, "the first life was to die in the middle"

            # Life 2: sends the rest.
            second = start()
            try:
                await asyncio.to_thread(second.wait_healthy, 60)
                await until(all_sent, "every report", within=120)
                await until(caught_up, "the notifier to consume everything")
            finally:
                second.stop()
            after_restart = Counter(ours())

            # Life 3: the input topics replayed from the start.
            assert set((await rewind_group(fresh_kafka)).values()) == {0}
            assert await group_lag(fresh_kafka) >= len(reports)
            third = start()
            try:
                await asyncio.to_thread(third.wait_healthy, 60)
                await until(caught_up, "the notifier to consume the replay")
            finally:
                third.stop()
            received = Counter(ours())
        rows = await db.fetch(
            """SELECT recipient, count(*) AS n, count(DISTINCT message_id) AS ids
                 FROM notifier.sends WHERE template = 'weekly_report_manager'
                  AND thread_id = ANY($1::text[]) GROUP BY recipient""",
            threads,
        )
    finally:
        await db.close()

    print(  # the run's story, for whoever reads the test output
        f"{MANAGERS} managers; the killed life got {len(accepted_by_the_dead)} accepted, "
        f"{len(unlogged)} of them unlogged; copies at the catcher: {sum(received.values())}"
    )
    # One Message-ID per manager, and each manager's is about their own report thread.
    by_manager = {
        email: {m.message_id for m in catcher.to(email) if mine in m.message_id}
        for email in managers
    }
    assert all(len(ids) == 1 for ids in by_manager.values()), by_manager
    assert all(thread in next(iter(by_manager[e])) for e, thread in managers.items())
    # One email recorded per manager: the duplicate events and the replay added none.
    assert len(rows) == MANAGERS
    assert all(r["n"] == 1 and r["ids"] == 1 for r in rows)
    # A second copy only of what the killed life had sent and not yet recorded; the replay
    # sent nothing at all.
    assert received == after_restart
    assert received == Counter({mid: 1 for mid in received}) + Counter(unlogged)
    assert len(received) == MANAGERS
    # Each carries its chart inline, under the Content-ID its HTML shows.
    [sample] = [m for m in catcher.to(next(iter(managers))) if mine in m.message_id][:1]
    [image] = [p for p in sample.message.walk() if p.get_content_type() == "image/png"]
    html = sample.message.get_body(("html",))
    assert html is not None
    assert f'src="cid:{str(image["Content-ID"]).strip("<>")}"' in html.get_content()
    assert datetime.now(UTC) > EXAMPLE.week_ends_at  # the report was of a week that had ended

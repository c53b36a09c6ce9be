"""The weekly report's timer in the real PostgreSQL: armed at start-up, fired once in a
transaction that writes one `WeeklyReportDue` per manager to the outbox (the week's figures
against the week before's, from the facts) and sets the next Monday 08:00."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from keepword_events import Envelope, Event, WeeklyReportDue, decode
from keepword_events.examples import every_event
from keepword_insights import facts, repository
from keepword_insights.app import MIGRATIONS
from keepword_insights.changes import Changes
from keepword_insights.report import report_event_id
from keepword_insights.report_store import TIMER_KIND, report_timer
from keepword_insights.report_timer import arm, weekly_reports
from keepword_insights.schedule import week_before
from keepword_platform.company import CompanyConfig
from keepword_platform.database import Connection
from keepword_platform.messaging import store
from keepword_platform.messaging.consumer import outgoing
from keepword_platform.messaging.records import headers_from_json
from keepword_platform.messaging.timers import Timer, fire_due, one_by_one
from keepword_platform.migrations import apply_migrations

pytestmark = [pytest.mark.postgres]

BERLIN = ZoneInfo("Europe/Berlin")
COMPANY = CompanyConfig.model_validate(
    {
        "company": {"timezone": "Europe/Berlin"},
        "sla": {"first_reply": "4h"},
        "people": [
            {"email": "ana@example.com", "name": "Ana", "role": "management", "level": 1},
            {"email": "ben@example.com", "name": "Ben", "role": "management", "level": 2},
            {"email": "sam@example.com", "name": "Sam", "role": "sales"},
        ],
    }
)
DUE = datetime(2025, 3, 31, 6, tzinfo=UTC)  # Monday 08:00 CEST, the day after the change
WEEK = week_before(DUE, BERLIN)  # 2025-W13
H = timedelta(hours=1)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {repository.SCHEMA} CASCADE")
        await apply_migrations(conn, repository.SCHEMA, MIGRATIONS)
    try:
        yield pool
    finally:
        await pool.close()


async def _seed(conn: Connection) -> None:
    """Two first replies this week (1 h and 6 h), one the week before (2 h); a promise kept and
    one broken this week, one broken the week before."""
    seeded = Changes()
    for thread, began, hours in (
        ("thr-a", WEEK.start + 30 * H, 1),
        ("thr-b", WEEK.start + 50 * H, 6),
        ("thr-c", WEEK.start - 100 * H, 2),
    ):
        seeded.threads[thread] = facts.Thread(thread)
        seeded.waits.append(
            facts.Wait(thread, began, False, 1, began + hours * H, "sam@example.com", "sales")
        )
    moves = (("kept", WEEK.start + H), ("broken", WEEK.start + 2 * H), ("broken", WEEK.start - H))
    for n, (status, at) in enumerate(moves):
        made = WEEK.start - 200 * H
        promise = facts.Promise(
            f"cmt-{n}", f"thr-p{n}", "delivery", "sam@example.com", "sales", made, status, False,
            None, at,
        )  # fmt: skip
        seeded.promises[promise.commitment_id] = promise
        seeded.moves.append(
            facts.PromiseMove(f"evt-{n}", promise.commitment_id, at, "confirmed", status, False)
        )
    await repository.save(conn, seeded)


async def _fire(db: asyncpg.Pool, now: datetime) -> int:
    async def handler(conn: Connection, timer: Timer) -> Sequence[Envelope[Event]]:
        return await weekly_reports(conn, COMPANY, timer, now)

    async def enqueue(conn: Connection, caused: Sequence[Event | Envelope[Event]]) -> None:
        rows = [outgoing(item, "/keepword/insights") for item in caused]
        await store.enqueue(conn, repository.SCHEMA, rows)

    return await fire_due(db, repository.SCHEMA, one_by_one(handler), enqueue, now=now)


async def _outbox(db: asyncpg.Pool) -> list[Envelope[Event]]:
    rows = await db.fetch("SELECT value, headers::text AS headers FROM insights.outbox ORDER BY id")
    return [decode(r["value"], headers_from_json(r["headers"])) for r in rows]


async def test_the_timer_writes_one_report_per_manager_and_sets_the_next(
    db: asyncpg.Pool,
) -> None:
    async with db.acquire() as conn:
        await _seed(conn)
        # Armed at start-up on the Friday before: for Monday 08:00 local.
        assert await arm(conn, COMPANY, DUE - 70 * H) == DUE
        assert await arm(conn, COMPANY, DUE - 69 * H) == DUE  # a second start changes nothing

    assert await _fire(db, DUE - H) == 0  # not yet
    assert await _fire(db, DUE + timedelta(seconds=5)) == 1

    reports = await _outbox(db)
    assert [r.id for r in reports] == [
        report_event_id("2025-W13", "ana@example.com"),
        report_event_id("2025-W13", "ben@example.com"),
    ]
    data = [r.data for r in reports]
    assert all(isinstance(d, WeeklyReportDue) for d in data)
    ana = data[0]
    assert isinstance(ana, WeeklyReportDue)
    assert ana.week == "2025-W13"
    assert (ana.week_starts_at, ana.week_ends_at) == (WEEK.start, WEEK.end)
    assert ana.this_week.first_reply.count == 2
    assert ana.this_week.first_reply.p90_seconds == 6 * 3600
    assert ana.this_week.first_reply.within_sla_percent == 50.0
    assert ana.week_before.first_reply.count == 1
    assert (ana.this_week.promises_kept, ana.this_week.promises_broken) == (1, 1)
    assert (ana.week_before.promises_kept, ana.week_before.promises_broken) == (0, 1)
    assert [b.commitment_id for b in ana.broken_promises] == ["cmt-1"]
    assert [w.thread_id for w in ana.worst_waits] == ["thr-b", "thr-a"]

    # The next one: Monday 7 April, 08:00 CEST; firing is over, nothing more is due.
    async with db.acquire() as conn:
        assert await report_timer(conn) == datetime(2025, 4, 7, 6, tzinfo=UTC)
    assert await _fire(db, DUE + H) == 0
    assert len(await _outbox(db)) == 2


async def test_a_report_switched_off_is_not_armed_and_an_old_timer_fires_nothing(
    db: asyncpg.Pool,
) -> None:
    off = COMPANY.model_copy(
        update={"insights": COMPANY.insights.model_copy(update={"weekly_report": False})}
    )
    async with db.acquire() as conn:
        await arm(conn, COMPANY, DUE - 70 * H)
        assert await arm(conn, off, DUE - 69 * H) is None
        assert await report_timer(conn) is None
        timer = Timer(TIMER_KIND, "managers", DUE, {})
        assert await weekly_reports(conn, off, timer, DUE) == []


def test_the_example_event_is_one_of_the_contract() -> None:
    assert any(isinstance(e, WeeklyReportDue) for e in every_event())

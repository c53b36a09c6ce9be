"""Timers fired ahead (`timers.prepare_due`) against the real PostgreSQL: nothing is visible
before its deadline, each timer fires once with two preparers, and a transaction waiting for a
row a preparation locked makes it give way."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from keepword_events import Envelope, Event
from keepword_platform.database import Connection
from keepword_platform.messaging import timers
from keepword_platform.migrations import apply_migrations

pytestmark = [pytest.mark.postgres]

AHEAD = frozenset({"due"})


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    schema = f"test_{uuid.uuid4().hex[:10]}"
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=6)
    assert pool is not None
    async with pool.acquire() as conn:
        await apply_migrations(conn, schema, ["keepword_platform.messaging"])
        await conn.execute(f"CREATE TABLE {schema}.fired (subject text, at timestamptz)")
        await conn.execute(f"CREATE TABLE {schema}.threads (subject text PRIMARY KEY, n int)")
    yield pool, schema
    await pool.execute(f"DROP SCHEMA {schema} CASCADE")
    await pool.close()


def wall() -> datetime:
    return datetime.now(UTC)


class Step:
    """A timer step that locks each timer's thread row and notes the timer as of its time."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.seen: list[datetime] = []

    async def __call__(self, conn: Connection, due: Sequence[timers.Timer]) -> Sequence[Event]:
        at = max(wall(), *(t.fire_at for t in due))
        self.seen.append(at)
        subjects = [t.subject for t in due]
        await conn.execute(
            f"SELECT 1 FROM {self.schema}.threads WHERE subject = ANY($1::text[]) FOR UPDATE",
            subjects,
        )
        await conn.executemany(
            f"INSERT INTO {self.schema}.fired (subject, at) VALUES ($1, $2)",
            [(s, at) for s in subjects],
        )
        return []


async def nothing(_conn: Connection, _caused: Sequence[Event | Envelope[Event]]) -> None:
    return None


async def given(pool: asyncpg.Pool, schema: str, count: int, at: datetime) -> list[str]:
    subjects = [f"s{i:04}" for i in range(count)]
    await pool.executemany(
        f"INSERT INTO {schema}.threads (subject, n) VALUES ($1, 0)", [(s,) for s in subjects]
    )
    async with pool.acquire() as conn:
        await timers.set_timers(conn, schema, [("due", s, at) for s in subjects])
        await timers.set_timer(conn, schema, "other", "not-ahead", at)
    return subjects


async def fired(pool: asyncpg.Pool, schema: str) -> list[str]:
    rows = await pool.fetch(f"SELECT subject FROM {schema}.fired ORDER BY subject")
    return [r["subject"] for r in rows]


async def test_a_burst_fired_ahead_is_visible_once_due_and_not_before(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    deadline = wall() + timedelta(seconds=1.5)
    subjects = await given(db, schema, 600, deadline)
    step = Step(schema)
    seen_before: list[int] = []

    async def watch() -> None:
        while wall() < deadline - timedelta(milliseconds=100):
            seen_before.append(len(await fired(db, schema)))
            await asyncio.sleep(0.05)

    watching = asyncio.create_task(watch())
    claimed = await timers.prepare_due(
        db, schema, step, nothing, wall, until=deadline, kinds=AHEAD, limit=250
    )
    committed = wall()
    await watching

    assert claimed == 600
    assert len(step.seen) == 3  # batches of 250, 250 and 100, one transaction
    assert committed >= deadline
    assert seen_before
    assert set(seen_before) == {0}  # nothing visible before the deadline
    assert await fired(db, schema) == subjects
    assert min(step.seen) >= deadline  # handled as of the deadline, not of the wall clock
    # A timer of another kind is left to fire once due.
    assert await db.fetchval(f"SELECT count(*) FROM {schema}.timers") == 1


async def test_two_preparers_fire_each_timer_once(pool: tuple[asyncpg.Pool, str]) -> None:
    db, schema = pool
    deadline = wall() + timedelta(seconds=1.5)
    subjects = await given(db, schema, 900, deadline)
    step = Step(schema)

    claims = await asyncio.gather(
        *(
            timers.prepare_due(
                db, schema, step, nothing, wall, until=deadline, kinds=AHEAD, limit=100
            )
            for _ in range(2)
        )
    )

    assert sum(c or 0 for c in claims) == 900
    assert await fired(db, schema) == subjects


async def test_a_preparation_gives_way_to_a_transaction_waiting_for_its_rows(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    deadline = wall() + timedelta(seconds=3)
    await given(db, schema, 50, deadline)
    step = Step(schema)

    async def reply_meanwhile() -> datetime:
        await asyncio.sleep(0.5)  # the preparation holds its rows by now
        async with db.acquire() as conn, conn.transaction():
            await conn.execute(f"UPDATE {schema}.threads SET n = n + 1 WHERE subject = 's0007'")
            await timers.cancel_timers(conn, schema, "s0007")
        return wall()

    replied = asyncio.create_task(reply_meanwhile())
    outcome = await timers.prepare_due(
        db, schema, step, nothing, wall, until=deadline, kinds=AHEAD, limit=250
    )
    replied_at = await replied

    assert outcome is None  # it gave way: rolled back
    assert replied_at < deadline  # the reply went through before the deadline
    assert await fired(db, schema) == []
    # Every timer is back but the one the reply cancelled: they fire once due.
    assert await db.fetchval(f"SELECT count(*) FROM {schema}.timers WHERE kind = 'due'") == 49

"""Durable timers against the real PostgreSQL: batches, one bad timer, several firing loops."""

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

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    schema = f"test_{uuid.uuid4().hex[:10]}"
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=6)
    assert pool is not None
    async with pool.acquire() as conn:
        await apply_migrations(conn, schema, ["keepword_platform.messaging"])
    yield pool, schema
    await pool.execute(f"DROP SCHEMA {schema} CASCADE")
    await pool.close()


class Recorder:
    """A batch handler that notes what it fired (in the database, so a rollback undoes it)."""

    def __init__(self, schema: str, *, failing: str | None = None) -> None:
        self.schema = schema
        self.failing = failing
        self.batches: list[int] = []

    async def __call__(self, conn: Connection, due: Sequence[timers.Timer]) -> Sequence[Event]:
        self.batches.append(len(due))
        if any(t.subject == self.failing for t in due):
            raise RuntimeError("toy bug")
        await conn.executemany(
            f"INSERT INTO {self.schema}.fired (subject) VALUES ($1)",
            [(t.subject,) for t in due],
        )
        return []


async def nothing(_conn: Connection, _caused: Sequence[Event | Envelope[Event]]) -> None:
    return None


async def fired(pool: asyncpg.Pool, schema: str) -> list[str]:
    rows = await pool.fetch(f"SELECT subject FROM {schema}.fired ORDER BY subject")
    return [r["subject"] for r in rows]


async def given_timers(pool: asyncpg.Pool, schema: str, subjects: Sequence[str]) -> None:
    await pool.execute(f"CREATE TABLE {schema}.fired (subject text)")
    async with pool.acquire() as conn:
        await timers.set_timers(
            conn, schema, [("due", s, NOW - timedelta(seconds=i)) for i, s in enumerate(subjects)]
        )
        await timers.set_timer(conn, schema, "due", "later", NOW + timedelta(hours=1))


async def test_due_timers_fire_as_one_batch_and_later_ones_wait(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    subjects = [f"s{i:03}" for i in range(120)]
    await given_timers(db, schema, subjects)
    handler = Recorder(schema)

    assert await timers.fire_due(db, schema, handler, nothing, now=NOW) == 120
    assert await timers.fire_due(db, schema, handler, nothing, now=NOW) == 0

    assert handler.batches == [120]
    assert await fired(db, schema) == subjects
    assert await timers.next_due(db, schema) == NOW + timedelta(hours=1)


async def test_one_bad_timer_is_put_back_and_the_rest_fire(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    subjects = ["a", "b", "bad", "c"]
    await given_timers(db, schema, subjects)
    handler = Recorder(schema, failing="bad")

    assert await timers.fire_due(db, schema, handler, nothing, now=NOW) == 4

    assert await fired(db, schema) == ["a", "b", "c"]
    assert handler.batches == [4, 1, 1, 1, 1]  # the batch, then each timer alone
    retry = await db.fetchval(f"SELECT fire_at FROM {schema}.timers WHERE subject = 'bad'")
    assert retry == NOW + timers.RETRY_FAILED_AFTER


async def test_firing_loops_side_by_side_fire_each_timer_once(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    subjects = [f"s{i:04}" for i in range(2000)]
    await given_timers(db, schema, subjects)
    handler = Recorder(schema)

    async def loop() -> int:
        total = 0
        while claimed := await timers.fire_due(db, schema, handler, nothing, now=NOW, limit=50):
            total += claimed
        return total

    counts = await asyncio.gather(*(loop() for _ in range(4)))

    assert sum(counts) == 2000
    assert await fired(db, schema) == subjects  # each once: no duplicates, none missing

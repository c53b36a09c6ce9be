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
from prometheus_client import REGISTRY

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


def metric(name: str, schema: str) -> float:
    return REGISTRY.get_sample_value(name, {"schema": schema}) or 0.0


async def test_times_at_the_ends_of_the_calendar_fire_or_wait_as_aware_utc(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    await db.execute(f"CREATE TABLE {schema}.fired (subject text)")
    first_day = datetime(1, 1, 1, tzinfo=UTC)  # stored as -infinity: read back naive
    last_second = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    async with db.acquire() as conn:
        await timers.set_timers(
            conn,
            schema,
            [("due", "first-day", first_day), ("due", "now", NOW), ("due", "last", last_second)],
        )
        await conn.execute(
            f"""INSERT INTO {schema}.timers (kind, subject, fire_at)
                VALUES ('due', 'minus-infinity', '-infinity'), ('due', 'infinity', 'infinity')"""
        )
    seen: list[timers.Timer] = []

    async def note(conn: Connection, due: Sequence[timers.Timer]) -> Sequence[Event]:
        seen.extend(due)
        return []

    assert await timers.fire_due(db, schema, note, nothing, now=NOW) == 3
    assert await timers.fire_due(db, schema, note, nothing, now=NOW) == 0

    assert sorted(t.subject for t in seen) == ["first-day", "minus-infinity", "now"]
    assert all(t.fire_at.tzinfo is UTC for t in seen)
    assert min(t.fire_at for t in seen) == datetime.min.replace(tzinfo=UTC)
    assert await timers.next_due(db, schema) == last_second
    async with db.acquire() as conn:
        assert await timers.set_aside_timers(conn, schema) == []


async def test_a_timer_that_keeps_failing_is_set_aside_and_the_others_fire(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    await given_timers(db, schema, ["a", "bad", "b"])
    handler = Recorder(schema, failing="bad")
    clock = [0.0]
    health = timers.TimerHealth(clock=lambda: clock[0])
    failures = metric("keepword_timer_failures_total", schema)

    now = NOW
    for attempt in range(1, timers.MAX_ATTEMPTS + 1):
        assert await timers.fire_due(db, schema, handler, nothing, now=now, health=health) >= 1
        now += timers.RETRY_FAILED_AFTER
        retry = await db.fetchrow(
            f"SELECT fire_at, attempts FROM {schema}.timers WHERE subject = 'bad'"
        )
        if attempt < timers.MAX_ATTEMPTS:
            assert retry is not None
            assert (retry["fire_at"], retry["attempts"]) == (now, attempt)
            assert health.problem(60) is None
        else:
            assert retry is None  # out of the firing loop

    assert await fired(db, schema) == ["a", "b"]
    async with db.acquire() as conn:
        (aside,) = await timers.set_aside_timers(conn, schema)
    assert (aside["kind"], aside["subject"], aside["attempts"]) == ("due", "bad", 3)
    assert aside["reason"] == "handler failed 3 times: RuntimeError: toy bug"
    assert metric("keepword_timers_set_aside_total", schema) == 1
    assert metric("keepword_timer_failures_total", schema) == failures + 3
    assert health.problem(60) == (
        "1 timer(s) set aside in the last 60s; latest: due of bad: RuntimeError"
    )
    clock[0] += 61
    assert health.problem(60) is None  # the firing loop itself is fine

    # Set anew (a new deadline for the same subject), the timer starts again from 0 attempts.
    async with db.acquire() as conn:
        await timers.set_timer(conn, schema, "due", "bad", now)
    assert await db.fetchval(f"SELECT attempts FROM {schema}.timers WHERE subject = 'bad'") == 0


async def test_a_timer_with_unusable_data_is_set_aside_at_once(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    await given_timers(db, schema, ["a", "b"])
    await db.execute(
        f"""INSERT INTO {schema}.timers (kind, subject, fire_at, payload)
            VALUES ('due', 'odd', $1, '[1, 2]')""",
        NOW - timedelta(hours=1),
    )
    health = timers.TimerHealth()
    handler = Recorder(schema)

    assert await timers.fire_due(db, schema, handler, nothing, now=NOW, health=health) == 3

    assert await fired(db, schema) == ["a", "b"]
    assert handler.batches == [2]
    async with db.acquire() as conn:
        (aside,) = await timers.set_aside_timers(conn, schema)
    assert (aside["subject"], aside["payload"], aside["attempts"]) == ("odd", "[1, 2]", 0)
    assert aside["reason"] == "unusable: payload is a JSON list, not an object"
    assert aside["fire_at"] == NOW - timedelta(hours=1)
    assert "latest: due of odd: payload is a JSON list" in (health.problem(60) or "")


async def test_an_unavailable_database_counts_no_attempt(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    await given_timers(db, schema, ["a"])

    async def unavailable(conn: Connection, due: Sequence[timers.Timer]) -> Sequence[Event]:
        raise asyncpg.PostgresConnectionError("connection lost")

    with pytest.raises(asyncpg.PostgresConnectionError):
        await timers.fire_due(db, schema, unavailable, nothing, now=NOW)

    row = await db.fetchrow(f"SELECT fire_at, attempts FROM {schema}.timers WHERE subject = 'a'")
    assert row is not None
    assert (row["fire_at"], row["attempts"]) == (NOW, 0)  # still due, nothing counted

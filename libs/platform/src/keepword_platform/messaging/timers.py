"""Durable timers in PostgreSQL: set, move, cancel, and a loop that fires what is due.

Firing happens in a transaction with the timer's row locked (FOR UPDATE SKIP LOCKED): the
handler's state changes, the events it causes (outbox) and the timer's deletion commit together,
so a timer fires once even with several instances running and across crashes.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog
from keepword_events import Envelope, Event

from keepword_platform.database import Connection

log = structlog.get_logger(__name__)

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]*$")


def _table(schema: str) -> str:
    if not _SCHEMA.match(schema):
        raise ValueError(f"bad schema name {schema!r}")
    return f"{schema}.timers"


@dataclass(frozen=True, slots=True)
class Timer:
    """A deadline that fell due."""

    kind: str
    subject: str
    fire_at: datetime
    payload: dict[str, Any]


async def set_timer(
    conn: Connection,
    schema: str,
    kind: str,
    subject: str,
    fire_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Set (or move) the timer `kind` of `subject` to `fire_at`."""
    await conn.execute(
        f"""INSERT INTO {_table(schema)} (kind, subject, fire_at, payload)
            VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (kind, subject)
            DO UPDATE SET fire_at = EXCLUDED.fire_at, payload = EXCLUDED.payload""",  # noqa: S608
        kind,
        subject,
        fire_at,
        json.dumps(payload or {}),
    )


async def cancel_timers(conn: Connection, schema: str, subject: str) -> None:
    """Cancel every timer of `subject`."""
    await conn.execute(f"DELETE FROM {_table(schema)} WHERE subject = $1", subject)  # noqa: S608


async def set_timers(
    conn: Connection, schema: str, due: Sequence[tuple[str, str, datetime]]
) -> None:
    """Set (or move) each (kind, subject, fire_at) timer, in one round trip."""
    if not due:
        return
    kinds, subjects, times = zip(*due, strict=True)
    await conn.execute(
        f"""INSERT INTO {_table(schema)} (kind, subject, fire_at, payload)
            SELECT kind, subject, fire_at, '{{}}'::jsonb
              FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS d (kind, subject, fire_at)
            ON CONFLICT (kind, subject)
            DO UPDATE SET fire_at = EXCLUDED.fire_at, payload = EXCLUDED.payload""",  # noqa: S608
        list(kinds),
        list(subjects),
        list(times),
    )


Caused = Sequence[Event | Envelope[Event]]
TimerHandler = Callable[[Connection, Timer], Awaitable[Caused]]
BatchTimerHandler = Callable[[Connection, Sequence[Timer]], Awaitable[Caused]]
Enqueue = Callable[[Connection, Caused], Awaitable[None]]

RETRY_FAILED_AFTER = timedelta(minutes=1)
# Due timers another instance has locked are not ours: do not spin on them.
MIN_WAIT_SECONDS = 0.02


def one_by_one(handler: TimerHandler) -> BatchTimerHandler:
    """A batch handler that hands each timer of the batch to `handler` in turn."""

    async def each(conn: Connection, due: Sequence[Timer]) -> Caused:
        caused: list[Event | Envelope[Event]] = []
        for timer in due:
            caused += await handler(conn, timer)
        return caused

    return each


async def fire_due(
    pool: asyncpg.Pool,
    schema: str,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    *,
    now: datetime,
    limit: int = 500,
) -> int:
    """Fire up to `limit` timers due at `now` as one batch; returns how many were claimed.

    Claiming deletes the rows (locked with SKIP LOCKED, so instances share the work): the
    handler's changes, the events it causes and the deletions commit together. A batch that
    fails is fired again timer by timer, so one bad timer cannot hold the others back; a timer
    that fails alone is put back a minute later and logged.
    """
    table = _table(schema)
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            f"""DELETE FROM {table} WHERE id IN (
                    SELECT id FROM {table} WHERE fire_at <= $1 ORDER BY fire_at LIMIT $2
                       FOR UPDATE SKIP LOCKED)
                RETURNING kind, subject, fire_at, payload::text AS payload""",  # noqa: S608
            now,
            limit,
        )
        due = sorted(
            (Timer(r["kind"], r["subject"], r["fire_at"], json.loads(r["payload"])) for r in rows),
            key=lambda t: t.fire_at,
        )
        if not due:
            return 0
        try:
            async with conn.transaction():
                await enqueue(conn, await handler(conn, due))
        except Exception:  # a handler bug or a conflict: isolate the timer that causes it
            if len(due) == 1:
                await _put_back(conn, schema, due[0], now + RETRY_FAILED_AFTER)
            else:
                log.warning("timer batch failed; firing one by one", schema=schema, exc_info=True)
                for timer in due:
                    await _fire_alone(conn, schema, handler, enqueue, timer, now)
        return len(due)


async def _fire_alone(
    conn: Connection,
    schema: str,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    timer: Timer,
    now: datetime,
) -> None:
    try:
        async with conn.transaction():
            await enqueue(conn, await handler(conn, [timer]))
    except Exception:
        await _put_back(conn, schema, timer, now + RETRY_FAILED_AFTER)


async def _put_back(conn: Connection, schema: str, timer: Timer, fire_at: datetime) -> None:
    log.error(
        "timer failed; retrying later",
        schema=schema,
        kind=timer.kind,
        subject=timer.subject,
        retry_at=fire_at.isoformat(),
        exc_info=True,
    )
    await conn.execute(
        f"""INSERT INTO {_table(schema)} (kind, subject, fire_at, payload)
            VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (kind, subject) DO NOTHING""",  # noqa: S608
        timer.kind,
        timer.subject,
        fire_at,
        json.dumps(timer.payload),
    )


async def next_due(pool: asyncpg.Pool, schema: str) -> datetime | None:
    """When the earliest timer falls due, if there is one."""
    at: datetime | None = await pool.fetchval(
        f"SELECT min(fire_at) FROM {_table(schema)}"  # noqa: S608
    )
    return at


async def run_timers(
    pool: Callable[[], asyncpg.Pool],
    schema: str,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    clock: Callable[[], datetime],
    *,
    poll_seconds: float = 0.5,
    limit: int = 250,
    loops: int = 2,
) -> None:
    """Fire due timers with `loops` firing loops until cancelled; survives database outages.

    Side by side, one loop's batch is in the database while the other's is in Python, and
    SKIP LOCKED keeps their batches apart.
    """
    async with asyncio.TaskGroup() as group:
        for _ in range(loops):
            group.create_task(
                _firing_loop(pool, schema, handler, enqueue, clock, poll_seconds, limit)
            )


async def _firing_loop(
    pool: Callable[[], asyncpg.Pool],
    schema: str,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    clock: Callable[[], datetime],
    poll_seconds: float,
    limit: int,
) -> None:
    """Idle, sleep until the next deadline or `poll_seconds`, whichever comes first (a timer
    set meanwhile by another instance is seen within `poll_seconds`)."""
    while True:
        try:
            fired = await fire_due(pool(), schema, handler, enqueue, now=clock(), limit=limit)
            if fired:
                continue
            upcoming = await next_due(pool(), schema)
        except asyncio.CancelledError:
            raise
        except Exception:  # database unavailable: try again shortly
            log.warning("timers not fired; will retry", schema=schema, exc_info=True)
            await asyncio.sleep(poll_seconds * 4)
            continue
        wait = poll_seconds
        if upcoming is not None:
            wait = min(wait, max((upcoming - clock()).total_seconds(), MIN_WAIT_SECONDS))
        await asyncio.sleep(wait)

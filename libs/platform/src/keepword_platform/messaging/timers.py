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
from datetime import datetime
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


TimerHandler = Callable[[Connection, Timer], Awaitable[Sequence[Event | Envelope[Event]]]]
Enqueue = Callable[[Connection, Sequence[Event | Envelope[Event]]], Awaitable[None]]


async def fire_due(
    pool: asyncpg.Pool,
    schema: str,
    handler: TimerHandler,
    enqueue: Enqueue,
    *,
    now: datetime,
    limit: int = 100,
) -> int:
    """Fire up to `limit` timers due at `now`; returns how many fired."""
    table = _table(schema)
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            f"""SELECT id, kind, subject, fire_at, payload::text AS payload FROM {table}
                 WHERE fire_at <= $1 ORDER BY fire_at LIMIT $2
                 FOR UPDATE SKIP LOCKED""",  # noqa: S608
            now,
            limit,
        )
        for row in rows:
            timer = Timer(row["kind"], row["subject"], row["fire_at"], json.loads(row["payload"]))
            async with conn.transaction():
                await conn.execute(f"DELETE FROM {table} WHERE id = $1", row["id"])  # noqa: S608
                await enqueue(conn, await handler(conn, timer))
        return len(rows)


async def run_timers(
    pool: Callable[[], asyncpg.Pool],
    schema: str,
    handler: TimerHandler,
    enqueue: Enqueue,
    clock: Callable[[], datetime],
    *,
    poll_seconds: float = 0.5,
) -> None:
    """Fire due timers until cancelled; survives database outages."""
    while True:
        try:
            fired = await fire_due(pool(), schema, handler, enqueue, now=clock())
        except asyncio.CancelledError:
            raise
        except Exception:  # database unavailable, or a handler bug: try again shortly
            log.warning("timers not fired; will retry", schema=schema, exc_info=True)
            fired = 0
            await asyncio.sleep(poll_seconds * 4)
        if fired == 0:
            await asyncio.sleep(poll_seconds)

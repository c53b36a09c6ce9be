"""The weekly report's SQL: the promise moves of a week, and its durable timer."""

from __future__ import annotations

from datetime import datetime

from keepword_events.reports import BrokenPromise
from keepword_platform.database import Connection
from keepword_platform.messaging.timers import as_utc

from .indices import Period
from .report import PromiseMoves
from .repository import SCHEMA

TIMER_KIND = "weekly_report"
TIMER_SUBJECT = "managers"


async def promise_moves(conn: Connection, period: Period) -> PromiseMoves:
    """Promises moved to kept or broken during `period`, and the broken ones."""
    counts = await conn.fetchrow(
        f"""SELECT count(DISTINCT commitment_id) FILTER (WHERE to_status = 'kept') AS kept,
                   count(DISTINCT commitment_id) FILTER (WHERE to_status = 'broken') AS broken
              FROM {SCHEMA}.promise_moves
             WHERE at >= $1 AND at < $2 AND to_status IN ('kept', 'broken')""",  # noqa: S608
        period.start,
        period.end,
    )
    assert counts is not None  # an aggregate without GROUP BY always has its row
    rows = await conn.fetch(
        f"""SELECT m.commitment_id, p.thread_id, p.kind, p.maker_email, min(m.at) AS broken_at
              FROM {SCHEMA}.promise_moves m JOIN {SCHEMA}.promises p USING (commitment_id)
             WHERE m.at >= $1 AND m.at < $2 AND m.to_status = 'broken'
             GROUP BY m.commitment_id, p.thread_id, p.kind, p.maker_email
             ORDER BY broken_at, m.commitment_id""",  # noqa: S608
        period.start,
        period.end,
    )
    return PromiseMoves(
        kept=counts["kept"],
        broken=counts["broken"],
        broken_list=[
            BrokenPromise(**(dict(r) | {"broken_at": as_utc(r["broken_at"])})) for r in rows
        ],
    )


async def report_timer(conn: Connection) -> datetime | None:
    """When the report's timer is set to fire, if it is set."""
    at: datetime | None = await conn.fetchval(
        f"SELECT fire_at FROM {SCHEMA}.timers WHERE kind = $1 AND subject = $2",  # noqa: S608
        TIMER_KIND,
        TIMER_SUBJECT,
    )
    return None if at is None else as_utc(at)


async def cancel_report_timer(conn: Connection) -> None:
    """No weekly report any more."""
    await conn.execute(
        f"DELETE FROM {SCHEMA}.timers WHERE kind = $1 AND subject = $2",  # noqa: S608
        TIMER_KIND,
        TIMER_SUBJECT,
    )

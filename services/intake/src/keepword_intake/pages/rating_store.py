"""Intake's record of each thread's rating (table `intake.customer_ratings`)."""

from __future__ import annotations

import asyncpg
from keepword_events import CustomerRated
from keepword_platform.database import Connection

from .rating_rules import Rated


async def rated(conn: Connection | asyncpg.Pool, thread_id: str) -> Rated | None:
    """The thread's current rating, if it has one."""
    row = await conn.fetchrow(
        """SELECT rating, revision, first_rated_at, rated_at FROM intake.customer_ratings
            WHERE thread_id = $1""",
        thread_id,
    )
    return Rated(**dict(row)) if row else None


async def hold(conn: Connection, thread_id: str) -> Rated | None:
    """The thread's current rating, with the thread held until the transaction ends (two
    posts of one thread at once get consecutive revisions)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('rating:' || $1))", thread_id)
    return await rated(conn, thread_id)


async def record(conn: Connection, event: CustomerRated) -> None:
    """Keep the rating the event published as the thread's current one."""
    await conn.execute(
        """INSERT INTO intake.customer_ratings (thread_id, rating, revision, first_rated_at,
               rated_at)
           VALUES ($1, $2, $3, $4, $4)
           ON CONFLICT (thread_id) DO UPDATE SET rating = EXCLUDED.rating,
               revision = EXCLUDED.revision, rated_at = EXCLUDED.rated_at""",
        event.thread_id,
        event.rating,
        event.revision,
        event.rated_at,
    )

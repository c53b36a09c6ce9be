"""The connector's state in PostgreSQL (schema `intake`): positions and set-aside messages."""

from __future__ import annotations

import asyncpg

from .position import Position


async def recorded_position(pool: asyncpg.Pool, mailbox: str, folder: str) -> Position | None:
    """The place recorded for the folder, if any."""
    row = await pool.fetchrow(
        """SELECT uidvalidity, last_uid FROM intake.mailbox_positions
            WHERE mailbox = $1 AND folder = $2""",
        mailbox,
        folder,
    )
    return None if row is None else Position(row["uidvalidity"], row["last_uid"])


async def record_position(pool: asyncpg.Pool, mailbox: str, folder: str, at: Position) -> None:
    """Remember `at`; under the same UIDVALIDITY the recorded UID never goes back."""
    await pool.execute(
        """INSERT INTO intake.mailbox_positions (mailbox, folder, uidvalidity, last_uid)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (mailbox, folder) DO UPDATE
              SET uidvalidity = EXCLUDED.uidvalidity, last_uid = EXCLUDED.last_uid,
                  updated_at = now()
            WHERE mailbox_positions.uidvalidity <> EXCLUDED.uidvalidity
               OR mailbox_positions.last_uid < EXCLUDED.last_uid""",
        mailbox,
        folder,
        at.uidvalidity,
        at.last_uid,
    )


async def set_aside(
    pool: asyncpg.Pool, mailbox: str, folder: str, at: Position, reason: str
) -> None:
    """Record that the message at `at` was skipped, and why, and move past it, in one go."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO intake.mailbox_set_aside (mailbox, folder, uidvalidity, uid, reason)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
            mailbox,
            folder,
            at.uidvalidity,
            at.last_uid,
            reason[:500],
        )
        await conn.execute(
            """UPDATE intake.mailbox_positions SET last_uid = $4, updated_at = now()
                WHERE mailbox = $1 AND folder = $2 AND uidvalidity = $3 AND last_uid < $4""",
            mailbox,
            folder,
            at.uidvalidity,
            at.last_uid,
        )

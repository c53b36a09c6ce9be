"""Intake's state in PostgreSQL (schema `intake`): idempotency keys and thread look-ups."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import asyncpg

Outcome = Literal["new", "replay", "in_progress", "mismatch"]


@dataclass(frozen=True, slots=True)
class Reservation:
    """What an Idempotency-Key says about a request.

    new: go ahead, and answer `response` (the ids planned by the first attempt when it was
    abandoned); replay: answer `response` with `status_code` again; in_progress: another attempt
    with this key is running; mismatch: the key was used with another request.
    """

    outcome: Outcome
    response: dict[str, Any]
    status_code: int | None = None


async def reserve_idempotency_key(
    pool: asyncpg.Pool,
    owner: str,
    key: str,
    fingerprint: bytes,
    planned: dict[str, Any],
    abandon_after: timedelta,
) -> Reservation:
    """Claim `key` for this request, or say why it cannot be."""
    row = await pool.fetchrow(
        """INSERT INTO intake.idempotency_keys (owner, key, fingerprint, response)
           VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (owner, key) DO UPDATE SET created_at = now()
             WHERE idempotency_keys.completed_at IS NULL
               AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
               AND idempotency_keys.created_at < now() - $5::interval
           RETURNING response""",
        owner,
        key,
        fingerprint,
        json.dumps(planned),
        abandon_after,
    )
    if row is not None:  # inserted, or taken over from an attempt that died mid-way
        return Reservation("new", json.loads(row["response"]))
    existing = await pool.fetchrow(
        """SELECT fingerprint, response, status_code, completed_at
             FROM intake.idempotency_keys WHERE owner = $1 AND key = $2""",
        owner,
        key,
    )
    if existing is None:  # purged between the two statements: try once more
        return await reserve_idempotency_key(pool, owner, key, fingerprint, planned, abandon_after)
    response = json.loads(existing["response"])
    if bytes(existing["fingerprint"]) != fingerprint:
        return Reservation("mismatch", response)
    if existing["completed_at"] is not None:
        return Reservation("replay", response, existing["status_code"])
    return Reservation("in_progress", response)


async def complete_idempotency_key(
    pool: asyncpg.Pool, owner: str, key: str, status_code: int, response: dict[str, Any]
) -> None:
    """Record the answer given, so retries get it again."""
    await pool.execute(
        """UPDATE intake.idempotency_keys
              SET status_code = $3, response = $4::jsonb, completed_at = now()
            WHERE owner = $1 AND key = $2""",
        owner,
        key,
        status_code,
        json.dumps(response),
    )


async def abandon_idempotency_key(pool: asyncpg.Pool, owner: str, key: str) -> None:
    """Let the client retry an attempt that failed at once, with the ids it had planned.

    Keeping the planned ids (rather than forgetting the key) means that if the failed attempt's
    event did reach Kafka after all, the retry's event carries the same id, and consumers, who
    process an event id once, see one event.
    """
    await pool.execute(
        """UPDATE intake.idempotency_keys SET created_at = '-infinity'
            WHERE owner = $1 AND key = $2 AND completed_at IS NULL""",
        owner,
        key,
    )


async def purge_idempotency_keys(pool: asyncpg.Pool, older_than: timedelta) -> int:
    """Delete keys older than `older_than`; returns how many."""
    status: str = await pool.execute(
        "DELETE FROM intake.idempotency_keys WHERE created_at < now() - $1::interval", older_than
    )
    return int(status.split()[-1])


async def remember_commitment_thread(
    pool: asyncpg.Pool, commitment_id: str, thread_id: str
) -> None:
    """Note the thread of a commitment declared through intake."""
    await pool.execute(
        """INSERT INTO intake.commitment_threads (commitment_id, thread_id) VALUES ($1, $2)
           ON CONFLICT (commitment_id) DO NOTHING""",
        commitment_id,
        thread_id,
    )


async def thread_of_commitment(pool: asyncpg.Pool, commitment_id: str) -> str | None:
    """The thread of a commitment declared through intake, if known."""
    thread: str | None = await pool.fetchval(
        "SELECT thread_id FROM intake.commitment_threads WHERE commitment_id = $1", commitment_id
    )
    return thread


async def thread_of_email(pool: asyncpg.Pool, message_ids: Sequence[str]) -> str | None:
    """The thread of the first known email among `message_ids` (a reply's references)."""
    if not message_ids:
        return None
    thread: str | None = await pool.fetchval(
        """SELECT e.thread_id FROM unnest($1::text[]) WITH ORDINALITY AS ref(id, position)
             JOIN intake.email_messages e ON e.message_id = ref.id
            ORDER BY ref.position LIMIT 1""",
        list(message_ids),
    )
    return thread


async def remember_email(pool: asyncpg.Pool, message_id: str, thread_id: str) -> None:
    """Note that an email belongs to a thread, so replies to it find the thread."""
    await pool.execute(
        """INSERT INTO intake.email_messages (message_id, thread_id) VALUES ($1, $2)
           ON CONFLICT (message_id) DO NOTHING""",
        message_id,
        thread_id,
    )

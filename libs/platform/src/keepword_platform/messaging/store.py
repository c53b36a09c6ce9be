"""SQL of the inbox and outbox tables (in each service's own schema)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from keepword_platform.database import Connection

from .records import ConsumedRecord, Outgoing, headers_from_json, headers_to_json

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]*$")


def _checked(schema: str) -> str:
    # Identifiers cannot be query parameters; a schema name is checked before it is interpolated.
    if not _SCHEMA.match(schema):
        raise ValueError(f"bad schema name {schema!r}")
    return schema


def notify_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel that wakes the outbox relay of `schema`."""
    return f"{_checked(schema)}_outbox"


async def claim_event(
    conn: Connection,
    schema: str,
    event_id: str,
    record: ConsumedRecord,
    outcome: str,
    *,
    retake_dead_letter: bool = False,
) -> bool:
    """Record that `record` brings `event_id` to be handled now; False if it was handled before.

    With `retake_dead_letter` (a replayed dead letter), an event whose row says `dead_lettered`
    is claimed again, unless that row came from this very record (Kafka redelivering it): the
    caller handles it this time or dead-letters it again. A `handled` event stays handled.
    """
    claimed = await conn.fetchval(
        f"""INSERT INTO {_checked(schema)}.inbox AS inbox
                   (event_id, topic, outcome, record_partition, record_offset)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (event_id) DO UPDATE
               SET topic = excluded.topic, outcome = excluded.outcome, handled_at = now(),
                   record_partition = excluded.record_partition,
                   record_offset = excluded.record_offset
             WHERE $6 AND inbox.outcome = 'dead_lettered'
               AND (inbox.topic, inbox.record_partition, inbox.record_offset)
                   IS DISTINCT FROM (excluded.topic, excluded.record_partition,
                                     excluded.record_offset)
            RETURNING true""",  # noqa: S608
        event_id,
        record.topic,
        outcome,
        record.partition,
        record.offset,
        retake_dead_letter,
    )
    return bool(claimed)


async def claim_events(
    conn: Connection, schema: str, claims: Sequence[tuple[str, ConsumedRecord]]
) -> set[str]:
    """Record in one statement that each record brings its event to be handled now; the ids
    claimed (those not handled or set aside before). The ids must be distinct, and no record a
    replayed dead letter (those go through `claim_event`)."""
    if not claims:
        return set()
    rows = await conn.fetch(
        f"""INSERT INTO {_checked(schema)}.inbox
                   (event_id, topic, outcome, record_partition, record_offset)
            SELECT event_id, topic, 'handled', record_partition, record_offset
              FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[])
                   AS claim (event_id, topic, record_partition, record_offset)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id""",  # noqa: S608
        [event_id for event_id, _ in claims],
        [record.topic for _, record in claims],
        [record.partition for _, record in claims],
        [record.offset for _, record in claims],
    )
    return {row["event_id"] for row in rows}


async def enqueue(
    conn: Connection, schema: str, outgoing: Sequence[Outgoing], *, notify: bool = True
) -> None:
    """Add records to the outbox (in the caller's transaction) and wake the relay on commit.

    A caller adding rows many times in one transaction passes `notify=False` and calls
    `notify_relay` once before it commits (PostgreSQL folds repeated notifications anyway, but
    each costs a round trip).
    """
    if not outgoing:
        return
    # One statement for the lot (executemany is one per row); ordered by position, so the rows'
    # ids, which the relay publishes in, follow the order of `outgoing`.
    await conn.execute(
        f"""INSERT INTO {_checked(schema)}.outbox (event_id, topic, key, value, headers)
            SELECT event_id, topic, key, value, headers::jsonb
              FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[], $5::text[])
                   WITH ORDINALITY AS o (event_id, topic, key, value, headers, n)
             ORDER BY n""",  # noqa: S608
        [o.event_id for o in outgoing],
        [o.record.topic for o in outgoing],
        [o.record.key for o in outgoing],
        [o.record.value for o in outgoing],
        [headers_to_json(o.record.headers) for o in outgoing],
    )
    if notify:
        await notify_relay(conn, schema)


async def notify_relay(conn: Connection, schema: str) -> None:
    """Wake the outbox relay of `schema` when the caller's transaction commits."""
    await conn.execute("SELECT pg_notify($1, '')", notify_channel(schema))


@dataclass(frozen=True, slots=True)
class PendingRecord:
    """An outbox row not yet acknowledged by Kafka."""

    id: int
    event_id: str
    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


async def pending(pool: asyncpg.Pool, schema: str, limit: int) -> list[PendingRecord]:
    """The oldest unpublished rows, in the order they were written."""
    rows = await pool.fetch(
        f"""SELECT id, event_id, topic, key, value, headers::text AS headers
              FROM {_checked(schema)}.outbox WHERE published_at IS NULL
             ORDER BY id LIMIT $1""",  # noqa: S608
        limit,
    )
    return [
        PendingRecord(
            id=row["id"],
            event_id=row["event_id"],
            topic=row["topic"],
            key=row["key"],
            value=row["value"],
            headers=headers_from_json(row["headers"]),
        )
        for row in rows
    ]


async def mark_published(pool: asyncpg.Pool, schema: str, ids: Sequence[int]) -> None:
    """Kafka acknowledged these rows."""
    table = f"{_checked(schema)}.outbox"
    await pool.execute(
        f"UPDATE {table} SET published_at = now() WHERE id = ANY($1::bigint[])",  # noqa: S608
        list(ids),
    )


async def purge_published(pool: asyncpg.Pool, schema: str, older_than_hours: int) -> int:
    """Delete rows published long ago; returns how many."""
    status: str = await pool.execute(
        f"""DELETE FROM {_checked(schema)}.outbox
             WHERE published_at < now() - make_interval(hours => $1)""",  # noqa: S608
        older_than_hours,
    )
    return int(status.split()[-1])


async def unpublished_count(pool: asyncpg.Pool, schema: str) -> int:
    """How many rows wait for the relay (for metrics and tests)."""
    count: int = await pool.fetchval(
        f"SELECT count(*) FROM {_checked(schema)}.outbox WHERE published_at IS NULL"  # noqa: S608
    )
    return count


async def oldest_unpublished_age(pool: asyncpg.Pool, schema: str) -> float | None:
    """Seconds the oldest unpublished row has waited; None when nothing waits."""
    age: float | None = await pool.fetchval(
        f"""SELECT extract(epoch FROM now() - created_at)::float8
              FROM {_checked(schema)}.outbox WHERE published_at IS NULL
             ORDER BY id LIMIT 1""",  # noqa: S608
        timeout=2.0,
    )
    return age


# A record's position in Kafka: (topic, partition, offset).
Position = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class LoopSuspect:
    """A record whose handling blocked the event loop: its event id (if it was decoded) and
    the longest block it caused, in seconds."""

    event_id: str | None
    blocked_seconds: float


async def record_suspect(
    conn: Connection,
    schema: str,
    position: Position,
    event_id: str | None,
    blocked_seconds: float,
) -> None:
    """Remember that handling the record at `position` blocked the event loop that long.

    Recorded again for the same event (the block went on, or came back), it keeps the longest
    block; another event at that position (a topic recreated) replaces it.
    """
    topic, partition, offset = position
    await conn.execute(
        f"""INSERT INTO {_checked(schema)}.loop_suspects AS suspect
                   (topic, record_partition, record_offset, event_id, blocked_seconds)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (topic, record_partition, record_offset) DO UPDATE
               SET blocked_seconds = CASE
                       WHEN excluded.event_id IS DISTINCT FROM suspect.event_id
                       THEN excluded.blocked_seconds
                       ELSE greatest(suspect.blocked_seconds, excluded.blocked_seconds) END,
                   event_id = excluded.event_id,
                   detected_at = CASE
                       WHEN excluded.event_id IS DISTINCT FROM suspect.event_id THEN now()
                       ELSE suspect.detected_at END""",  # noqa: S608
        topic,
        partition,
        offset,
        event_id,
        blocked_seconds,
    )


async def loop_suspects(
    conn: Connection | asyncpg.Pool, schema: str
) -> dict[Position, LoopSuspect]:
    """Every recorded suspect, by position."""
    rows = await conn.fetch(
        f"""SELECT topic, record_partition, record_offset, event_id, blocked_seconds
              FROM {_checked(schema)}.loop_suspects"""  # noqa: S608
    )
    return {
        (row["topic"], row["record_partition"], row["record_offset"]): LoopSuspect(
            row["event_id"], row["blocked_seconds"]
        )
        for row in rows
    }

"""The ledger in PostgreSQL (schema `commitments`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keepword_events import CommitmentKind, CommitmentSource, CommitmentStatus, Customer, Person
from keepword_platform.database import Connection
from keepword_platform.messaging.timers import as_utc

from .domain import Change, Commitment

_COLUMNS = """commitment_id, thread_id, kind, text, made_by::text AS made_by,
    customer::text AS customer, due_at, source::text AS source, created_at, status, at_risk,
    feasible_due_at, production_note"""


def _utc(moment: datetime | None) -> datetime | None:
    # A due date stored as ±infinity (0001-01-01T00:00:00Z is) reads back naive: make it aware.
    return None if moment is None else as_utc(moment)


def _commitment(row: Any) -> Commitment:
    return Commitment(
        commitment_id=row["commitment_id"],
        thread_id=row["thread_id"],
        kind=CommitmentKind(row["kind"]),
        text=row["text"],
        made_by=Person.model_validate_json(row["made_by"]),
        customer=Customer.model_validate_json(row["customer"]) if row["customer"] else None,
        due_at=_utc(row["due_at"]),
        source=CommitmentSource.model_validate_json(row["source"]),
        created_at=as_utc(row["created_at"]),
        status=CommitmentStatus(row["status"]),
        at_risk=row["at_risk"],
        feasible_due_at=_utc(row["feasible_due_at"]),
        production_note=row["production_note"],
    )


async def load_for_update(conn: Connection, commitment_id: str) -> Commitment | None:
    """The commitment, locked until the transaction ends."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM commitments.commitments WHERE commitment_id = $1 FOR UPDATE",  # noqa: S608
        commitment_id,
    )
    return _commitment(row) if row else None


async def touched_for_update(
    conn: Connection, commitment_ids: Collection[str], thread_ids: Collection[str]
) -> list[Commitment]:
    """The commitments named, and those of the threads named that are not final yet, locked
    until the transaction ends (one round trip whatever their number)."""
    if not commitment_ids and not thread_ids:
        return []
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM commitments.commitments
             WHERE commitment_id = ANY($1::text[])
                OR (thread_id = ANY($2::text[])
                    AND status NOT IN ('kept', 'broken', 'renegotiated', 'cancelled'))
             ORDER BY commitment_id FOR UPDATE""",  # noqa: S608
        list(commitment_ids),
        list(thread_ids),
    )
    return [_commitment(row) for row in rows]


async def record(conn: Connection, change: Change, event_id: str) -> None:
    """Store the commitment as it now stands, and the move in its history."""
    await record_moves(conn, [(change, event_id)])


async def record_moves(conn: Connection, moves: Sequence[tuple[Change, str]]) -> None:
    """Store each commitment as its last move leaves it, and every move, in order, in its
    history with the id of the event that announced it: one statement per table."""
    if not moves:
        return
    latest = {change.after.commitment_id: change for change, _ in moves}
    stood = [(change.after, change.at) for change in latest.values()]
    await conn.execute(
        """INSERT INTO commitments.commitments (commitment_id, thread_id, kind, text, made_by,
               customer, due_at, source, created_at, status, at_risk, feasible_due_at,
               production_note, updated_at)
           SELECT commitment_id, thread_id, kind, text, made_by::jsonb, customer::jsonb, due_at,
                  source::jsonb, created_at, status, at_risk, feasible_due_at, production_note,
                  updated_at
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::timestamptz[], $8::text[], $9::timestamptz[], $10::text[],
                         $11::boolean[], $12::timestamptz[], $13::text[], $14::timestamptz[])
                  AS c (commitment_id, thread_id, kind, text, made_by, customer, due_at, source,
                        created_at, status, at_risk, feasible_due_at, production_note,
                        updated_at)
           ON CONFLICT (commitment_id) DO UPDATE SET status = EXCLUDED.status,
               at_risk = EXCLUDED.at_risk, feasible_due_at = EXCLUDED.feasible_due_at,
               production_note = EXCLUDED.production_note, updated_at = EXCLUDED.updated_at""",
        [c.commitment_id for c, _ in stood],
        [c.thread_id for c, _ in stood],
        [c.kind.value for c, _ in stood],
        [c.text for c, _ in stood],
        [c.made_by.model_dump_json() for c, _ in stood],
        [c.customer.model_dump_json() if c.customer else None for c, _ in stood],
        [c.due_at for c, _ in stood],
        [c.source.model_dump_json() for c, _ in stood],
        [c.created_at for c, _ in stood],
        [c.status.value for c, _ in stood],
        [c.at_risk for c, _ in stood],
        [c.feasible_due_at for c, _ in stood],
        [c.production_note for c, _ in stood],
        [at for _, at in stood],
    )
    # Ordered by position, so the history's ids follow the order of the moves.
    await conn.execute(
        """INSERT INTO commitments.commitment_history
                  (commitment_id, at, from_status, to_status, at_risk, reason, event_id)
           SELECT commitment_id, at, from_status, to_status, at_risk, reason, event_id
             FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::boolean[],
                         $6::text[], $7::text[]) WITH ORDINALITY
                  AS m (commitment_id, at, from_status, to_status, at_risk, reason, event_id, n)
            ORDER BY n""",
        [change.after.commitment_id for change, _ in moves],
        [change.at for change, _ in moves],
        [change.previous_status.value if change.previous_status else None for change, _ in moves],
        [change.after.status.value for change, _ in moves],
        [change.after.at_risk for change, _ in moves],
        [change.reason for change, _ in moves],
        [event_id for _, event_id in moves],
    )


async def cancel_timers(conn: Connection, subjects: Sequence[str]) -> None:
    """Cancel every timer of the commitments `subjects`, in one statement (the platform's
    `timers.cancel_timers` takes one subject)."""
    if subjects:
        await conn.execute(
            "DELETE FROM commitments.timers WHERE subject = ANY($1::text[])", list(subjects)
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One move of a commitment."""

    at: datetime
    from_status: str | None
    to_status: str
    at_risk: bool
    reason: str
    event_id: str


async def find(conn: Connection, commitment_id: str) -> Commitment | None:
    """The commitment, if it exists (no lock)."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM commitments.commitments WHERE commitment_id = $1",  # noqa: S608
        commitment_id,
    )
    return _commitment(row) if row else None


async def on_thread(conn: Connection, thread_id: str) -> list[Commitment]:
    """Every commitment of a thread, oldest first."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM commitments.commitments WHERE thread_id = $1
             ORDER BY created_at, commitment_id""",  # noqa: S608
        thread_id,
    )
    return [_commitment(row) for row in rows]


async def history(conn: Connection, commitment_id: str) -> list[HistoryEntry]:
    """Every move of a commitment, in order."""
    rows = await conn.fetch(
        """SELECT at, from_status, to_status, at_risk, reason, event_id
             FROM commitments.commitment_history WHERE commitment_id = $1 ORDER BY id""",
        commitment_id,
    )
    return [HistoryEntry(**dict(row)) for row in rows]

"""The ledger in PostgreSQL (schema `commitments`)."""

from __future__ import annotations

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


async def open_on_thread(conn: Connection, thread_id: str) -> list[Commitment]:
    """The thread's commitments that are not final yet, locked, oldest first."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM commitments.commitments
             WHERE thread_id = $1
               AND status NOT IN ('kept', 'broken', 'renegotiated', 'cancelled')
             ORDER BY created_at, commitment_id FOR UPDATE""",  # noqa: S608
        thread_id,
    )
    return [_commitment(row) for row in rows]


async def record(conn: Connection, change: Change, event_id: str) -> None:
    """Store the commitment as it now stands, and the move in its history (one round trip)."""
    c = change.after
    # The history row's foreign key is checked at the end of the statement, when the commitment
    # written by the first part is there.
    await conn.execute(
        """WITH stored AS (
               INSERT INTO commitments.commitments (commitment_id, thread_id, kind, text, made_by,
                   customer, due_at, source, created_at, status, at_risk, feasible_due_at,
                   production_note, updated_at)
               VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8::jsonb, $9, $10, $11, $12,
                       $13, $14)
               ON CONFLICT (commitment_id) DO UPDATE SET status = EXCLUDED.status,
                   at_risk = EXCLUDED.at_risk, feasible_due_at = EXCLUDED.feasible_due_at,
                   production_note = EXCLUDED.production_note, updated_at = EXCLUDED.updated_at
               RETURNING commitment_id)
           INSERT INTO commitments.commitment_history
                  (commitment_id, at, from_status, to_status, at_risk, reason, event_id)
           SELECT commitment_id, $14, $15, $10, $11, $16, $17 FROM stored""",
        c.commitment_id,
        c.thread_id,
        c.kind.value,
        c.text,
        c.made_by.model_dump_json(),
        c.customer.model_dump_json() if c.customer else None,
        c.due_at,
        c.source.model_dump_json(),
        c.created_at,
        c.status.value,
        c.at_risk,
        c.feasible_due_at,
        c.production_note,
        change.at,
        change.previous_status.value if change.previous_status else None,
        change.reason,
        event_id,
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

"""Escalation's state in PostgreSQL (schema `escalation`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keepword_events import (
    Customer,
    CustomerRated,
    EscalationRule,
    EvidenceItem,
    Money,
    Option,
    OptionKind,
    PromiseInQuestion,
)
from keepword_platform.database import Connection
from pydantic import TypeAdapter

from .clocks import ThreadClock
from .escalations import Escalation, State
from .rules import Line, Terms

_OPTIONS = TypeAdapter(tuple[Option, ...])
_EVIDENCE = TypeAdapter(tuple[EvidenceItem, ...])


def _clock(row: Any) -> ThreadClock:
    return ThreadClock(
        thread_id=row["thread_id"],
        customer=Customer.model_validate_json(row["customer"]),
        deposit=Money.model_validate_json(row["deposit"]) if row["deposit"] else None,
        first_contact_at=row["first_contact_at"],
        last_customer_at=row["last_customer_at"],
        last_reply_at=row["last_reply_at"],
        unanswered=row["unanswered"],
        waiting_since=row["waiting_since"],
        reply_due_at=row["reply_due_at"],
        warn_at=row["warn_at"],
    )


async def load_clock(conn: Connection, thread_id: str) -> ThreadClock | None:
    """A thread's clock, locked for this transaction."""
    return (await load_clocks(conn, [thread_id])).get(thread_id)


async def load_clocks(conn: Connection, thread_ids: Sequence[str]) -> dict[str, ThreadClock]:
    """The clocks of these threads (those that have one), locked in thread order."""
    rows = await conn.fetch(
        """SELECT thread_id, customer::text AS customer, deposit::text AS deposit,
                  first_contact_at, last_customer_at, last_reply_at, unanswered, waiting_since,
                  reply_due_at, warn_at
             FROM escalation.threads WHERE thread_id = ANY($1::text[])
            ORDER BY thread_id FOR UPDATE""",
        list(thread_ids),
    )
    return {row["thread_id"]: _clock(row) for row in rows}


async def lock_timers(conn: Connection, thread_ids: Sequence[str]) -> None:
    """Lock the timers of these threads and of their active escalations, as firing them does
    first: a batch then waits for a deadline being fired (ahead, it gives way) and never holds a
    thread a firing waits for while waiting for that firing's timers."""
    await conn.execute(
        """SELECT 1 FROM escalation.timers
            WHERE subject = ANY($1::text[])
               OR subject IN (SELECT escalation_id FROM escalation.escalations
                               WHERE thread_id = ANY($1::text[]) AND state <> 'resolved')
            ORDER BY kind, subject FOR UPDATE""",
        list(thread_ids),
    )


async def load_threads(
    conn: Connection, thread_ids: Sequence[str]
) -> dict[str, tuple[ThreadClock, Terms, datetime | None]]:
    """The rows of these threads (those that have one): clock, terms and when the customer was
    asked for feedback, locked in thread order."""
    rows = await conn.fetch(
        """SELECT thread_id, customer::text AS customer, deposit::text AS deposit,
                  first_contact_at, last_customer_at, last_reply_at, unanswered, waiting_since,
                  reply_due_at, warn_at, promise::text AS promise, feasible_due_at,
                  feedback_asked_at
             FROM escalation.threads WHERE thread_id = ANY($1::text[])
            ORDER BY thread_id FOR UPDATE""",
        list(thread_ids),
    )
    return {row["thread_id"]: (_clock(row), _terms(row), row["feedback_asked_at"]) for row in rows}


async def save_threads(
    conn: Connection, threads: Sequence[tuple[ThreadClock, Terms, datetime | None]]
) -> None:
    """Store threads' rows as they now stand (each thread once), in one statement; a stored
    row keeps its first contact."""
    if not threads:
        return
    await conn.execute(
        """INSERT INTO escalation.threads AS t (thread_id, customer, deposit, first_contact_at,
               last_customer_at, last_reply_at, unanswered, waiting_since, reply_due_at, warn_at,
               promise, feasible_due_at, feedback_asked_at)
           SELECT * FROM unnest($1::text[], $2::jsonb[], $3::jsonb[], $4::timestamptz[],
               $5::timestamptz[], $6::timestamptz[], $7::int[], $8::timestamptz[],
               $9::timestamptz[], $10::timestamptz[], $11::jsonb[], $12::timestamptz[],
               $13::timestamptz[])
           ON CONFLICT (thread_id) DO UPDATE SET customer = EXCLUDED.customer,
               deposit = EXCLUDED.deposit, last_customer_at = EXCLUDED.last_customer_at,
               last_reply_at = EXCLUDED.last_reply_at, unanswered = EXCLUDED.unanswered,
               waiting_since = EXCLUDED.waiting_since, reply_due_at = EXCLUDED.reply_due_at,
               warn_at = EXCLUDED.warn_at, promise = EXCLUDED.promise,
               feasible_due_at = EXCLUDED.feasible_due_at,
               feedback_asked_at = EXCLUDED.feedback_asked_at, updated_at = now()""",
        [c.thread_id for c, _, _ in threads],
        [c.customer.model_dump_json() for c, _, _ in threads],
        [c.deposit.model_dump_json() if c.deposit else None for c, _, _ in threads],
        [c.first_contact_at for c, _, _ in threads],
        [c.last_customer_at for c, _, _ in threads],
        [c.last_reply_at for c, _, _ in threads],
        [c.unanswered for c, _, _ in threads],
        [c.waiting_since for c, _, _ in threads],
        [c.reply_due_at for c, _, _ in threads],
        [c.warn_at for c, _, _ in threads],
        [t.promise.model_dump_json() if t.promise else None for _, t, _ in threads],
        [t.feasible_due_at for _, t, _ in threads],
        [asked for _, _, asked in threads],
    )


async def save_clock(conn: Connection, clock: ThreadClock) -> None:
    """Store a thread's clock."""
    await conn.execute(
        """INSERT INTO escalation.threads (thread_id, customer, deposit, first_contact_at,
               last_customer_at, last_reply_at, unanswered, waiting_since, reply_due_at, warn_at)
           VALUES ($1, $2::jsonb, $3::jsonb, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (thread_id) DO UPDATE SET customer = EXCLUDED.customer,
               deposit = EXCLUDED.deposit, last_customer_at = EXCLUDED.last_customer_at,
               last_reply_at = EXCLUDED.last_reply_at, unanswered = EXCLUDED.unanswered,
               waiting_since = EXCLUDED.waiting_since, reply_due_at = EXCLUDED.reply_due_at,
               warn_at = EXCLUDED.warn_at, updated_at = now()""",
        clock.thread_id,
        clock.customer.model_dump_json(),
        clock.deposit.model_dump_json() if clock.deposit else None,
        clock.first_contact_at,
        clock.last_customer_at,
        clock.last_reply_at,
        clock.unanswered,
        clock.waiting_since,
        clock.reply_due_at,
        clock.warn_at,
    )


async def note_promise(
    conn: Connection, thread_id: str, promise: PromiseInQuestion, feasible_due_at: datetime | None
) -> None:
    """Remember the thread's promise in question and production's latest feasible terms."""
    await conn.execute(
        """UPDATE escalation.threads SET promise = $2::jsonb,
               feasible_due_at = coalesce($3, feasible_due_at)
            WHERE thread_id = $1""",
        thread_id,
        promise.model_dump_json(),
        feasible_due_at,
    )


async def terms(conn: Connection, thread_ids: Sequence[str]) -> dict[str, Terms]:
    """The promise in question and feasible terms of the threads that have any."""
    rows = await conn.fetch(
        """SELECT thread_id, promise::text AS promise, feasible_due_at FROM escalation.threads
            WHERE thread_id = ANY($1::text[])
              AND (promise IS NOT NULL OR feasible_due_at IS NOT NULL)""",
        list(thread_ids),
    )
    return {row["thread_id"]: _terms(row) for row in rows}


def _terms(row: Any) -> Terms:
    return Terms(
        PromiseInQuestion.model_validate_json(row["promise"]) if row["promise"] else None,
        row["feasible_due_at"],
    )


async def add_to_timeline(
    conn: Connection, thread_id: str, at: datetime, what: str, event_id: str | None
) -> None:
    """One more line of the thread's story."""
    await add_to_timelines(conn, [Line(thread_id, at, what, event_id)])


async def add_to_timelines(conn: Connection, lines: Sequence[Line]) -> None:
    """More lines of threads' stories, in one round trip."""
    if not lines:
        return
    await conn.execute(
        """INSERT INTO escalation.timeline (thread_id, at, what, event_id)
           SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[])""",
        [line.thread_id for line in lines],
        [line.at for line in lines],
        [line.what[:2000] for line in lines],
        [line.event_id for line in lines],
    )


async def timeline(conn: Connection, thread_id: str, limit: int = 50) -> tuple[EvidenceItem, ...]:
    """The thread's latest timeline entries, oldest first."""
    return (await timelines(conn, [thread_id], limit)).get(thread_id, ())


async def timelines(
    conn: Connection, thread_ids: Sequence[str], limit: int = 50
) -> dict[str, tuple[EvidenceItem, ...]]:
    """Each thread's latest `limit` timeline entries, oldest first."""
    rows = await conn.fetch(
        """SELECT thread_id, at, what, event_id FROM (
               SELECT thread_id, at, what, event_id, id, row_number() OVER (
                          PARTITION BY thread_id ORDER BY at DESC, id DESC) AS newest
                 FROM escalation.timeline WHERE thread_id = ANY($1::text[])) latest
            WHERE newest <= $2
            ORDER BY thread_id, at, id""",
        list(thread_ids),
        limit,
    )
    found: dict[str, list[EvidenceItem]] = {}
    for r in rows:
        item = EvidenceItem(at=r["at"], what=r["what"], event_id=r["event_id"])
        found.setdefault(r["thread_id"], []).append(item)
    return {thread_id: tuple(items) for thread_id, items in found.items()}


_ESCALATION_COLUMNS = """escalation_id, thread_id, rule, level, manager_email, state, reason,
    opened_at, decide_by, options::text AS options, evidence::text AS evidence,
    decided_option, decided_by, caused_at, reminders"""


def _escalation(row: Any) -> Escalation:
    return Escalation(
        escalation_id=row["escalation_id"],
        thread_id=row["thread_id"],
        rule=EscalationRule(row["rule"]),
        level=row["level"],
        manager_email=row["manager_email"],
        state=State(row["state"]),
        reason=row["reason"],
        opened_at=row["opened_at"],
        decide_by=row["decide_by"],
        options=_OPTIONS.validate_json(row["options"]),
        evidence=_EVIDENCE.validate_json(row["evidence"]),
        decided_option=OptionKind(row["decided_option"]) if row["decided_option"] else None,
        decided_by=row["decided_by"],
        caused_at=row["caused_at"],
        reminders=row["reminders"],
    )


async def active_escalation(conn: Connection, thread_id: str) -> Escalation | None:
    """The thread's unresolved escalation, locked, if any."""
    return (await active_escalations(conn, [thread_id])).get(thread_id)


async def active_escalations(conn: Connection, thread_ids: Sequence[str]) -> dict[str, Escalation]:
    """The unresolved escalation of each of these threads that has one, locked."""
    rows = await conn.fetch(
        f"""SELECT {_ESCALATION_COLUMNS} FROM escalation.escalations
             WHERE thread_id = ANY($1::text[]) AND state <> 'resolved'
             ORDER BY thread_id FOR UPDATE""",  # noqa: S608
        list(thread_ids),
    )
    return {row["thread_id"]: _escalation(row) for row in rows}


async def load_escalation(conn: Connection, escalation_id: str) -> Escalation | None:
    """An escalation, locked."""
    row = await conn.fetchrow(
        f"""SELECT {_ESCALATION_COLUMNS} FROM escalation.escalations
             WHERE escalation_id = $1 FOR UPDATE""",  # noqa: S608
        escalation_id,
    )
    return _escalation(row) if row else None


async def save_escalation(conn: Connection, escalation: Escalation) -> None:
    """Store an escalation as it now stands."""
    await save_escalations(conn, [escalation])


async def save_escalations(conn: Connection, escalations: Sequence[Escalation]) -> None:
    """Store escalations as they now stand (each id once), in one statement, in their order
    (an escalation resolved before its thread's next one opens)."""
    if not escalations:
        return
    rows = [
        (
            e.escalation_id,
            e.thread_id,
            e.rule.value,
            e.level,
            e.manager_email,
            e.state.value,
            e.reason,
            e.opened_at,
            e.decide_by,
            _OPTIONS.dump_json(e.options).decode(),
            _EVIDENCE.dump_json(e.evidence).decode(),
            e.decided_option.value if e.decided_option else None,
            e.decided_by,
            e.caused_at,
            e.reminders,
        )
        for e in escalations
    ]
    await conn.execute(
        """INSERT INTO escalation.escalations (escalation_id, thread_id, rule, level,
               manager_email, state, reason, opened_at, decide_by, options, evidence,
               decided_option, decided_by, caused_at, reminders)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[],
               $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[],
               $11::jsonb[], $12::text[], $13::text[], $14::timestamptz[], $15::int[])
           ON CONFLICT (escalation_id) DO UPDATE SET level = EXCLUDED.level,
               manager_email = EXCLUDED.manager_email, state = EXCLUDED.state,
               decide_by = EXCLUDED.decide_by, evidence = EXCLUDED.evidence,
               decided_option = EXCLUDED.decided_option, decided_by = EXCLUDED.decided_by,
               reminders = EXCLUDED.reminders, updated_at = now()""",
        *(list(column) for column in zip(*rows, strict=True)),
    )


async def list_escalations(
    conn: Connection, *, state: str | None, thread_id: str | None, limit: int
) -> list[Escalation]:
    """Escalations, newest first, optionally of one state or thread."""
    rows = await conn.fetch(
        f"""SELECT {_ESCALATION_COLUMNS} FROM escalation.escalations
             WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR thread_id = $2)
             ORDER BY opened_at DESC LIMIT $3""",  # noqa: S608
        state,
        thread_id,
        limit,
    )
    return [_escalation(r) for r in rows]


async def note_rating(conn: Connection, rated: CustomerRated) -> bool:
    """Keep the thread's rating if it is newer than the one kept; False for a stale revision.
    (A revision published twice, its first record kept by Kafka but not by intake, is ordered
    by its time.)"""
    kept = await conn.fetchval(
        """INSERT INTO escalation.ratings (thread_id, rating, revision, rated_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (thread_id) DO UPDATE SET rating = EXCLUDED.rating,
               revision = EXCLUDED.revision, rated_at = EXCLUDED.rated_at, updated_at = now()
            WHERE (escalation.ratings.revision, escalation.ratings.rated_at)
                  < (EXCLUDED.revision, EXCLUDED.rated_at)
           RETURNING true""",
        rated.thread_id,
        rated.rating,
        rated.revision,
        rated.rated_at,
    )
    return bool(kept)


async def feedback_asked(conn: Connection, thread_id: str) -> bool:
    """Whether the thread's customer was asked for feedback already (or rated it anyway)."""
    asked = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM escalation.threads
                           WHERE thread_id = $1 AND feedback_asked_at IS NOT NULL)
               OR EXISTS (SELECT 1 FROM escalation.ratings WHERE thread_id = $1)""",
        thread_id,
    )
    return bool(asked)


async def mark_feedback_asked(conn: Connection, thread_id: str, at: datetime) -> bool:
    """Record that the thread's customer is asked now; False if they were asked before."""
    marked = await conn.fetchval(
        """UPDATE escalation.threads SET feedback_asked_at = $2
            WHERE thread_id = $1 AND feedback_asked_at IS NULL RETURNING true""",
        thread_id,
        at,
    )
    return bool(marked)


@dataclass(frozen=True, slots=True)
class Rating:
    """A thread's kept rating."""

    rating: int
    revision: int
    rated_at: datetime


async def ratings(conn: Connection, thread_ids: Sequence[str]) -> dict[str, Rating]:
    """The kept rating of each of these threads that has one."""
    rows = await conn.fetch(
        """SELECT thread_id, rating, revision, rated_at FROM escalation.ratings
            WHERE thread_id = ANY($1::text[])""",
        list(thread_ids),
    )
    return {r["thread_id"]: Rating(r["rating"], r["revision"], r["rated_at"]) for r in rows}


async def save_ratings(conn: Connection, kept: Sequence[tuple[str, Rating]]) -> None:
    """Store threads' ratings (each thread once), in one statement; a stored newer one stays."""
    if not kept:
        return
    await conn.execute(
        """INSERT INTO escalation.ratings (thread_id, rating, revision, rated_at)
           SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::timestamptz[])
           ON CONFLICT (thread_id) DO UPDATE SET rating = EXCLUDED.rating,
               revision = EXCLUDED.revision, rated_at = EXCLUDED.rated_at, updated_at = now()
            WHERE (escalation.ratings.revision, escalation.ratings.rated_at)
                  < (EXCLUDED.revision, EXCLUDED.rated_at)""",
        [thread_id for thread_id, _ in kept],
        [r.rating for _, r in kept],
        [r.revision for _, r in kept],
        [r.rated_at for _, r in kept],
    )


async def cancel_timers(conn: Connection, subjects: Sequence[str]) -> None:
    """Cancel every timer of these subjects, in one statement (the platform's
    `timers.cancel_timers` takes one subject)."""
    if subjects:
        await conn.execute(
            "DELETE FROM escalation.timers WHERE subject = ANY($1::text[])", list(subjects)
        )

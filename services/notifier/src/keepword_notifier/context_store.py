"""The notifier's memory of each thread (schema `notifier`): who the customer is, what they
last wrote, the promise in question — kept from the events it reads."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from keepword_events import CommitmentStatusChanged, Customer, MessageReceived, Money
from keepword_platform.database import Connection

from .recipients import ThreadContext

_THREAD_COLUMNS = """thread_id, customer::text AS customer, subject, last_customer_message,
    deposit::text AS deposit, promise, production_note, feasible_due_at, waiting_since,
    last_customer_email_id"""


async def load(conn: Connection, thread_id: str) -> ThreadContext:
    """What is known of the thread (an empty context when nothing is)."""
    row = await conn.fetchrow(
        f"SELECT {_THREAD_COLUMNS} FROM notifier.threads WHERE thread_id = $1",  # noqa: S608 - constant columns
        thread_id,
    )
    return ThreadContext() if row is None else _context(row)


async def load_many(conn: Connection, thread_ids: Collection[str]) -> dict[str, ThreadContext]:
    """What is known of each thread (an empty context when nothing is), in one statement."""
    rows = await conn.fetch(
        f"SELECT {_THREAD_COLUMNS} FROM notifier.threads WHERE thread_id = ANY($1::text[])",  # noqa: S608 - as above
        list(thread_ids),
    )
    known = {row["thread_id"]: _context(row) for row in rows}
    return {thread_id: known.get(thread_id, ThreadContext()) for thread_id in thread_ids}


def _context(row: asyncpg.Record) -> ThreadContext:
    return ThreadContext(
        customer=Customer.model_validate_json(row["customer"]) if row["customer"] else None,
        subject=row["subject"],
        last_customer_message=row["last_customer_message"],
        deposit=Money.model_validate_json(row["deposit"]) if row["deposit"] else None,
        promise=row["promise"],
        production_note=row["production_note"],
        feasible_due_at=row["feasible_due_at"],
        waiting_since=row["waiting_since"],
        last_customer_email_id=row["last_customer_email_id"],
    )


@dataclass(frozen=True, slots=True)
class WaitBegan:
    """A customer's message started a wait: nobody owed them a reply before it."""

    answered_before: bool  # a person's reply had reached them on this thread earlier


async def customer_wrote(conn: Connection, message: MessageReceived) -> WaitBegan | None:
    """Remember the message; what wait it began, if it began one."""
    row = await conn.fetchrow(
        """INSERT INTO notifier.threads AS t (thread_id, customer, subject,
               last_customer_message, deposit, waiting_since, last_customer_email_id)
           VALUES ($1, $2::jsonb, $3, $4, $5::jsonb, $6, $7)
           ON CONFLICT (thread_id) DO UPDATE SET customer = EXCLUDED.customer,
               subject = coalesce(t.subject, EXCLUDED.subject),
               last_customer_message = EXCLUDED.last_customer_message,
               last_customer_email_id = EXCLUDED.last_customer_email_id,
               deposit = coalesce(EXCLUDED.deposit, t.deposit),
               waiting_since = coalesce(t.waiting_since, EXCLUDED.waiting_since),
               updated_at = now()
           RETURNING t.waiting_since = $6 AS began, t.answered_at IS NOT NULL AS answered""",
        message.thread_id,
        message.customer.model_dump_json(),
        message.subject,
        message.body[:4000],
        message.deposit.model_dump_json() if message.deposit else None,
        message.received_at,
        message.email_message_id,  # None for a web or phone message
    )
    return WaitBegan(answered_before=row["answered"]) if row and row["began"] else None


async def unverified_mail(conn: Connection, message: MessageReceived) -> None:
    """Remember mail that claims a staff address without proof as the latest message, labelled
    so in every email that quotes it; the thread's customer is left as it was."""
    text = f"[Unverified mail claiming to be from {message.author.email}]\n{message.body}"
    await conn.execute(
        """INSERT INTO notifier.threads AS t (thread_id, customer, subject, last_customer_message)
           VALUES ($1, $2::jsonb, $3, $4)
           ON CONFLICT (thread_id) DO UPDATE SET
               last_customer_message = EXCLUDED.last_customer_message, updated_at = now()""",
        message.thread_id,
        message.customer.model_dump_json(),
        message.subject,
        text[:4000],
    )


async def person_replied(conn: Connection, thread_id: str, at: datetime) -> None:
    """A person's reply reached the customer: the wait is over."""
    await conn.execute(
        """UPDATE notifier.threads SET waiting_since = NULL, answered_at = $2, updated_at = now()
            WHERE thread_id = $1""",
        thread_id,
        at,
    )


async def promise_moved(conn: Connection, change: CommitmentStatusChanged) -> None:
    """Remember the promise in question and production's word on it."""
    await conn.execute(
        """INSERT INTO notifier.threads AS t (thread_id, customer, promise, production_note,
               feasible_due_at)
           VALUES ($1, $2::jsonb, $3, $4, $5)
           ON CONFLICT (thread_id) DO UPDATE SET promise = EXCLUDED.promise,
               production_note = coalesce(EXCLUDED.production_note, t.production_note),
               feasible_due_at = coalesce(EXCLUDED.feasible_due_at, t.feasible_due_at),
               customer = coalesce(t.customer, EXCLUDED.customer), updated_at = now()""",
        change.thread_id,
        change.customer.model_dump_json() if change.customer else None,
        change.text,
        change.production_note,
        change.feasible_due_at,
    )

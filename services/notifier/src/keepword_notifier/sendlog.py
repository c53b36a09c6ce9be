"""The send log in PostgreSQL (schema `notifier`): what is due, what was sent, what failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from keepword_platform.database import Connection


@dataclass(frozen=True, slots=True)
class Send:
    """One email to send (or sent), exactly as it will go out."""

    idempotency_key: str
    notification_id: str
    source_event_id: str
    thread_id: str
    template: str
    recipient: str
    recipient_role: str
    message_id: str
    subject: str
    body_text: str
    body_html: str
    attempts: int = 0


async def add(conn: Connection, send: Send) -> bool:
    """Record that an email is due; False when it was already (a redelivered event)."""
    inserted = await conn.fetchval(
        """INSERT INTO notifier.sends (idempotency_key, notification_id, source_event_id,
               thread_id, template, recipient, recipient_role, message_id, subject, body_text,
               body_html)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING true""",
        send.idempotency_key,
        send.notification_id,
        send.source_event_id,
        send.thread_id,
        send.template,
        send.recipient,
        send.recipient_role,
        send.message_id,
        send.subject,
        send.body_text,
        send.body_html,
    )
    return bool(inserted)


async def claim_due(conn: Connection, now: datetime, limit: int) -> list[Send]:
    """Pending emails whose time has come, locked for this transaction (others skip them)."""
    rows = await conn.fetch(
        """SELECT idempotency_key, notification_id, source_event_id, thread_id, template,
                  recipient, recipient_role, message_id, subject, body_text, body_html, attempts
             FROM notifier.sends
            WHERE status = 'pending' AND next_attempt_at <= $1
            ORDER BY next_attempt_at LIMIT $2
            FOR UPDATE SKIP LOCKED""",
        now,
        limit,
    )
    return [Send(**dict(row)) for row in rows]


async def mark_sent(conn: Connection, key: str, attempts: int) -> None:
    """The server accepted it."""
    await conn.execute(
        """UPDATE notifier.sends SET status = 'sent', attempts = $2, finished_at = now(),
               last_error = NULL WHERE idempotency_key = $1""",
        key,
        attempts,
    )


async def mark_failed(conn: Connection, key: str, attempts: int, error: str) -> None:
    """The server refused it for good."""
    await conn.execute(
        """UPDATE notifier.sends SET status = 'failed', attempts = $2, finished_at = now(),
               last_error = $3 WHERE idempotency_key = $1""",
        key,
        attempts,
        error,
    )


async def retry_later(conn: Connection, key: str, attempts: int, error: str, at: datetime) -> None:
    """Refused for now: try again at `at`."""
    await conn.execute(
        """UPDATE notifier.sends SET attempts = $2, last_error = $3, next_attempt_at = $4
            WHERE idempotency_key = $1""",
        key,
        attempts,
        error,
        at,
    )


async def oldest_pending_age_seconds(conn: Connection, now: datetime) -> float:
    """How long the oldest pending email has waited (the queue's age, for metrics)."""
    oldest: datetime | None = await conn.fetchval(
        "SELECT min(created_at) FROM notifier.sends WHERE status = 'pending'"
    )
    return (now - oldest).total_seconds() if oldest else 0.0

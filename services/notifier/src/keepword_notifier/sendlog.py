"""The send log in PostgreSQL (schema `notifier`): what is due, what was sent, what failed.

A row's status: `held` (may join a digest, see `digest`), `pending` (to send), `digested`
(carried by the digest row named in `digest_of`), `sent` or `failed`. A pending row with
`leased_until` in the future is being sent by one sender (see `sender`); others leave it alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from keepword_platform.database import Connection
from keepword_platform.messaging import store
from keepword_platform.messaging.records import Outgoing, headers_to_json

# Digests' send-log keys start with it (see digest.digest_ids).
DIGEST_KEY_PREFIX = "digest:"
_SCHEMA = "notifier"  # its outbox is the service's


@dataclass(frozen=True, slots=True)
class Send:
    """One email to send (or sent), exactly as it will go out."""

    idempotency_key: str
    notification_id: str
    source_event_id: str
    thread_id: str | None  # None for a digest, which speaks of several threads
    template: str
    recipient: str
    recipient_role: str
    message_id: str
    subject: str
    body_text: str
    body_html: str
    attempts: int = 0
    digest_group: str | None = None  # emails of one group may be folded into one digest
    digest_text: str | None = None  # this email's part of a digest, rendered
    digest_html: str | None = None
    in_reply_to: str | None = None  # the customer's email it answers (see compose.references)
    # When it was recorded as due: its Date header, so that an email sent again (a sender killed
    # between the server's "250" and the record of it) is the same bytes, not a new date.
    created_at: datetime | None = None
    # A PNG the HTML shows inline as `cid:<inline_cid>` (see compose), or none.
    inline_cid: str | None = None
    inline_png: bytes | None = None


_COLUMNS = """idempotency_key, notification_id, source_event_id, thread_id, template, recipient,
    recipient_role, message_id, subject, body_text, body_html, attempts, digest_group,
    digest_text, digest_html, in_reply_to, created_at, inline_cid, inline_png"""


def _qualified(alias: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in _COLUMNS.split(","))


async def recorded(conn: Connection, idempotency_key: str) -> bool:
    """Whether the email of `idempotency_key` is in the send log already."""
    found = await conn.fetchval(
        "SELECT true FROM notifier.sends WHERE idempotency_key = $1", idempotency_key
    )
    return bool(found)


async def add(conn: Connection, send: Send) -> bool:
    """Record that an email is due; False when it was already (a redelivered event).

    An email that may join a digest starts `held`, for the digest planner to decide on.
    """
    inserted = await conn.fetchval(
        """INSERT INTO notifier.sends (idempotency_key, notification_id, source_event_id,
               thread_id, template, recipient, recipient_role, message_id, subject, body_text,
               body_html, digest_group, digest_text, digest_html, in_reply_to, inline_cid,
               inline_png, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                   CASE WHEN $12::text IS NULL THEN 'pending' ELSE 'held' END)
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
        send.digest_group,
        send.digest_text,
        send.digest_html,
        send.in_reply_to,
        send.inline_cid,
        send.inline_png,
    )
    if inserted:
        await announce(conn)
    return bool(inserted)


async def add_many(conn: Connection, sends: Sequence[Send]) -> None:
    """Record that these emails are due, in one statement (see `add`); those recorded already
    (a redelivered event) stay as they were."""
    if not sends:
        return
    columns = [
        [getattr(send, name) for send in sends]
        for name in (
            "idempotency_key",
            "notification_id",
            "source_event_id",
            "thread_id",
            "template",
            "recipient",
            "recipient_role",
            "message_id",
            "subject",
            "body_text",
            "body_html",
            "digest_group",
            "digest_text",
            "digest_html",
            "in_reply_to",
            "inline_cid",
            "inline_png",
        )
    ]
    await conn.execute(
        """INSERT INTO notifier.sends (idempotency_key, notification_id, source_event_id,
               thread_id, template, recipient, recipient_role, message_id, subject, body_text,
               body_html, digest_group, digest_text, digest_html, in_reply_to, inline_cid,
               inline_png, status)
           SELECT *, CASE WHEN u.digest_group IS NULL THEN 'pending' ELSE 'held' END
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                         $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                         $17::bytea[])
                  AS u(idempotency_key, notification_id, source_event_id, thread_id, template,
                       recipient, recipient_role, message_id, subject, body_text, body_html,
                       digest_group, digest_text, digest_html, in_reply_to, inline_cid,
                       inline_png)
           ON CONFLICT (idempotency_key) DO NOTHING""",
        *columns,
    )
    await announce(conn)


# Senders LISTEN here: emails were added (told when the adding transaction commits).
CHANNEL = "notifier_sends"


async def announce(conn: Connection) -> None:
    """Wake the senders when the caller's transaction commits: emails are waiting (they would
    find them at their next poll anyway)."""
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


async def claim_due(
    conn: Connection, now: datetime, limit: int, *, lease_until: datetime, excluding: list[str]
) -> list[Send]:
    """Lease pending emails whose time has come until `lease_until`, in one statement that
    commits at once (outside a transaction): other senders skip them until the lease runs out.

    `excluding` are the caller's own emails whose outcome it knows but could not record yet:
    never taken again, even with their lease run out.
    """
    rows = await conn.fetch(
        f"""WITH due AS (
                SELECT idempotency_key FROM notifier.sends
                 WHERE status = 'pending' AND next_attempt_at <= $1
                   AND (leased_until IS NULL OR leased_until <= $1)
                   AND idempotency_key <> ALL($4::text[])
                 ORDER BY next_attempt_at LIMIT $2
                   FOR UPDATE SKIP LOCKED)
            UPDATE notifier.sends AS s SET leased_until = $3
              FROM due WHERE s.idempotency_key = due.idempotency_key
            RETURNING {_qualified("s")}""",  # noqa: S608 - a constant column list
        now,
        limit,
        lease_until,
        excluding,
    )
    return [Send(**dict(row)) for row in rows]


async def extend_leases(conn: Connection, keys: list[str], until: datetime) -> None:
    """The caller still holds these emails (being sent, or their outcome not yet recorded)."""
    if keys:
        await conn.execute(
            """UPDATE notifier.sends SET leased_until = $2
                WHERE idempotency_key = ANY($1::text[]) AND status = 'pending'""",
            keys,
            until,
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the server answered for one email, as the send log records it."""

    key: str
    attempts: int
    at: datetime  # when the server answered
    error: str | None = None  # None: accepted


async def mark_finished(conn: Connection, outcomes: Sequence[Outcome]) -> set[str]:
    """The server accepted these emails (no error) or refused them for good (and, for a
    digest, every email it carried), in two statements whatever their number. Returns the
    keys recorded now; a row no longer pending was recorded already (a retried commit whose
    answer was lost)."""
    if not outcomes:
        return set()
    rows = await conn.fetch(
        """UPDATE notifier.sends AS s
              SET status = CASE WHEN o.error IS NULL THEN 'sent' ELSE 'failed' END,
                  attempts = o.attempts, finished_at = o.at, last_error = o.error,
                  leased_until = NULL
             FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[])
                  AS o(key, attempts, at, error)
            WHERE s.idempotency_key = o.key AND s.status = 'pending'
        RETURNING s.idempotency_key""",
        [o.key for o in outcomes],
        [o.attempts for o in outcomes],
        [o.at for o in outcomes],
        [o.error for o in outcomes],
    )
    done = {row["idempotency_key"] for row in rows}
    await _settle_members(conn, [key for key in done if key.startswith(DIGEST_KEY_PREFIX)])
    return done


async def record_outcomes(
    conn: Connection,
    finished: Sequence[Outcome],
    retries: Sequence[tuple[Outcome, datetime]],
    announcements: Sequence[tuple[str, Outgoing]],
) -> set[str]:
    """`mark_finished` and `retry_later` for emails that are no digests, with the outbox rows
    announcing the finished ones (each paired with its email's key) — all in one statement,
    which wakes the outbox relay too: outside a transaction, one round trip and one commit.
    Returns the keys finished now (as `mark_finished`); only their announcements are added."""
    outcomes = [(o, None) for o in finished] + list(retries)
    if any(o.key.startswith(DIGEST_KEY_PREFIX) for o, _ in outcomes):
        raise ValueError("a digest's outcome settles its members too: see mark_finished")
    if not outcomes:
        return set()
    rows = await conn.fetch(
        """WITH done AS (
               UPDATE notifier.sends AS s
                  SET status = CASE WHEN o.retry_at IS NOT NULL THEN s.status
                                    WHEN o.error IS NULL THEN 'sent' ELSE 'failed' END,
                      attempts = o.attempts,
                      finished_at = CASE WHEN o.retry_at IS NULL THEN o.at ELSE s.finished_at END,
                      last_error = CASE WHEN o.retry_at IS NULL THEN o.error
                                        ELSE coalesce(o.error, 'deferred') END,
                      next_attempt_at = coalesce(o.retry_at, s.next_attempt_at),
                      leased_until = NULL
                 FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[],
                             $5::timestamptz[]) AS o(key, attempts, at, error, retry_at)
                WHERE s.idempotency_key = o.key AND s.status = 'pending'
            RETURNING s.idempotency_key AS key, o.retry_at IS NULL AS finished),
           announced AS (
               INSERT INTO notifier.outbox (event_id, topic, key, value, headers)
               SELECT a.event_id, a.topic, a.key, a.value, a.headers::jsonb
                 FROM unnest($6::text[], $7::text[], $8::text[], $9::bytea[], $10::bytea[],
                             $11::text[]) WITH ORDINALITY
                      AS a(send_key, event_id, topic, key, value, headers, n)
                WHERE a.send_key IN (SELECT key FROM done WHERE finished)
                ORDER BY a.n
            RETURNING 1)
           SELECT key, finished,
                  CASE WHEN EXISTS (SELECT FROM announced)
                       THEN pg_notify($12, '')::text END AS woken
             FROM done""",
        [o.key for o, _ in outcomes],
        [o.attempts for o, _ in outcomes],
        [o.at for o, _ in outcomes],
        [o.error if at is None else o.error or "deferred" for o, at in outcomes],
        [at for _, at in outcomes],
        [key for key, _ in announcements],
        [a.event_id for _, a in announcements],
        [a.record.topic for _, a in announcements],
        [a.record.key for _, a in announcements],
        [a.record.value for _, a in announcements],
        [headers_to_json(a.record.headers) for _, a in announcements],
        store.notify_channel(_SCHEMA),
    )
    return {row["key"] for row in rows if row["finished"]}


async def _settle_members(conn: Connection, digest_keys: list[str]) -> None:
    # The emails a digest carried end as the digest did (two statements rather than an OR,
    # which would keep PostgreSQL from its indexes).
    if digest_keys:
        await conn.execute(
            """UPDATE notifier.sends AS m SET status = d.status, attempts = d.attempts,
                   finished_at = d.finished_at, last_error = d.last_error
                 FROM notifier.sends AS d
                WHERE d.idempotency_key = ANY($1::text[]) AND m.digest_of = d.idempotency_key""",
            digest_keys,
        )


async def retry_later(conn: Connection, retries: Sequence[tuple[Outcome, datetime]]) -> None:
    """Refused for now: try each again at the time paired with it (the lease is given up)."""
    if retries:
        await conn.execute(
            """UPDATE notifier.sends AS s SET attempts = o.attempts, last_error = o.error,
                   next_attempt_at = o.at, leased_until = NULL
                 FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[])
                      AS o(key, attempts, error, at)
                WHERE s.idempotency_key = o.key AND s.status = 'pending'""",
            [o.key for o, _ in retries],
            [o.attempts for o, _ in retries],
            [o.error or "deferred" for o, _ in retries],
            [at for _, at in retries],
        )


async def oldest_waiting_age_seconds(conn: Connection, now: datetime) -> float:
    """How long the oldest email not yet sent has waited (the queue's age, for metrics)."""
    oldest: datetime | None = await conn.fetchval(
        "SELECT min(created_at) FROM notifier.sends WHERE status IN ('held', 'pending')"
    )
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


# ----- digests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupState:
    """What the digest rules need to know of one group with held emails."""

    group: str
    held_keys: list[str]  # oldest first
    last_sent_at: datetime | None  # when its last email was accepted
    in_flight: bool  # one of its emails is pending (released, a digest, or awaiting a retry)


async def take_due_groups(conn: Connection, now: datetime, limit: int) -> list[GroupState]:
    """Groups with held emails whose turn has come, each taken for this transaction (a group
    another sender is deciding on is skipped), with what the rules need — one statement."""
    rows = await conn.fetch(
        """WITH due AS (
               SELECT DISTINCT digest_group AS g FROM notifier.sends
                WHERE status = 'held' AND next_attempt_at <= $1 LIMIT $2),
           mine AS MATERIALIZED (
               SELECT g FROM due WHERE pg_try_advisory_xact_lock(hashtext('notifier.digest:' || g)))
           SELECT m.g AS group,
                  ARRAY(SELECT idempotency_key FROM notifier.sends
                         WHERE status = 'held' AND digest_group = m.g
                         ORDER BY created_at, idempotency_key) AS held_keys,
                  (SELECT finished_at FROM notifier.sends
                    WHERE digest_group = m.g AND status = 'sent'
                    ORDER BY finished_at DESC LIMIT 1) AS last_sent_at,
                  EXISTS (SELECT 1 FROM notifier.sends
                           WHERE digest_group = m.g AND status = 'pending') AS in_flight
             FROM mine m""",
        now,
        limit,
    )
    return [
        GroupState(r["group"], list(r["held_keys"]), r["last_sent_at"], r["in_flight"])
        for r in rows
        if r["held_keys"]
    ]


async def hold(conn: Connection, until: dict[str, datetime]) -> None:
    """Keep each group's held emails back until its time."""
    if not until:
        return
    await conn.execute(
        """UPDATE notifier.sends AS s SET next_attempt_at = u.until
             FROM unnest($1::text[], $2::timestamptz[]) AS u(g, until)
            WHERE s.status = 'held' AND s.digest_group = u.g""",
        list(until),
        list(until.values()),
    )


async def release(conn: Connection, keys: list[str], now: datetime) -> None:
    """These held emails go out on their own."""
    if not keys:
        return
    await conn.execute(
        """UPDATE notifier.sends SET status = 'pending', next_attempt_at = $2
            WHERE idempotency_key = ANY($1::text[]) AND status = 'held'""",
        keys,
        now,
    )


async def held(conn: Connection, keys: list[str]) -> list[Send]:
    """The held emails with these keys, oldest first."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM notifier.sends
            WHERE idempotency_key = ANY($1::text[]) AND status = 'held'
            ORDER BY created_at, idempotency_key""",  # noqa: S608 - as above
        keys,
    )
    return [Send(**dict(row)) for row in rows]


async def fold(conn: Connection, digest: Send, member_keys: list[str], now: datetime) -> None:
    """Record `digest` as due, carrying the held emails `member_keys`."""
    await conn.execute(
        """INSERT INTO notifier.sends (idempotency_key, notification_id, source_event_id,
               thread_id, template, recipient, recipient_role, message_id, subject, body_text,
               body_html, digest_group, status, next_attempt_at)
           VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12)""",
        digest.idempotency_key,
        digest.notification_id,
        digest.source_event_id,
        digest.template,
        digest.recipient,
        digest.recipient_role,
        digest.message_id,
        digest.subject,
        digest.body_text,
        digest.body_html,
        digest.digest_group,
        now,
    )
    await conn.execute(
        """UPDATE notifier.sends SET status = 'digested', digest_of = $1
            WHERE idempotency_key = ANY($2::text[]) AND status = 'held'""",
        digest.idempotency_key,
        member_keys,
    )


async def digest_members(conn: Connection, digest_key: str) -> list[Send]:
    """The emails a digest carries, oldest first."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM notifier.sends WHERE digest_of = $1
            ORDER BY created_at, idempotency_key""",  # noqa: S608 - as above
        digest_key,
    )
    return [Send(**dict(row)) for row in rows]

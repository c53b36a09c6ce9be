"""Single use of a signed link, when the action is an event published to Kafka.

Intake has no outbox: it publishes and waits for the broker. So the link's nonce is recorded
first (state 'claimed', with the action to publish and an event id derived from the nonce),
then the event is published, then the row is marked 'done'. If publishing fails the row stays
'claimed': the next POST republishes the *stored* action under the *same* event id, and the
consumers' inbox (keyed by event id) keeps one. Two racing POSTs may both publish; same id, so
the ledger still records one. A 'done' link is refused as used.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
import structlog
from fastapi.responses import HTMLResponse
from keepword_platform.database import Connection
from keepword_platform.problems import Problem
from keepword_platform.signed_links import SignedLink

from keepword_intake.publishing import BrokerUnavailable, EventTooLarge

from .kit import event_id_of, refused

log = structlog.get_logger(__name__)

Action = dict[str, Any]
Publish = Callable[[Action, str], Awaitable[None]]  # (the stored action, its event id)
Outcome = Literal["done", "used", "unavailable"]


@dataclass(frozen=True, slots=True)
class LinkUse:
    """A link's recorded use: the action it asked for, its event id, whether Kafka has it."""

    action: Action
    event_id: str
    done: bool


async def use_of(conn: Connection | asyncpg.Pool, nonce: str) -> LinkUse | None:
    """The link's recorded use, if any."""
    row = await conn.fetchrow(
        "SELECT action, event_id, state FROM intake.link_uses WHERE nonce = $1", nonce
    )
    if row is None:
        return None
    return LinkUse(json.loads(row["action"]), row["event_id"], row["state"] == "done")


async def subject_done(pool: asyncpg.Pool, purpose: str, subject: str) -> bool:
    """Whether any link of `purpose` has acted on `subject` (e.g. one of a promise's answers)."""
    done = await pool.fetchval(
        """SELECT true FROM intake.link_uses
           WHERE purpose = $1 AND subject = $2 AND state = 'done' LIMIT 1""",
        purpose,
        subject,
    )
    return bool(done)


async def _claim(pool: asyncpg.Pool, link: SignedLink, subject: str, action: Action) -> LinkUse:
    async with pool.acquire() as conn:
        inserted = await conn.fetchval(
            """INSERT INTO intake.link_uses (nonce, purpose, subject, action, event_id)
               VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (nonce) DO NOTHING
               RETURNING true""",
            link.nonce,
            link.purpose,
            subject,
            json.dumps(action),
            event_id_of(link),
        )
        if inserted:
            return LinkUse(action, event_id_of(link), done=False)
        existing = await use_of(conn, link.nonce)
    assert existing is not None  # rows are never deleted while their link can be read
    return existing


async def act_once(
    pool: asyncpg.Pool, link: SignedLink, *, subject: str, action: Action, publish: Publish
) -> Outcome:
    """Publish what the link's form asked for, once: "done", "used" (already done), or
    "unavailable" (Kafka did not take it; the same action is retried on the next POST)."""
    use = await _claim(pool, link, subject, action)
    if use.done:
        return "used"
    try:
        await publish(use.action, use.event_id)
    except (BrokerUnavailable, EventTooLarge, Problem):  # Problem: the API's 413 or 503
        log.warning("link action not published", purpose=link.purpose, event_id=use.event_id)
        return "unavailable"
    await pool.execute(
        "UPDATE intake.link_uses SET state = 'done', done_at = now() WHERE nonce = $1", link.nonce
    )
    return "done"


async def refusal(
    pool: asyncpg.Pool, link: SignedLink, purpose: str, subject: str, *, title: str, detail: str
) -> HTMLResponse | None:
    """The page for a link already used, or whose subject another link of the same email has
    acted on (`title`, `detail`); None when the link may still act."""
    use = await use_of(pool, link.nonce)
    if use is not None and use.done:
        return refused("used")
    if use is None and await subject_done(pool, purpose, subject):
        return refused("closed", title=title, detail=detail)
    return None

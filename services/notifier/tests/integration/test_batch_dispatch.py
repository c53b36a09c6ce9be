"""The dispatcher's batch step (a whole batch of events with the threads' contexts read at once
and the emails recorded at once) records exactly the emails the event-by-event step records, and
an event sees what an earlier event of the same batch taught the notifier about its thread."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from keepword_events import Customer, Envelope, Event, new_envelope
from keepword_notifier.dispatcher import Dispatcher
from keepword_notifier.settings import NotifierSettings
from keepword_platform.company import load_company_config
from keepword_platform.database import Connection

from .running import CONFIG, customer_message, escalation, new_thread

pytestmark = [pytest.mark.postgres]

MANAGER = "morgan.lead@brightline.example"
_SIGNED = re.compile(r"(https?://[^\s\"<>]*/)[\w.-]{20,}")
WROTE = "My order 4711 has still not arrived, three weeks on."


def _events() -> list[Envelope[Event]]:
    dana = Customer(email="dana@example.com", name="Dana Whitfield")
    known, fresh = new_thread(), new_thread()
    events: list[Event] = [
        customer_message(dana, known),
        escalation(MANAGER, known),
        # The customer writes and is escalated in the same batch: the escalation quotes them.
        customer_message(dana, fresh, body=WROTE),
        escalation(MANAGER, fresh),
        escalation("drew.director@brightline.example"),  # a thread nobody wrote on
    ]
    return [new_envelope(event, source="/test") for event in events]


async def _recorded(conn: Connection, threads: set[str]) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT idempotency_key, notification_id, thread_id, template, recipient, message_id,
                  subject, body_text, body_html, digest_group, digest_text, digest_html,
                  in_reply_to, status
             FROM notifier.sends WHERE thread_id = ANY($1::text[]) ORDER BY idempotency_key""",
        list(threads),
    )
    # Signed links carry the time they were signed: the same link, signed a moment later.
    return [
        {k: _SIGNED.sub(r"\1<signed>", v) if isinstance(v, str) else v for k, v in row.items()}
        for row in rows
    ]


async def test_a_batch_records_what_events_one_by_one_record(
    db: asyncpg.Pool, tmp_path: Path
) -> None:
    config = tmp_path / "k.toml"
    config.write_text(CONFIG)
    company = load_company_config(config)
    dispatcher = Dispatcher(lambda: company, NotifierSettings(config=config))
    envelopes = _events()
    threads = {e.data.thread_id for e in envelopes}

    async with db.acquire() as conn:
        one_by_one = conn.transaction()
        await one_by_one.start()
        for envelope in envelopes:
            await dispatcher.on_event(conn, envelope)
        expected = await _recorded(conn, threads)
        await one_by_one.rollback()

        async with conn.transaction():
            await dispatcher.on_events(conn, envelopes)
        recorded = await _recorded(conn, threads)

    assert recorded == expected
    assert {row["template"] for row in recorded} == {"escalation_opened_manager"}
    assert len(recorded) == 3
    [quoting] = [r for r in recorded if WROTE in r["body_text"]]
    assert quoting["thread_id"] == envelopes[3].data.thread_id

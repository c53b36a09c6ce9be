"""A reply is read for promises off the event loop, within a time budget."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from keepword_commitments.extraction import Reading, read_reply
from keepword_commitments.handlers import promises_in_time
from keepword_events import Channel, Customer, Person, ReplySent, Role

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)
TUESDAY_10AM = datetime(2026, 3, 10, 10, 0, tzinfo=NY)  # after the March DST switch
PROMISE = "We will respond within three hours."


def sales_reply(body: str) -> ReplySent:
    sales = Person(email="sam.sales@brightline.example", name="Sam Ortega", role=Role.SALES)
    return ReplySent(
        thread_id="thr-1",
        correlation_id="thr-1",
        message_id="msg-1",
        channel=Channel.EMAIL,
        customer=Customer(email="dana@example.com", name="Dana Whitfield"),
        author=sales,
        body=body,
        sent_at=TUESDAY_10AM,
        received_at=TUESDAY_10AM,
    )


async def test_a_reply_is_read_off_the_event_loop_with_the_same_promises() -> None:
    reply = sales_reply(PROMISE)

    found = await promises_in_time(reply, timezone=NEW_YORK, event_id="evt-1")

    assert found == read_reply(PROMISE, sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    assert len(found.promises) == 1


async def test_over_its_budget_a_reply_yields_no_promises_and_the_log_has_no_text() -> None:
    reply = sales_reply(PROMISE * 10)

    with structlog.testing.capture_logs() as logs:
        found = await promises_in_time(reply, timezone=NEW_YORK, event_id="evt-1", budget=0)

    assert found == Reading(promises=[], vague=[])
    assert [(line["thread_id"], line["event_id"], line["body_chars"]) for line in logs] == [
        ("thr-1", "evt-1", len(reply.body))
    ]
    assert "respond" not in str(logs)

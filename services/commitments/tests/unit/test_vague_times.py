"""A promise that named only a vague time is told to its maker: one event each, logged without
the reply's words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from keepword_commitments.extraction import read_reply
from keepword_commitments.vague_times import vague_times_told
from keepword_events import (
    Channel,
    CommitmentKind,
    Customer,
    Person,
    ReplySent,
    Role,
    VagueTimePromised,
)

NEW_YORK = "America/New_York"
TUESDAY_10AM = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo(NEW_YORK))
SAM = Person(email="sam.sales@brightline.example", name="Sam Ortega", role=Role.SALES)
DANA = Customer(email="dana@example.com", name="Dana Whitfield")


def sales_reply(body: str) -> ReplySent:
    return ReplySent(
        thread_id="thr-1",
        correlation_id="thr-1",
        message_id="msg-1",
        channel=Channel.EMAIL,
        customer=DANA,
        author=SAM,
        body=body,
        sent_at=TUESDAY_10AM,
        received_at=TUESDAY_10AM,
    )


def told(body: str) -> list[VagueTimePromised]:
    reading = read_reply(body, sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    recorded = {found: f"cmt-{index}" for index, found in enumerate(reading.promises)}
    return vague_times_told(reading, sales_reply(body), event_id="evt-1", recorded=recorded)


def test_a_response_as_soon_as_possible_is_told_to_its_maker_and_not_recorded() -> None:
    (event,) = told("Thanks Dana. We'll get back to you as soon as possible.")

    assert event == VagueTimePromised(
        thread_id="thr-1",
        correlation_id="thr-1",
        causation_id="evt-1",
        message_id="msg-1",
        made_by=SAM,
        kind=CommitmentKind.RESPONSE_TIME,
        vague_time="as soon as possible",
        text="We'll get back to you as soon as possible.",
        recorded=False,
        customer=DANA,
        sent_at=TUESDAY_10AM,
    )


def test_each_vague_promise_is_told_in_text_order_with_the_commitment_it_became() -> None:
    events = told("We'll get back to you shortly, and I will refund your deposit ASAP.")

    assert [(e.kind, e.vague_time, e.recorded, e.commitment_id) for e in events] == [
        (CommitmentKind.RESPONSE_TIME, "shortly", False, None),
        (CommitmentKind.REFUND, "asap", True, "cmt-0"),
    ]


def test_a_promise_with_a_real_time_tells_nobody() -> None:
    assert told("We will respond within three hours. Talk soon!") == []


def test_a_vague_time_is_logged_for_its_maker_without_the_text() -> None:
    with structlog.testing.capture_logs() as logs:
        told("Thanks Dana. We'll get back to you shortly, and I will refund your deposit ASAP.")

    assert [
        (line["message_id"], line["kind"], line["vague_time"], line["recorded"]) for line in logs
    ] == [("msg-1", "response_time", "shortly", False), ("msg-1", "refund", "asap", True)]
    assert "Dana" not in str(logs)
    assert "deposit" not in str(logs)

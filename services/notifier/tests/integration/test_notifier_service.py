"""The notifier running (real lifespan) against the real broker, database and an SMTP server:
acknowledgements when nobody answered, escalation emails with signed links, and redelivered
events sending nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from keepword_events import (
    Channel,
    Customer,
    EscalationOpened,
    EscalationRule,
    MessageReceived,
    Option,
    OptionKind,
    Person,
    ReplySent,
    Role,
    new_envelope,
    topics,
)
from keepword_platform.kafka import make_broker, publish
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.kafka_probe import TopicProbe

from .mail import Catcher
from .running import until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

DANA = Customer(email="dana@example.com", name="Dana Whitfield")
CUSTOMER = Person(email="dana@example.com", name="Dana Whitfield", role=Role.CUSTOMER)
MORGAN = Person(email="morgan.lead@brightline.example", name="Morgan Reyes", role=Role.MANAGEMENT)


async def _send(bootstrap: str, *events: Any) -> list[Any]:
    producer = make_broker(KeepwordSettings(kafka_bootstrap=bootstrap), client_id="t")
    await producer.start()
    try:
        envelopes = [new_envelope(e, source="/test") for e in events]
        for envelope in envelopes:
            await publish(producer, envelope)
        return envelopes
    finally:
        await producer.stop()


async def _until(check: Any, within: float = 20) -> None:
    for _ in range(int(within / 0.2)):
        if check():
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("condition not met")


def _message(thread: str) -> MessageReceived:
    now = datetime.now(UTC)
    return MessageReceived(
        thread_id=thread,
        correlation_id=thread,
        message_id=f"msg-{uuid.uuid4().hex}",
        channel=Channel.WEB,
        customer=DANA,
        author=CUSTOMER,
        subject="Where is my report?",
        body="Hello,\n\nI paid a deposit two weeks ago and have heard nothing since.",
        sent_at=now,
        received_at=now,
    )


async def test_an_unanswered_customer_is_acknowledged_once(
    notifier: Catcher, fresh_kafka: str
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    async with TopicProbe(fresh_kafka, [topics.NOTIFICATIONS]) as probe:
        first = _message(thread).model_copy(update={"email_message_id": "<m1.dana@example.com>"})
        await _send(fresh_kafka, first, _message(thread))
        await _until(lambda: len(notifier.to("dana@example.com", thread)) >= 1)
        await asyncio.sleep(2)
        records = await probe.records()

    [ack] = notifier.to("dana@example.com", thread)
    assert f"[#{thread}]" in ack.message["Subject"]
    assert ack.message_id.startswith(f"<kw.{thread}.")
    assert ack.message["In-Reply-To"] == "<m1.dana@example.com>"  # it answers her email
    assert str(ack.message["References"]).split() == [  # folded when long: split at spaces
        f"<kw.{thread}.thread@brightline.example>",
        "<m1.dana@example.com>",
    ]
    text = ack.text()
    assert "Dana" in text
    assert [r.key for r in records].count(thread.encode()) == 1  # one NotificationSent


async def test_a_reply_in_time_means_no_acknowledgement(
    notifier: Catcher, fresh_kafka: str
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    now = datetime.now(UTC)
    reply = ReplySent(
        thread_id=thread,
        correlation_id=thread,
        message_id=f"msg-{uuid.uuid4().hex}",
        channel=Channel.EMAIL,
        customer=DANA,
        author=Person(email="casey.service@brightline.example", role=Role.SERVICE),
        body="Here it is.",
        sent_at=now,
        received_at=now,
    )
    await _send(fresh_kafka, _message(thread), reply)
    await asyncio.sleep(3)
    assert [m for m in notifier.mail if thread in str(m.message["Subject"])] == []


async def test_a_managers_internal_note_does_not_end_the_customers_wait(
    notifier: Catcher, fresh_kafka: str, db: asyncpg.Pool
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    first = _message(thread)
    await _send(fresh_kafka, first)
    await _until(lambda: len(notifier.to("dana@example.com", thread)) == 1)  # acknowledged

    # The manager answers our escalation email: intake publishes a reply naming no customer.
    now = datetime.now(UTC)
    note = ReplySent(
        thread_id=thread,
        correlation_id=thread,
        message_id=f"msg-{uuid.uuid4().hex}",
        channel=Channel.EMAIL,
        customer=Customer(),
        author=MORGAN,
        body="Handle it.",
        sent_at=now,
        received_at=now,
    )
    *_, again = await _send(fresh_kafka, note, _message(thread))  # then Dana writes again

    async def handled() -> bool:
        return bool(await db.fetchval("SELECT 1 FROM notifier.inbox WHERE event_id = $1", again.id))

    await until(handled, "Dana's second message handled")
    waiting_since = await db.fetchval(
        "SELECT waiting_since FROM notifier.threads WHERE thread_id = $1", thread
    )
    assert waiting_since == first.received_at  # still waiting since her first message
    timers = await db.fetchval("SELECT count(*) FROM notifier.timers WHERE subject = $1", thread)
    assert timers == 0  # no new wait, so no second acknowledgement due
    assert len(notifier.to("dana@example.com", thread)) == 1


async def test_the_manager_gets_signed_option_links_and_redelivery_sends_nothing_new(
    notifier: Catcher, fresh_kafka: str
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    opened = EscalationOpened(
        thread_id=thread,
        correlation_id=thread,
        escalation_id=f"esc-{thread}",
        rule=EscalationRule.STALLED,
        level=1,
        manager=MORGAN,
        customer=DANA,
        reason="The customer has waited 26 hours for a first reply.",
        options=(
            Option(kind=OptionKind.PHONE_CALL, summary="Call Dana"),
            Option(kind=OptionKind.REFUND, summary="Refund the disputed amount"),
            Option(kind=OptionKind.HANDLE_IT, summary="Handle it (no decision)"),
        ),
        decide_by=datetime.now(UTC) + timedelta(hours=4),
    )
    [envelope] = await _send(fresh_kafka, opened)
    await _until(lambda: len(notifier.to("morgan.lead@brightline.example", thread)) >= 1)
    producer = make_broker(KeepwordSettings(kafka_bootstrap=fresh_kafka), client_id="t")
    await producer.start()
    await publish(producer, envelope)  # the same event again
    await producer.stop()
    await asyncio.sleep(3)

    [email] = notifier.to("morgan.lead@brightline.example", thread)
    html = email.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert html.count("/decisions/") >= 3
    assert notifier.to("dana@example.com", thread) == []  # never an internal email to them


async def test_history_older_than_the_horizon_emails_nobody(
    notifier: Catcher, fresh_kafka: str
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    old = datetime.now(UTC) - timedelta(days=3)
    opened = EscalationOpened(
        thread_id=thread,
        correlation_id=thread,
        escalation_id=f"esc-{thread}",
        rule=EscalationRule.STALLED,
        level=1,
        manager=MORGAN,
        customer=DANA,
        reason="An old escalation, read again by a new consumer.",
        options=(Option(kind=OptionKind.HANDLE_IT, summary="Handle it (no decision)"),),
        decide_by=old + timedelta(hours=4),
    )
    producer = make_broker(KeepwordSettings(kafka_bootstrap=fresh_kafka), client_id="t")
    await producer.start()
    await publish(producer, new_envelope(opened, source="/test", time=old))
    await producer.stop()
    await asyncio.sleep(3)

    assert notifier.to("morgan.lead@brightline.example", thread) == []

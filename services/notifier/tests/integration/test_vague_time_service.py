"""The notifier running against the real broker, database and an SMTP server: a promise that
named only a vague time reaches its maker, once, and nobody else."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from keepword_events import (
    CommitmentKind,
    Customer,
    Person,
    Role,
    VagueTimePromised,
    new_envelope,
)
from keepword_platform.kafka import make_broker, publish
from keepword_platform.settings import KeepwordSettings

from .mail import Catcher
from .running import until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

SAM = "sam.sales@brightline.example"


async def test_the_maker_of_a_vague_time_is_emailed_once_and_the_customer_never(
    notifier: Catcher, fresh_kafka: str
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    event = VagueTimePromised(
        thread_id=thread,
        correlation_id=thread,
        causation_id="evt-reply",
        message_id="msg-1",
        made_by=Person(email=SAM, name="Sam", role=Role.SALES),
        kind=CommitmentKind.RESPONSE_TIME,
        vague_time="as soon as possible",
        text="We'll get back to you as soon as possible.",
        recorded=False,
        customer=Customer(email="dana@example.com", name="Dana Whitfield"),
        sent_at=datetime.now(UTC),
    )
    envelope = new_envelope(event, source="/test")
    producer = make_broker(KeepwordSettings(kafka_bootstrap=fresh_kafka), client_id="t")
    await producer.start()
    try:
        await publish(producer, envelope)

        async def emailed() -> bool:
            return len(notifier.to(SAM, thread)) >= 1

        await until(emailed, "the maker emailed")
        await publish(producer, envelope)  # redelivered: the inbox knows it
        await asyncio.sleep(2)
    finally:
        await producer.stop()

    [email] = notifier.to(SAM, thread)
    assert "as soon as possible" in email.text()
    assert "date and a time" in email.text()
    assert notifier.to("dana@example.com", thread) == []

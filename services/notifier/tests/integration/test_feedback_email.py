"""The customer's feedback email, running against the real broker, database and an SMTP
server: one email per FeedbackRequested, even when the event is read twice, with signed rating
links that intake's page reads back."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime

import pytest
from keepword_events import Customer, FeedbackOccasion, FeedbackRequested
from keepword_platform.kafka import make_broker, publish
from keepword_platform.rating_links import read_rating
from keepword_platform.settings import DEVELOPMENT_LINK_SECRET, KeepwordSettings

from .mail import Catcher
from .test_notifier_service import _send, _until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]


async def test_the_customer_is_asked_once_with_signed_rating_links(
    notifier: Catcher, fresh_kafka: str
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    asked = FeedbackRequested(
        thread_id=thread,
        correlation_id=thread,
        customer=Customer(email="dana@example.com", name="Dana Whitfield"),
        occasion=FeedbackOccasion.ANSWERED,
        requested_at=datetime.now(UTC),
    )
    [envelope] = await _send(fresh_kafka, asked)
    await _until(lambda: len(notifier.to("dana@example.com", thread)) >= 1)
    producer = make_broker(KeepwordSettings(kafka_bootstrap=fresh_kafka), client_id="t")
    await producer.start()
    await publish(producer, envelope)  # the same event read again
    await producer.stop()
    await asyncio.sleep(3)

    [email] = notifier.to("dana@example.com", thread)
    text = email.text()
    assert "How well did we keep our word to you?" in text
    tokens = re.findall(r"/feedback/([A-Za-z0-9_.\-]+)", text)
    claims = [read_rating(DEVELOPMENT_LINK_SECRET, t, max_age_seconds=60) for t in tokens]
    assert [(c.thread_id, c.rating) for c in claims] == [
        (thread, 5),
        (thread, 4),
        (thread, 3),
        (thread, 2),
        (thread, 1),
        (thread, None),
    ]

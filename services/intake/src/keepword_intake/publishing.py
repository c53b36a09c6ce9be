"""Handing events to Kafka: acknowledged by the broker, or a clear "unavailable"."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from keepword_events import Event, encode, new_envelope

from . import metrics
from .producer import BrokerUnavailable, FailFastProducer

SOURCE = "/keepword/intake"

__all__ = ["BrokerUnavailable", "EventPublisher"]


class EventPublisher:
    """Publishes intake's events and waits for the broker's acknowledgement (acks=all)."""

    def __init__(self, producer: FailFastProducer) -> None:
        self.producer = producer

    async def publish(self, event: Event, event_id: str, *, time_: datetime | None = None) -> None:
        """Publish `event` under `event_id`; raises BrokerUnavailable when Kafka cannot take it."""
        record = encode(new_envelope(event, source=SOURCE, event_id=event_id, time=time_))
        started = time.perf_counter()
        try:
            await self.producer.send(record.topic, record.value, record.key, record.headers)
        except BrokerUnavailable:
            metrics.PUBLISH_FAILURES.labels(topic=event.topic).inc()
            raise
        metrics.PUBLISH_SECONDS.labels(topic=event.topic).observe(time.perf_counter() - started)

    async def publish_many(
        self, events: Sequence[tuple[Event, str]]
    ) -> list[BrokerUnavailable | None]:
        """Publish several events together; one outcome per event (None = acknowledged)."""
        now = datetime.now(UTC)
        records = [
            encode(new_envelope(event, source=SOURCE, event_id=event_id, time=now))
            for event, event_id in events
        ]
        started = time.perf_counter()
        outcomes = await self.producer.send_many(records)
        elapsed = time.perf_counter() - started
        results: list[BrokerUnavailable | None] = [
            outcome if isinstance(outcome, BrokerUnavailable) else None for outcome in outcomes
        ]
        failed = Counter(e.topic for (e, _), r in zip(events, results, strict=True) if r)
        for topic, count in failed.items():
            metrics.PUBLISH_FAILURES.labels(topic=topic).inc(count)
        if len(failed) < len(events):
            metrics.PUBLISH_SECONDS.labels(topic=events[0][0].topic).observe(elapsed)
        return results

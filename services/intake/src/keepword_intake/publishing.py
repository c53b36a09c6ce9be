"""Handing events to Kafka: acknowledged by the broker, or a clear "unavailable"."""

from __future__ import annotations

import asyncio
import time
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
        """Publish several events concurrently; one outcome per event, in order."""
        now = datetime.now(UTC)
        outcomes = await asyncio.gather(
            *(self.publish(event, event_id, time_=now) for event, event_id in events),
            return_exceptions=True,
        )
        results: list[BrokerUnavailable | None] = []
        for outcome in outcomes:
            if isinstance(outcome, BrokerUnavailable) or outcome is None:
                results.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
        return results

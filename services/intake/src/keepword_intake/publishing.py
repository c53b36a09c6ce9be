"""Handing events to Kafka: acknowledged by the broker, or a clear "unavailable"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from keepword_events import Event, new_envelope
from keepword_platform.kafka import publish

from . import metrics

SOURCE = "/keepword/intake"


class BrokerUnavailable(Exception):
    """Kafka did not acknowledge the event in time; it was not accepted."""


class EventPublisher:
    """Publishes intake's events and waits for the broker's acknowledgement (acks=all)."""

    def __init__(self, broker: KafkaBroker, timeout_seconds: float) -> None:
        self.broker = broker
        # The producer's own request timeout expires a record still waiting in its buffer, so a
        # send fails (rather than lingers) once this much time has passed; the outer bound only
        # guards against a client that never answers.
        self.timeout_seconds = timeout_seconds

    async def publish(self, event: Event, event_id: str, *, time_: datetime | None = None) -> None:
        """Publish `event` under `event_id`; raises BrokerUnavailable when Kafka cannot take it."""
        envelope = new_envelope(event, source=SOURCE, event_id=event_id, time=time_)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_seconds + 2):
                await publish(self.broker, envelope)
        except (KafkaError, OSError, TimeoutError) as error:
            metrics.PUBLISH_FAILURES.labels(topic=event.topic).inc()
            raise BrokerUnavailable(repr(error)) from error
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

"""Handing events to Kafka: acknowledged by the broker, or a clear "unavailable"."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka.record.default_records import DefaultRecordBatchBuilder
from keepword_events import Event, KafkaRecord, encode, new_envelope
from keepword_platform.producer import BrokerUnavailable, FailFastProducer, RecordTooLarge

from . import metrics

SOURCE = "/keepword/intake"

__all__ = ["BrokerUnavailable", "EventPublisher", "EventTooLarge"]


class EventTooLarge(Exception):
    """The event encodes to more than Kafka takes: refused, never sent, never worth resending."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the event is {size} bytes; at most {limit} are accepted")
        self.size = size
        self.limit = limit


def record_size(record: KafkaRecord) -> int:
    """The record's size as aiokafka counts it against `max_request_size` (a batch of one)."""
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(
        record.key, record.value, list(record.headers)
    )
    return size


class EventPublisher:
    """Publishes intake's events and waits for the broker's acknowledgement (acks=all).

    An event over `max_event_bytes` is refused before it reaches the producer.
    """

    def __init__(self, producer: FailFastProducer, *, max_event_bytes: int = 1_000_000) -> None:
        self.producer = producer
        self.max_event_bytes = max_event_bytes

    def _checked(self, record: KafkaRecord) -> KafkaRecord:
        size = record_size(record)
        if size > self.max_event_bytes:
            raise EventTooLarge(size, self.max_event_bytes)
        return record

    async def publish(self, event: Event, event_id: str, *, time_: datetime | None = None) -> None:
        """Publish `event` under `event_id`; raises EventTooLarge for an event Kafka would never
        take, BrokerUnavailable when Kafka cannot take it now."""
        record = encode(new_envelope(event, source=SOURCE, event_id=event_id, time=time_))
        self._checked(record)
        started = time.perf_counter()
        try:
            await self.producer.send(record.topic, record.value, record.key, record.headers)
        except RecordTooLarge as error:  # the topic's limit is lower than ours
            raise EventTooLarge(record_size(record), self.max_event_bytes) from error
        except BrokerUnavailable:
            metrics.PUBLISH_FAILURES.labels(topic=event.topic).inc()
            raise
        metrics.PUBLISH_SECONDS.labels(topic=event.topic).observe(time.perf_counter() - started)

    async def publish_many(
        self, events: Sequence[tuple[Event, str]]
    ) -> list[BrokerUnavailable | EventTooLarge | None]:
        """Publish several events together; one outcome per event (None = acknowledged).

        An event too large is refused on its own; the others are sent.
        """
        now = datetime.now(UTC)
        results: list[BrokerUnavailable | EventTooLarge | None] = [None] * len(events)
        to_send: list[tuple[int, KafkaRecord]] = []
        for index, (event, event_id) in enumerate(events):
            record = encode(new_envelope(event, source=SOURCE, event_id=event_id, time=now))
            try:
                to_send.append((index, self._checked(record)))
            except EventTooLarge as refused:
                results[index] = refused
        if not to_send:
            return results
        started = time.perf_counter()
        outcomes = await self.producer.send_many([record for _, record in to_send])
        elapsed = time.perf_counter() - started
        failed: Counter[str] = Counter()
        for (index, record), outcome in zip(to_send, outcomes, strict=True):
            if isinstance(outcome, BrokerUnavailable):
                results[index] = outcome
                failed[record.topic] += 1
        for topic, count in failed.items():
            metrics.PUBLISH_FAILURES.labels(topic=topic).inc(count)
        if sum(failed.values()) < len(to_send):
            metrics.PUBLISH_SECONDS.labels(topic=to_send[0][1].topic).observe(elapsed)
        return results

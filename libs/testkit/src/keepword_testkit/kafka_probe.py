"""Read what was written to topics since a moment: for tests that count records."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from keepword_events import Envelope, Event, decode
from keepword_events.topics import EVENT_TOPICS


class TopicProbe:
    """Remembers the end offsets of some topics, then reads everything written after them.

    Used without `async with`, it reads the topics from their start.
    """

    def __init__(
        self, bootstrap: str, topics: Sequence[str] = EVENT_TOPICS, *, source: str | None = None
    ) -> None:
        self.bootstrap = bootstrap
        self.topics = list(topics)
        # Only records of this CloudEvents source: other services may be publishing meanwhile.
        self.source = source.encode() if source else None
        self._start: dict[TopicPartition, int] = {}

    async def __aenter__(self) -> TopicProbe:
        self._start = await self._end_offsets()
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def _end_offsets(self) -> dict[TopicPartition, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [
                TopicPartition(topic, p)
                for topic in self.topics
                for p in sorted(consumer.partitions_for_topic(topic) or set())
            ]
            if not partitions:
                await consumer._client.force_metadata_update()  # metadata not yet loaded
                partitions = [
                    TopicPartition(topic, p)
                    for topic in self.topics
                    for p in sorted(consumer.partitions_for_topic(topic) or set())
                ]
            offsets: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
            return offsets
        finally:
            await consumer.stop()

    async def records(self) -> list[ConsumerRecord[bytes, bytes]]:
        """Every record written to the topics since the probe started, in offset order."""
        end = await self._end_offsets()
        found: list[ConsumerRecord[bytes, bytes]] = []
        wanted = {tp: (self._start.get(tp, 0), stop) for tp, stop in end.items()}
        wanted = {tp: span for tp, span in wanted.items() if span[1] > span[0]}
        if not wanted:
            return found
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(list(wanted))
            for tp, (start, _) in wanted.items():
                consumer.seek(tp, start)
            remaining = dict(wanted)
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=5000)
                if not batch:
                    raise TimeoutError(f"records missing from {sorted(remaining)}")
                for tp, records in batch.items():
                    stop = wanted[tp][1]
                    found.extend(r for r in records if r.offset < stop)
                    if records and records[-1].offset >= stop - 1:
                        remaining.pop(tp, None)
        finally:
            await consumer.stop()
        if self.source is not None:
            found = [r for r in found if dict(r.headers).get("ce_source") == self.source]
        return found

    async def events(self) -> list[Envelope[Event]]:
        """The records written since the probe started, decoded."""
        return [decode(r.value, r.headers) for r in await self.records()]

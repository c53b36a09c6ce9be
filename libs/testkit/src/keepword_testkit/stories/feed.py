"""Every event written to the catalog's topics from a moment on, as it is written.

A consumer without a group, assigned to every partition of every catalog topic and starting at
their end offsets: it reads what the system says while stories play, never the topics' history.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from keepword_events import Envelope, Event, EventDecodeError, decode
from keepword_events.topics import EVENT_TOPICS

Listener = Callable[[Envelope[Event]], None]


class EventFeed:
    """Collects decoded events of the catalog's topics; `wait_for` blocks until one matches."""

    def __init__(self, bootstrap: str, topics: Sequence[str] = EVENT_TOPICS) -> None:
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.events: list[Envelope[Event]] = []
        self.undecodable = 0
        self._listeners: list[Listener] = []
        self._arrived = asyncio.Condition()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    def listen(self, listener: Listener) -> None:
        """Call `listener` with every event from now on, in the order they are read."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Begin reading at the current end of every partition."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p)
                for topic in self.topics
                for p in sorted(consumer.partitions_for_topic(topic) or set())
            ]
            if not partitions:
                raise RuntimeError(f"no partitions found for {self.topics} at {self.bootstrap}")
            consumer.assign(partitions)
            for tp, offset in (await consumer.end_offsets(partitions)).items():
                consumer.seek(tp, offset)
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._task = asyncio.create_task(self._read(consumer), name="event-feed")

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def __aenter__(self) -> EventFeed:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        try:
            await self._read_forever(consumer)
        finally:  # wake the waiters, so that they see the reader is gone
            async with self._arrived:
                self._arrived.notify_all()

    async def _read_forever(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=500)
            records = sorted(
                (r for rs in batch.values() for r in rs), key=lambda r: (r.timestamp, r.offset)
            )
            fresh: list[Envelope[Event]] = []
            for record in records:
                try:
                    fresh.append(decode(record.value, record.headers))
                except EventDecodeError:
                    self.undecodable += 1
            if not fresh:
                continue
            async with self._arrived:
                self.events.extend(fresh)
                self._arrived.notify_all()
            for envelope in fresh:
                for listener in self._listeners:
                    listener(envelope)

    def of_thread(self, thread_id: str) -> list[Envelope[Event]]:
        """The thread's events read so far."""
        return [e for e in self.events if e.data.thread_id == thread_id]

    async def wait_for(
        self, matches: Callable[[Envelope[Event]], bool], *, within: float, what: str
    ) -> Envelope[Event]:
        """The first event (already read or still to come) that `matches`."""

        def found() -> Envelope[Event] | None:
            return next((e for e in self.events if matches(e)), None)

        async def arrival() -> Envelope[Event]:
            async with self._arrived:
                while (hit := found()) is None:
                    if self._task is not None and self._task.done():
                        self._task.result()  # the reader failed: say why
                        raise RuntimeError("the event feed stopped")
                    await self._arrived.wait()
                return hit

        try:
            return await asyncio.wait_for(arrival(), within)
        except TimeoutError:
            raise TimeoutError(f"no {what} on the topics within {within:.0f} s") from None

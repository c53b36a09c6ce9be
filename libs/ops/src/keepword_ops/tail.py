"""`keepword tail --thread ID`: one thread across every topic of the catalog, history then live.

Every record is keyed by its thread id and every topic has the same partition count, so a
thread's records sit on one partition per topic: the one Kafka's default partitioner gives its
key. Only those partitions are read, by a consumer without a group (it commits nothing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime

from aiokafka.structs import TopicPartition
from keepword_events.topics import ALL_TOPICS

from . import clients
from .timeline import TimelineEntry, entry_of, partition_for


async def follow_thread(
    bootstrap: str,
    thread_id: str,
    *,
    follow: bool = True,
    since: datetime | None = None,
    topics: Sequence[str] = ALL_TOPICS,
    poll_ms: int = 500,
) -> AsyncGenerator[list[TimelineEntry], None]:
    """The thread's history in time order as one batch, then (if `follow`) live batches.

    `since` skips what was written before it (a long-lived topic's history can be long).
    """
    key = thread_id.encode()
    async with clients.kafka_errors(bootstrap):
        counts = Counter(tp.topic for tp in await clients.partitions_of(bootstrap, topics))
    # Each topic's own count: were they to differ, the producer would still have used it.
    assigned = [TopicPartition(t, partition_for(thread_id, counts[t])) for t in topics]
    async with clients.kafka_errors(bootstrap), clients.consumer(bootstrap) as consumer:
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        if since is not None:
            stamp = int(since.timestamp() * 1000)
            found = await consumer.offsets_for_times({tp: stamp for tp in assigned})
            for tp, at in found.items():
                if at is not None:
                    consumer.seek(tp, at.offset)
                else:  # nothing that recent: start at the end
                    await consumer.seek_to_end(tp)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(assigned)

        history: list[TimelineEntry] = []
        live: list[TimelineEntry] = []
        caught_up = False
        while True:
            if not caught_up:
                positions = {tp: await consumer.position(tp) for tp in assigned}
                if all(positions[tp] >= ends[tp] for tp in assigned):
                    caught_up = True
                    yield sorted(history, key=TimelineEntry.sort_key)
                    if not follow:
                        return
            if caught_up and live:
                yield sorted(live, key=TimelineEntry.sort_key)
                live = []
            batches = await consumer.getmany(*assigned, timeout_ms=poll_ms)
            for tp, records in batches.items():
                for record in records:
                    if record.key != key:
                        continue
                    below_end = record.offset < ends[tp]
                    (history if below_end else live).append(entry_of(record))

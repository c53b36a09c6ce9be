"""Warming a freshly started broker before a benchmark measures against it.

A broker started a moment ago spends much of a core compiling itself (the JVM's JIT) for its
first 20 to 40 s of load. A benchmark that starts its service on a fresh private broker and runs
its raw baseline afterwards (or with no broker at all) would charge that warm-up to the service
alone. A production broker is warm, so each benchmark first drives the broker's produce and
fetch paths for a while on a topic of its own, and measures after.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import TopicPartition

from keepword_testkit.measuring import progress

TOPIC = "keepword.bench.warm-up"
SECONDS = 30.0
_VALUE = b"x" * 600  # about an event's size
_CONCURRENT_SENDS = 32
_PARTITIONS = 6


async def warm_broker(bootstrap: str, seconds: float = SECONDS) -> int:
    """Produce (in bulk and one record at a time, acks=all, idempotent) and consume on a
    topic of its own for `seconds`; returns the records produced.

    The clients may log a warning or two at the start, while the new topic's metadata spreads.
    """
    progress(f"warming the broker (its JIT): {seconds:.0f}s of produce and consume")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [NewTopic(TOPIC, num_partitions=_PARTITIONS, replication_factor=1)]
            )
    finally:
        await admin.close()
    deadline = time.monotonic() + seconds
    async with contextlib.AsyncExitStack() as stack:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True
        )
        await stack.enter_async_context(producer)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        await stack.enter_async_context(consumer)
        consumer.assign([TopicPartition(TOPIC, p) for p in range(_PARTITIONS)])
        produced = 0

        async def one_at_a_time(worker: int) -> None:
            nonlocal produced
            for n in range(50):
                await producer.send_and_wait(TOPIC, _VALUE, key=b"%d-%d" % (worker, n))
                produced += 1

        async def produce() -> None:
            nonlocal produced
            while time.monotonic() < deadline:
                sent = [await producer.send(TOPIC, _VALUE, key=b"%d" % n) for n in range(2000)]
                await asyncio.gather(*sent)
                produced += len(sent)
                await asyncio.gather(*(one_at_a_time(w) for w in range(_CONCURRENT_SENDS)))

        async def consume() -> None:
            while time.monotonic() < deadline:
                await consumer.getmany(timeout_ms=200, max_records=5000)

        await asyncio.gather(produce(), consume())
        return produced

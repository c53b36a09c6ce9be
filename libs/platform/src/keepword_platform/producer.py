"""An idempotent Kafka producer that gives up on a record after a deadline, for good.

aiokafka's idempotent producer retries an unacknowledged batch forever (so that it never writes a
duplicate). For intake that would make a 503 a lie: the record the client was told we did not
accept could still be written minutes later, when the broker returns, and the client's retry
would then be a second copy. So when a send misses its deadline this producer is discarded
*without flushing* — its pending batches die with it — and the next send starts a fresh one.

The outbox relay sends through one too: a failed batch stays in the outbox and is sent again
whole by a fresh producer. A broker restart can leave an idempotent producer's sequence numbers
out of step with the broker (OutOfOrderSequenceNumber), and aiokafka never recovers from that.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from aiokafka.structs import RecordMetadata
from keepword_events import KafkaRecord

from .partitioner import Murmur2Partitioner

log = structlog.get_logger(__name__)

_PARTITIONER = Murmur2Partitioner()

# Room for a whole HTTP batch per partition in one produce request (aiokafka defaults to 16 KiB).
MAX_BATCH_BYTES = 512 * 1024


class BrokerUnavailable(Exception):
    """Kafka did not acknowledge the record in time; it will not be written later either."""


class RecordTooLarge(Exception):
    """The record is over the size Kafka takes: sending it again can never succeed."""


class FailFastProducer:
    """Sends records with acks=all and idempotence, each within `timeout_seconds` or not at all."""

    def __init__(self, bootstrap: str, *, client_id: str, timeout_seconds: float, **options: Any):
        self._options = {
            "bootstrap_servers": bootstrap,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "request_timeout_ms": int(timeout_seconds * 1000),
            "max_batch_size": MAX_BATCH_BYTES,
            "partitioner": _PARTITIONER,  # Kafka's murmur2, about twice as fast as aiokafka's
            **options,
        }
        self.timeout_seconds = timeout_seconds
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        """Connect now if the broker answers; otherwise the first send connects."""
        with contextlib.suppress(BrokerUnavailable):
            await self._current()

    async def stop(self) -> None:
        """Flush what is pending and close."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def discard(self) -> None:
        """Close without flushing: for a caller that keeps what is pending elsewhere (an outbox)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await _discard(producer)

    async def _current(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._starting:
            if self._producer is None:
                producer = AIOKafkaProducer(**self._options)
                try:
                    async with asyncio.timeout(self.timeout_seconds):
                        await producer.start()
                except (KafkaError, OSError, TimeoutError) as error:
                    await _discard(producer)
                    raise BrokerUnavailable(f"cannot connect: {error!r}") from error
                self._producer = producer
            return self._producer

    async def send(
        self, topic: str, value: bytes, key: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> RecordMetadata:
        """Write one record and return once the broker acknowledged it."""
        producer = await self._current()
        try:
            async with asyncio.timeout(self.timeout_seconds):
                delivery = await producer.send(topic, value, key=key, headers=list(headers))
                metadata: RecordMetadata = await delivery
                return metadata
        except MessageSizeTooLargeError as error:
            # The record's fault, not the broker's: the producer is fine and is kept.
            raise RecordTooLarge(repr(error)) from error
        except (KafkaError, OSError, TimeoutError) as error:
            if self._producer is producer:
                self._producer = None
                log.warning("kafka send missed its deadline; producer replaced", error=repr(error))
                await _discard(producer)
            raise BrokerUnavailable(repr(error)) from error

    async def send_many(
        self, records: Sequence[KafkaRecord]
    ) -> list[RecordMetadata | BrokerUnavailable]:
        """Write several records at once; one outcome per record, in order.

        Records are grouped by partition into as few batches as the batch size allows, built
        with aiokafka's batch API: per-record futures and accumulator look-ups are what a
        record-at-a-time `send()` spends most of its time on. Partitions are chosen by the same
        murmur2 partitioner `send()` uses, so co-partitioning by thread id is unchanged.
        """
        if not records:
            return []
        try:
            producer = await self._current()
        except BrokerUnavailable as error:
            return [error] * len(records)
        batch_of: list[int] = [0] * len(records)
        deliveries: list[asyncio.Future[RecordMetadata]] = []
        failure: BrokerUnavailable | None = None
        try:
            async with asyncio.timeout(self.timeout_seconds):
                by_partition: dict[tuple[str, int], list[int]] = {}
                partitions_of: dict[str, list[int]] = {}
                for index, record in enumerate(records):
                    partitions = partitions_of.get(record.topic)
                    if partitions is None:
                        partitions = sorted(await producer.partitions_for(record.topic))
                        partitions_of[record.topic] = partitions
                    chosen = _PARTITIONER(record.key, partitions, partitions)
                    by_partition.setdefault((record.topic, chosen), []).append(index)
                for (topic, partition), indexes in by_partition.items():
                    batch = producer.create_batch()
                    for index in indexes:
                        record = records[index]
                        appended = batch.append(
                            key=record.key,
                            value=record.value,
                            timestamp=None,
                            headers=list(record.headers),
                        )
                        if appended is None:  # full: send it and start the next one
                            deliveries.append(
                                await producer.send_batch(batch, topic, partition=partition)
                            )
                            batch = producer.create_batch()
                            batch.append(
                                key=record.key,
                                value=record.value,
                                timestamp=None,
                                headers=list(record.headers),
                            )
                        batch_of[index] = len(deliveries)
                    deliveries.append(await producer.send_batch(batch, topic, partition=partition))
                await asyncio.wait(deliveries)
        except (KafkaError, OSError, TimeoutError) as error:
            failure = BrokerUnavailable(repr(error))
        outcomes: list[RecordMetadata | BrokerUnavailable] = []
        for index in range(len(records)):
            delivery = deliveries[batch_of[index]] if batch_of[index] < len(deliveries) else None
            if delivery is not None and delivery.done() and not delivery.cancelled():
                problem = delivery.exception()
                if problem is None:
                    outcomes.append(delivery.result())
                    continue
                failure = failure or BrokerUnavailable(repr(problem))
            outcomes.append(failure or BrokerUnavailable("not delivered"))
        if failure is not None and self._producer is producer:
            self._producer = None
            log.warning(
                "kafka batch failed or missed its deadline; producer replaced", error=str(failure)
            )
            await _discard(producer)
        return outcomes

    async def connected(self) -> bool:
        """Whether a producer is up (used by the health check)."""
        try:
            await self._current()
        except BrokerUnavailable:
            return False
        return True

    async def reachable(self) -> bool:
        """Whether the producer that sends intake's records gets an answer from the broker now.

        Asks for the cluster's metadata over the producer's own connections, within the send
        deadline; a producer with no broker to talk to cannot take a request (readiness).
        """
        try:
            producer = await self._current()
            async with asyncio.timeout(self.timeout_seconds):
                await producer.client.fetch_all_metadata()
        except (BrokerUnavailable, KafkaError, OSError, TimeoutError):
            return False
        return True


async def _discard(producer: AIOKafkaProducer) -> None:
    # Cancel the sender first so stop() has nothing to flush: pending batches are dropped.
    # (aiokafka 0.14 has no public "close without flushing"; this relies on its `_sender`.)
    sender = getattr(producer, "_sender", None)
    if sender is not None:
        with contextlib.suppress(Exception):
            await sender.close()
    with contextlib.suppress(Exception):
        await producer.stop()

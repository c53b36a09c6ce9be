"""An idempotent Kafka producer that gives up on a record after a deadline, for good.

aiokafka's idempotent producer retries an unacknowledged batch forever (so that it never writes a
duplicate). For intake that would make a 503 a lie: the record the client was told we did not
accept could still be written minutes later, when the broker returns, and the client's retry
would then be a second copy. So when a send misses its deadline this producer is discarded
*without flushing* — its pending batches die with it — and the next send starts a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

log = structlog.get_logger(__name__)


class BrokerUnavailable(Exception):
    """Kafka did not acknowledge the record in time; it will not be written later either."""


class FailFastProducer:
    """Sends records with acks=all and idempotence, each within `timeout_seconds` or not at all."""

    def __init__(self, bootstrap: str, *, client_id: str, timeout_seconds: float, **options: Any):
        self._options = {
            "bootstrap_servers": bootstrap,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "request_timeout_ms": int(timeout_seconds * 1000),
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
        except (KafkaError, OSError, TimeoutError) as error:
            if self._producer is producer:
                self._producer = None
                log.warning("kafka send missed its deadline; producer replaced", error=repr(error))
                await _discard(producer)
            raise BrokerUnavailable(repr(error)) from error

    async def connected(self) -> bool:
        """Whether a producer is up (used by the health check)."""
        try:
            await self._current()
        except BrokerUnavailable:
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

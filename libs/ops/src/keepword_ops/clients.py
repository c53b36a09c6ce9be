"""Kafka clients for the ops commands: opened and closed around one command, errors in words.

`read_to_end` is the one way the commands read a partition's history: from the consumer's
position up to the end offsets taken when the command started, so a command over a busy topic
still finishes. Every client logs in as the `KEEPWORD_KAFKA_*` security settings say (the
commands take only the bootstrap address; the login comes from the environment, as for the
services).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition
from keepword_platform.kafka import PRODUCER_OPTIONS
from keepword_platform.kafka_security import KafkaSecurityError, kafka_client_options
from keepword_platform.settings import KeepwordSettings

from .errors import OpsError

CLIENT_ID = "keepword-ops"


def security_options() -> dict[str, Any]:
    """The login of the ops clients (empty for PLAINTEXT), from the environment's settings."""
    try:
        return kafka_client_options(KeepwordSettings())
    except KafkaSecurityError as error:
        raise OpsError(str(error)) from None


@asynccontextmanager
async def kafka_errors(bootstrap: str) -> AsyncIterator[None]:
    """Turn the client's errors into an `OpsError` that names the broker."""
    try:
        yield
    except (KafkaConnectionError, OSError) as error:
        raise OpsError(f"cannot reach Kafka at {bootstrap}: {error!r}") from None
    except KafkaError as error:
        raise OpsError(f"Kafka at {bootstrap} refused: {error!r}") from None


@asynccontextmanager
async def admin_client(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id=CLIENT_ID, **security_options()
    )
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


@asynccontextmanager
async def consumer(bootstrap: str, **options: Any) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer that commits nothing unless asked."""
    client = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=CLIENT_ID,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **(security_options() | options),
    )
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


@asynccontextmanager
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer with the services' guarantees (acks=all, idempotent)."""
    client = AIOKafkaProducer(
        bootstrap_servers=bootstrap, client_id=CLIENT_ID, **PRODUCER_OPTIONS, **security_options()
    )
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def partitions_of(
    bootstrap: str, topics: Iterable[str], *, skip_missing: bool = False
) -> list[TopicPartition]:
    """Every partition of `topics`; a topic the broker lacks is an `OpsError` (or skipped)."""
    wanted = list(dict.fromkeys(topics))
    if not wanted:
        return []
    async with admin_client(bootstrap) as admin:
        metadata = await admin.describe_topics(wanted)
    counts = {m["topic"]: len(m["partitions"]) for m in metadata if m["error_code"] == 0}
    missing = [topic for topic in wanted if not counts.get(topic)]
    if missing and not skip_missing:
        raise OpsError(f"topic {missing[0]} does not exist (keepword topics create makes it)")
    return [TopicPartition(topic, p) for topic in wanted for p in range(counts.get(topic, 0))]


async def group_offsets(
    admin: AIOKafkaAdminClient, group: str, *, attempts: int = 30
) -> dict[TopicPartition, OffsetAndMetadata]:
    """A consumer group's committed offsets (none: empty), waiting out a coordinator that is
    still loading (a young broker creates its offsets topic on the first group request)."""
    for attempt in range(1, attempts + 1):
        try:
            offsets: dict[
                TopicPartition, OffsetAndMetadata
            ] = await admin.list_consumer_group_offsets(group)
            return offsets
        except KafkaError as error:
            if not error.retriable or attempt == attempts:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def read_to_end(
    client: AIOKafkaConsumer, ends: dict[TopicPartition, int], *, poll_ms: int = 500
) -> AsyncIterator[Sequence[ConsumerRecord]]:
    """Batches of the assigned partitions' records below `ends`, from each one's position."""
    remaining = {tp: end for tp, end in ends.items() if await client.position(tp) < end}
    while remaining:
        batches = await client.getmany(*remaining, timeout_ms=poll_ms)
        for tp, records in batches.items():
            below = [record for record in records if record.offset < ends[tp]]
            if below:
                yield below
        for tp in list(remaining):
            if await client.position(tp) >= remaining[tp]:
                del remaining[tp]

"""Members of one consumer group that start together settle in a few rebalances, on the real
broker: two service processes' worth of brokers, two members each, started at once.

aiokafka (0.14) sends a JoinGroup for each assignor it is given, each with one more protocol
than the last; the coordinator takes the second as changed metadata and rebalances again. With
two assignors, members starting together rebalanced each other thousands of times and a
service's start could hang (seen on the three-broker cluster). The subscription now offers one.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from keepword_events import Envelope, Event
from keepword_platform.database import Connection
from keepword_platform.kafka import create_topics, make_broker
from keepword_platform.messaging.consumer import EventConsumer
from keepword_platform.messaging.subscription import subscribe
from keepword_platform.settings import KeepwordSettings

pytestmark = [pytest.mark.kafka]

INSTANCES = 2
MEMBERS = 2  # per instance, as KEEPWORD_CONSUMERS_PER_PROCESS=2 makes them


async def nothing(_conn: Connection, _envelope: Envelope[Event]) -> Sequence[Event]:
    return []


def instance(bootstrap: str, service: str, topics: list[str], number: int) -> KafkaBroker:
    broker = make_broker(
        KeepwordSettings(kafka_bootstrap=bootstrap), client_id=f"{service}-{number}"
    )
    for _ in range(MEMBERS):  # no record is sent: the database is never asked for
        subscribe(broker, EventConsumer(service, service, lambda: None, nothing), topics)  # type: ignore[arg-type, return-value]
    return broker


def members(brokers: list[KafkaBroker]) -> list[Any]:
    """The aiokafka consumers of every member."""
    return [getattr(s, "consumer", None) for b in brokers for s in b.subscribers]


def generations(brokers: list[KafkaBroker]) -> list[int]:
    return [member._coordinator.generation for member in members(brokers)]


async def test_members_starting_together_settle_in_a_few_rebalances(kafka_bootstrap: str) -> None:
    service = f"join{uuid.uuid4().hex[:8]}"
    topics = [f"test.{service}-a.v1", f"test.{service}-b.v1"]
    await create_topics(kafka_bootstrap, 6, topics=topics)
    brokers = [instance(kafka_bootstrap, service, topics, n) for n in range(INSTANCES)]
    try:
        # A member's start returns once it holds its partitions.
        await asyncio.wait_for(asyncio.gather(*(b.start() for b in brokers)), timeout=30)
        await asyncio.sleep(2)  # a storm would go on rebalancing meanwhile
        settled = generations(brokers)
        await asyncio.sleep(2)
        assert generations(brokers) == settled
        assert len(set(settled)) == 1, settled  # every member in the same generation
        assert settled[0] <= 2 * INSTANCES * MEMBERS, settled  # a few rebalances, not a storm
        held = [member.assignment() for member in members(brokers)]
        assert all(held), held
        assert len(set().union(*held)) == 12  # every partition of both topics, each held once
        assert sum(map(len, held)) == 12
    finally:
        for broker in brokers:
            with contextlib.suppress(Exception):
                await broker.stop()

"""Kafka for every service: the FastStream broker, publishing envelopes, and topic admin."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaTimeoutError, TopicAlreadyExistsError, for_code
from aiokafka.structs import RecordMetadata
from faststream.kafka import KafkaBroker
from keepword_events import Envelope, Event, encode
from keepword_events.topics import ALL_TOPICS, retention_ms

from .kafka_security import faststream_security
from .settings import KeepwordSettings

# acks=all with idempotence: a record counts as published only when every in-sync replica has it,
# and a retried send is never written twice. aiokafka's defaults (acks=1, no idempotence) are weak.
PRODUCER_OPTIONS: dict[str, Any] = {"acks": "all", "enable_idempotence": True}


def make_broker(settings: KeepwordSettings, *, client_id: str, **options: Any) -> KafkaBroker:
    """A FastStream Kafka broker with Keepword's producer guarantees and the settings' login
    (kafka_security); nothing connects yet."""
    chosen = {
        "request_timeout_ms": settings.kafka_request_timeout_ms,
        "security": faststream_security(settings),
        **PRODUCER_OPTIONS,
    }
    return KafkaBroker(
        bootstrap_servers(settings.kafka_bootstrap), client_id=client_id, **(chosen | options)
    )


def bootstrap_servers(bootstrap: str) -> list[str]:
    """`host:port,host:port,...` as a list: FastStream takes a string as one server's address
    (aiokafka's own clients split it themselves)."""
    return [server.strip() for server in bootstrap.split(",") if server.strip()]


async def publish(broker: KafkaBroker, envelope: Envelope[Event]) -> RecordMetadata:
    """Publish one event; returns where it landed once the broker acknowledged it."""
    record = encode(envelope)
    return await broker.publish(
        record.value,
        record.topic,
        key=record.key,
        headers={name: value.decode() for name, value in record.headers},
    )


@dataclass(frozen=True, slots=True)
class TopicState:
    """What the broker says of one topic."""

    name: str
    partitions: int
    retention_ms: int | None
    exists: bool


async def create_topics(
    bootstrap: str,
    partitions: int,
    topics: Sequence[str] = ALL_TOPICS,
    replication: int = 1,
    client_options: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Create the catalog's topics that are missing; returns what happened to each.

    Existing topics are left as they are; one whose partition count differs is reported, since
    changing it would move threads to other partitions and break per-thread ordering.
    `client_options`: the login (kafka_security.kafka_client_options), if the broker wants one.
    """
    admin = _admin(bootstrap, client_options)
    await admin.start()
    try:
        existing = {t.name: t for t in await _describe(admin, list(topics))}
        missing = [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=replication,
                topic_configs={"retention.ms": str(retention_ms(name))},
            )
            for name in topics
            if not existing[name].exists
        ]
        created: list[str] = []
        if missing:
            created, raced = created_or_raced(await admin.create_topics(missing))
            # The controller answers before every broker's metadata shows a new topic (and a
            # topic another run just created may not show yet): wait until they all show.
            for state in await _await_visible(admin, [*created, *raced]):
                existing[state.name] = state
        outcome = {name: "created" for name in created}
        for name, state in existing.items():
            if name not in outcome:
                outcome[name] = (
                    "exists"
                    if state.partitions == partitions
                    else f"exists with {state.partitions} partitions (wanted {partitions})"
                )
        return {name: outcome[name] for name in topics}
    finally:
        await admin.close()


async def describe_topics(
    bootstrap: str,
    topics: Sequence[str] = ALL_TOPICS,
    client_options: Mapping[str, Any] | None = None,
) -> list[TopicState]:
    """Partition counts and retention of the catalog's topics, as the broker has them."""
    admin = _admin(bootstrap, client_options)
    await admin.start()
    try:
        return await _describe(admin, list(topics))
    finally:
        await admin.close()


def created_or_raced(response: Any) -> tuple[list[str], list[str]]:
    """The topics the controller created, and those another run created meanwhile (fine);
    any other refusal (a replication factor above the brokers' count, a bad config) raises."""
    created: list[str] = []
    raced: list[str] = []
    for name, code, *message in response.topic_errors:
        if code == 0:
            created.append(name)
        elif code == TopicAlreadyExistsError.errno:
            raced.append(name)
        else:
            error = for_code(code)
            raise error(f"creating topic {name}: {message[0] if message else error.description}")
    return created, raced


async def _await_visible(
    admin: AIOKafkaAdminClient, names: list[str], timeout_s: float = 30.0
) -> list[TopicState]:
    """The topics' states once the broker's metadata shows each of them."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = await _describe(admin, names)
        if all(state.exists for state in states):
            return states
        if time.monotonic() > deadline:
            absent = [state.name for state in states if not state.exists]
            raise KafkaTimeoutError(
                f"topics created but not visible after {timeout_s:.0f} s: {absent}"
            )
        await asyncio.sleep(0.1)


def _admin(bootstrap: str, client_options: Mapping[str, Any] | None) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="keepword-admin", **(client_options or {})
    )


async def _describe(admin: AIOKafkaAdminClient, topics: list[str]) -> list[TopicState]:
    metadata = await admin.describe_topics(topics)
    partitions = {m["topic"]: len(m["partitions"]) for m in metadata if m["error_code"] == 0}
    retention: dict[str, int | None] = {}
    if partitions:
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in partitions]
        for response in await admin.describe_configs(resources):
            for _code, _msg, _type, name, entries in response.resources:
                values = {entry[0]: entry[1] for entry in entries}
                raw = values.get("retention.ms")
                retention[name] = int(raw) if raw is not None else None
    return [
        TopicState(
            name=name,
            partitions=partitions.get(name, 0),
            retention_ms=retention.get(name),
            exists=name in partitions,
        )
        for name in topics
    ]

"""Topic provisioning against the real broker."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from aiokafka.errors import InvalidReplicationFactorError
from keepword_events.topics import DLQ_RETENTION_MS, EVENT_RETENTION_MS
from keepword_platform.kafka import create_topics, created_or_raced, describe_topics

pytestmark = pytest.mark.kafka


async def test_creates_missing_topics_once_with_one_partition_count(kafka_bootstrap: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}.messages.v1", f"{prefix}.messages.v1.dlq"]

    first = await create_topics(kafka_bootstrap, 3, names)
    second = await create_topics(kafka_bootstrap, 3, names)
    states = await describe_topics(kafka_bootstrap, names)

    assert first == dict.fromkeys(names, "created")
    assert second == dict.fromkeys(names, "exists")
    assert [(s.partitions, s.retention_ms) for s in states] == [
        (3, EVENT_RETENTION_MS),
        (3, DLQ_RETENTION_MS),
    ]


async def test_reports_a_partition_count_that_differs(kafka_bootstrap: str) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}.commitments.v1"
    await create_topics(kafka_bootstrap, 2, [name])

    outcome = await create_topics(kafka_bootstrap, 6, [name])

    assert outcome[name] == "exists with 2 partitions (wanted 6)"


async def test_a_topic_the_controller_refuses_is_an_error_not_created(kafka_bootstrap: str) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}.messages.v1"

    with pytest.raises(InvalidReplicationFactorError, match=name):
        await create_topics(kafka_bootstrap, 2, [name], replication=3)

    [state] = await describe_topics(kafka_bootstrap, [name])
    assert not state.exists


def test_a_topic_another_run_created_meanwhile_is_not_reported_as_created() -> None:
    response = SimpleNamespace(topic_errors=[("a", 0, None), ("b", 36, "already exists")])
    assert created_or_raced(response) == (["a"], ["b"])


async def test_describes_missing_topics_as_missing(kafka_bootstrap: str) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}.absent"
    [state] = await describe_topics(kafka_bootstrap, [name])
    assert not state.exists

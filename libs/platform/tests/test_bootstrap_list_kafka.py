"""A bootstrap list (`KEEPWORD_KAFKA_BOOTSTRAP=host:port,host:port`): how a service finds a
cluster whichever of its brokers is down."""

from __future__ import annotations

import uuid

import pytest
from keepword_platform.kafka import bootstrap_servers, create_topics, make_broker
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import free_port

pytestmark = pytest.mark.kafka


def test_a_bootstrap_list_is_split_into_its_servers() -> None:
    assert bootstrap_servers(" 10.0.0.1:9092, 10.0.0.2:9092,,10.0.0.3:9092 ") == [
        "10.0.0.1:9092",
        "10.0.0.2:9092",
        "10.0.0.3:9092",
    ]
    assert bootstrap_servers("127.0.0.1:9092") == ["127.0.0.1:9092"]


async def test_a_service_broker_connects_through_a_list_whose_first_server_is_down(
    kafka_bootstrap: str,
) -> None:
    topic = f"test-{uuid.uuid4().hex[:8]}.bootstrap"
    await create_topics(kafka_bootstrap, 1, [topic])
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = KeepwordSettings(kafka_bootstrap=f"{dead},{kafka_bootstrap}")
    broker = make_broker(settings, client_id="keepword-test-bootstrap")

    await broker.start()
    try:
        await broker.publish(b"through the list", topic, key=b"k")
    finally:
        await broker.stop()

    assert [r.value for r in await TopicProbe(kafka_bootstrap, [topic]).records()] == [
        b"through the list"
    ]

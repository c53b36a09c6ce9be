"""Every event type through a real Kafka broker, read back with our decoder and with the
official CloudEvents SDK; and co-partitioning of one thread across topics."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from keepword_events import decode, new_envelope, topics
from keepword_events.examples import every_event
from keepword_platform.kafka import make_broker, publish
from keepword_platform.settings import KeepwordSettings

pytestmark = pytest.mark.kafka


async def test_every_event_type_survives_the_real_broker(catalog_topics: str) -> None:
    thread = f"thr-{uuid.uuid4()}"
    envelopes = [new_envelope(e, source="/keepword/test") for e in every_event(thread)]
    broker = make_broker(
        KeepwordSettings(kafka_bootstrap=catalog_topics), client_id="keepword-test"
    )
    await broker.start()
    try:
        landed = [await publish(broker, envelope) for envelope in envelopes]
    finally:
        await broker.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=catalog_topics, enable_auto_commit=False)
    await consumer.start()
    try:
        records = []
        for meta in landed:
            partition = TopicPartition(meta.topic, meta.partition)
            consumer.assign([partition])
            consumer.seek(partition, meta.offset)
            batch = await consumer.getmany(partition, timeout_ms=10_000, max_records=1)
            records.extend(batch[partition])
    finally:
        await consumer.stop()

    assert len(records) == len(envelopes)
    for envelope, record in zip(envelopes, records, strict=True):
        assert record.key == thread.encode()
        assert decode(record.value, record.headers) == envelope
        sdk_event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value),
            JSONFormat(),
        )
        assert sdk_event.get_id() == envelope.id
        assert sdk_event.get_type() == envelope.type
        assert sdk_event.get_data() == envelope.data.model_dump(mode="json")


async def test_one_thread_lands_on_the_same_partition_number_of_every_topic(
    catalog_topics: str,
) -> None:
    broker = make_broker(
        KeepwordSettings(kafka_bootstrap=catalog_topics), client_id="keepword-test"
    )
    events = {type(e): e for e in every_event()}
    await broker.start()
    try:
        for _ in range(20):
            thread = f"thr-{uuid.uuid4()}"
            by_topic = {}
            for event in events.values():
                moved = event.model_copy(update={"thread_id": thread, "correlation_id": thread})
                meta = await publish(broker, new_envelope(moved, source="/keepword/test"))
                by_topic[meta.topic] = meta.partition
            assert set(by_topic) == set(topics.EVENT_TOPICS)
            assert len(set(by_topic.values())) == 1, by_topic
    finally:
        await broker.stop()

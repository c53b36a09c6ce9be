"""The official CloudEvents SDK reads what we write, and we read what it writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from keepword_events import Event, decode, encode, new_envelope
from keepword_events.examples import every_event


@pytest.mark.parametrize("event", every_event(), ids=lambda e: e.ce_type)
def test_sdk_reads_our_records(event: Event) -> None:
    envelope = new_envelope(event, source="/keepword/test")
    record = encode(envelope)

    read = ce_kafka.from_binary(
        ce_kafka.KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value),
        JSONFormat(),
    )

    assert read.get_id() == envelope.id
    assert read.get_type() == event.ce_type
    assert read.get_source() == "/keepword/test"
    assert read.get_subject() == event.thread_id
    assert read.get_time() == envelope.time
    assert read.get_extension("correlationid") == event.correlation_id
    assert read.get_data() == event.model_dump(mode="json")


def test_we_read_what_the_sdk_writes() -> None:
    event = every_event()[0]
    sdk_event = CloudEvent(
        attributes={
            "id": "sdk-1",
            "source": "/internal-tool",
            "type": event.ce_type,
            "subject": event.thread_id,
            "datacontenttype": "application/json",
            "time": datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        },
        data=event.model_dump(mode="json"),
    )
    message = ce_kafka.to_binary(sdk_event, JSONFormat())

    envelope = decode(message.value, message.headers)

    assert envelope.id == "sdk-1"
    assert envelope.source == "/internal-tool"
    assert envelope.data == event

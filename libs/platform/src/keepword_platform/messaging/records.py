"""Outbox rows and dead-letter records: what is stored and what goes to `<topic>.dlq`."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

from keepword_events import KafkaRecord
from keepword_events.topics import dead_letter_topic

DLQ_REASON: Final = "keepword-dlq-reason"
DLQ_TOPIC: Final = "keepword-dlq-topic"
DLQ_PARTITION: Final = "keepword-dlq-partition"
DLQ_OFFSET: Final = "keepword-dlq-offset"
DLQ_SERVICE: Final = "keepword-dlq-service"
DLQ_AT: Final = "keepword-dlq-at"
DLQ_ATTEMPTS: Final = "keepword-dlq-attempts"
# Set by `keepword dlq replay` on a dead letter written back onto its source topic.
REPLAY_OF: Final = "keepword-replay-of"


class ConsumedRecord(Protocol):
    """The parts of a consumed Kafka record we use (aiokafka's ConsumerRecord has them)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


def is_replay(record: ConsumedRecord) -> bool:
    """Whether `record` is a dead letter that ops wrote back onto its source topic."""
    return any(name == REPLAY_OF for name, _value in record.headers)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record to publish through the outbox, under an event id (or a dead letter's own id)."""

    event_id: str
    record: KafkaRecord


def dead_letter(
    record: ConsumedRecord, reason: str, *, service: str, attempts: int, now: datetime | None = None
) -> Outgoing:
    """The dead letter of `record`: its own key, value and headers, plus where and why."""
    at = (now or datetime.now(UTC)).isoformat()
    why = [
        (DLQ_REASON, reason[:2000].encode()),
        (DLQ_TOPIC, record.topic.encode()),
        (DLQ_PARTITION, str(record.partition).encode()),
        (DLQ_OFFSET, str(record.offset).encode()),
        (DLQ_SERVICE, service.encode()),
        (DLQ_AT, at.encode()),
        (DLQ_ATTEMPTS, str(attempts).encode()),
    ]
    original = [
        (name, _stored(value))
        for name, value in record.headers
        if not name.startswith("keepword-dlq")
    ]
    return Outgoing(
        event_id=f"dlq:{service}:{record.topic}:{record.partition}:{record.offset}",
        record=KafkaRecord(
            topic=dead_letter_topic(record.topic),
            key=record.key or b"",
            value=record.value or b"",
            headers=(*original, *why),
        ),
    )


def _stored(value: bytes | None) -> bytes:
    # aiokafka types header values as bytes, but Kafka allows a null one: the dead letter (and
    # the outbox row it goes through) carries it as empty; the reason says it was null.
    return b"" if value is None else value


def headers_to_json(headers: Sequence[tuple[str, bytes]]) -> str:
    """Headers as stored in the outbox's jsonb column (values may be any bytes)."""
    return json.dumps([[name, base64.b64encode(value).decode()] for name, value in headers])


def headers_from_json(stored: str | list[list[str]]) -> tuple[tuple[str, bytes], ...]:
    """Headers read back from the outbox."""
    pairs = json.loads(stored) if isinstance(stored, str) else stored
    return tuple((name, base64.b64decode(value)) for name, value in pairs)

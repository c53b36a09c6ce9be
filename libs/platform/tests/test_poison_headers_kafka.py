"""A record whose headers cannot be read (a value that is not UTF-8, or null) is dead-lettered on
its own, with a reason; the good records around it in the same fetch are handled. On every topic
the services read, through `subscribe` as the services use it: the real broker, a toy service
in-process with its inbox, outbox and relay on the test database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from keepword_events import Envelope, Event, encode, new_envelope
from keepword_events.envelope import H_SOURCE
from keepword_events.examples import every_event
from keepword_events.topics import CATALOG, dead_letter_topic
from keepword_platform.database import Connection
from keepword_platform.messaging.records import DLQ_OFFSET, DLQ_PARTITION, DLQ_REASON, DLQ_TOPIC
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.toy_consumer import toy_consumer, until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

# Every topic some service subscribes to (the catalog is checked against each app's inputs).
INPUT_TOPICS = [spec.name for spec in CATALOG if spec.consumers]
GOOD_PER_TOPIC = 10


@dataclass
class ToyService:
    """One consumer over every input topic; it notes the ids of the events it handled."""

    name: str
    schema: str
    db: asyncpg.Pool
    prefix: str
    handled: set[str] = field(default_factory=set)

    async def on_event(self, _conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]:
        self.handled.add(envelope.id)
        return []

    def wants(self, envelope: Envelope[Event]) -> bool:
        # The broker is shared with other tests: only this module's threads are ours.
        return envelope.data.thread_id.startswith(self.prefix)

    async def outcome_at(self, topic: str, partition: int, offset: int) -> str | None:
        found: str | None = await self.db.fetchval(
            f"SELECT outcome FROM {self.schema}.inbox"
            " WHERE topic = $1 AND record_partition = $2 AND record_offset = $3",
            topic,
            partition,
            offset,
        )
        return found


@pytest.fixture(scope="module")
async def toy(fresh_kafka: str, database_url: str) -> AsyncIterator[ToyService]:
    def make(suffix: str, db: asyncpg.Pool) -> ToyService:
        return ToyService(f"toy-{suffix}", f"test_{suffix}", db, f"thr-poison-{suffix}")

    async with toy_consumer(fresh_kafka, database_url, INPUT_TOPICS, make) as service:
        yield service


def made_for(data: Event, count: int) -> list[tuple[str, list[tuple[str, bytes | None]]]]:
    """(event id, headers) of `count` records of `data`, each its own event; the value is shared."""
    made = []
    for _ in range(count):
        envelope = new_envelope(data, source="/test/poison")
        made.append((envelope.id, list[tuple[str, bytes | None]](encode(envelope).headers)))
    return made


@pytest.mark.parametrize("topic", INPUT_TOPICS)
async def test_unreadable_headers_are_dead_lettered_alone_and_the_rest_is_handled(
    toy: ToyService, fresh_kafka: str, topic: str
) -> None:
    thread = f"{toy.prefix}-{topic.split('.')[1]}"
    data = next(e for e in every_event(thread) if e.topic == topic)
    value = data.__pydantic_serializer__.to_json(data)
    good = made_for(data, GOOD_PER_TOPIC)
    (_, first), (_, second) = made_for(data, 2)
    # A CloudEvents header that is not UTF-8, and a header of no one's without a value.
    not_utf8 = [(n, b"\xff\xfe/intake" if n == H_SOURCE else v) for n, v in first]
    null_value = [*second, ("traceparent", None)]
    sequence = [h for _id, h in good[:5]] + [not_utf8] + [h for _id, h in good[5:]] + [null_value]

    async with TopicProbe(fresh_kafka, [dead_letter_topic(topic)]) as dlq:
        producer = AIOKafkaProducer(bootstrap_servers=fresh_kafka, acks="all", linger_ms=50)
        await producer.start()
        try:
            # One thread, so one partition: the bad records sit in the good ones' fetch.
            sent = [
                producer.send(topic, value, key=thread.encode(), headers=headers)
                for headers in sequence
            ]
            written = [await future for future in await asyncio.gather(*sent)]
        finally:
            await producer.stop()
        offsets = [meta.offset for meta in written]
        partition = written[0].partition
        bad_offsets = [offsets[5], offsets[-1]]

        async def ours() -> list[dict[str, bytes]]:
            # Other tests write unreadable records to this broker too, and the toy service
            # sets those aside as well: the letters of this test's records are the ones asked for.
            letters = [dict(r.headers) for r in await dlq.records()]
            return [
                letter
                for letter in letters
                if letter[DLQ_PARTITION] == str(partition).encode()
                and int(letter[DLQ_OFFSET]) in bad_offsets
            ]

        async def handled() -> bool:
            return {event_id for event_id, _h in good} <= toy.handled

        async def dead_lettered() -> bool:
            outcomes = [await toy.outcome_at(topic, partition, offset) for offset in bad_offsets]
            return outcomes == ["dead_lettered", "dead_lettered"]

        async def in_the_dlq() -> bool:
            return len(await ours()) == 2

        await until(handled, f"good records of {topic} handled", within=90)
        await until(dead_lettered, f"bad records of {topic} set aside", within=90)
        await until(in_the_dlq, f"dead letters in {dead_letter_topic(topic)}", within=90)

        letters = {int(letter[DLQ_OFFSET]): letter for letter in await ours()}
    assert sorted(letters) == bad_offsets
    assert len(await dlq.records()) >= 2
    assert {letter[DLQ_TOPIC] for letter in letters.values()} == {topic.encode()}
    assert letters[offsets[5]][DLQ_REASON] == b"undecodable: header 'ce_source' is not UTF-8"
    assert (
        letters[offsets[-1]][DLQ_REASON] == b"undecodable: header 'traceparent' has no value (null)"
    )
    assert letters[offsets[-1]]["traceparent"] == b""  # carried, as empty
    assert len(toy.handled & {event_id for event_id, _h in good}) == GOOD_PER_TOPIC

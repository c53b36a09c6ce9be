"""Inbox, outbox, relay and dead letters against the real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest
from keepword_events import (
    CommitmentStatusChanged,
    Envelope,
    Event,
    MessageReceived,
    encode,
    new_envelope,
    topics,
)
from keepword_events.envelope import H_CAUSATION
from keepword_events.examples import every_event
from keepword_platform.database import Connection
from keepword_platform.messaging import store
from keepword_platform.messaging.consumer import EventConsumer, Rejected
from keepword_platform.messaging.records import (
    DLQ_REASON,
    DLQ_TOPIC,
    REPLAY_OF,
    headers_from_json,
)
from keepword_platform.messaging.relay import OutboxRelay
from keepword_platform.migrations import apply_migrations
from keepword_platform.producer import FailFastProducer
from keepword_testkit.batch_harness import FakeRecord
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.toy_consumer import until

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


def consumed(envelope: Envelope[Event], offset: int) -> FakeRecord:
    record = encode(envelope)
    return FakeRecord(record.topic, 0, offset, record.key, record.value, record.headers)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    schema = f"test_{uuid.uuid4().hex[:10]}"
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    async with pool.acquire() as conn:
        await apply_migrations(conn, schema, ["keepword_platform.messaging"])
    yield pool, schema
    await pool.execute(f"DROP SCHEMA {schema} CASCADE")
    await pool.close()


async def echo_status(conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]:
    """A toy handler: refuses subjects saying "refuse", fails on "boom", else emits one event."""
    data = envelope.data
    assert isinstance(data, MessageReceived)
    if data.subject == "refuse":
        raise Rejected("toy refusal")
    if data.subject == "boom":
        raise RuntimeError("toy bug")
    status = next(e for e in every_event(data.thread_id) if isinstance(e, CommitmentStatusChanged))
    return [status.model_copy(update={"causation_id": envelope.id})]


def message(subject: str) -> Envelope[Event]:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    data = next(e for e in every_event(thread) if isinstance(e, MessageReceived))
    return new_envelope(data.model_copy(update={"subject": subject}), source="/test")


async def test_each_event_once_and_bad_records_to_dead_letters(
    pool: tuple[asyncpg.Pool, str], catalog_topics: str
) -> None:
    db, schema = pool
    consumer = EventConsumer("toy", schema, lambda: db, echo_status, retry_pause_seconds=0)
    good, refused, buggy = message("fine"), message("refuse"), message("boom")
    poison = FakeRecord(topics.MESSAGES, 0, 99, b"k", b"not json", [("ce_type", b"nope")])
    batch = [consumed(good, 1), consumed(good, 2), consumed(refused, 3), consumed(buggy, 4), poison]

    await consumer.handle_batch(batch)
    await consumer.handle_batch(batch)  # redelivered: changes nothing

    rows = await db.fetch(f"SELECT topic, headers::text AS h FROM {schema}.outbox ORDER BY id")
    assert [r["topic"] for r in rows] == [
        topics.COMMITMENTS,
        f"{topics.MESSAGES}.dlq",
        f"{topics.MESSAGES}.dlq",
        f"{topics.MESSAGES}.dlq",
    ]
    inbox = await db.fetch(f"SELECT event_id, outcome FROM {schema}.inbox")
    outcomes = {row["event_id"]: row["outcome"] for row in inbox}
    assert outcomes == {
        good.id: "handled",
        refused.id: "dead_lettered",
        buggy.id: "dead_lettered",
        f"dlq:toy:{topics.MESSAGES}:0:99": "dead_lettered",
    }

    producer = FailFastProducer(catalog_topics, client_id="test", timeout_seconds=10)
    relay = OutboxRelay(db, schema, producer, poll_seconds=0.1)
    try:
        async with TopicProbe(
            catalog_topics, [topics.COMMITMENTS, f"{topics.MESSAGES}.dlq"]
        ) as probe:
            task = asyncio.create_task(relay.run())
            for _ in range(100):
                if await store.unpublished_count(db, schema) == 0:
                    break
                await asyncio.sleep(0.1)
            task.cancel()
            ours = {good.data.thread_id, refused.data.thread_id, buggy.data.thread_id, "k"}
            records = [r for r in await probe.records() if (r.key or b"").decode() in ours]
    finally:
        await producer.stop()

    reasons = sorted(
        dict(r.headers)[DLQ_REASON].decode() for r in records if r.topic.endswith(".dlq")
    )
    assert len(records) == 4
    assert reasons[0].startswith("handler failed 3 times")
    assert reasons[1] == "rejected: toy refusal"
    assert reasons[2].startswith("undecodable")
    assert {dict(r.headers).get(DLQ_TOPIC) for r in records if r.topic.endswith(".dlq")} == {
        topics.MESSAGES.encode()
    }


async def test_a_producer_out_of_step_with_the_broker_is_replaced(
    pool: tuple[asyncpg.Pool, str], catalog_topics: str
) -> None:
    """After a broker restart an idempotent producer's sequence numbers can be out of step with
    the broker's (OutOfOrderSequenceNumber): aiokafka never recovers that producer, so the relay
    must send the batch again through a new one, or its outbox stalls for good."""
    db, schema = pool
    consumer = EventConsumer("toy", schema, lambda: db, echo_status, retry_pause_seconds=0)
    first = message("fine")
    again = new_envelope(first.data, source="/test")  # the same thread: the same partition
    producer = FailFastProducer(catalog_topics, client_id="test", timeout_seconds=10)
    relay = OutboxRelay(db, schema, producer, poll_seconds=0.1)

    async def drained() -> bool:
        return await store.unpublished_count(db, schema) == 0

    async with TopicProbe(catalog_topics, [topics.COMMITMENTS]) as probe:
        task = asyncio.create_task(relay.run())
        try:
            await consumer.handle_batch([consumed(first, 1)])
            await until(drained, "the first row published")
            out_of_step = await producer._current()
            sequences = out_of_step._txn_manager._sequence_numbers
            for partition in list(sequences):
                sequences[partition] += 5
            await consumer.handle_batch([consumed(again, 2)])
            await until(drained, "the second row published by a new producer")
            replacement = producer._producer
        finally:
            task.cancel()
            await producer.stop()
        key = first.data.thread_id.encode()
        records = [r for r in await probe.records() if r.key == key]
    assert replacement is not None
    assert replacement is not out_of_step
    assert len(records) == 2


async def test_only_one_relay_leads(pool: tuple[asyncpg.Pool, str]) -> None:
    db, schema = pool

    class Never:
        async def send_many(self, records: object) -> list[Exception]:
            raise AssertionError("nothing to publish")

    first = OutboxRelay(db, schema, Never(), poll_seconds=0.05)
    second = OutboxRelay(db, schema, Never(), poll_seconds=0.05)
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    await asyncio.sleep(0.5)
    leaders = [first.is_leader, second.is_leader]
    tasks[0].cancel() if first.is_leader else tasks[1].cancel()
    await asyncio.sleep(0.5)
    after = [first.is_leader, second.is_leader]
    for task in tasks:
        task.cancel()
    assert sorted(leaders) == [False, True]
    assert after == [not leaders[0], not leaders[1]] or after.count(True) == 1


def replayed(record: FakeRecord, offset: int) -> FakeRecord:
    """`record` written back by `keepword dlq replay`: same bytes and event id, a new offset."""
    where = f"{record.topic}.dlq:0:{offset}".encode()
    return FakeRecord(
        record.topic,
        record.partition,
        offset,
        record.key,
        record.value,
        [*record.headers, (REPLAY_OF, where)],
    )


async def test_a_replayed_dead_letter_is_taken_up_again_by_the_service_that_set_it_aside(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    db, schema = pool
    refusing = True

    async def handler(conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]:
        if refusing:
            raise Rejected("not yet")
        return await echo_status(conn, envelope)

    consumer = EventConsumer("toy", schema, lambda: db, handler, retry_pause_seconds=0)
    poison, handled = message("fine"), message("fine")
    original = consumed(poison, 3)
    garbage = FakeRecord(topics.MESSAGES, 0, 99, b"k", b"not json", [("ce_type", b"nope")])

    async def outbox() -> list[tuple[str, str]]:
        rows = await db.fetch(f"SELECT topic, headers::text AS h FROM {schema}.outbox ORDER BY id")
        return [
            (row["topic"], dict(headers_from_json(row["h"])).get(DLQ_REASON, b"").decode())
            for row in rows
        ]

    async def outcome(event_id: str) -> str:
        found: str = await db.fetchval(
            f"SELECT outcome FROM {schema}.inbox WHERE event_id = $1",
            event_id,
        )
        return found

    dlq = f"{topics.MESSAGES}.dlq"
    await consumer.handle_batch([original, garbage])
    await consumer.handle_batch([original, garbage])  # Kafka redelivers: nothing new
    letters = await outbox()
    assert [topic for topic, _ in letters] == [dlq, dlq]
    assert letters[0][1] == "rejected: not yet"
    assert letters[1][1].startswith("undecodable: ")

    # Replayed before the cause is gone: set aside again (once, even when redelivered).
    await consumer.handle_batch([replayed(original, 10), replayed(garbage, 11)])
    await consumer.handle_batch([replayed(original, 10), replayed(garbage, 11)])
    letters = await outbox()
    assert [topic for topic, _ in letters] == [dlq] * 4
    assert letters[2] == (dlq, "rejected: not yet")
    assert letters[3][1].startswith("undecodable: ")
    assert await outcome(poison.id) == "dead_lettered"

    # The cause is gone: the next replay is handled, once, whatever comes after it.
    refusing = False
    await consumer.handle_batch([consumed(handled, 4), replayed(original, 12)])
    for again in ([replayed(original, 12)], [replayed(original, 13)], [original]):
        await consumer.handle_batch(again)
    await consumer.handle_batch([replayed(consumed(handled, 4), 14)])  # handled: stays once
    effects = await db.fetch(
        f"SELECT headers::text AS h FROM {schema}.outbox WHERE topic = $1",
        topics.COMMITMENTS,
    )
    causes = sorted(dict(headers_from_json(row["h"]))[H_CAUSATION].decode() for row in effects)
    assert causes == sorted([poison.id, handled.id])
    assert await outcome(poison.id) == "handled"
    assert len(await outbox()) == 6


async def test_a_batch_with_a_poison_event_is_redone_event_by_event(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    """The batch is tried in one transaction; when one event fails, that attempt leaves no trace
    and the batch is handled again event by event: the others once, in order, the poison set
    aside once."""
    db, schema = pool
    await db.execute(f"CREATE TABLE {schema}.effects (id serial, event_id text)")
    calls: list[str] = []

    async def writing(conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]:
        calls.append(envelope.id)
        # State written before the refusal: it must not survive the batch's first attempt.
        await conn.execute(f"INSERT INTO {schema}.effects (event_id) VALUES ($1)", envelope.id)
        return await echo_status(conn, envelope)

    consumer = EventConsumer("toy", schema, lambda: db, writing, retry_pause_seconds=0)
    clean = [message("fine") for _ in range(3)]
    await consumer.handle_batch([consumed(e, i) for i, e in enumerate(clean)])
    assert calls == [e.id for e in clean]  # no failure: each handled once, in one go

    calls.clear()
    first, refused, buggy, last = (
        message("fine"),
        message("refuse"),
        message("boom"),
        message("fine"),
    )
    batch = [consumed(e, 10 + i) for i, e in enumerate([first, refused, buggy, last])]
    await consumer.handle_batch(batch)
    await consumer.handle_batch(batch)  # redelivered: nothing new

    effects = await db.fetch(f"SELECT event_id FROM {schema}.effects ORDER BY id")
    assert [r["event_id"] for r in effects] == [e.id for e in [*clean, first, last]]
    outbox = await db.fetch(
        f"SELECT topic, headers::text AS h FROM {schema}.outbox WHERE id > 3 ORDER BY id"
    )
    assert [r["topic"] for r in outbox] == [
        topics.COMMITMENTS,
        f"{topics.MESSAGES}.dlq",
        f"{topics.MESSAGES}.dlq",
        topics.COMMITMENTS,
    ]
    headers = [dict(headers_from_json(r["h"])) for r in outbox]
    assert headers[0][H_CAUSATION] == first.id.encode()
    assert headers[1][DLQ_REASON] == b"rejected: toy refusal"
    assert headers[2][DLQ_REASON].startswith(b"handler failed 3 times")
    assert headers[3][H_CAUSATION] == last.id.encode()
    inbox = await db.fetch(f"SELECT event_id, outcome FROM {schema}.inbox")
    assert {r["event_id"]: r["outcome"] for r in inbox} == {
        **{e.id: "handled" for e in [*clean, first, last]},
        refused.id: "dead_lettered",
        buggy.id: "dead_lettered",
    }
    # The first attempt reached the refusal; then one by one (the bug retried three times).
    assert calls == [first.id, refused.id, first.id, refused.id, *[buggy.id] * 3, last.id]


async def test_a_batch_step_gets_the_claimed_events_at_once_and_a_poison_one_is_still_isolated(
    pool: tuple[asyncpg.Pool, str],
) -> None:
    """With a step for batches, the first attempt hands it every new event of the batch in one
    call, in record order (an event twice in the batch, or already handled, is not in it); when
    that attempt fails the batch is redone event by event, as without one."""
    db, schema = pool
    steps: list[list[str]] = []

    async def batch(conn: Connection, envelopes: Sequence[Envelope[Event]]) -> Sequence[Event]:
        steps.append([e.id for e in envelopes])
        caused: list[Event] = []
        for envelope in envelopes:
            caused.extend(await echo_status(conn, envelope))
        return caused

    async def one(conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]:
        return await batch(conn, [envelope])

    consumer = EventConsumer(
        "toy", schema, lambda: db, one, batch_handler=batch, retry_pause_seconds=0
    )
    old, a, b = message("fine"), message("fine"), message("fine")
    await consumer.handle_batch([consumed(old, 1)])
    garbage = FakeRecord(topics.MESSAGES, 0, 99, b"k", b"not json", [("ce_type", b"nope")])
    clean = [consumed(old, 1), consumed(a, 2), garbage, consumed(a, 3), consumed(b, 4)]
    await consumer.handle_batch(clean)
    await consumer.handle_batch(clean)  # redelivered: nothing new, and no call
    assert steps == [[old.id], [a.id, b.id]]

    steps.clear()
    first, refused, last = message("fine"), message("refuse"), message("fine")
    await consumer.handle_batch([consumed(e, 10 + i) for i, e in enumerate([first, refused, last])])
    # The whole batch first, then one by one: the refusal set aside, the others once.
    assert steps == [[first.id, refused.id, last.id], [first.id], [refused.id], [last.id]]
    inbox = await db.fetch(f"SELECT event_id, outcome FROM {schema}.inbox")
    assert {r["event_id"]: r["outcome"] for r in inbox} == {
        **{e.id: "handled" for e in [old, a, b, first, last]},
        refused.id: "dead_lettered",
        f"dlq:toy:{topics.MESSAGES}:0:99": "dead_lettered",
    }
    outbox = await db.fetch(f"SELECT topic, headers::text AS h FROM {schema}.outbox ORDER BY id")
    causes = [
        dict(headers_from_json(r["h"])).get(H_CAUSATION, b"").decode()
        for r in outbox
        if r["topic"] == topics.COMMITMENTS
    ]
    assert causes == [e.id for e in [old, a, b, first, last]]
    assert [r["topic"] for r in outbox].count(f"{topics.MESSAGES}.dlq") == 2

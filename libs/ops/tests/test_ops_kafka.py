"""`keepword tail`, `dlq list`, `dlq replay` and `lag` through the real CLI on a private broker.

The broker (`fresh_kafka`) belongs to this test session; other tests may write their own threads
to it, so every test here looks at its own thread, event ids or topic only.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition
from keepword_events import Event, KafkaRecord, encode, new_envelope, topics
from keepword_events.examples import every_event
from keepword_ops import tail
from keepword_ops.cli import app
from keepword_ops.dlq import REPLAY_GROUP
from keepword_ops.timeline import partition_for
from keepword_platform.messaging.records import dead_letter
from typer.testing import CliRunner

pytestmark = pytest.mark.kafka

runner = CliRunner()
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PARTITIONS = 6  # KEEPWORD_TOPIC_PARTITIONS's default, as `fresh_kafka` creates them


@pytest.fixture
def bootstrap(fresh_kafka: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KEEPWORD_KAFKA_BOOTSTRAP", fresh_kafka)
    return fresh_kafka


def _thread() -> str:
    return f"thr-ops-{uuid.uuid4().hex[:12]}"


def _neighbour(thread: str) -> str:
    """Another thread whose records land on the same partitions as `thread`'s."""
    while True:
        other = _thread()
        if partition_for(other, PARTITIONS) == partition_for(thread, PARTITIONS):
            return other


def _records(events: list[Event], start: datetime = START) -> list[KafkaRecord]:
    """The events' records, a second apart in the order given."""
    return [
        encode(new_envelope(event, source="/keepword/test", time=start + timedelta(seconds=i)))
        for i, event in enumerate(events)
    ]


async def _produce(bootstrap: str, records: list[KafkaRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )
    finally:
        await producer.stop()


@dataclass
class _Consumed:
    """A consumed record, as a service would have it (the shape `dead_letter` reads)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = field(default=())


def _dead_letter(record: KafkaRecord, reason: str, offset: int) -> KafkaRecord:
    """The dead letter a service writes for `record` (the platform's own function)."""
    consumed = _Consumed(
        record.topic,
        partition_for(record.key.decode(), PARTITIONS),
        offset,
        record.key,
        record.value,
        record.headers,
    )
    return dead_letter(consumed, reason, service="commitments", attempts=1).record


Written = tuple[int, bytes | None, list[tuple[str, bytes]]]


async def _read_partition(bootstrap: str, tp: TopicPartition) -> list[Written]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        found: list[Written] = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=500)).values():
                found.extend((r.offset, r.key, list(r.headers)) for r in records if r.offset < end)
        return found
    finally:
        await consumer.stop()


async def _committed(bootstrap: str, group: str) -> dict[TopicPartition, tuple[int, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return {tp: (meta.offset, meta.metadata) for tp, meta in offsets.items()}
    finally:
        await admin.close()


def test_tail_shows_one_threads_events_from_every_topic_in_time_order(bootstrap: str) -> None:
    thread, other = _thread(), _thread()
    neighbour = _neighbour(thread)
    events = every_event(thread)
    mine = _records(events)
    # Written newest topic first, interleaved with two other threads (one on the same
    # partitions): tail must put them in time order and leave the others out.
    noise = _records(every_event(neighbour)) + _records(every_event(other))
    asyncio.run(_produce(bootstrap, [*reversed(mine), *noise]))

    result = runner.invoke(app, ["tail", "--thread", thread, "--no-follow"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(events)
    kinds = [line.split()[3] for line in lines]
    assert kinds == [e.ce_type.removeprefix("keepword.").removesuffix(".v1") for e in events]
    assert {line.split()[2] for line in lines} == {
        t.removeprefix("keepword.") for t in topics.EVENT_TOPICS
    }
    assert lines[0].startswith("2026-11-02 09:00:00.000Z")
    assert 'email from dana@example.com: "Where is my ranking report?"' in lines[0]
    assert neighbour not in result.stdout
    assert other not in result.stdout


def test_tail_json_has_a_line_per_event_and_shows_dead_letters(bootstrap: str) -> None:
    thread = _thread()
    message, reply = _records(every_event(thread)[:2])
    poison = _dead_letter(reply, "rejected: reply to an unknown message", offset=7)
    asyncio.run(_produce(bootstrap, [message, reply, poison]))

    result = runner.invoke(app, ["tail", "--thread", thread, "--no-follow", "--json"])

    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["topic"], e["type"], e["dead_letter"]) for e in entries] == [
        (topics.MESSAGES, "keepword.message.received.v1", False),
        (topics.MESSAGES, "keepword.reply.sent.v1", False),
        (topics.MESSAGES + ".dlq", "keepword.reply.sent.v1", True),
    ]
    assert entries[0]["data"]["thread_id"] == thread
    assert "rejected: reply to an unknown message" in entries[2]["gist"]


async def test_tail_follows_what_is_written_after_the_history(bootstrap: str) -> None:
    thread = _thread()
    first, second = _records(every_event(thread)[:2])
    await _produce(bootstrap, [first])
    batches = tail.follow_thread(bootstrap, thread, follow=True, poll_ms=100)
    try:
        history = await anext(batches)
        await _produce(bootstrap, [second])
        live = await anext(batches)
    finally:
        await batches.aclose()

    assert [e.event_type for e in history] == ["keepword.message.received.v1"]
    assert [e.event_type for e in live] == ["keepword.reply.sent.v1"]


def test_dlq_list_shows_a_poison_record_with_its_reason_and_source(bootstrap: str) -> None:
    thread = _thread()
    declared = _records([every_event(thread)[2]])[0]
    poison = _dead_letter(declared, "rejected: commitment cmt-1 was already declared", 41)
    event_id = dict(declared.headers)["ce_id"].decode()
    asyncio.run(_produce(bootstrap, [poison]))

    listed = runner.invoke(app, ["dlq", "list", "--event-id", event_id])
    as_json = runner.invoke(app, ["dlq", "list", "--event-id", event_id, "--json"])

    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0] == "keepword.commitment-requests.v1.dlq (1)"
    assert "waiting  commitment.declared.v1" in lines[1]
    assert f"id {event_id}  thread {thread}" in lines[1]
    partition = partition_for(thread, PARTITIONS)
    assert (
        f"from keepword.commitment-requests.v1/{partition}@41, set aside by commitments "
        "after 1 attempt(s): rejected: commitment cmt-1 was already declared"
    ) in lines[2]
    (entry,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert entry["reason"] == "rejected: commitment cmt-1 was already declared"
    assert (entry["source_topic"], entry["source_partition"], entry["source_offset"]) == (
        topics.COMMITMENT_REQUESTS,
        partition,
        41,
    )
    assert (entry["type"], entry["id"], entry["replayed"]) == (
        "keepword.commitment.declared.v1",
        event_id,
        False,
    )


def test_dlq_replay_writes_each_dead_letter_back_once(bootstrap: str) -> None:
    thread = _thread()
    answered, cancelled = _records(every_event(thread)[3:6:2])
    ids = [dict(r.headers)["ce_id"].decode() for r in (answered, cancelled)]
    letters = [
        _dead_letter(answered, "handler failed 3 times: RuntimeError('db bug')", 3),
        _dead_letter(cancelled, "rejected: unknown commitment cmt-1", 4),
    ]
    asyncio.run(_produce(bootstrap, letters))
    source = TopicPartition(topics.COMMITMENT_REQUESTS, partition_for(thread, PARTITIONS))
    chosen = ["--topic", topics.COMMITMENT_REQUESTS, "--event-id", ids[0], "--event-id", ids[1]]
    before = asyncio.run(_read_partition(bootstrap, source))
    marks_before = asyncio.run(_committed(bootstrap, REPLAY_GROUP))

    dry = runner.invoke(app, ["dlq", "replay", *chosen, "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert dry.stdout.count("would replay keepword.commitment-requests.v1.dlq") == 2
    assert "would replay 2;" in dry.stdout
    assert asyncio.run(_read_partition(bootstrap, source)) == before
    assert asyncio.run(_committed(bootstrap, REPLAY_GROUP)) == marks_before

    # Only the one whose handler failed, first; then both: the first is not sent again.
    first = runner.invoke(app, ["dlq", "replay", *chosen, "--reason", "handler failed"])
    rest = runner.invoke(app, ["dlq", "replay", *chosen])
    again = runner.invoke(app, ["dlq", "replay", *chosen])

    assert first.exit_code == 0, first.output
    assert "replayed 1;" in first.stdout
    assert rest.exit_code == 0, rest.output
    assert "replayed 1;" in rest.stdout
    assert ids[1] in rest.stdout
    assert ids[0] not in rest.stdout
    assert again.exit_code == 0, again.output
    assert "replayed 0;" in again.stdout
    written = asyncio.run(_read_partition(bootstrap, source))[len(before) :]
    assert [dict(headers)["ce_id"].decode() for _o, _k, headers in written] == ids
    for (_offset, key, headers), original in zip(written, (answered, cancelled), strict=True):
        assert key == thread.encode()
        assert [h for h in headers if h[0] != "keepword-replay-of"] == list(original.headers)
        assert dict(headers)["keepword-replay-of"].startswith(
            b"keepword.commitment-requests.v1.dlq:"
        )
    listed = runner.invoke(app, ["dlq", "list", "--event-id", ids[0], "--json"])
    assert json.loads(listed.stdout)["replayed"] is True


def test_lag_reports_what_a_group_has_left(bootstrap: str) -> None:
    topic = asyncio.run(_topic_with_records(bootstrap, {0: 5, 1: 2}))
    group = f"ops-test-{uuid.uuid4().hex[:8]}"

    async def commit_part() -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, 0)])
            await consumer.commit({TopicPartition(topic, 0): 2})
        finally:
            await consumer.stop()

    asyncio.run(commit_part())

    table = runner.invoke(app, ["lag", "--group", group])
    as_json = runner.invoke(app, ["lag", "--group", "ops-test-*", "--json"])
    above = runner.invoke(app, ["lag", "--group", group, "--fail-above", "4"])
    within = runner.invoke(app, ["lag", "--group", group, "--fail-above", "5"])

    assert table.exit_code == 0, table.output
    rows = [line.split() for line in table.stdout.splitlines()[1:]]
    assert [group, topic, "0", "2", "5", "3"] in rows
    assert [group, topic, "1", "-", "2", "2"] in rows  # nothing committed: from the log start
    assert [group, "(total)", "5"] in rows
    report = json.loads(as_json.stdout)
    (mine,) = [g for g in report["groups"] if g["group"] == group]
    assert mine["lag"] == 5
    assert [(p["partition"], p["committed"], p["end"], p["lag"]) for p in mine["partitions"]] == [
        (0, 2, 5, 3),
        (1, None, 2, 2),
    ]
    assert above.exit_code == 3
    assert f"lag above 4: {group} (5)" in above.output
    assert within.exit_code == 0, within.output


async def _topic_with_records(bootstrap: str, counts: dict[int, int]) -> str:
    topic = f"ops-test-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, len(counts), replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for partition, count in counts.items():
            for i in range(count):
                await producer.send_and_wait(topic, b"x%d" % i, partition=partition)
    finally:
        await producer.stop()
    return topic


def test_groups_reset_moves_a_stopped_group_and_refuses_a_running_one(bootstrap: str) -> None:
    topic = asyncio.run(_topic_with_records(bootstrap, {0: 4, 1: 3}))
    group = f"ops-test-{uuid.uuid4().hex[:8]}"

    async def commit(offsets: dict[int, int]) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, p) for p in offsets])
            await consumer.commit({TopicPartition(topic, p): o for p, o in offsets.items()})
        finally:
            await consumer.stop()

    asyncio.run(commit({0: 4, 1: 3}))

    dry = runner.invoke(app, ["groups", "reset", group, "--to", "earliest", "--dry-run"])
    unchanged = asyncio.run(_committed(bootstrap, group))
    reset = runner.invoke(app, ["groups", "reset", group, "--to", "earliest"])
    after = asyncio.run(_committed(bootstrap, group))
    lagging = runner.invoke(app, ["lag", "--group", group, "--json"])

    assert dry.exit_code == 0, dry.output
    assert f"{group}  {topic} 0: 4 -> 0" in dry.stdout
    assert "would move 2 of 2 partition(s)" in dry.stdout
    assert {tp.partition: o for tp, (o, _m) in unchanged.items()} == {0: 4, 1: 3}
    assert reset.exit_code == 0, reset.output
    assert {tp.partition: o for tp, (o, _m) in after.items()} == {0: 0, 1: 0}
    assert json.loads(lagging.stdout)["total"] == 7

    async def refused_while_running() -> str:
        member = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await member.start()
        try:
            while not member.assignment():  # joined the group
                await member.getmany(timeout_ms=200)
            result = await asyncio.to_thread(
                runner.invoke, app, ["groups", "reset", group, "--to", "latest"]
            )
            assert result.exit_code == 1
            return result.output
        finally:
            await member.stop()

    assert "running member(s): stop them first" in asyncio.run(refused_while_running())

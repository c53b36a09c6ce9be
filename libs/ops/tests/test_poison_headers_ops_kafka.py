"""`keepword tail`, `dlq list` and `dlq replay` on records whose headers cannot be read (a value
that is not UTF-8, or null): shown for what they are, never a crash. Real CLI, private broker."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from keepword_events import encode, new_envelope, topics
from keepword_events.envelope import H_ID, H_TYPE
from keepword_events.examples import every_event
from keepword_ops.cli import app
from keepword_platform.messaging.records import DLQ_REASON, DLQ_SERVICE, DLQ_TOPIC
from keepword_testkit.kafka_probe import TopicProbe
from typer.testing import CliRunner

pytestmark = pytest.mark.kafka

runner = CliRunner()

Headers = list[tuple[str, bytes | None]]


@pytest.fixture
def bootstrap(fresh_kafka: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KEEPWORD_KAFKA_BOOTSTRAP", fresh_kafka)
    return fresh_kafka


async def _produce(bootstrap: str, topic: str, key: bytes, value: bytes, *all: Headers) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for headers in all:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def _replace(headers: Headers, name: str, value: bytes | None) -> Headers:
    return [(n, value if n == name else v) for n, v in headers]


def test_tail_and_dlq_show_records_with_unreadable_headers(bootstrap: str) -> None:
    thread = f"thr-ops-poison-{uuid.uuid4().hex[:12]}"
    record = encode(new_envelope(every_event(thread)[0], source="/keepword/test"))
    good: Headers = list(record.headers)
    reason = f"undecodable: header 'ce_type' has no value (null) {uuid.uuid4().hex}"
    # On the topic: an event, one with a null type, one whose id is not UTF-8. In the .dlq: a
    # dead letter written by some other tool, with a null type and a reason that is not UTF-8
    # in part, and one of ours (whose reason the replay selects).
    on_topic = [good, _replace(good, H_TYPE, None), _replace(good, H_ID, b"\xff\xfe")]
    where = [(DLQ_TOPIC, topics.MESSAGES.encode()), (DLQ_SERVICE, b"notifier")]
    foreign = [*_replace(good, H_TYPE, None), (DLQ_REASON, b"bad \xff bytes"), *where]
    ours = [*_replace(good, H_TYPE, None), (DLQ_REASON, reason.encode()), *where]
    dlq = topics.MESSAGES + ".dlq"
    asyncio.run(_produce(bootstrap, topics.MESSAGES, record.key, record.value, *on_topic))
    asyncio.run(_produce(bootstrap, dlq, record.key, record.value, foreign, ours))

    tailed = runner.invoke(app, ["tail", "--thread", thread, "--no-follow", "--json"])

    assert tailed.exit_code == 0, tailed.output
    entries = [json.loads(line) for line in tailed.stdout.splitlines()]
    assert [(e["topic"], e["type"], e["dead_letter"]) for e in entries][:3] == [
        (topics.MESSAGES, "keepword.message.received.v1", False),
        (topics.MESSAGES, "?", False),
        (topics.MESSAGES, "keepword.message.received.v1", False),
    ]
    assert "has no value (null)" in entries[1]["gist"]
    assert "is not UTF-8" in entries[2]["gist"]
    assert [(e["topic"], e["type"], e["dead_letter"]) for e in entries][3:] == [
        (dlq, "?", True),
        (dlq, "?", True),
    ]

    listed = runner.invoke(app, ["dlq", "list", "--topic", topics.MESSAGES, "--json"])

    assert listed.exit_code == 0, listed.output
    mine = [json.loads(line) for line in listed.stdout.splitlines()]
    mine = [entry for entry in mine if entry["thread_id"] == thread]
    assert [(entry["reason"], entry["type"]) for entry in mine] == [
        ("bad \ufffd bytes", None),
        (reason, None),
    ]

    async def replay() -> list[Headers]:
        async with TopicProbe(bootstrap, [topics.MESSAGES]) as probe:
            result = await asyncio.to_thread(
                runner.invoke, app, ["dlq", "replay", "--reason", reason]
            )
            assert result.exit_code == 0, result.output
            return [list(r.headers) for r in await probe.records() if r.key == record.key]

    (replayed,) = asyncio.run(replay())
    assert dict(replayed)[H_TYPE] is None  # written back as it was: null

"""A dead letter replayed with the real `keepword dlq replay` is handled by the service that set it
aside: dead-lettered again while the cause remains, handled once when it is gone, its effects
published once, and nothing more on a second replay or a second copy of the replay.

A toy service in-process, wired as the services are (`subscribe`, inbox and outbox, the relay),
on the session's private broker and the test database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from keepword_events import (
    CommitmentStatusChanged,
    Envelope,
    Event,
    MessageReceived,
    encode,
    new_envelope,
    topics,
)
from keepword_events.envelope import H_CAUSATION, H_ID
from keepword_events.examples import every_event
from keepword_ops.cli import app
from keepword_platform.database import Connection
from keepword_platform.messaging.consumer import Rejected
from keepword_platform.messaging.records import REPLAY_OF
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.toy_consumer import toy_consumer, until
from prometheus_client import REGISTRY
from typer.testing import CliRunner

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

runner = CliRunner()


@dataclass
class ToyService:
    """A consumer of `keepword.messages.v1` that refuses its thread's message while `refusing`."""

    name: str
    schema: str
    db: asyncpg.Pool
    thread: str
    refusing: bool = True

    async def on_event(self, _conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]:
        if self.refusing:
            raise Rejected("the ledger does not know this thread yet")
        status = next(e for e in every_event(self.thread) if isinstance(e, CommitmentStatusChanged))
        return [status.model_copy(update={"causation_id": envelope.id})]

    def wants(self, envelope: Envelope[Event]) -> bool:
        # The broker is shared with other tests: only this thread's events are ours.
        return getattr(envelope.data, "thread_id", None) == self.thread

    def counted(self, outcome: str) -> float:
        labels = {"service": self.name, "outcome": outcome}
        return REGISTRY.get_sample_value("keepword_events_handled_total", labels) or 0.0

    async def outcome(self, event_id: str) -> str | None:
        found: str | None = await self.db.fetchval(
            f"SELECT outcome FROM {self.schema}.inbox WHERE event_id = $1", event_id
        )
        return found


@pytest.fixture
async def toy(fresh_kafka: str, database_url: str) -> AsyncIterator[ToyService]:
    def make(suffix: str, db: asyncpg.Pool) -> ToyService:
        return ToyService(f"toy-{suffix}", f"test_{suffix}", db, f"thr-replay-{suffix}")

    async with toy_consumer(
        fresh_kafka, database_url, [topics.MESSAGES], make, max_records=50
    ) as service:
        yield service


async def keepword(*args: str) -> str:
    """Run the real CLI (it runs its own event loop, so in a thread); its stdout."""
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


async def dead_letters(event_id: str) -> list[dict[str, Any]]:
    listed = await keepword("dlq", "list", "--event-id", event_id, "--json")
    # The toy service's broker logs to stdout on this loop while the CLI's stdout is captured
    # in its thread: its lines can land among the CLI's. The CLI's lines are JSON objects.
    return [json.loads(line) for line in listed.splitlines() if line.startswith("{")]


async def test_a_replayed_dead_letter_is_handled_once_by_the_service_that_set_it_aside(
    toy: ToyService, fresh_kafka: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEPWORD_KAFKA_BOOTSTRAP", fresh_kafka)
    data = next(e for e in every_event(toy.thread) if isinstance(e, MessageReceived))
    record = encode(new_envelope(data, source="/keepword/intake"))
    event_id = dict(record.headers)[H_ID].decode()

    async def letters(count: int) -> bool:
        return len(await dead_letters(event_id)) == count

    async with TopicProbe(fresh_kafka, [topics.MESSAGES, topics.COMMITMENTS]) as probe:
        producer = AIOKafkaProducer(bootstrap_servers=fresh_kafka, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )
            await until(lambda: letters(1), "dead letter")

            # Replayed while the cause remains: set aside again, with the reason of this time.
            assert "replayed 1;" in await keepword("dlq", "replay", "--event-id", event_id)
            await until(lambda: letters(2), "second dead letter")
            first, second = await dead_letters(event_id)
            assert (first["replayed"], second["replayed"]) == (True, False)
            assert second["reason"] == "rejected: the ledger does not know this thread yet"
            assert second["service"] == toy.name

            # The cause is gone: the next replay is handled, and its effect published once.
            toy.refusing = False
            assert "replayed 1;" in await keepword("dlq", "replay", "--event-id", event_id)

            async def caused() -> list[Any]:
                return [
                    r
                    for r in await probe.records()
                    if r.topic == topics.COMMITMENTS
                    and dict(r.headers).get(H_CAUSATION) == event_id.encode()
                ]

            async def published() -> bool:
                return len(await caused()) == 1

            await until(published, "effect of the replayed event")
            assert await toy.outcome(event_id) == "handled"

            # A second replay sends nothing; a replay that wrote but did not remember (the same
            # copy again) is a duplicate for the service.
            assert "replayed 0;" in await keepword("dlq", "replay", "--event-id", event_id)
            copies = [
                r
                for r in await probe.records()
                if r.topic == topics.MESSAGES and dict(r.headers).get(H_ID) == event_id.encode()
            ]
            assert [REPLAY_OF in dict(r.headers) for r in copies] == [False, True, True]
            duplicates = toy.counted("duplicate")
            await producer.send_and_wait(
                copies[-1].topic,
                copies[-1].value,
                key=copies[-1].key,
                headers=list(copies[-1].headers),
            )

            async def skipped() -> bool:
                return toy.counted("duplicate") > duplicates

            await until(skipped, "duplicate skipped")
        finally:
            await producer.stop()
        await asyncio.sleep(1)  # the relay's next turns: still nothing more
        assert len(await caused()) == 1
        assert toy.counted("handled") == 1
        assert [d["replayed"] for d in await dead_letters(event_id)] == [True, True]

"""One input that blocks a service's event loop must not stop the service for good.

The commitments service runs as an OS process against the real broker and database, with the
test hook that lets a record block its loop on purpose. The watchdog must name the record (topic,
partition, offset) and record it; after the restart the block forced, the record goes to the
dead-letter topic with its reason, and the good event behind it is handled.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka.structs import RecordMetadata
from keepword_events import (
    CommitmentDeclared,
    CommitmentKind,
    CommitmentStatusChanged,
    Person,
    Role,
    encode,
    new_envelope,
    topics,
)
from keepword_platform.health.block_hook import BLOCK_HEADER
from keepword_platform.health.watchdog import EXIT_BLOCKED
from keepword_platform.kafka import make_broker
from keepword_platform.messaging.records import DLQ_OFFSET, DLQ_PARTITION, DLQ_REASON
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.local_kafka import private_broker
from keepword_testkit.processes import ServiceProcess, start_service

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture(scope="module")
def own_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own: the commitments these tests declare must not reach the
    other services' tests, which expect their input topics empty."""
    with private_broker(
        tmp_path_factory.mktemp("kafka-watchdog"), KeepwordSettings().topic_partitions
    ) as bootstrap:
        yield bootstrap


CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "local" / "keepword.toml"
SALES = Person(email="sam.sales@brightline.example", role=Role.SALES)
STALL_SECONDS = 2


def _start(log_dir: Path, bootstrap: str, database_url: str, **extra: str) -> ServiceProcess:
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": bootstrap,
        "KEEPWORD_DATABASE_URL": database_url,
        "KEEPWORD_CONFIG": str(CONFIG),
        "KEEPWORD_TEST_HOOKS": "1",
        "KEEPWORD_LOOP_STALL_SECONDS": str(STALL_SECONDS),
    } | extra
    return start_service("commitments", log_dir=log_dir, env=env)


def _declared(thread: str, commitment_id: str) -> CommitmentDeclared:
    return CommitmentDeclared(
        thread_id=thread,
        correlation_id=thread,
        commitment_id=commitment_id,
        made_by=SALES,
        kind=CommitmentKind.RESPONSE_TIME,
        text="We will respond within three hours",
        due_at=datetime.now(UTC) + timedelta(hours=3),
    )


async def _send(bootstrap: str, events: list[tuple[CommitmentDeclared, float]]) -> list[Any]:
    """Publish each event, asking the consumer to block that many seconds when not 0."""
    producer = make_broker(KeepwordSettings(kafka_bootstrap=bootstrap), client_id="t-block")
    await producer.start()
    try:
        landed: list[RecordMetadata] = []
        for event, block in events:
            record = encode(new_envelope(event, source="/test"))
            headers = {name: value.decode() for name, value in record.headers}
            if block:
                headers[BLOCK_HEADER] = str(block)
            landed.append(
                await producer.publish(record.value, record.topic, key=record.key, headers=headers)
            )
        return landed
    finally:
        await producer.stop()


def _lines(service: ServiceProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in service.log().splitlines() if line.startswith("{")]


async def _live(service: ServiceProcess) -> tuple[int, dict[str, str]] | None:
    """/healthz/live's answer, or None when it gives none within a probe's timeout."""
    try:
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"{service.url}/healthz/live", timeout=1.0)
    except httpx.HTTPError:
        return None
    return answer.status_code, answer.json()["checks"]


async def test_a_blocking_input_is_named_recorded_and_dead_lettered_after_the_restart(
    own_kafka: str, database_url: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    thread = f"thr-block-{run}"  # one thread: one partition, the good event after the bad one
    hostile, good = _declared(thread, f"cmt-{run}-hostile"), _declared(thread, f"cmt-{run}-good")
    source_topic = encode(new_envelope(hostile, source="/test")).topic

    async with TopicProbe(
        own_kafka, [topics.COMMITMENTS, topics.dead_letter_topic(source_topic)]
    ) as probe:
        doomed = _start(tmp_path, own_kafka, database_url, KEEPWORD_EXIT_WHEN_NOT_LIVE="true")
        try:
            await asyncio.to_thread(doomed.wait_healthy, 60)
            bad_at, _good_at = await _send(own_kafka, [(hostile, 3600), (good, 0)])
            # An hour's block: only the watchdog can end this process, and it must.
            code = await asyncio.to_thread(doomed.process.wait, 90)
        finally:
            if doomed.process.poll() is None:
                doomed.kill()
        assert code == EXIT_BLOCKED, doomed.log()[-3000:]

        blocked = [
            line for line in _lines(doomed) if line["event"].startswith("event loop blocked")
        ]
        assert len(blocked) == 1, doomed.log()[-3000:]
        assert (blocked[0]["topic"], blocked[0]["partition"], blocked[0]["offset"]) == (
            source_topic,
            bad_at.partition,
            bad_at.offset,
        )
        assert blocked[0]["event_id"]  # decoded before the handler ran
        assert "sam.sales" not in doomed.log()  # positions only, no personal data

        conn = await asyncpg.connect(database_url)
        try:
            suspects = await conn.fetch(
                "SELECT blocked_seconds FROM commitments.loop_suspects"
                " WHERE topic = $1 AND record_partition = $2 AND record_offset = $3"
                " AND event_id = $4",
                source_topic,
                bad_at.partition,
                bad_at.offset,
                blocked[0]["event_id"],
            )
        finally:
            await conn.close()
        assert len(suspects) == 1
        assert suspects[0]["blocked_seconds"] >= STALL_SECONDS

        survivor = _start(tmp_path, own_kafka, database_url, KEEPWORD_EXIT_WHEN_NOT_LIVE="true")
        try:
            await asyncio.to_thread(survivor.wait_healthy, 60)
            letters: list[Any] = []
            announced: set[str] = set()
            for _ in range(300):
                records = await probe.records()
                letters = [r for r in records if r.topic.endswith(".dlq")]
                announced = {
                    e.data.commitment_id
                    for e in await probe.events()
                    if isinstance(e.data, CommitmentStatusChanged)
                }
                if letters and good.commitment_id in announced:
                    break
                await asyncio.sleep(0.2)
            assert survivor.process.poll() is None, survivor.log()[-3000:]
            live = await _live(survivor)
        finally:
            survivor.stop()

    assert good.commitment_id in announced
    assert hostile.commitment_id not in announced
    assert len(letters) == 1
    why = dict(letters[0].headers)
    assert why[DLQ_REASON].decode().startswith("blocked the event loop for ")
    assert (int(why[DLQ_PARTITION]), int(why[DLQ_OFFSET])) == (bad_at.partition, bad_at.offset)
    assert live is not None
    assert live[0] == 200


async def test_a_loop_that_turns_again_is_live_again_and_says_what_happened(
    own_kafka: str, database_url: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    slow = _declared(f"thr-slow-{run}", f"cmt-{run}-slow")
    service = _start(tmp_path, own_kafka, database_url)
    try:
        await asyncio.to_thread(service.wait_healthy, 60)
        await _send(own_kafka, [(slow, STALL_SECONDS * 4)])
        unanswered = 0
        answer: tuple[int, dict[str, str]] | None = None
        for _ in range(600):
            answer = await _live(service)
            if answer is None:
                unanswered += 1  # what a probe with a timeout counts as not live
            elif "ok;" in answer[1].get("event loop", ""):
                break
            await asyncio.sleep(0.1)
        said: list[str] = []
        for _ in range(100):  # the watchdog logs the end at its next look
            said = [line["event"] for line in _lines(service)]
            if "event loop turns again" in said:
                break
            await asyncio.sleep(0.1)
    finally:
        service.stop()

    assert unanswered > 0
    assert answer is not None
    assert answer[0] == 200, answer
    assert "blocked for" in answer[1]["event loop"]
    assert "event loop blocked: the service is not live" in said
    assert "event loop turns again" in said

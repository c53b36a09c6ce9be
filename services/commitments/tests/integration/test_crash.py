"""A real SIGKILL between the database commit and the publish: nothing is lost, and a reader
that dedups by event id sees every event once."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from keepword_events import (
    CommitmentDeclared,
    CommitmentKind,
    CommitmentStatusChanged,
    Person,
    Role,
    decode,
    new_envelope,
    topics,
)
from keepword_platform.kafka import make_broker, publish
from keepword_platform.messaging import store
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import ServiceProcess, start_service

from .conftest import CONFIG

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SALES = Person(email="sam.sales@brightline.example", role=Role.SALES)
PROMISES = 30


def _start(
    log_dir: Path, bootstrap: str, database_url: str, crash_at: str | None
) -> ServiceProcess:
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": bootstrap,
        "KEEPWORD_DATABASE_URL": database_url,
        "KEEPWORD_CONFIG": str(CONFIG),
    }
    if crash_at:
        env["KEEPWORD_CRASH_AT"] = crash_at
    return start_service("commitments", log_dir=log_dir, env=env)


async def _pending(database_url: str) -> int:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert pool is not None
    try:
        return await store.unpublished_count(pool, "commitments")
    finally:
        await pool.close()


async def _drain(log_dir: Path, bootstrap: str, database_url: str) -> None:
    """Run a clean instance until nothing waits in the outbox, so the crash below is ours."""
    clean = _start(log_dir, bootstrap, database_url, None)
    try:
        await asyncio.to_thread(clean.wait_healthy, 60)
        for _ in range(300):
            if await _pending(database_url) == 0:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError("the outbox did not drain")
    finally:
        clean.stop()


@pytest.mark.parametrize("crash_at", ["outbox:before_publish", "outbox:after_publish"])
async def test_sigkill_between_commit_and_publish_loses_nothing(
    crash_at: str, fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    catalog_topics = fresh_kafka
    await _drain(tmp_path, catalog_topics, database_url)
    run = uuid.uuid4().hex[:8]
    ids = {f"cmt-{run}-{n}" for n in range(PROMISES)}

    async with TopicProbe(catalog_topics, [topics.COMMITMENTS]) as probe:
        doomed = _start(tmp_path, catalog_topics, database_url, crash_at)
        producer = make_broker(KeepwordSettings(kafka_bootstrap=catalog_topics), client_id="t")
        await producer.start()
        try:
            for commitment_id in sorted(ids):
                thread = f"thr-{uuid.uuid4().hex[:16]}"
                declared = CommitmentDeclared(
                    thread_id=thread,
                    correlation_id=thread,
                    commitment_id=commitment_id,
                    made_by=SALES,
                    kind=CommitmentKind.RESPONSE_TIME,
                    text="We will respond within three hours",
                    due_at=datetime.now(UTC) + timedelta(hours=3),
                )
                await publish(producer, new_envelope(declared, source="/test"))
        finally:
            await producer.stop()

        code = await asyncio.to_thread(doomed.process.wait, 90)
        assert code == -signal.SIGKILL, doomed.log()[-3000:]
        if crash_at == "outbox:before_publish":
            assert await _pending(database_url) > 0, "committed rows should wait in the outbox"

        survivor = _start(tmp_path, catalog_topics, database_url, None)
        try:
            await asyncio.to_thread(survivor.wait_healthy, 60)
            seen: dict[str, CommitmentStatusChanged] = {}
            copies = 0
            for _ in range(300):
                records = await probe.records()
                seen, copies = {}, 0
                for record in records:
                    envelope = decode(record.value, record.headers)
                    data = envelope.data
                    if isinstance(data, CommitmentStatusChanged) and data.commitment_id in ids:
                        copies += 1
                        seen[envelope.id] = data
                if {d.commitment_id for d in seen.values()} == ids:
                    break
                await asyncio.sleep(0.2)
        finally:
            survivor.stop()

    # Every promise announced, each by exactly one event id (what a deduplicating reader keeps).
    assert sorted(d.commitment_id for d in seen.values()) == sorted(ids)
    assert copies >= len(ids)

"""Deadlines are durable rows: two instances fire each exactly once, and a killed instance's
deadlines fire after a restart."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
from keepword_escalation.app import create_app
from keepword_escalation.settings import EscalationSettings
from keepword_events import EscalationOpened, EscalationWarned, new_envelope, topics
from keepword_platform.kafka import make_broker, publish
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import start_service

from .conftest import FAST_SLA
from .test_rules import customer_message

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

THREADS = 12


async def _feed(bootstrap: str, threads: list[str]) -> None:
    producer = make_broker(KeepwordSettings(kafka_bootstrap=bootstrap), client_id="test")
    await producer.start()
    try:
        for t in threads:
            await publish(producer, new_envelope(customer_message(t), source="/test"))
    finally:
        await producer.stop()


async def _announced(probe: TopicProbe, threads: list[str]) -> list[object]:
    from keepword_events import decode

    wanted = {t.encode() for t in threads}
    return [
        decode(r.value, r.headers).data
        for r in await probe.records()
        if r.topic == topics.ESCALATIONS and r.key in wanted
    ]


async def test_two_instances_fire_each_deadline_once(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "sla.toml"
    config.write_text(FAST_SLA)
    settings = EscalationSettings(
        kafka_bootstrap=fresh_kafka, database_url=database_url, config=config
    )
    first, second = create_app(settings), create_app(settings)
    threads = [f"thr-{uuid.uuid4().hex[:16]}" for _ in range(THREADS)]
    async with (
        TopicProbe(fresh_kafka, [topics.ESCALATIONS]) as probe,
        first.router.lifespan_context(first),
        second.router.lifespan_context(second),
    ):
        await _feed(fresh_kafka, threads)
        for _ in range(150):
            said = await _announced(probe, threads)
            if sum(isinstance(e, EscalationOpened) for e in said) >= THREADS:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # a second firing, if any, would show up now
        said = await _announced(probe, threads)

    opened = [e for e in said if isinstance(e, EscalationOpened)]
    warned = [e for e in said if isinstance(e, EscalationWarned)]
    assert sorted(e.thread_id for e in opened) == sorted(threads)
    assert sorted(e.thread_id for e in warned) == sorted(threads)


async def test_a_killed_instances_deadlines_fire_after_restart(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "sla.toml"
    config.write_text(FAST_SLA)
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": fresh_kafka,
        "KEEPWORD_DATABASE_URL": database_url,
        "KEEPWORD_CONFIG": str(config),
    }
    threads = [f"thr-{uuid.uuid4().hex[:16]}" for _ in range(3)]
    async with TopicProbe(fresh_kafka, [topics.ESCALATIONS]) as probe:
        doomed = start_service("escalation", log_dir=tmp_path, env=env)
        await asyncio.to_thread(doomed.wait_healthy, 60)
        await _feed(fresh_kafka, threads)
        reader = bearer(await new_key(database_url, ["read"]))
        async with httpx.AsyncClient(base_url=doomed.url, headers=reader) as http:
            for _ in range(100):  # until all three clocks are running
                found = [await http.get(f"/v1/threads/{t}") for t in threads]
                if all(r.status_code == 200 for r in found):
                    break
                await asyncio.sleep(0.1)
        doomed.kill()
        assert await _announced(probe, threads) == []

        await asyncio.sleep(5)  # every deadline falls due while no instance runs
        survivor = start_service("escalation", log_dir=tmp_path, env=env)
        try:
            await asyncio.to_thread(survivor.wait_healthy, 60)
            for _ in range(100):
                said = await _announced(probe, threads)
                if sum(isinstance(e, EscalationOpened) for e in said) >= len(threads):
                    break
                await asyncio.sleep(0.2)
        finally:
            survivor.stop()

    opened = [e for e in said if isinstance(e, EscalationOpened)]
    assert sorted(e.thread_id for e in opened) == sorted(threads)

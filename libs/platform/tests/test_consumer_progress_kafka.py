"""A consumer that silently stops fetching (as aiokafka can after a broker restart) is caught:
the service turns not-ready naming the consumer, restarts it in-process and recovers; with no
restarts allowed, liveness fails instead. Real broker and database, the service in-process."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from faststream.kafka import KafkaBroker
from keepword_events import Envelope, Event, MessageReceived, encode, new_envelope
from keepword_events.examples import every_event
from keepword_platform.database import Connection
from keepword_platform.kafka import create_topics, make_broker
from keepword_platform.messaging.consumer import EventConsumer
from keepword_platform.messaging.subscription import subscribe
from keepword_platform.service import Runtime, ServiceSpec, create_service_app
from keepword_platform.settings import KeepwordSettings
from prometheus_client import REGISTRY

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

STALL_SECONDS = 2.0


@dataclass
class ToyService:
    """A service whose consumer records the ids of the events it handled."""

    http: httpx.AsyncClient
    broker: KafkaBroker
    runtime: Runtime
    topic: str
    group: str
    handled: list[str] = field(default_factory=list)

    @property
    def subscriber(self) -> Any:
        return self.broker.subscribers[0]

    async def publish(self) -> str:
        thread = f"thr-{uuid.uuid4().hex[:16]}"
        data = next(e for e in every_event(thread) if isinstance(e, MessageReceived))
        record = encode(new_envelope(data, source="/test"))
        await self.broker.publish(
            record.value,
            self.topic,
            key=record.key,
            headers={name: value.decode() for name, value in record.headers},
        )
        return data.thread_id

    async def health(self, path: str) -> tuple[int, dict[str, str]]:
        answer = await self.http.get(path)
        return answer.status_code, answer.json()["checks"]

    async def until(self, path: str, wanted: int, within: float = 90) -> dict[str, str]:
        """Poll `path` until it answers `wanted`; its checks then."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            status, checks = await self.health(path)
            if status == wanted:
                return checks
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{path} still {status} after {within}s: {checks}")
            await asyncio.sleep(0.2)

    async def until_handled(self, thread_id: str, within: float = 90) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while thread_id not in self.handled:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{thread_id} not handled after {within}s")
            await asyncio.sleep(0.2)

    async def assigned_consumer(self) -> Any:
        """The aiokafka consumer, once it holds partitions."""
        deadline = asyncio.get_running_loop().time() + 60
        while not (self.subscriber.consumer and self.subscriber.consumer.assignment()):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the consumer got no partitions")
            await asyncio.sleep(0.2)
        return self.subscriber.consumer

    async def pause_consumer(self) -> None:
        """Stop fetching without a word, the way a stuck aiokafka consumer looks."""
        consumer = await self.assigned_consumer()
        consumer.pause(*consumer.assignment())


@contextlib.asynccontextmanager
async def toy_service(
    bootstrap: str, database_url: str, *, max_restarts: int
) -> AsyncIterator[ToyService]:
    name = f"health{uuid.uuid4().hex[:8]}"
    topic = f"test.{name}.v1"
    await create_topics(bootstrap, 2, topics=[topic])
    settings = KeepwordSettings(
        kafka_bootstrap=bootstrap,
        database_url=database_url,
        consumer_stall_seconds=STALL_SECONDS,
        consumer_max_restarts=max_restarts,
    )
    broker = make_broker(settings, client_id=name)
    spec = ServiceSpec(name=name, schema=name, migrations_packages=("keepword_platform.messaging",))
    app = create_service_app(spec, settings, broker)
    runtime: Runtime = app.state.runtime
    handled: list[str] = []

    async def on_event(_conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]:
        handled.append(envelope.data.thread_id)
        return []

    subscribe(broker, EventConsumer(name, name, lambda: runtime.db, on_event), [topic])
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://toy") as http:
                yield ToyService(http, broker, runtime, topic, f"keepword-{name}", handled)
    finally:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        finally:
            await conn.close()


@pytest.fixture
async def restarting(fresh_kafka: str, database_url: str) -> AsyncIterator[ToyService]:
    async with toy_service(fresh_kafka, database_url, max_restarts=3) as service:
        yield service


@pytest.fixture
async def not_restarting(fresh_kafka: str, database_url: str) -> AsyncIterator[ToyService]:
    async with toy_service(fresh_kafka, database_url, max_restarts=0) as service:
        yield service


def metric(name: str, group: str) -> float:
    return REGISTRY.get_sample_value(name, {"group": group}) or 0.0


async def test_a_stalled_consumer_is_not_ready_then_restarted_in_process(
    restarting: ToyService,
) -> None:
    service = restarting
    first = await service.publish()
    await service.until_handled(first)
    checks = await service.until("/healthz/ready", 200)
    assert checks["consumer"] == "ok"
    restarts_before = metric("keepword_consumer_restarts_total", service.group)

    await service.pause_consumer()
    waiting = await service.publish()

    checks = await service.until("/healthz/ready", 503)
    assert checks["consumer"].startswith("stalled: no progress for"), checks
    assert checks["kafka"] == checks["database"] == "ok"
    assert (await service.health("/healthz"))[0] == 503  # the combined check agrees
    assert (await service.health("/healthz/live"))[0] == 200  # a restart in-process comes first

    await service.until_handled(waiting)  # the restarted consumer picks it up
    checks = await service.until("/healthz/ready", 200)
    assert checks["consumer"] == "ok"
    assert metric("keepword_consumer_restarts_total", service.group) > restarts_before
    assert metric("keepword_consumer_stalled", service.group) == 0


async def test_a_consumer_left_without_partitions_while_records_wait_is_restarted(
    restarting: ToyService,
) -> None:
    service = restarting
    first = await service.publish()
    await service.until_handled(first)
    consumer = await service.assigned_consumer()

    consumer.unsubscribe()  # out of the group, as a consumer that never rejoined after a restart
    waiting = await service.publish()

    checks = await service.until("/healthz/ready", 503)
    assert checks["consumer"].startswith("stalled: no partitions assigned for"), checks
    await service.until_handled(waiting)
    await service.until("/healthz/ready", 200)


async def test_a_stall_restarts_cannot_cure_fails_liveness_until_it_clears(
    not_restarting: ToyService,
) -> None:
    service = not_restarting
    await service.until("/healthz/ready", 200)
    await service.pause_consumer()
    waiting = await service.publish()

    checks = await service.until("/healthz/live", 503)
    assert checks["consumer"].startswith("stalled through 0 in-process restarts"), checks
    assert metric("keepword_consumer_stalled", service.group) == 1
    assert metric("keepword_consumer_lag", service.group) >= 1

    consumer = service.subscriber.consumer
    consumer.resume(*consumer.assignment())  # whatever held it lets go
    await service.until_handled(waiting)
    await service.until("/healthz/live", 200)
    await service.until("/healthz/ready", 200)

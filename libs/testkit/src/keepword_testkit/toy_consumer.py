"""A toy consuming service in-process, wired as the real ones are (subscription, consumer, inbox,
outbox and relay on a schema of its own), for tests of the platform's messaging on a real broker
and database; and waiting until something holds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol, TypeVar

import asyncpg
from keepword_events import Envelope, Event
from keepword_platform.database import Connection
from keepword_platform.kafka import make_broker
from keepword_platform.messaging.consumer import EventConsumer
from keepword_platform.messaging.relay import OutboxRelay
from keepword_platform.messaging.subscription import subscribe
from keepword_platform.migrations import apply_migrations
from keepword_platform.producer import FailFastProducer
from keepword_platform.settings import KeepwordSettings


class Toy(Protocol):
    """What a toy service gives the consumer: its names, its handler and what it takes in."""

    name: str
    schema: str

    async def on_event(self, conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]: ...

    def wants(self, envelope: Envelope[Event]) -> bool: ...


T = TypeVar("T", bound=Toy)


@asynccontextmanager
async def toy_consumer(
    bootstrap: str,
    database_url: str,
    topics: Sequence[str],
    make: Callable[[str, asyncpg.Pool], T],
    *,
    max_records: int = 500,
) -> AsyncIterator[T]:
    """Run the toy `make(suffix, pool)` builds (named after the random `suffix`) on `topics`;
    its schema is dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    db = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert db is not None
    service = make(suffix, db)
    async with db.acquire() as conn:
        await apply_migrations(conn, service.schema, ["keepword_platform.messaging"])
    broker = make_broker(KeepwordSettings(kafka_bootstrap=bootstrap), client_id=service.name)
    consumer = EventConsumer(
        service.name,
        service.schema,
        lambda: db,
        service.on_event,
        wants=service.wants,
        retry_pause_seconds=0,
    )
    subscribe(broker, consumer, topics, max_records=max_records)
    await broker.start()
    producer = FailFastProducer(bootstrap, client_id=f"{service.name}-relay", timeout_seconds=10)
    relay = asyncio.create_task(OutboxRelay(db, service.schema, producer, poll_seconds=0.1).run())
    try:
        yield service
    finally:
        relay.cancel()
        await producer.discard()
        await broker.stop()
        await db.execute(f"DROP SCHEMA {service.schema} CASCADE")
        await db.close()


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    """Return once `check()` holds; TimeoutError naming `what` after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no {what} after {within}s")
        await asyncio.sleep(0.2)

"""The commitments service in-process (its real lifespan) against the real broker and database,
and a producer for its input topics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiokafka import ConsumerRecord
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from keepword_commitments.app import create_app
from keepword_commitments.settings import CommitmentsSettings
from keepword_events import Envelope, Event, new_envelope, topics
from keepword_platform.kafka import make_broker, publish
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.kafka_probe import TopicProbe

CONFIG = Path(__file__).resolve().parents[4] / "deploy" / "local" / "keepword.toml"


@dataclass
class Ledger:
    """A running commitments service, a way to feed it, and a way to read what it says."""

    app: FastAPI
    http: httpx.AsyncClient
    producer: KafkaBroker
    probe: TopicProbe

    async def send(self, event: Event) -> Envelope[Event]:
        """Publish an input event as intake (or an internal tool) would."""
        envelope = new_envelope(event, source="/test")
        await publish(self.producer, envelope)
        return envelope

    async def wait_for(
        self, ready: Callable[[list[ConsumerRecord[bytes, bytes]]], bool], within: float = 30
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Records written since the test began, once `ready` says they are all there."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            records = await self.probe.records()
            if ready(records):
                return records
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"gave up after {within}s with {len(records)} records")
            await asyncio.sleep(0.2)


@pytest.fixture
async def ledger(fresh_kafka: str, database_url: str) -> AsyncIterator[Ledger]:
    catalog_topics = fresh_kafka  # the ledger reads its inputs from the start: keep it short
    settings = CommitmentsSettings(
        kafka_bootstrap=catalog_topics, database_url=database_url, config=CONFIG
    )
    app = create_app(settings)
    producer = make_broker(KeepwordSettings(kafka_bootstrap=catalog_topics), client_id="test")
    await producer.start()
    try:
        async with (
            TopicProbe(catalog_topics, topics.ALL_TOPICS) as probe,
            app.router.lifespan_context(app),
        ):
            transport = httpx.ASGITransport(app=app)
            reader = bearer(await new_key(app.state.runtime.db, ["read"]))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://ledger", headers=reader
            ) as http:
                yield Ledger(app=app, http=http, producer=producer, probe=probe)
    finally:
        await producer.stop()

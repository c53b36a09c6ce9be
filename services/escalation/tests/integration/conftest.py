"""Escalation in-process (its real lifespan) against the real broker and database, with an SLA
counted in seconds, and helpers to feed it and to read what it announces."""

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
from keepword_escalation.app import create_app
from keepword_escalation.settings import EscalationSettings
from keepword_events import Envelope, Event, decode, new_envelope, topics
from keepword_platform.kafka import make_broker, publish
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.kafka_probe import TopicProbe

FAST_SLA = """
[company]
name = "Brightline Digital"
support_address = "support@brightline.example"
timezone = "America/New_York"

[sla]
first_reply = "4s"
next_reply = "4s"
warn_at = 0.5
max_unanswered_followups = 2
manager_decision = "3s"

[[people]]
email = "casey.service@brightline.example"
name = "Casey Brooks"
role = "service"

[[people]]
email = "morgan.lead@brightline.example"
name = "Morgan Reyes"
role = "management"
level = 1

[[people]]
email = "drew.director@brightline.example"
name = "Drew Adler"
role = "management"
level = 2
"""


@dataclass
class Escalation:
    """A running escalation service, a way to feed it, and what it said on a thread."""

    app: FastAPI
    http: httpx.AsyncClient
    producer: KafkaBroker
    probe: TopicProbe

    async def send(self, event: Event) -> Envelope[Event]:
        """Publish an input event as intake or commitments would."""
        envelope = new_envelope(event, source="/test")
        await publish(self.producer, envelope)
        return envelope

    async def said(self, thread: str) -> list[Event]:
        """What escalation published on the thread so far."""
        records: list[ConsumerRecord[bytes, bytes]] = await self.probe.records()
        return [
            decode(r.value, r.headers).data
            for r in records
            if r.topic == topics.ESCALATIONS and r.key == thread.encode()
        ]

    async def wait_for(
        self, thread: str, ready: Callable[[list[Event]], bool], within: float = 20
    ) -> list[Event]:
        """What escalation said on the thread, once `ready` says it is all there."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            events = await self.said(thread)
            if ready(events):
                return events
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"gave up after {within}s: {[type(e).__name__ for e in events]}")
            await asyncio.sleep(0.2)


@pytest.fixture
def company_toml() -> str:
    """The configuration file the service runs with; a test module may override it."""
    return FAST_SLA


@pytest.fixture
async def escalation(
    fresh_kafka: str, database_url: str, tmp_path: Path, company_toml: str
) -> AsyncIterator[Escalation]:
    catalog_topics = fresh_kafka  # escalation reads its inputs from the start: keep it short
    config = tmp_path / "fast-sla.toml"
    config.write_text(company_toml)
    app = create_app(
        EscalationSettings(kafka_bootstrap=catalog_topics, database_url=database_url, config=config)
    )
    producer = make_broker(KeepwordSettings(kafka_bootstrap=catalog_topics), client_id="test")
    await producer.start()
    try:
        async with (
            TopicProbe(catalog_topics, [topics.ESCALATIONS]) as probe,
            app.router.lifespan_context(app),
        ):
            transport = httpx.ASGITransport(app=app)
            reader = bearer(await new_key(app.state.runtime.db, ["read"]))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://esc", headers=reader
            ) as http:
                yield Escalation(app=app, http=http, producer=producer, probe=probe)
    finally:
        await producer.stop()

"""With the broker stopped, intake answers 503 in bounded time and accepts nothing; once the
broker is back, the same request succeeds, and exactly one record exists."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from keepword_events import topics
from keepword_intake.publishing import SOURCE as INTAKE
from keepword_platform.kafka import create_topics
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.local_kafka import LocalKafka
from keepword_testkit.processes import free_port

from .conftest import IntakeClient, running_intake
from .test_http_api import inbound

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

PUBLISH_TIMEOUT_MS = 2000


async def health_until(intake: IntakeClient, status: int, within: float = 60) -> dict[str, str]:
    """Poll readiness until it answers `status`; its checks then."""
    deadline = time.monotonic() + within
    while True:
        answer = await intake.http.get("/healthz/ready")
        if answer.status_code == status or time.monotonic() > deadline:
            assert answer.status_code == status, answer.text
            checks: dict[str, str] = answer.json()["checks"]
            return checks
        await asyncio.sleep(0.3)


@pytest.fixture
def private_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    kafka = LocalKafka(tmp_path / "state", port=free_port(), controller_port=free_port())
    kafka.start()
    yield kafka
    with contextlib.suppress(Exception):
        kafka.stop()


async def test_503_while_the_broker_is_down_then_one_record_once_it_is_back(
    private_kafka: LocalKafka, database_url: str
) -> None:
    await create_topics(private_kafka.bootstrap, 6)
    async with running_intake(
        kafka_bootstrap=private_kafka.bootstrap,
        database_url=database_url,
        publish_timeout_ms=PUBLISH_TIMEOUT_MS,
        smtp_listen_port=free_port(),
    ) as intake:
        # New topics' partition leaders may take longer than one short publish deadline.
        warm_until = time.monotonic() + 60
        while True:
            warm = await intake.http.post("/v1/messages", json=inbound(), headers=intake.auth)
            if warm.status_code != 503 or time.monotonic() > warm_until:
                break
        assert warm.status_code == 202, warm.text

        async with TopicProbe(private_kafka.bootstrap, [topics.MESSAGES], source=INTAKE) as probe:
            await asyncio.to_thread(private_kafka.stop)
            body = inbound(body=f"sent while the broker was down {uuid.uuid4()}")
            headers = intake.auth | {"Idempotency-Key": f"outage-{uuid.uuid4()}"}

            started = time.monotonic()
            refused = await intake.http.post("/v1/messages", json=body, headers=headers)
            waited = time.monotonic() - started

            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert int(refused.headers["retry-after"]) > 0
            assert waited < PUBLISH_TIMEOUT_MS / 1000 + 5, f"503 took {waited:.1f}s"

            started = time.monotonic()
            also_refused = await intake.http.post(
                "/v1/messages", json=inbound(), headers=intake.auth
            )
            assert also_refused.status_code == 503
            assert time.monotonic() - started < PUBLISH_TIMEOUT_MS / 1000 + 5
            checks = await health_until(intake, 503)
            assert checks["producer"] == "cannot reach the broker", checks
            assert checks["kafka"] == "unreachable", checks

            await asyncio.to_thread(private_kafka.start)
            recovered_after = time.monotonic()
            while True:  # a client honouring Retry-After
                answer = await intake.http.post("/v1/messages", json=body, headers=headers)
                if answer.status_code == 202 or time.monotonic() - recovered_after > 60:
                    break
                assert answer.status_code == 503, answer.text
                await asyncio.sleep(1)
            assert answer.status_code == 202, answer.text

            assert (await health_until(intake, 200))["producer"] == "ok"
            again = await intake.http.post("/v1/messages", json=body, headers=headers)
            assert again.status_code == 202
            assert again.json() == answer.json()
            await asyncio.sleep(PUBLISH_TIMEOUT_MS / 1000)  # anything still in flight lands now
            records = await probe.records()

    marked = [r for r in records if body["body"].encode() in (r.value or b"")]
    assert len(marked) == 1, f"{len(marked)} records of the message"

"""A consuming service, as its own process, rides out a broker restart: ready; not ready while
the broker is down, naming the check that fails; ready again by itself once the broker is back
(same ports, same data); and an event published after the restart is processed — without the
process being restarted."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from keepword_events import CommitmentDeclared, new_envelope
from keepword_events.examples import every_event
from keepword_platform.kafka import create_topics, make_broker, publish
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.local_kafka import LocalKafka
from keepword_testkit.processes import ServiceProcess, free_port, start_service

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def private_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker of this test alone: the test stops and starts it."""
    kafka = LocalKafka(tmp_path / "kafka", port=free_port(), controller_port=free_port())
    kafka.start()
    try:
        asyncio.run(create_topics(kafka.bootstrap, KeepwordSettings().topic_partitions))
        yield kafka
    finally:
        with contextlib.suppress(Exception):
            kafka.stop()


def declare_promise(bootstrap: str) -> str:
    """Publish a new promise for the ledger, as intake would; returns its commitment id."""
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    example = next(e for e in every_event(thread) if isinstance(e, CommitmentDeclared))
    commitment_id = f"cmt-{uuid.uuid4().hex[:12]}"
    promise = example.model_copy(update={"commitment_id": commitment_id})
    envelope = new_envelope(promise, source="/test")

    async def send() -> None:
        broker = make_broker(KeepwordSettings(kafka_bootstrap=bootstrap), client_id="test")
        await broker.start()
        try:
            await publish(broker, envelope)
        finally:
            await broker.stop()

    asyncio.run(send())
    return commitment_id


def poll(what: str, attempt: Any, within: float) -> Any:
    """Call `attempt` until it returns something true; that value."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = attempt()
        if last:
            return last
        time.sleep(0.3)
    raise TimeoutError(f"{what}: not after {within}s (last: {last!r})")


def health(service: ServiceProcess, path: str) -> tuple[int, dict[str, str]]:
    answer = httpx.get(f"{service.url}{path}", timeout=10)
    return answer.status_code, answer.json()["checks"]


def health_is(service: ServiceProcess, path: str, status: int) -> Any:
    def attempt() -> dict[str, str] | None:
        code, checks = health(service, path)
        return checks if code == status else None

    return attempt


def recorded(service: ServiceProcess, commitment_id: str, key: str) -> Any:
    def attempt() -> bool:
        answer = httpx.get(
            f"{service.url}/v1/commitments/{commitment_id}", headers=bearer(key), timeout=10
        )
        return answer.status_code == 200

    return attempt


def test_a_consuming_service_recovers_from_a_broker_restart_by_itself(
    private_kafka: LocalKafka, database_url: str, tmp_path: Path
) -> None:
    service = start_service(
        "commitments",
        log_dir=tmp_path / "logs",
        env={
            "KEEPWORD_KAFKA_BOOTSTRAP": private_kafka.bootstrap,
            "KEEPWORD_DATABASE_URL": database_url,
            "KEEPWORD_CONSUMER_STALL_SECONDS": "10",
        },
    )
    try:
        service.wait_healthy(timeout=60)
        key = asyncio.run(new_key(database_url, ["read"]))
        before = declare_promise(private_kafka.bootstrap)
        poll("the first promise recorded", recorded(service, before, key), within=60)
        poll("ready", health_is(service, "/healthz/ready", 200), within=60)

        private_kafka.stop()
        down = poll("not ready", health_is(service, "/healthz/ready", 503), within=60)
        assert down["kafka"] == "unreachable", down
        assert down["database"] == "ok", down
        assert health(service, "/healthz")[0] == 503
        # An outage is not the process's fault: restarting it would not help.
        assert health(service, "/healthz/live")[0] == 200

        restarted_at = time.monotonic()
        private_kafka.start()  # returns once the broker coordinates groups again
        back_at = time.monotonic()
        up = poll("ready again", health_is(service, "/healthz/ready", 200), within=180)
        ready_after = time.monotonic() - back_at
        assert set(up.values()) == {"ok"}, up
        after = declare_promise(private_kafka.bootstrap)
        poll(
            "the promise made after the restart recorded", recorded(service, after, key), within=120
        )
        processed_after = time.monotonic() - back_at
        print(  # the recovery time, in the output of pytest -s
            f"broker up {back_at - restarted_at:.1f}s after its start; service ready "
            f"{ready_after:.1f}s and a new event processed {processed_after:.1f}s after that"
        )

        assert service.process.poll() is None, "the service process was restarted"
        assert health(service, "/healthz/live")[0] == 200
    finally:
        with contextlib.suppress(Exception):
            service.stop(timeout=30)
        if service.process.poll() is None:
            service.kill()

"""Each of the four services runs as its own process against the real servers, reports healthy,
and shuts down cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.fault_run.stack import create_database
from keepword_testkit.local_kafka import private_broker
from keepword_testkit.processes import SERVICES, start_service

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture(scope="module")
def own_database(database_url: str) -> str:
    """A database of its own: the session's holds other tests' rows (escalation timers falling
    due, say), which a service would start working on, and whatever that logs is not its own
    start and stop."""
    return asyncio.run(create_database(database_url, "keepword_services_run"))


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty broker of its own: consuming services start from the beginning of their topics,
    and on the session's broker they would work on other tests' records (a low rating the ops
    tests published, which escalation cannot route without a management chain, logging an
    error that is not its own start and stop)."""
    with private_broker(
        tmp_path_factory.mktemp("kafka"), KeepwordSettings().topic_partitions
    ) as bootstrap:
        yield bootstrap


@pytest.mark.parametrize("service", SERVICES)
def test_service_starts_healthy_and_stops_cleanly(
    service: str, own_broker: str, own_database: str, tmp_path: Path
) -> None:
    process = start_service(
        service,
        log_dir=tmp_path,
        env={"KEEPWORD_KAFKA_BOOTSTRAP": own_broker, "KEEPWORD_DATABASE_URL": own_database},
    )
    try:
        process.wait_healthy(timeout=60)
    except BaseException:
        process.kill()
        raise

    # uvicorn re-raises the signal after its graceful shutdown: exit by SIGTERM is the norm.
    assert process.stop(timeout=30) in (0, -signal.SIGTERM)
    lines = [json.loads(line) for line in process.log().splitlines() if line.startswith("{")]
    said = [line["event"] for line in lines]
    assert "service started" in said
    assert "service stopped" in said, said
    assert "Application shutdown complete." in said
    assert not [line for line in lines if line["level"] in ("error", "critical")], lines
    assert {line.get("service") for line in lines if "service" in line} == {service}

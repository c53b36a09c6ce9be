"""Real servers for the whole suite: Kafka and PostgreSQL.

Where they come from, in order: the `KEEPWORD_KAFKA_BOOTSTRAP` / `KEEPWORD_DATABASE_URL` the
caller gave; testcontainers, when a Docker engine answers and nothing was given; otherwise the
local stack that `make test` starts under `.local/` (deploy/local/). A server that cannot be
reached fails every test that needs it: a missing server is never a silent skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from keepword_platform.kafka import create_topics
from keepword_platform.settings import KeepwordSettings

DEFAULTS = KeepwordSettings.model_construct()  # the documented defaults, not the environment


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:  # any failure means: no usable engine here
        return False
    return True


async def _kafka_answers(bootstrap: str) -> str | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await asyncio.wait_for(admin.start(), timeout=10)
        await asyncio.wait_for(admin.list_topics(), timeout=10)
    except Exception as error:  # report whatever the client said
        return repr(error)
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    return None


async def _postgres_answers(url: str) -> str | None:
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except Exception as error:  # report whatever the driver said
        return repr(error)
    await conn.close()
    return None


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a real Kafka broker, or a test failure that says why there is none."""
    given = os.environ.get("KEEPWORD_KAFKA_BOOTSTRAP")
    if given is None and _docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("confluentinc/cp-kafka:7.7.1").with_kraft() as container:
            bootstrap = container.get_bootstrap_server()
            os.environ["KEEPWORD_KAFKA_BOOTSTRAP"] = bootstrap
            yield bootstrap
        return
    bootstrap = given or DEFAULTS.kafka_bootstrap
    problem = asyncio.run(_kafka_answers(bootstrap))
    if problem is not None:
        pytest.fail(
            f"no Kafka broker at {bootstrap} ({problem}); start one with "
            "`bash deploy/local/kafka.sh start` or run `make test`",
            pytrace=False,
        )
    yield bootstrap


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of a real PostgreSQL database, or a test failure that says why there is none."""
    given = os.environ.get("KEEPWORD_DATABASE_URL")
    if given is None and _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver=None) as container:
            url = container.get_connection_url()
            os.environ["KEEPWORD_DATABASE_URL"] = url
            yield url
        return
    url = given or DEFAULTS.database_url
    problem = asyncio.run(_postgres_answers(url))
    if problem is not None:
        pytest.fail(
            f"no PostgreSQL at {url} ({problem}); start one with "
            "`bash deploy/local/postgres.sh start` or run `make test`",
            pytrace=False,
        )
    yield url


@pytest.fixture(scope="session")
def catalog_topics(kafka_bootstrap: str) -> str:
    """The broker, with every topic of the catalog provisioned."""
    asyncio.run(create_topics(kafka_bootstrap, KeepwordSettings().topic_partitions))
    return kafka_bootstrap

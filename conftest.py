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
import re
import subprocess
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from keepword_platform.kafka import create_topics
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.local_dovecot import LocalDovecot, neighbouring_free_ports
from keepword_testkit.reporting import REPORT

DEFAULTS = KeepwordSettings.model_construct()  # the documented defaults, not the environment

# Services started by the tests, in-process or as child processes, run in test mode: the
# development link secret, http:// links and a plain-text database (production refuses them).
os.environ.setdefault("KEEPWORD_ENV", "test")


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


def _real_server(
    variable: str,
    default: str,
    container: Callable[[], AbstractContextManager[str]],
    problem_with: Callable[[str], Coroutine[Any, Any, str | None]],
    what: str,
    script: str,
) -> Iterator[str]:
    """The address in `variable`, else a testcontainer when Docker answers, else `default`.

    Whatever address is chosen must answer, or every test that needs it fails, saying why.
    """
    given = os.environ.get(variable)
    if given is None and _docker_available():
        with container() as address:
            os.environ[variable] = address  # child processes started by tests use it too
            yield address
        return
    address = given or default
    problem = asyncio.run(problem_with(address))
    if problem is not None:
        pytest.fail(
            f"no {what} at {address} ({problem}); start one with "
            f"`bash deploy/local/{script} start` or run `make test`",
            pytrace=False,
        )
    os.environ[variable] = address  # settings read inside tests see the same server
    yield address


# Two test runs side by side (say, two working copies) each name their own database.
TEST_DATABASE_NAME = os.environ.get("KEEPWORD_TEST_DATABASE", "keepword_test")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", TEST_DATABASE_NAME):
    raise ValueError(f"KEEPWORD_TEST_DATABASE={TEST_DATABASE_NAME!r} is not a plain database name")
TEST_DATABASE_URL = DEFAULTS.database_url.rsplit("/", 1)[0] + "/" + TEST_DATABASE_NAME


async def _test_database_answers(url: str) -> str | None:
    """Create the test database on first use, then check that it answers."""
    if url == TEST_DATABASE_URL:
        try:
            conn = await asyncpg.connect(DEFAULTS.database_url, timeout=10)
        except Exception as error:  # report whatever the driver said
            return repr(error)
        try:
            exists = await conn.fetchval(
                "SELECT true FROM pg_database WHERE datname = $1", TEST_DATABASE_NAME
            )
            if not exists:
                with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                    await conn.execute(f'CREATE DATABASE "{TEST_DATABASE_NAME}"')
        finally:
            await conn.close()
    return await _postgres_answers(url)


@contextlib.contextmanager
def _kafka_container() -> Iterator[str]:
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer("confluentinc/cp-kafka:7.7.1").with_kraft() as kafka:
        yield kafka.get_bootstrap_server()


@contextlib.contextmanager
def _postgres_container() -> Iterator[str]:
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16", driver=None) as postgres:
        yield postgres.get_connection_url()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a real Kafka broker, or a test failure that says why there is none."""
    yield from _real_server(
        "KEEPWORD_KAFKA_BOOTSTRAP",
        DEFAULTS.kafka_bootstrap,
        _kafka_container,
        _kafka_answers,
        "Kafka broker",
        "kafka.sh",
    )


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of a real PostgreSQL database, or a test failure that says why there is none.

    On the local stack the tests get their own database, `keepword_test`, next to the
    development one: services left running by `make up` work on `keepword` and never take
    (or hand) work from the tests through the shared outbox, timers and send log.
    """
    yield from _real_server(
        "KEEPWORD_DATABASE_URL",
        TEST_DATABASE_URL,
        _postgres_container,
        _test_database_answers,
        "PostgreSQL",
        "postgres.sh",
    )


@pytest.fixture(scope="session")
def catalog_topics(kafka_bootstrap: str) -> str:
    """The broker, with every topic of the catalog provisioned."""
    asyncio.run(create_topics(kafka_bootstrap, KeepwordSettings().topic_partitions))
    return kafka_bootstrap


@pytest.fixture(scope="session")
def fresh_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private broker of this test session, started empty, with the catalog's topics.

    For services that read their input topics from the beginning (a new consumer group starts
    at the earliest offset): on a shared broker with a long history they would first work
    through all of it.
    """
    from keepword_testkit.local_kafka import private_broker

    with private_broker(
        tmp_path_factory.mktemp("kafka"), KeepwordSettings().topic_partitions
    ) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDovecot]:
    """A private Dovecot of this test session (IMAP over TLS, LMTP), installed if missing.

    A Dovecot that cannot be installed or started fails the tests that need it: never a skip.
    """
    server = LocalDovecot(tmp_path_factory.mktemp("dovecot"), neighbouring_free_ports())
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"no Dovecot: {error}", pytrace=False)
    try:
        yield server
    finally:
        server.destroy()


# `make test` runs the suite in two pytest-xdist workers (`-n 2`): the modules of APART (each
# brings its own broker, databases and services, and mostly waits on its deadlines) run in the
# second worker, beside the rest, which run in the first in their order, one after another, as
# they share the local broker's consumer groups and the test database.
APART = frozenset({"tests/faults/test_fault_run.py"})
SUITE = "suite"


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, when it is loaded
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class SuiteAndApart(LoadScopeScheduling):  # type: ignore[misc]  # untyped base
        """A work unit for each module of APART, one for all the other tests."""

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in APART else SUITE

    return SuiteAndApart(config, log)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the reports tests recorded (a worker's own output is not shown)."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get(
        "failed", []
    ):
        for name, value in getattr(report, "user_properties", ()):
            if name == REPORT and report.when == "call":
                terminalreporter.write_sep("-", report.nodeid)
                terminalreporter.write_line(str(value))

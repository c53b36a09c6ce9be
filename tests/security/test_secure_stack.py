"""Locked doors: the whole system runs on Kafka over SASL_SSL (SCRAM-SHA-512, ACLs per service)
and PostgreSQL over TLS with a password, and the doors stay shut to a wrong password, an
unknown CA and a principal writing outside its ACLs.

One broker start and one database start (keepword_testkit.secure_stack, through kafka.sh and
postgres.sh); never skipped: a missing openssl, Java or PostgreSQL is a failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from keepword_events.topics import CATALOG, MESSAGES
from keepword_platform.kafka_acls import ADMIN_USER
from keepword_platform.kafka_security import kafka_client_options
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.processes import SERVICES, ServiceProcess, start_service
from keepword_testkit.secure_stack import KEEPWORD, SecureStack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

# Every service that reads the messages topic, as the catalog says (and its ACLs allow).
CONSUMERS = next(spec.consumers for spec in CATALOG if spec.name == MESSAGES)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStack]:
    secure = SecureStack(tmp_path_factory.mktemp("secure") / "stack")
    try:
        secure.start()
        secure.provision()
        yield secure
    finally:
        try:
            secure.stop()
        finally:
            secure.postgres.destroy()  # its data may live outside tmp (postgres.sh, as root)


def keepword(stack: SecureStack, *args: str, env: dict[str, str] | None = None) -> str:
    """The `keepword` CLI as the admin principal (or with `env`); its stdout."""
    done = subprocess.run(
        [str(KEEPWORD), *args],
        env=os.environ | (env or stack.env(ADMIN_USER)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_services_work_through_locked_doors(stack: SecureStack, tmp_path: Path) -> None:
    assert MESSAGES in keepword(stack, "topics", "describe")
    services: dict[str, ServiceProcess] = {}
    try:
        for name in SERVICES:  # each logs in as its own principal
            services[name] = start_service(
                name, log_dir=tmp_path, env=stack.env(name) | {"KEEPWORD_LOG_FORMAT": "json"}
            )
        for process in services.values():
            process.wait_healthy(timeout=90)
        key = keepword(stack, "apikey", "create", "secure-stack-test").strip().splitlines()[-1]

        answer = httpx.post(
            f"{services['intake'].url}/v1/messages",
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "locked-doors-1"},
            json={
                "direction": "inbound",
                "channel": "email",
                "customer": {"email": "ada@customer.example", "name": "Ada"},
                "author": {"email": "ada@customer.example", "name": "Ada", "role": "customer"},
                "subject": "Order 7: when will it ship?",
                "body": "Hello,\n\nWhen does order 7 ship?\n\nAda",
            },
            timeout=15,
        )
        assert answer.status_code < 300, answer.text

        # Each consuming service read it under its own ACLs: its group's offsets on the
        # messages topic reach the end (asked of the broker by the CLI, as the admin).
        caught_up = _groups_caught_up(stack)
        assert caught_up == {f"keepword-{name}" for name in CONSUMERS}
        for name, process in services.items():
            refused = [
                line
                for line in process.log().splitlines()
                if "AuthorizationFailed" in line or "AuthenticationFailed" in line
            ]
            # FastStream asks to create the topics it subscribes to; a service may not (the
            # admin provisions them), and that refusal is the only one expected.
            assert all("Failed to create topic" in line for line in refused), (name, refused)
    finally:
        for process in services.values():
            try:
                process.stop(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _groups_caught_up(stack: SecureStack, within: float = 60) -> set[str]:
    deadline = time.monotonic() + within
    done: set[str] = set()
    while time.monotonic() < deadline:
        report = json.loads(keepword(stack, "lag", "--json"))
        done = {
            group["group"]
            for group in report["groups"]
            if any(
                p["topic"] == MESSAGES and p["end"] > 0 and p["committed"] == p["end"]
                for p in group["partitions"]
            )
        }
        if done >= {f"keepword-{name}" for name in CONSUMERS}:
            return done
        time.sleep(1)
    return done


async def _produce(stack: SecureStack, options: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.bootstrap, request_timeout_ms=5000, **options
    )
    try:
        await producer.start()
        await producer.send_and_wait(MESSAGES, b"{}", key=b"locked-doors")
    finally:
        await producer.stop()


def test_a_wrong_password_is_refused_and_named(
    stack: SecureStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="aiokafka")
    with pytest.raises(KafkaConnectionError):
        asyncio.run(_produce(stack, stack.client_options("intake", password="not-the-password")))

    assert "SaslAuthenticationFailed" in caplog.text
    broker_log = (stack.state_dir / "kafka" / "logs" / "kafka-server.log").read_text()
    assert "Failed authentication with /127.0.0.1" in broker_log
    assert "invalid credentials with SASL mechanism SCRAM-SHA-512" in broker_log


def test_a_server_certificate_of_an_unknown_ca_is_refused_and_named(
    stack: SecureStack, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    env = stack.kafka_env("intake", ca_file=stack.other_ca_file)
    settings = KeepwordSettings.model_validate({k[9:].lower(): v for k, v in env.items()})
    caplog.set_level(logging.ERROR, logger="aiokafka")
    with pytest.raises(KafkaConnectionError):
        asyncio.run(_produce(stack, kafka_client_options(settings)))
    assert "certificate verify failed" in caplog.text

    # The CLI says it too, and so does PostgreSQL's client with the unknown CA.
    cli = subprocess.run(
        [str(KEEPWORD), "topics", "describe"],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert cli.returncode == 1
    assert "cannot reach Kafka" in cli.stderr
    other = stack.database_url.replace(str(stack.ca_file), str(stack.other_ca_file))
    with pytest.raises(Exception, match="certificate verify failed"):
        asyncio.run(_connect(other))


def test_postgres_takes_no_connection_without_tls(stack: SecureStack) -> None:
    plain = stack.database_url.split("?", 1)[0] + "?sslmode=disable"
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        asyncio.run(_connect(plain))


async def _connect(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=10)
    await connection.close()


def test_a_write_outside_the_principals_acls_is_refused_and_named(stack: SecureStack) -> None:
    # The notifier reads the messages topic; only intake may write it.
    with pytest.raises(TopicAuthorizationFailedError, match=MESSAGES):
        asyncio.run(_produce(stack, stack.client_options("notifier")))

    broker_log = (stack.state_dir / "kafka" / "logs" / "kafka-server.log").read_text()
    assert (
        f"Principal = User:notifier is Denied operation = WRITE from host = 127.0.0.1 on "
        f"resource = Topic:LITERAL:{MESSAGES}"
    ) in broker_log

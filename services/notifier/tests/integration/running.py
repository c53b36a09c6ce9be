"""The notifier as its own OS process against the session's private broker, the test database
and a catcher; events to feed it; and the waiting and counting its tests share."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from keepword_events import (
    Channel,
    Customer,
    EscalationOpened,
    EscalationRule,
    Event,
    MessageReceived,
    Option,
    OptionKind,
    Person,
    Role,
    new_envelope,
)
from keepword_notifier.app import INPUTS
from keepword_platform.kafka import describe_topics, make_broker, publish
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.processes import ServiceProcess, start_service

from .mail import Catcher

GROUP = "keepword-notifier"
TEST_APP = "notifier-test"  # application_name of the tests' own database sessions
CONFIG = """
[company]
name = "Brightline Digital"
support_address = "support@brightline.example"
timezone = "America/New_York"

[sla]
first_reply = "1h"
acknowledge_after = "1s"
manager_decision = "4h"

[[people]]
email = "casey.service@brightline.example"
name = "Casey Brooks"
role = "service"

[[people]]
email = "morgan.lead@brightline.example"
name = "Morgan Reyes"
role = "management"
level = 1
"""


def start_notifier(
    log_dir: Path, bootstrap: str, database_url: str, smtp_port: int, **env: str
) -> ServiceProcess:
    """A notifier process (not yet healthy: see `ServiceProcess.wait_healthy`)."""
    config = log_dir / "keepword.toml"
    config.write_text(CONFIG)
    return start_service(
        "notifier",
        log_dir=log_dir,
        env={
            "KEEPWORD_KAFKA_BOOTSTRAP": bootstrap,
            "KEEPWORD_DATABASE_URL": database_url,
            "KEEPWORD_CONFIG": str(config),
            "KEEPWORD_SMTP_HOST": "127.0.0.1",
            "KEEPWORD_SMTP_PORT": str(smtp_port),
            "KEEPWORD_SMTP_SECURITY": "none",
            **env,
        },
    )


async def until(
    check: Callable[[], Awaitable[bool]], what: str, within: float = 60.0, every: float = 0.1
) -> None:
    """Poll `check` until it holds; fail naming `what` after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {within:.0f}s")
        await asyncio.sleep(every)


async def send_events(bootstrap: str, events: Sequence[Event]) -> list[str]:
    """Publish `events` as their producers would; returns their event ids."""
    producer = make_broker(KeepwordSettings(kafka_bootstrap=bootstrap), client_id="test")
    await producer.start()
    try:
        envelopes = [new_envelope(e, source="/test") for e in events]
        await asyncio.gather(*(publish(producer, envelope) for envelope in envelopes))
        return [e.id for e in envelopes]
    finally:
        await producer.stop()


def new_thread() -> str:
    return f"thr-{uuid.uuid4().hex[:16]}"


def escalation(to: str, thread: str | None = None, **changes: Any) -> EscalationOpened:
    """An escalation put in front of the manager `to`, on a thread of its own."""
    thread = thread or new_thread()
    fields: dict[str, Any] = {
        "thread_id": thread,
        "correlation_id": thread,
        "escalation_id": f"esc-{thread}",
        "rule": EscalationRule.STALLED,
        "level": 1,
        "manager": Person(email=to, name="A Manager", role=Role.MANAGEMENT),
        "customer": Customer(email="dana@example.com", name="Dana Whitfield"),
        "reason": "The customer has waited 26 hours for a first reply.",
        "options": (
            Option(kind=OptionKind.PHONE_CALL, summary="Call the customer"),
            Option(kind=OptionKind.HANDLE_IT, summary="Handle it (no decision)"),
        ),
        "decide_by": datetime.now(UTC) + timedelta(hours=4),
    }
    return EscalationOpened(**(fields | changes))


def customer_message(customer: Customer, thread: str | None = None, **changes: Any) -> Any:
    """A customer's message nobody answers (so an acknowledgement falls due)."""
    thread = thread or new_thread()
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "thread_id": thread,
        "correlation_id": thread,
        "message_id": f"msg-{uuid.uuid4().hex}",
        "channel": Channel.WEB,
        "customer": customer,
        "author": Person(email=str(customer.email), name=customer.name, role=Role.CUSTOMER),
        "subject": "Where is my report?",
        "body": "Hello,\n\nI paid a deposit two weeks ago and have heard nothing since.",
        "sent_at": now,
        "received_at": now,
    }
    return MessageReceived(**(fields | changes))


# ----- the database ---------------------------------------------------------------------------


async def own_pool(database_url: str) -> asyncpg.Pool:
    """The tests' own sessions, named so that they can tell the service's sessions apart."""
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=2, server_settings={"application_name": TEST_APP}
    )
    assert pool is not None
    return pool


async def waiting(db: asyncpg.Pool, thread_prefix: str = "") -> int:
    """Emails not yet sent (held, pending, inside a digest not yet sent)."""
    count: int = await db.fetchval(
        """SELECT count(*) FROM notifier.sends WHERE status IN ('held', 'pending', 'digested')
              AND coalesce(thread_id, '') LIKE $1 || '%'""",
        thread_prefix,
    )
    return count


async def sent_message_ids(db: asyncpg.Pool, threads: Sequence[str]) -> dict[str, str]:
    """notification id → Message-ID of the threads' emails marked sent."""
    rows = await db.fetch(
        """SELECT notification_id, message_id FROM notifier.sends
            WHERE thread_id = ANY($1::text[]) AND status = 'sent'""",
        list(threads),
    )
    return {r["notification_id"]: r["message_id"] for r in rows}


async def service_sessions(db: asyncpg.Pool) -> int:
    """Database sessions of anyone but the tests: 0 once a killed service's are gone (and with
    them anything it had not committed)."""
    count: int = await db.fetchval(
        """SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND backend_type = 'client backend'
              AND application_name <> $1""",
        TEST_APP,
    )
    return count


async def settled_after_death(db: asyncpg.Pool, catcher: Catcher) -> None:
    """Wait until a dead service's last SMTP session and database sessions are over: from then
    on, what the catcher holds and what the send log says are final for that life."""

    async def quiet() -> bool:
        return catcher.sessions == 0 and await service_sessions(db) == 0

    await until(quiet, "the dead service's sessions to end", within=30, every=0.05)


# ----- the consumer group ---------------------------------------------------------------------


@asynccontextmanager
async def _group_view(
    bootstrap: str,
) -> AsyncIterator[tuple[AIOKafkaConsumer, list[TopicPartition]]]:
    """A consumer speaking for the notifier's group without joining it (manual assignment),
    and the input topics' partitions."""
    partitions = [
        TopicPartition(topic.name, p)
        for topic in await describe_topics(bootstrap, INPUTS)
        for p in range(topic.partitions)
    ]
    assert partitions, "the input topics have no partitions"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        yield consumer, partitions
    finally:
        await consumer.stop()


async def rewind_group(bootstrap: str) -> dict[TopicPartition, int]:
    """Move the (stopped) notifier's consumer group to the start of its input topics, as an
    operator replaying them would; returns where it now stands."""
    async with _group_view(bootstrap) as (consumer, partitions):
        beginnings: dict[TopicPartition, int] = await consumer.beginning_offsets(partitions)
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in beginnings.items()})
        return beginnings


async def group_lag(bootstrap: str) -> int:
    """Records in the input topics the notifier's group has not committed yet."""
    async with _group_view(bootstrap) as (consumer, partitions):
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        lag = 0
        for tp, end in ends.items():
            committed = await consumer.committed(tp)
            lag += end - (committed or 0)
        return lag

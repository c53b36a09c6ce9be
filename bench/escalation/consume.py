"""Escalation's consume rate: input events handled per second by the platform's consumer with
escalation's steps, in the database only (no broker: records are handed to the consumer as Kafka
hands them over, `--batch` at a time).

    .venv/bin/python bench/escalation/consume.py [--events 20000] [--threads 4000] [--batch 500]
        [--per-event]

The events: on each of `--threads` threads a customer's message, a follow-up and a reply by a
person (half by email, half by phone), interleaved as partitions deliver them; no deadline
falls due during the run. `--per-event` hands the consumer no batch step, so each event is
claimed and handled alone (with a savepoint each), as a service without `on_events` does.
Works in a database of its own (`keepword_bench_escalation_consume`, dropped at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg
from keepword_escalation.app import MIGRATIONS, SERVICE
from keepword_escalation.settings import EscalationSettings
from keepword_escalation.watch import INPUTS, SCHEMA, Watch
from keepword_events import (
    Channel,
    Customer,
    Envelope,
    Event,
    MessageReceived,
    Person,
    ReplySent,
    Role,
    encode,
    new_envelope,
)
from keepword_platform.company import load_company_config
from keepword_platform.database import open_pool
from keepword_platform.messaging.consumer import EventConsumer
from keepword_platform.migrations import apply_migrations
from keepword_testkit.batch_harness import FakeRecord
from keepword_testkit.fault_run.stack import create_database
from keepword_testkit.measuring import progress

DATABASE = "keepword_bench_escalation_consume"
CONFIG = """\
[company]
name = "Keepword Bench Co."
support_address = "support@bench.example"
timezone = "UTC"

[sla]
first_reply = "24h"
next_reply = "24h"
max_unanswered_followups = 2
manager_decision = "4h"

[[people]]
email = "morgan.lead@bench.example"
name = "Morgan Reyes"
role = "management"
level = 1
"""
CASEY = Person(email="casey.service@bench.example", name="Casey Brooks", role=Role.SERVICE)


def inputs(threads: int, events: int) -> list[Envelope[Event]]:
    """Up to `events` inputs: message, follow-up, reply on each thread, round after round."""
    now = datetime.now(UTC)
    ids = [f"thr-bench-{uuid.uuid4().hex[:12]}" for _ in range(threads)]
    made: list[Envelope[Event]] = []
    for round_ in range(3):
        for n, thread_id in enumerate(ids):
            at = now - timedelta(minutes=10 - round_)
            customer = Customer(email=f"c{n}@customer.example", name=f"Customer {n}")
            event: Event
            if round_ < 2:
                event = MessageReceived(
                    thread_id=thread_id,
                    correlation_id=thread_id,
                    message_id=f"msg-{uuid.uuid4().hex}",
                    channel=Channel.EMAIL,
                    customer=customer,
                    author=Person(email=customer.email, name=customer.name, role=Role.CUSTOMER),
                    subject="My order",
                    body="Hello, where is my order? It was due last week." * (1 + round_),
                    sent_at=at,
                    received_at=at,
                )
            else:
                event = ReplySent(
                    thread_id=thread_id,
                    correlation_id=thread_id,
                    message_id=f"msg-{uuid.uuid4().hex}",
                    channel=Channel.PHONE if n % 2 else Channel.EMAIL,
                    customer=customer,
                    author=CASEY,
                    body="Here it is: it ships tomorrow.",
                    sent_at=at,
                    received_at=at,
                )
            made.append(new_envelope(event, source="/bench"))
    return made[:events]


def records(envelopes: Sequence[Envelope[Event]]) -> list[FakeRecord]:
    out = []
    for offset, envelope in enumerate(envelopes):
        r = encode(envelope)
        out.append(FakeRecord(r.topic, 0, offset, r.key, r.value, r.headers))
    return out


async def measure(args: argparse.Namespace, database_url: str, config: Path) -> float:
    company = load_company_config(config)
    watch = Watch(company=lambda: company)
    pool = await open_pool(database_url, max_size=2)
    try:
        consumer = EventConsumer(
            SERVICE,
            SCHEMA,
            lambda: pool,
            INPUTS.handler(watch),
            wants=INPUTS.wants,
            batch_handler=None if args.per_event else watch.on_events,
            retry_pause_seconds=0,
        )
        batches = records(inputs(args.threads, args.events))
        started = time.perf_counter()
        for i in range(0, len(batches), args.batch):
            await consumer.handle_batch(batches[i : i + args.batch])
        elapsed = time.perf_counter() - started
        async with pool.acquire() as conn:
            handled = await conn.fetchval(
                f"SELECT count(*) FROM {SCHEMA}.inbox WHERE outcome = 'handled'"  # noqa: S608
            )
        if handled != len(batches):
            raise SystemExit(f"{handled} of {len(batches)} events handled")
        return len(batches) / elapsed
    finally:
        await pool.close()


async def main_async(args: argparse.Namespace) -> float:
    server_url = EscalationSettings().database_url
    url = await create_database(server_url, DATABASE)
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn, SCHEMA, MIGRATIONS)
    finally:
        await conn.close()
    try:
        with TemporaryDirectory() as tmp:
            config = Path(tmp) / "company.toml"
            config.write_text(CONFIG)
            return await measure(args, url, config)
    finally:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        finally:
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="input events handled")
    parser.add_argument("--threads", type=int, default=4_000, help="threads they fall on")
    parser.add_argument("--batch", type=int, default=500, help="records per consumed batch")
    parser.add_argument(
        "--per-event", action="store_true", help="no batch step: each event claimed alone"
    )
    args = parser.parse_args()
    how = "event by event" if args.per_event else f"batches of {args.batch}"
    progress(f"handling {args.events} events on {args.threads} threads, {how}")
    rate = asyncio.run(main_async(args))
    print(f"| {how} | {args.events} | {rate:,.0f} events/s |")


if __name__ == "__main__":
    main()

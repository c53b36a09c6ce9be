"""Insights benchmark: how fast the read model ingests the catalog's topics, against a raw
aiokafka consume loop over the same records, and how fast `GET /v1/indices` answers when the
facts hold 1,000,000 threads.

    .venv/bin/python bench/insights/run.py [--events 50000] [--threads 1000000] [--calls 20]

Needs the local PostgreSQL and the Kafka jars the local broker installed (`make bench`).
Nothing shared is touched: insights works in a database of its own (`keepword_bench_insights`,
its `insights` schema dropped at the start) and on a private broker (a new consumer group on
the shared broker would first read the whole history of every topic).

1. Ingest. `--events` events of a seeded generator (`keepword_testkit.seeded_threads`, as in
   insights' seeded-month test; threads over six weeks: customer messages, replies, promises
   and production's answers, escalations, emails, ratings, in the mix a support desk makes)
   are written to the catalog's topics. Baseline: a raw aiokafka consumer
   reads them from the earliest offsets and decodes each (no database). Then the insights
   service (its own process, production settings) reads them from the earliest offsets into
   its facts. Rate = events / (last batch committed - first batch's transaction began), so the
   process's start, its migrations and the group's join are left out (the time including them
   is printed too).
2. The main query at `--threads` threads. The facts tables are emptied and bulk-loaded with
   COPY: about six months of threads, waits, promises and their moves, production's answers,
   escalations with raises and decisions, emails and ratings (distributions below), then
   ANALYZEd. `GET /v1/indices` is called `--calls` times for the default period (the last 28
   days) and as many with `team=service`, with a key of scope read: p50/p99. Then the same
   query in this process, split into its SQL statements (elapsed and EXPLAIN ANALYZE of each)
   and the pure `indices` computation (cProfile's top functions), to show where the time goes.

Prints progress on stderr, markdown tables on stdout, writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from keepword_events import (
    CommitmentKind,
    CommitmentStatus,
    Envelope,
    EscalationRule,
    Event,
    Verdict,
    decode,
    encode,
)
from keepword_insights.app import INPUTS, MIGRATIONS
from keepword_insights.indices import Period, indices
from keepword_insights.reading import clock_of
from keepword_insights.repository import SCHEMA, facts_of
from keepword_insights.settings import InsightsSettings
from keepword_platform.company import load_company_config
from keepword_platform.kafka import PRODUCER_OPTIONS, describe_topics
from keepword_platform.migrations import apply_migrations
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.fault_run.stack import create_database
from keepword_testkit.local_kafka import private_broker
from keepword_testkit.measuring import (
    cores_busy,
    cpu_seconds,
    distribution,
    listening_pid,
    machine_busy_seconds,
    postgres_cpu_seconds,
    progress,
    scratch_directory,
)
from keepword_testkit.processes import ServiceProcess, running_service
from keepword_testkit.seeded_threads import DECIDED, RESOLUTIONS, VERDICTS, Mix, SeededThreads, desk

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
LOGS = RESULTS / "logs"
DATABASE = "keepword_bench_insights"
GROUP = "keepword-insights"
BATCH = 500  # the raw loop's getmany size, the same as the service's subscriber
STALL_SECONDS = 60.0  # no progress for this long: the run failed, say so rather than hang
MAX_BATCH_BYTES = 512 * 1024  # as the other benchmarks' producers: limited by the broker
ZONE = ZoneInfo("Europe/Berlin")
CONFIG = """\
# Written by bench/insights/run.py.
[company]
name = "Keepword Bench Co."
support_address = "support@bench.example"
timezone = "Europe/Berlin"

[sla]
first_reply = "4h"
next_reply = "8h"

[sla.business_hours]
days = [0, 1, 2, 3, 4]
start = "09:00"
end = "17:00"
holidays_country = "DE"
"""
FACT_TABLES = (
    "threads",
    "waits",
    "promises",
    "promise_moves",
    "production_answers",
    "escalations",
    "escalation_raises",
    "escalation_decisions",
    "notifications",
    "ratings",
)

# A support desk of 60 people in three teams, production's makers and the managers.
DESK = desk("bench.example", sales=20, service=30, marketing=10, makers=5, managers=3)
STAFF, MAKERS, MANAGERS = DESK.staff, DESK.production, DESK.managers
TEMPLATES = ("acknowledgement", "escalation", "promise-gap", "decision", "feedback-request")
# How the benchmark's threads end, as in the facts bulk-loaded for the query below (one email a
# thread on average there).
MIX = Mix(
    still_waiting=0.1, escalated=0.08, emailed=1.0, delivered=0.97, rated=0.3, templates=TEMPLATES
)


# ===== 1. ingest ==============================================================================


def seeded_events(count: int, seed: int) -> list[Envelope[Event]]:
    """At least `count` events of whole threads begun over the six weeks before now."""
    threads = SeededThreads(seed, DESK, source="/bench/insights", mix=MIX)
    start = datetime.now(UTC) - timedelta(days=42)
    n = 0
    while len(threads.envelopes) < count:
        threads.thread(f"bench-{seed}-{n:07d}", start, 38 * 86400)
        n += 1
    return threads.envelopes


# --- writing them, and reading them raw -------------------------------------------------------


async def publish(bootstrap: str, envelopes: Sequence[Envelope[Event]]) -> dict[str, int]:
    """Every event on its topic (acks=all, idempotent); returns how many went to each."""
    sender = AIOKafkaProducer(
        bootstrap_servers=bootstrap, max_batch_size=MAX_BATCH_BYTES, **PRODUCER_OPTIONS
    )
    await sender.start()
    per_topic: dict[str, int] = {}
    try:
        pending = []
        for envelope in envelopes:
            r = encode(envelope)
            pending.append(await sender.send(r.topic, r.value, key=r.key, headers=list(r.headers)))
            per_topic[r.topic] = per_topic.get(r.topic, 0) + 1
        await asyncio.gather(*pending)
    finally:
        await sender.stop()
    return per_topic


async def input_partitions(bootstrap: str) -> list[TopicPartition]:
    return [
        TopicPartition(state.name, p)
        for state in await describe_topics(bootstrap, INPUTS)
        for p in range(state.partitions)
    ]


async def raw_consume(bootstrap: str, count: int) -> dict[str, float]:
    """Read insights' topics from the earliest offsets in batches as the service does, decoding
    every record; timed from the first batch to the last event."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(await input_partitions(bootstrap))
        await consumer.seek_to_beginning()
        decoded, started, last_progress = 0, 0.0, time.monotonic()
        while decoded < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
            if batches and not started:
                started = time.perf_counter()
            for records in batches.values():
                for record in records:
                    decode(record.value, record.headers)
                    decoded += 1
                    last_progress = time.monotonic()
            if time.monotonic() - last_progress > STALL_SECONDS:
                raise SystemExit(f"the raw loop read only {decoded:,} of {count:,} events")
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
    return {"events": decoded, "elapsed_s": elapsed, "rate": decoded / elapsed}


# --- the service ingesting them ---------------------------------------------------------------


async def table_sizes(conn: asyncpg.Connection) -> dict[str, int]:
    """Rows in each facts table."""
    return {
        t: await conn.fetchval(f"SELECT count(*) FROM {SCHEMA}.{t}")  # noqa: S608
        for t in FACT_TABLES
    }


async def group_lag(
    admin: AIOKafkaAdminClient, probe: AIOKafkaConsumer, inputs: list[TopicPartition]
) -> int:
    ends = await probe.end_offsets(inputs)
    committed = await admin.list_consumer_group_offsets(GROUP, partitions=inputs)
    return sum(ends[tp] - max(0, committed[tp].offset if tp in committed else 0) for tp in inputs)


async def until_ingested(bootstrap: str, database_url: str, count: int) -> dict[str, Any]:
    """Wait until the service's group has committed every record; then read from its inbox when
    its first batch began and check that every event was handled."""
    inputs = await input_partitions(bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="keepword-bench")
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await probe.start()
    try:
        last, last_change, next_report = -1, time.monotonic(), 0.0
        while (lag := await group_lag(admin, probe, inputs)) > 0:
            if time.monotonic() > next_report:
                progress(f"insights: {count - lag:,} of {count:,} events read")
                next_report = time.monotonic() + 5
            if lag != last:
                last, last_change = lag, time.monotonic()
            elif time.monotonic() - last_change > STALL_SECONDS:
                raise SystemExit(f"insights stalled with {lag:,} events to read")
            await asyncio.sleep(0.1)
        done = datetime.now(UTC)
    finally:
        await probe.stop()
        await admin.close()
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            f"""SELECT min(handled_at) AS first, count(*) AS events,
                       count(*) FILTER (WHERE outcome = 'handled') AS handled
                FROM {SCHEMA}.inbox"""  # noqa: S608
        )
        facts = await table_sizes(conn)
    finally:
        await conn.close()
    if row is None or row["handled"] != count:
        handled = row["handled"] if row else 0
        raise SystemExit(f"insights handled {handled:,} of {count:,} events (see its log)")
    elapsed = (done - row["first"]).total_seconds()
    return {"events": count, "elapsed_s": elapsed, "rate": count / elapsed, "facts": facts}


async def ingest(
    service: ServiceProcess, bootstrap: str, database_url: str, count: int, started: float
) -> dict[str, Any]:
    postmaster = listening_pid(5432)
    before = {
        "service": cpu_seconds(service.process.pid),
        "postgres": postgres_cpu_seconds(postmaster) if postmaster else 0.0,
        "machine": machine_busy_seconds(),
    }
    measured = await until_ingested(bootstrap, database_url, count)
    with_start = time.perf_counter() - started
    after = {
        "service": cpu_seconds(service.process.pid),
        "postgres": postgres_cpu_seconds(postmaster) if postmaster else 0.0,
        "machine": machine_busy_seconds(),
    }
    return measured | {
        "with_process_start_s": with_start,
        "rate_with_process_start": count / with_start,
        # From the service's healthy start, which is after its first batches: an upper bound.
        "cpu_cores_busy": cores_busy(before, after, measured["elapsed_s"]),
    }


# ===== 2. the main query at a million threads ====================================================

# --- the facts, bulk-loaded ---------------------------------------------------------------------
# Thread i begins at a time that grows with i over the six months before now, so every table
# derives its rows from i alone, each with its own seeded generator.

DAYS = 182
BEGAN = datetime.now(UTC).replace(microsecond=0) - timedelta(days=DAYS)


@dataclass(frozen=True)
class Load:
    threads: int
    seed: int

    def began(self, i: int) -> datetime:
        return BEGAN + timedelta(seconds=DAYS * 86400 * i / self.threads)

    def rng(self, table: str) -> random.Random:
        return random.Random(f"{self.seed}-{table}")

    @staticmethod
    def thread_id(i: int) -> str:
        return f"thr-{i:012x}"

    @staticmethod
    def after(rng: random.Random, at: datetime, mean_hours: float) -> datetime:
        """A delay of exponential length (most short, some of days), at most five days."""
        return at + timedelta(seconds=min(5 * 86400, rng.expovariate(1 / (mean_hours * 3600))))


def thread_rows(load: Load) -> Iterator[tuple[Any, ...]]:
    """A thread each: most answered; a wait open on 30% of the last three days' threads and on
    1% of older ones (abandoned); 15% with a deposit."""
    rng = load.rng("threads")
    now = datetime.now(UTC)
    for i in range(load.threads):
        began = load.began(i)
        messages, replies = rng.choice((1, 1, 2, 2, 3, 4)), rng.choice((1, 1, 1, 2, 3))
        recent = now - began < timedelta(days=3)
        waiting = rng.random() < (0.3 if recent else 0.01)
        last_reply = load.after(rng, began, 6)
        paid = rng.random() < 0.15
        yield (
            load.thread_id(i),
            f"Customer {i}",
            began,
            None if waiting and replies == 1 else load.after(rng, began, 6),
            last_reply,
            replies - 1 if waiting else replies,
            messages,
            load.after(rng, last_reply, 12) if waiting else None,
            rng.choice((1, 1, 1, 2, 3)) if waiting else 0,
            waiting and replies > 1,
            Decimal(f"{rng.randint(100, 4000)}.00") if paid else None,
            "EUR" if paid else None,
            rng.choice(STAFF).role.value,
        )


THREAD_COLUMNS = (
    *("thread_id", "customer", "first_customer_at", "first_reply_at", "last_reply_at"),
    *("replies", "customer_messages", "waiting_since", "unanswered", "answered_before"),
    *("deposit_amount", "deposit_currency", "last_replier_role"),
)


def wait_rows(load: Load) -> Iterator[tuple[Any, ...]]:
    """1.7 answered waits a thread: a first reply, then a next reply on half, a third on 20%."""
    rng = load.rng("waits")
    for i in range(load.threads):
        at = load.began(i)
        for n in range(1 + (rng.random() < 0.5) + (rng.random() < 0.2)):
            if n:
                at = load.after(rng, at, 36)
            person = rng.choice(STAFF)
            replied = load.after(rng, at, 5)
            messages = rng.choice((1, 1, 1, 1, 2, 3))
            yield load.thread_id(i), at, n > 0, messages, replied, person.email, person.role.value
            at = replied


WAIT_COLUMNS = (
    *("thread_id", "began_at", "answered_before", "messages"),
    *("replied_at", "replier_email", "replier_role"),
)


@dataclass
class PromiseRows:
    """Promises on 30% of threads, with their moves and production's answers (three tables
    from one pass, so that they agree)."""

    promises: list[tuple[Any, ...]] = field(default_factory=list)
    moves: list[tuple[Any, ...]] = field(default_factory=list)
    answers: list[tuple[Any, ...]] = field(default_factory=list)


def promise_rows(load: Load, first: int, last: int) -> PromiseRows:
    rng = load.rng(f"promises-{first}")
    out = PromiseRows()
    for i in range(first, last):
        if rng.random() >= 0.3:
            continue
        commitment, maker = f"cmt-{i:012x}", rng.choice(STAFF)
        made = load.after(rng, load.began(i), 8)
        moves = [CommitmentStatus.AWAITING_CONFIRMATION]
        verdict = rng.choice(VERDICTS) if rng.random() < 0.8 else None
        if verdict is not None:
            moves.append(CommitmentStatus(verdict.value))
            if verdict is Verdict.CONFIRMED and rng.random() < 0.6:
                moves.append(rng.choice((CommitmentStatus.KEPT, CommitmentStatus.BROKEN)))
        at, previous = made, None
        for n, status in enumerate(moves):
            at = load.after(rng, at, 20) if n else at
            out.moves.append((f"mv-{i:012x}-{n}", commitment, at, previous, status.value, False))
            if verdict is not None and n == 1:
                out.answers.append(
                    (f"ans-{i:012x}", commitment, verdict.value, rng.choice(MAKERS).email, at)
                )
            previous = status.value
        at_risk = moves[-1] is CommitmentStatus.CONFIRMED and rng.random() < 0.2
        out.promises.append(
            (
                commitment,
                load.thread_id(i),
                rng.choice(list(CommitmentKind)).value,
                maker.email,
                maker.role.value,
                made,
                moves[-1].value,
                at_risk,
                verdict.value if verdict else None,
                at,
            )
        )
    return out


PROMISE_COLUMNS = (
    *("commitment_id", "thread_id", "kind", "maker_email", "maker_role"),
    *("made_at", "status", "at_risk", "verdict", "changed_at"),
)
MOVE_COLUMNS = ("event_id", "commitment_id", "at", "from_status", "to_status", "at_risk")
ANSWER_COLUMNS = ("event_id", "commitment_id", "verdict", "answered_by", "at")


@dataclass
class EscalationRows:
    """Escalations on 8% of threads, with their raises and decisions."""

    escalations: list[tuple[Any, ...]] = field(default_factory=list)
    raises: list[tuple[Any, ...]] = field(default_factory=list)
    decisions: list[tuple[Any, ...]] = field(default_factory=list)


def escalation_rows(load: Load, first: int, last: int) -> EscalationRows:
    rng = load.rng(f"escalations-{first}")
    out = EscalationRows()
    for i in range(first, last):
        if rng.random() >= 0.08:
            continue
        escalation = f"esc-{i:012x}"
        opened = at = load.after(rng, load.began(i), 24)
        level = 1
        if rng.random() < 0.35:
            level, at = 2, load.after(rng, at, 6)
            out.raises.append((f"rs-{i:012x}", escalation, 2, 0, at))
            if rng.random() < 0.3:
                at = load.after(rng, at, 6)
                out.raises.append((f"rm-{i:012x}", escalation, 2, 1, at))
        manager = MANAGERS[level - 1].email
        if rng.random() < 0.25:
            at = load.after(rng, at, 4)
            out.decisions.append((f"hi-{i:012x}", escalation, "handle_it", manager, None, at))
        decided_at, option = None, None
        if rng.random() < 0.7:
            decided_at = at = load.after(rng, at, 8)
            option = rng.choice(DECIDED).value
            refund = Decimal(f"{rng.randint(20, 900)}.00") if option == "refund" else None
            out.decisions.append((f"dc-{i:012x}", escalation, option, manager, refund, at))
        resolved = rng.random() < 0.6
        out.escalations.append(
            (
                *(escalation, load.thread_id(i), rng.choice(list(EscalationRule)).value),
                *(opened, level, decided_at, option, manager if option else None),
                load.after(rng, at, 12) if resolved else None,
                rng.choice(RESOLUTIONS) if resolved else None,
            )
        )
    return out


ESCALATION_COLUMNS = (
    *("escalation_id", "thread_id", "rule", "opened_at", "level", "decided_at", "option"),
    *("decided_by", "resolved_at", "resolution"),
)
RAISE_COLUMNS = ("event_id", "escalation_id", "level", "reminder", "at")
DECISION_COLUMNS = ("event_id", "escalation_id", "option", "decided_by", "refund_amount", "at")


def notification_rows(load: Load) -> Iterator[tuple[Any, ...]]:
    """About one email a thread (none to two), 3% failed."""
    rng = load.rng("notifications")
    for i in range(load.threads):
        for n in range(rng.choice((0, 1, 1, 2))):
            at = load.after(rng, load.began(i), 2)
            yield f"ntf-{i:012x}-{n}", rng.choice(TEMPLATES), "customer", rng.random() < 0.97, at


def rating_rows(load: Load) -> Iterator[tuple[Any, ...]]:
    """Ratings on 30% of threads, mostly good; a tenth revised."""
    rng = load.rng("ratings")
    for i in range(load.threads):
        if rng.random() < 0.3:
            at = load.after(rng, load.began(i), 30)
            rating = rng.choice((1, 2, 3, 4, 4, 5, 5, 5))
            yield load.thread_id(i), rating, 2 if rng.random() < 0.1 else 1, at


CHUNK = 100_000  # threads per pass of the tables that are written together


async def bulk_load(database_url: str, load: Load) -> dict[str, Any]:
    """Empty the facts tables, COPY `load.threads` threads' facts in, ANALYZE them."""
    conn = await asyncpg.connect(database_url)
    started = time.perf_counter()
    try:
        tables = ", ".join(f"{SCHEMA}.{t}" for t in FACT_TABLES)
        await conn.execute(f"TRUNCATE {tables}")

        async def copy(table: str, rows: Any, columns: Sequence[str]) -> None:
            await conn.copy_records_to_table(
                table, schema_name=SCHEMA, records=rows, columns=list(columns)
            )

        progress(f"COPY: threads, waits, emails and ratings of {load.threads:,} threads")
        await copy("threads", thread_rows(load), THREAD_COLUMNS)
        await copy("waits", wait_rows(load), WAIT_COLUMNS)
        await copy("notifications", notification_rows(load), NOTIFICATION_COLUMNS)
        await copy("ratings", rating_rows(load), RATING_COLUMNS)
        progress("COPY: promises, their moves and answers, escalations, raises and decisions")
        for first in range(0, load.threads, CHUNK):
            last = min(load.threads, first + CHUNK)
            p = promise_rows(load, first, last)
            await copy("promises", p.promises, PROMISE_COLUMNS)
            await copy("promise_moves", p.moves, MOVE_COLUMNS)
            await copy("production_answers", p.answers, ANSWER_COLUMNS)
            e = escalation_rows(load, first, last)
            await copy("escalations", e.escalations, ESCALATION_COLUMNS)
            await copy("escalation_raises", e.raises, RAISE_COLUMNS)
            await copy("escalation_decisions", e.decisions, DECISION_COLUMNS)
        loaded_s = time.perf_counter() - started
        progress("VACUUM ANALYZE of the facts tables")
        for table in FACT_TABLES:
            await conn.execute(f"VACUUM ANALYZE {SCHEMA}.{table}")
        rows = await table_sizes(conn)
    finally:
        await conn.close()
    return {"rows": rows, "copy_s": loaded_s, "with_analyze_s": time.perf_counter() - started}


NOTIFICATION_COLUMNS = ("event_id", "template", "recipient_role", "sent", "at")
RATING_COLUMNS = ("thread_id", "rating", "revision", "rated_at")


# --- asking ------------------------------------------------------------------------------------


def timed_calls(url: str, key: str, params: dict[str, str], calls: int) -> dict[str, Any]:
    """`calls` requests one after the other (after one not counted, to warm the caches)."""
    latencies, size = [], 0
    with httpx.Client(base_url=url, headers=bearer(key), timeout=600) as client:
        for n in range(calls + 1):
            started = time.perf_counter()
            answer = client.get("/v1/indices", params=params)
            elapsed = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            size = len(answer.content)
            if n:
                latencies.append(elapsed)
    return distribution(latencies) | {"calls": calls, "bytes": size}


@dataclass
class Statement:
    """One SQL statement of the query, as asyncpg ran it."""

    query: str
    args: tuple[Any, ...]
    elapsed_ms: float


@contextlib.asynccontextmanager
async def logged(conn: asyncpg.Connection) -> AsyncIterator[list[Statement]]:
    found: list[Statement] = []

    def record(q: Any) -> None:
        found.append(Statement(q.query, tuple(q.args), q.elapsed * 1000))

    conn.add_query_logger(record)
    try:
        yield found
    finally:
        conn.remove_query_logger(record)


def first_line(query: str) -> str:
    words = " ".join(query.split())
    return words[:90] + ("…" if len(words) > 90 else "")


async def where_time_goes(database_url: str, config: Path, team: str | None) -> dict[str, Any]:
    """The query in this process: each statement's time and plan, the rows' conversion into
    facts, and the pure computation (with its profile)."""
    company = load_company_config(config)
    now = datetime.now(UTC)
    period = Period(now - timedelta(days=28), now, team)
    conn = await asyncpg.connect(database_url)
    try:
        await facts_of(conn, period)  # warm, as the service's caches are
        async with logged(conn) as statements:
            started = time.perf_counter()
            facts = await facts_of(conn, period)
            read_ms = (time.perf_counter() - started) * 1000
        plans = []
        for s in statements:
            plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {s.query}", *s.args)
            lines = [r[0] for r in plan]
            plans.append(
                {
                    "statement": first_line(s.query),
                    "elapsed_ms": s.elapsed_ms,
                    "plan": lines,
                    "execution": next((x for x in lines if x.startswith("Execution Time")), ""),
                }
            )
    finally:
        await conn.close()
    clock = clock_of(company, now)
    started = time.perf_counter()
    indices(facts, period, clock)
    compute_ms = (time.perf_counter() - started) * 1000
    profiler = cProfile.Profile()  # a second run: the profiler slows what it watches
    profiler.runcall(indices, facts, period, clock)
    listing = io.StringIO()
    pstats.Stats(profiler, stream=listing).sort_stats("tottime").print_stats(12)
    return {
        "team": team,
        "rows": {f.name: len(getattr(facts, f.name)) for f in fields(facts)},
        "read_ms": read_ms,
        "sql_ms": sum(s.elapsed_ms for s in statements),
        "statements": plans,
        "compute_ms": compute_ms,
        "compute_profile": listing.getvalue(),
    }


# ===== the run ====================================================================================


async def fresh_database(settings: InsightsSettings) -> str:
    """The benchmark's own database, made afresh, its insights schema migrated."""
    url = await create_database(settings.database_url, DATABASE)
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn, SCHEMA, MIGRATIONS)
    finally:
        await conn.close()
    return url


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = InsightsSettings()
    database_url = asyncio.run(fresh_database(settings))
    progress(f"generating {args.events:,} events (seed {args.seed})")
    envelopes = seeded_events(args.events, args.seed)
    with scratch_directory("keepword-bench-insights-") as tmp:
        folder = Path(tmp)
        config = folder / "keepword.toml"
        config.write_text(CONFIG)
        progress("starting a private Kafka broker")
        with private_broker(folder / "kafka", settings.topic_partitions) as bootstrap:
            progress(f"publishing {len(envelopes):,} events")
            per_topic = asyncio.run(publish(bootstrap, envelopes))
            progress("raw aiokafka: reading them from the earliest offsets, decoding each")
            raw = asyncio.run(raw_consume(bootstrap, len(envelopes)))
            env = {
                "KEEPWORD_KAFKA_BOOTSTRAP": bootstrap,
                "KEEPWORD_DATABASE_URL": database_url,
                "KEEPWORD_CONFIG": str(config),
                # INFO, as in production: whatever it logs per batch is part of the cost.
                "KEEPWORD_LOG_LEVEL": "INFO",
                # The gauges would compute the indices every minute in the background of the
                # timed calls: once an hour keeps them out of the measurement.
                "KEEPWORD_INSIGHTS_GAUGE_REFRESH_SECONDS": "3600",
            }
            progress("starting insights: it reads them from the earliest offsets")
            started = time.perf_counter()
            with running_service("insights", log_dir=LOGS, env=env, timeout=120) as service:
                service_rate = asyncio.run(
                    ingest(service, bootstrap, database_url, len(envelopes), started)
                )
                load = Load(args.threads, args.seed)
                progress(f"bulk-loading the facts of {args.threads:,} threads over {DAYS} days")
                loaded = asyncio.run(bulk_load(database_url, load))
                key = asyncio.run(new_key(database_url, ["read"]))
                query: dict[str, Any] = {}
                for label, params in (("default", {}), ("team=service", {"team": "service"})):
                    progress(f"GET /v1/indices ({label}): {args.calls} calls")
                    query[label] = timed_calls(service.url, key, params, args.calls)
                log = str(service.log_path)
            progress("where the time goes: the query in this process")
            breakdown = [
                asyncio.run(where_time_goes(database_url, config, team))
                for team in (None, "service")
            ]
    return {
        "ingest": {
            "events_by_topic": per_topic,
            "raw": raw,
            "insights": service_rate,
            "ratio": service_rate["rate"] / raw["rate"],
        },
        "query": {"threads": args.threads, "loaded": loaded, "calls": query},
        "breakdown": breakdown,
        "service_log": log,
    }


def markdown(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def print_tables(result: dict[str, Any]) -> None:
    raw, ins = result["ingest"]["raw"], result["ingest"]["insights"]
    print(markdown("ingest", "events", "events/s", "elapsed (s)"))
    print(markdown("---", "---:", "---:", "---:"))
    for label, events, rate, elapsed in (
        (
            "raw aiokafka, earliest offsets, decode only",
            raw["events"],
            raw["rate"],
            raw["elapsed_s"],
        ),
        ("insights, first batch → last committed", ins["events"], ins["rate"], ins["elapsed_s"]),
        (
            "insights, process start → last committed",
            ins["events"],
            ins["rate_with_process_start"],
            ins["with_process_start_s"],
        ),
    ):
        print(markdown(label, f"{events:,}", f"{rate:,.0f}", f"{elapsed:.1f}"))
    busy = ", ".join(f"{k} {v:.2f}" for k, v in ins["cpu_cores_busy"].items())
    print(f"\ninsights / raw (events/s) = {result['ingest']['ratio']:.1%}; CPU cores busy: {busy}")

    query = result["query"]
    print()
    print(
        markdown(
            f"GET /v1/indices, {query['threads']:,} threads",
            "calls",
            "p50 (ms)",
            "p99 (ms)",
            "bytes",
        )
    )
    print(markdown("---", "---:", "---:", "---:", "---:"))
    for label, row in query["calls"].items():
        p50, p99 = f"{row['p50_ms']:,.0f}", f"{row['p99_ms']:,.0f}"
        print(markdown(label, row["calls"], p50, p99, f"{row['bytes']:,}"))
    rows = ", ".join(f"{t} {n:,}" for t, n in query["loaded"]["rows"].items())
    print(f"\nfacts loaded ({query['loaded']['copy_s']:.0f}s COPY): {rows}")
    for part in result["breakdown"]:
        counts = ", ".join(f"{k} {v:,}" for k, v in part["rows"].items())
        print(
            f"\nin process (team={part['team']}): SQL and rows {part['read_ms']:,.0f} ms "
            f"(statements {part['sql_ms']:,.0f} ms), indices() {part['compute_ms']:,.0f} ms; "
            f"rows: {counts}"
        )
        for s in part["statements"]:
            print(f"  {s['elapsed_ms']:8.1f} ms  {s['execution']:<28} {s['statement']}")
    print("\nindices() profile (default period):\n" + result["breakdown"][0]["compute_profile"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events to ingest")
    parser.add_argument("--threads", type=int, default=1_000_000, help="threads in the facts")
    parser.add_argument("--calls", type=int, default=20, help="timed calls of each query")
    parser.add_argument("--seed", type=int, default=20250601, help="of the generators")
    args = parser.parse_args()

    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    LOGS.mkdir(parents=True, exist_ok=True)
    result = run(args)
    output = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count()},
        "settings": vars(args),
    } | result
    path = RESULTS / f"insights-{stamp}.json"
    path.write_text(json.dumps(output, indent=2, default=str))
    print_tables(result)
    print(f"written to {path}")


if __name__ == "__main__":
    main()

"""Escalation benchmark: reply deadlines falling due at once among a million open threads.

    .venv/bin/python bench/escalation/run.py [--threads 1000000] [--due 10000] [--instances 1]
        [--prepare-seconds S] [--profile] [--keep]

Needs the local PostgreSQL and the Kafka jars the local broker installed (`make bench`). The
question (the issue's target: p99 <= 1 s): with `--threads` open threads in the database, how
long after `--due` reply deadlines fall due at the same instant T is each
`keepword.escalation.opened.v1` on keepword.escalations.v1?

Nothing shared is touched, so it runs beside `make up` and `make test`: the service works in a
database of its own (`keepword_bench_escalation`, made afresh and migrated at the start,
dropped at the end unless `--keep`: a million threads take a few hundred MB) and on a private
broker (below).

1. Seeding (timed): every thread waits for its first reply (unanswered = 1) with one timeline
   line, and has a reply_warn and a reply_due timer hours ahead, except the `--due` measured
   threads, spread evenly over the id space: their warning was already handled (a timeline
   line, no warn timer) and their reply_due timer is parked a month ahead. COPY, then VACUUM
   ANALYZE.
2. A private Kafka broker (temp dir, free ports, the catalog's topics): the service's consumer
   group starts at the beginning of its input topics, and the shared broker holds millions of
   records it would first work through.
3. The escalation service as its own process, or `--instances` of them sharing the work
   (INFO logs, a chain of levels 1 and 2, SLA around the clock), healthy, one leading the
   outbox relay.
4. One UPDATE moves the measured threads' deadlines (clock and timer) to T, ARM_LEAD_S ahead
   (deadlines are set hours ahead in real life: the service fires a burst ahead and commits it
   at T, KEEPWORD_TIMERS_PREPARE_SECONDS; `--prepare-seconds 0` measures firing once due).
   Lag per thread = Kafka record timestamp of its opened event - T. Also from the database:
   when the handler opened each escalation (opened_at, never before T), so the lag splits
   into firing (opened_at - T) and publishing (record time - opened_at: the rest of its batch
   of deadlines, the commit, then the outbox relay). Memory is VmRSS/VmHWM (summed over the
   instances), as is the service's CPU.

Prints progress on stderr, a markdown table on stdout, writes JSON to bench/results/. With
--profile, samples the service with py-spy from just before T until the last event
(`pip install py-spy`, outside the venv).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from keepword_escalation.app import MIGRATIONS
from keepword_escalation.settings import EscalationSettings
from keepword_escalation.watch import REPLY_DUE, REPLY_WARN, SCHEMA
from keepword_events import EscalationOpened, topics
from keepword_platform.kafka import describe_topics
from keepword_platform.migrations import apply_migrations
from keepword_testkit.broker_warmup import warm_broker
from keepword_testkit.fault_run.stack import create_database
from keepword_testkit.local_kafka import private_broker
from keepword_testkit.measuring import (
    cores_busy,
    cpu_seconds,
    distribution,
    machine_busy_seconds,
    memory_kib,
    parent_pid,
    postgres_cpu_seconds,
    progress,
    scratch_directory,
)
from keepword_testkit.processes import ServiceProcess, running_service
from keepword_testkit.profiling import print_profile, profile_summary, sampled

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
LOGS = RESULTS / "logs"
DATABASE = "keepword_bench_escalation"
TARGET_P99_MS = 1000.0
SEEDED_TABLES = ("threads", "timeline", "timers")
FIRST_REPLY = timedelta(hours=24)
WARN_FRACTION = 0.75
# Unmeasured threads started waiting up to 17 h ago: their warnings (at 18 h) are at least an
# hour ahead, so nothing but the measured deadlines falls due during a run.
BACKGROUND_SPREAD_S = 17 * 3600
PARKED = timedelta(days=30)  # where the measured deadlines wait until the service is ready
ARM_LEAD_S = 12.0  # T is this far after the UPDATE starts (beyond the service's prepare lead)
COPY_CHUNK = 50_000
STALL_SECONDS = 60.0  # no new event for this long: the run failed, say so rather than hang
DUPLICATE_GRACE_S = 3.0  # keep reading this long after the last wanted event, to see copies
RELAY_LOCK = f"outbox:{SCHEMA}"  # the advisory lock the leading outbox relay holds
OPENED = EscalationOpened.ce_type

CONFIG = """\
# Written by bench/escalation/run.py: around the clock, a chain of two levels.
[company]
name = "Keepword Bench Co."
support_address = "support@bench.example"
timezone = "UTC"

[sla]
first_reply = "24h"
next_reply = "24h"
warn_at = 0.75
max_unanswered_followups = 2
manager_decision = "4h"

[[people]]
email = "casey.service@bench.example"
name = "Casey Brooks"
role = "service"

[[people]]
email = "morgan.lead@bench.example"
name = "Morgan Reyes"
role = "management"
level = 1

[[people]]
email = "drew.director@bench.example"
name = "Drew Adler"
role = "management"
level = 2
"""

# --- the threads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """Which threads exist and which of them are measured: every `stride`-th, so their rows and
    index entries are spread over the tables as a real population's would be."""

    threads: int
    due: int

    @property
    def stride(self) -> int:
        return self.threads // self.due

    def is_due(self, i: int) -> bool:
        return i % self.stride == 0 and i // self.stride < self.due

    def due_ids(self) -> list[str]:
        return [thread_id(i * self.stride) for i in range(self.due)]


def thread_id(i: int) -> str:
    return f"thr-{i:016x}"  # the contract's shape: thr- and 16 hex digits


def customer_json(i: int) -> str:
    # Digits only in the variable parts, so an f-string is valid JSON and ~10x faster than
    # json.dumps over a million rows. Every 4th customer left a phone number, every 8th
    # prefers the phone: the options offered (and their cost) vary as in real life.
    phone = f'"+1 555 {i % 10_000:04d}"' if i % 4 == 0 else "null"
    channel = "phone" if i % 8 == 0 else "email"
    return (
        f'{{"email": "customer{i}@example.com", "name": "Customer {i}", '
        f'"phone": {phone}, "preferred_channel": "{channel}"}}'
    )


DEPOSIT = '{"amount": "1500.00", "currency": "USD"}'


@dataclass(frozen=True)
class Wait:
    """When a thread's customer started waiting, and its warning and reply deadline."""

    since: datetime
    warn_at: datetime
    due_at: datetime

    @classmethod
    def due_at_instant(cls, due_at: datetime) -> Wait:
        return cls(due_at - FIRST_REPLY, due_at - FIRST_REPLY * (1 - WARN_FRACTION), due_at)

    @classmethod
    def background(cls, i: int, now: datetime) -> Wait:
        since = now - timedelta(seconds=(i * 7919) % BACKGROUND_SPREAD_S)
        return cls(since, since + FIRST_REPLY * WARN_FRACTION, since + FIRST_REPLY)


def wait_of(population: Population, i: int, now: datetime) -> Wait:
    if population.is_due(i):
        return Wait.due_at_instant(now + PARKED)
    return Wait.background(i, now)


THREAD_COLUMNS = (
    "thread_id",
    "customer",
    "deposit",
    "first_contact_at",
    "last_customer_at",
    "unanswered",
    "waiting_since",
    "reply_due_at",
    "warn_at",
)


def thread_rows(population: Population, now: datetime) -> Iterator[tuple[Any, ...]]:
    for i in range(population.threads):
        wait = wait_of(population, i, now)
        deposit = DEPOSIT if i % 3 == 0 else None
        yield (
            thread_id(i),
            customer_json(i),
            deposit,
            wait.since,
            wait.since,
            1,
            wait.since,
            wait.due_at,
            wait.warn_at,
        )


def timer_rows(population: Population, now: datetime) -> Iterator[tuple[Any, ...]]:
    for i in range(population.threads):
        wait = wait_of(population, i, now)
        if not population.is_due(i):  # a measured thread's warning was already handled
            yield (REPLY_WARN, thread_id(i), wait.warn_at)
        yield (REPLY_DUE, thread_id(i), wait.due_at)


def timeline_rows(population: Population, now: datetime) -> Iterator[tuple[Any, ...]]:
    for i in range(population.threads):
        wait = wait_of(population, i, now)
        event_id = str(uuid.UUID(int=i + 1))
        what = "Customer wrote (1 unanswered): Where is my ranking report?"
        yield (thread_id(i), wait.since, what, event_id)
        if population.is_due(i):
            yield (thread_id(i), wait.warn_at, "Warning: first reply due soon", None)


# --- the database -----------------------------------------------------------------------------


async def relay_leader(conn: asyncpg.Connection) -> int | None:
    """The backend pid holding the escalation relay's advisory lock in this database: the
    benchmark's escalation service (pg_locks lists every database's, `make up`'s too)."""
    key: int = await conn.fetchval("SELECT hashtext($1)::bigint", RELAY_LOCK)
    # pg_advisory_lock(bigint) is listed as classid = the high 32 bits, objid = the low ones.
    pid: int | None = await conn.fetchval(
        """SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
              AND classid = $1::bigint::oid AND objid = $2::bigint::oid
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        (key >> 32) & 0xFFFFFFFF,
        key & 0xFFFFFFFF,
    )
    return pid


async def fresh_database(server_url: str) -> str:
    """The benchmark's own database, new, with escalation's schema migrated; returns its URL."""
    url = await create_database(server_url, DATABASE)
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn, SCHEMA, MIGRATIONS)
    finally:
        await conn.close()
    return url


async def copy_rows(
    database_url: str, table: str, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]
) -> float:
    """COPY `rows` into `table` in chunks (bounded memory); returns the seconds it took."""
    started = time.perf_counter()
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            while chunk := list(itertools.islice(rows, COPY_CHUNK)):
                await conn.copy_records_to_table(
                    table, records=chunk, columns=list(columns), schema_name=SCHEMA
                )
    finally:
        await conn.close()
    return time.perf_counter() - started


async def vacuum_analyze(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        # VACUUM as well as ANALYZE: after a million inserts autovacuum would otherwise start
        # on these tables in the middle of the measurement, and the first readers of each page
        # would pay for setting its hint bits. A long-running system has both done already.
        for table in (*SEEDED_TABLES, "escalations"):
            await conn.execute(f"VACUUM (ANALYZE) {SCHEMA}.{table}")
    finally:
        await conn.close()


async def seed(database_url: str, population: Population) -> dict[str, float]:
    """Seed the threads, their timelines and timers at once (three connections); timings."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    threads, timeline, timers = await asyncio.gather(
        copy_rows(database_url, "threads", THREAD_COLUMNS, thread_rows(population, now)),
        copy_rows(
            database_url,
            "timeline",
            ("thread_id", "at", "what", "event_id"),
            timeline_rows(population, now),
        ),
        copy_rows(
            database_url, "timers", ("kind", "subject", "fire_at"), timer_rows(population, now)
        ),
    )
    copied = time.perf_counter() - started
    await vacuum_analyze(database_url)
    return {
        "copy_s": copied,
        "copy_threads_s": threads,
        "copy_timeline_s": timeline,
        "copy_timers_s": timers,
        "vacuum_analyze_s": time.perf_counter() - started - copied,
        "total_s": time.perf_counter() - started,
    }


async def row_counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {
        t: await conn.fetchval(f"SELECT count(*) FROM {SCHEMA}.{t}")  # noqa: S608
        for t in SEEDED_TABLES
    }


async def arm(conn: asyncpg.Connection, ids: Sequence[str], lead_s: float) -> datetime:
    """Move the measured threads' reply deadlines (clock and timer) to T, `lead_s` from now."""
    at = datetime.now(UTC) + timedelta(seconds=lead_s)
    wait = Wait.due_at_instant(at)
    async with conn.transaction():
        await conn.execute(
            f"""UPDATE {SCHEMA}.threads SET waiting_since = $2, first_contact_at = $2,
                       last_customer_at = $2, warn_at = $3, reply_due_at = $4
                 WHERE thread_id = ANY($1::text[])""",  # noqa: S608
            list(ids),
            wait.since,
            wait.warn_at,
            wait.due_at,
        )
        await conn.execute(
            f"""UPDATE {SCHEMA}.timers SET fire_at = $2
                 WHERE kind = $3 AND subject = ANY($1::text[])""",  # noqa: S608
            list(ids),
            at,
            REPLY_DUE,
        )
    if datetime.now(UTC) > at - timedelta(seconds=0.5):
        raise SystemExit(f"arming the deadlines took more than {lead_s - 0.5:.1f}s: raise the lead")
    return at


async def opened_at(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, datetime]:
    """When the handler opened each measured thread's escalation (its clock's `now`)."""
    rows = await conn.fetch(
        f"""SELECT thread_id, opened_at FROM {SCHEMA}.escalations
             WHERE thread_id = ANY($1::text[])""",  # noqa: S608
        list(ids),
    )
    return {r["thread_id"]: r["opened_at"] for r in rows}


async def drop_database(server_url: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    finally:
        await conn.close()


# --- the private broker and the service --------------------------------------------------------


@contextlib.contextmanager
def escalation_services(
    bootstrap: str, database_url: str, config: Path, instances: int, prepare_seconds: float | None
) -> Iterator[list[ServiceProcess]]:
    """`instances` escalation processes sharing the database and the consumer group."""
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": bootstrap,
        "KEEPWORD_DATABASE_URL": database_url,
        "KEEPWORD_CONFIG": str(config),
        # INFO, as in production: whatever the service logs per deadline is part of the cost.
        "KEEPWORD_LOG_LEVEL": "INFO",
    }
    if prepare_seconds is not None:
        env["KEEPWORD_TIMERS_PREPARE_SECONDS"] = str(prepare_seconds)
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(running_service("escalation", log_dir=LOGS, env=env))
            for _ in range(instances)
        ]


async def until_relay_led(database_url: str, patience_s: float = 30.0) -> None:
    """The relay takes its lock after start-up: before that, published events would wait."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + patience_s
        while await relay_leader(conn) is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"the service's outbox relay did not start in {patience_s}s")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


# --- reading the escalations topic -------------------------------------------------------------


@dataclass
class Observed:
    """The opened events seen on keepword.escalations.v1, by thread."""

    wanted: frozenset[str]
    timestamps: dict[str, int] = field(default_factory=dict)  # first copy's record time (ms)
    read_at: dict[str, float] = field(default_factory=dict)  # when the bench read it (ms)
    copies: Counter[str] = field(default_factory=Counter)
    others: Counter[str] = field(default_factory=Counter)  # other types, unexpected threads
    last_progress: float = field(default_factory=time.monotonic)

    @property
    def complete(self) -> bool:
        return len(self.timestamps) == len(self.wanted)

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.copies.values() if n > 1)

    def add(self, record: Any, now_ms: float) -> None:
        kind = dict(record.headers).get("ce_type", b"").decode()
        thread = (record.key or b"").decode()
        if kind != OPENED or thread not in self.wanted:
            self.others[f"{kind} ({'measured' if thread in self.wanted else 'other'} thread)"] += 1
            return
        self.copies[thread] += 1
        if thread not in self.timestamps:
            self.timestamps[thread] = record.timestamp
            self.read_at[thread] = now_ms
            self.last_progress = time.monotonic()


async def escalations_reader(bootstrap: str) -> AIOKafkaConsumer:
    """A group-less reader of keepword.escalations.v1 from its beginning (the broker is new)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    (state,) = await describe_topics(bootstrap, [topics.ESCALATIONS])
    consumer.assign([TopicPartition(topics.ESCALATIONS, p) for p in range(state.partitions)])
    await consumer.seek_to_beginning()
    return consumer


async def read_until_complete(consumer: AIOKafkaConsumer, observed: Observed) -> None:
    """Read until every wanted thread's event arrived, or until nothing new arrived for
    STALL_SECONDS."""
    while not observed.complete:
        if time.monotonic() - observed.last_progress > STALL_SECONDS:
            progress(
                f"only {len(observed.timestamps):,} of {len(observed.wanted):,} opened events "
                f"after {STALL_SECONDS:.0f}s without progress: see the service log"
            )
            return
        await read_batch(consumer, observed)


async def read_for(consumer: AIOKafkaConsumer, observed: Observed, seconds: float) -> None:
    """Keep reading a while after the last wanted event: a copy would come soon after it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await read_batch(consumer, observed)


async def read_batch(consumer: AIOKafkaConsumer, observed: Observed) -> None:
    batches = await consumer.getmany(timeout_ms=100, max_records=5000)
    read_ms = time.time() * 1000
    for records in batches.values():
        for record in records:
            observed.add(record, read_ms)


async def report_progress(observed: Observed, t_ms: float) -> None:
    while True:
        await asyncio.sleep(2.0)
        late = time.time() * 1000 - t_ms
        if late > 0:
            progress(f"T+{late / 1000:.1f}s: {len(observed.timestamps):,} opened events")


# --- what the service used ---------------------------------------------------------------------


async def postmaster_pid(conn: asyncpg.Connection) -> int:
    backend: int = await conn.fetchval("SELECT pg_backend_pid()")
    return parent_pid(backend)


def cpu_snapshot(services: Sequence[int], postmaster: int) -> dict[str, float]:
    return {
        "service": sum(cpu_seconds(pid) for pid in services),
        "postgres": postgres_cpu_seconds(postmaster),
        "machine": machine_busy_seconds(),
    }


# --- the profile -------------------------------------------------------------------------------


# --- the measurement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Firing:
    """What the firing of the measured deadlines produced."""

    at: datetime
    observed: Observed
    opened: dict[str, datetime]
    memory_before: dict[str, int]
    memory_after: dict[str, int]
    cores: dict[str, float]
    window_s: float


def memory_of(pids: Sequence[int]) -> dict[str, int]:
    """VmRSS and VmHWM summed over the instances."""
    found: Counter[str] = Counter()
    for pid in pids:
        found.update(memory_kib(pid))
    return dict(found)


async def fire(
    services: Sequence[ServiceProcess], bootstrap: str, database_url: str, ids: Sequence[str]
) -> Firing:
    """Arm the measured deadlines at T and read their opened events; memory and CPU around it
    (summed over the instances)."""
    pids = [service.process.pid for service in services]
    observed = Observed(wanted=frozenset(ids))
    conn = await asyncpg.connect(database_url)
    consumer = await escalations_reader(bootstrap)
    try:
        postmaster = await postmaster_pid(conn)
        reader = asyncio.create_task(read_until_complete(consumer, observed))
        at = await arm(conn, ids, ARM_LEAD_S)
        progress(f"{len(ids):,} deadlines armed for T = {at:%H:%M:%S.%f}")
        # Memory and CPU from T on: the lead before it is idle time.
        await asyncio.sleep(max(0.0, at.timestamp() - time.time()))
        memory_before = memory_of(pids)
        cpu_before, started = cpu_snapshot(pids, postmaster), time.monotonic()
        ticker = asyncio.create_task(report_progress(observed, at.timestamp() * 1000))
        try:
            await reader
        finally:
            ticker.cancel()
        window_s = time.monotonic() - started
        cores = cores_busy(cpu_before, cpu_snapshot(pids, postmaster), window_s)
        memory_after = memory_of(pids)
        await read_for(consumer, observed, DUPLICATE_GRACE_S)
        opened = await opened_at(conn, ids)
    finally:
        await consumer.stop()
        await conn.close()
    return Firing(at, observed, opened, memory_before, memory_after, cores, window_s)


def figures(firing: Firing) -> dict[str, Any]:
    """Lag per measured thread, split into firing and relaying, and the completeness checks."""
    t_ms = firing.at.timestamp() * 1000
    seen = firing.observed.timestamps
    lag = [ts - t_ms for ts in seen.values()]
    fired = [o.timestamp() * 1000 - t_ms for o in firing.opened.values()]
    relayed = [
        ts - firing.opened[t].timestamp() * 1000 for t, ts in seen.items() if t in firing.opened
    ]
    result: dict[str, Any] = {
        "due": len(firing.observed.wanted),
        "published_distinct": len(seen),
        "missing": len(firing.observed.wanted) - len(seen),
        "duplicates": firing.observed.duplicates,
        "other_events": dict(firing.observed.others),
        "escalations_in_db": len(firing.opened),
        # Fired ahead, a deadline is still handled as of its time and published after it.
        "opened_before_t": sum(1 for o in firing.opened.values() if o < firing.at),
        "published_before_t": sum(1 for ts in seen.values() if ts < int(t_ms)),  # whole ms
        "memory_kib": {"before": firing.memory_before, "after": firing.memory_after},
        "cpu_cores_busy": firing.cores,
        "window_s": firing.window_s,
    }
    if lag:
        result["lag"] = distribution(lag)
        result["all_published_s"] = max(lag) / 1000
        result["read_lag"] = distribution([r - t_ms for r in firing.observed.read_at.values()])
    if fired:
        result["fired"] = distribution(fired)
        result["fire_rate_per_s"] = len(fired) / max((max(fired) - min(fired)) / 1000, 1e-3)
    if relayed:
        result["relayed"] = distribution(relayed)
    return result


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    seeding: dict[str, float]
    counts: dict[str, int]
    figures: dict[str, Any]
    service_logs: list[str]


def run(
    args: argparse.Namespace, settings: EscalationSettings, database_url: str, profile: Path | None
) -> Run:
    population = Population(args.threads, args.due)
    progress(f"seeding {args.threads:,} open threads ({args.due:,} measured)")
    seeding = asyncio.run(seed(database_url, population))
    progress(f"seeded in {seeding['total_s']:.1f}s: {seeding}")
    counts = asyncio.run(_counts(database_url))
    with scratch_directory("keepword-bench-escalation-") as tmp:
        config = Path(tmp) / "keepword.toml"
        config.write_text(CONFIG)
        progress("starting a private Kafka broker")
        with private_broker(Path(tmp) / "kafka", settings.topic_partitions) as bootstrap:
            asyncio.run(warm_broker(bootstrap))
            progress(f"starting {args.instances} escalation instance(s) against {bootstrap}")
            with escalation_services(
                bootstrap, database_url, config, args.instances, args.prepare_seconds
            ) as services:
                asyncio.run(until_relay_led(database_url))
                # The profile is of the first instance (with two, it may not lead the relay).
                with sampled(services[0].process.pid, profile, nonblocking=True):
                    firing = asyncio.run(
                        fire(services, bootstrap, database_url, population.due_ids())
                    )
                logs = [str(service.log_path) for service in services]
    return Run(seeding, counts, figures(firing), logs)


async def _counts(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        return await row_counts(conn)
    finally:
        await conn.close()


def print_table(args: argparse.Namespace, result: Run) -> None:
    f = result.figures
    mem = f["memory_kib"]
    rows: list[tuple[str, str]] = [
        ("open threads / timer rows / timeline rows", _counts_text(result.counts)),
        ("seeding (COPY + VACUUM ANALYZE)", f"{result.seeding['total_s']:.1f} s"),
        ("deadlines falling due at T", f"{args.due:,}"),
        ("service instances / prepare lead", f"{args.instances} / {_lead_text(args)}"),
        ("opened events published (distinct threads)", f"{f['published_distinct']:,}"),
        ("missing / duplicates", f"{f['missing']:,} / {f['duplicates']:,}"),
        (
            "opened / published before T",
            f"{f['opened_before_t']:,} / {f['published_before_t']:,}",
        ),
    ]
    for name, label in (("lag", "detection lag (record time - T)"), ("fired", "  of it: firing")):
        if name in f:
            d = f[name]
            rows.append((f"{label} p50 / p99 / max", _ms_text(d)))
    if "relayed" in f:
        label = "  of it: batch commit + relay"
        rows.append((f"{label} p50 / p99 / max", _ms_text(f["relayed"])))
    if "all_published_s" in f:
        rows.append(("all published after T", f"{f['all_published_s']:.2f} s"))
        rows.append(("deadlines fired per second", f"{f['fire_rate_per_s']:,.0f}"))
    rows += [
        ("service RSS before / after", f"{_mib(mem['before'])} / {_mib(mem['after'])} MiB"),
        ("service peak RSS (VmHWM) after", f"{mem['after']['VmHWM'] / 1024:,.0f} MiB"),
        ("CPU cores busy while firing", _cores_text(f["cpu_cores_busy"])),
    ]
    if "lag" in f:
        early = f["opened_before_t"] or f["published_before_t"]
        met = f["lag"]["p99_ms"] <= TARGET_P99_MS and not f["missing"] and not early
        verdict = "met" if met else "MISSED"
        rows.append((f"target p99 <= {TARGET_P99_MS / 1000:.0f} s", verdict))
    print("| measure | value |\n| --- | ---: |")
    for label, value in rows:
        print(f"| {label} | {value} |")


def _lead_text(args: argparse.Namespace) -> str:
    if args.prepare_seconds is None:
        return "the service's default"
    return f"{args.prepare_seconds:g} s"


def _counts_text(counts: dict[str, int]) -> str:
    return f"{counts['threads']:,} / {counts['timers']:,} / {counts['timeline']:,}"


def _ms_text(d: dict[str, float]) -> str:
    return f"{d['p50_ms']:,.0f} / {d['p99_ms']:,.0f} / {d['max_ms']:,.0f} ms"


def _mib(memory: dict[str, int]) -> str:
    return f"{memory['VmRSS'] / 1024:,.0f}"


def _cores_text(cores: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in cores.items()) + f" (of {os.cpu_count()})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=1_000_000, help="open threads seeded")
    parser.add_argument("--due", type=int, default=10_000, help="deadlines falling due at T")
    parser.add_argument("--profile", action="store_true", help="sample the service with py-spy")
    parser.add_argument(
        "--instances", type=int, default=1, help="escalation processes sharing the work"
    )
    parser.add_argument(
        "--prepare-seconds",
        type=float,
        default=None,
        help="the service's KEEPWORD_TIMERS_PREPARE_SECONDS (default: the service's own; "
        f"at most {ARM_LEAD_S - 2:g}, the deadlines are armed {ARM_LEAD_S:g} s ahead)",
    )
    parser.add_argument(
        "--keep", action="store_true", help=f"keep the database {DATABASE} (default: drop it)"
    )
    args = parser.parse_args()
    if not 0 < args.due <= args.threads:
        parser.error("--due must be between 1 and --threads")
    if args.instances < 1:
        parser.error("--instances must be at least 1")

    settings = EscalationSettings()
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    profile = LOGS / f"escalation-{stamp}.pyspy.raw" if args.profile else None
    LOGS.mkdir(parents=True, exist_ok=True)
    database_url = asyncio.run(fresh_database(settings.database_url))
    try:
        result = run(args, settings, database_url, profile)
    finally:
        if not args.keep:
            progress(f"dropping the database {DATABASE}")
            asyncio.run(drop_database(settings.database_url))

    output: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count()},
        "settings": vars(args) | {"arm_lead_s": ARM_LEAD_S},
        "seeding": result.seeding,
        "rows": result.counts,
        "service_logs": result.service_logs,
    } | result.figures
    if profile is not None:
        output["profile"] = profile_summary(profile, top_self=20) | {"raw": str(profile)}
    path = RESULTS / f"escalation-{stamp}.json"
    path.write_text(json.dumps(output, indent=2))

    print_table(args, result)
    if profile is not None:
        print_profile(output["profile"], "while firing")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()

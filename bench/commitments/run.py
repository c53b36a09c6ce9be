"""Commitments benchmark: the ledger end to end against a raw aiokafka consume-produce loop.

    .venv/bin/python bench/commitments/run.py [--events 20000] [--trickle 250] [--profile]

Needs the local PostgreSQL and the Kafka jars the local broker installed (`make bench`).
Nothing shared is touched, so it runs beside `make up`: commitments works in a database of its
own (`keepword_bench_commitments`, made afresh; the service migrates it) and on a private broker
with the catalog's topics (on the shared one a running commitments would share the partitions,
and its relay, leading the shared outbox, could publish ours). Starts its own commitments
process and waits until it has settled (no lag on its inputs, nothing in its outbox, no other
member in its consumer group). Then, phase 1: `--trickle`
`CommitmentDeclared` events at 50/s (latency under light load), and `--events` written to
keepword.commitment-requests.v1 as fast as possible, timed from the first input until the last
status-changed event for them is on keepword.commitments.v1 (consume, ledger transaction with
inbox, ledger, history, timers and outbox rows, relay, publish). Phase 2, the baseline: a raw
aiokafka consumer (fresh group) reads the same records and publishes for each the
status-changed event a naive service would emit (decoded and encoded the same way, no
database) to a scratch topic. Latency is output record time minus input record time; the
baseline's inputs already wait when it starts, so its latency runs from its first consume.
`--rounds` bulk rounds (new declarations each), then a baseline round over each round's inputs;
the ratio is that of the median rounds (one round's figure scatters by a quarter either way on a
shared 2-core machine).

Prints a table and the CPU each party used, writes JSON to bench/results/. With
--profile, samples the service with py-spy during the bulk phase (`pip install py-spy`, outside
the venv) and prints where its time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from keepword_commitments import domain
from keepword_commitments.handlers import SCHEMA, SOURCE, status_changed
from keepword_commitments.settings import CommitmentsSettings
from keepword_events import (
    CommitmentDeclared,
    CommitmentKind,
    CommitmentSource,
    Customer,
    KafkaRecord,
    Person,
    Role,
    decode,
    encode,
    new_envelope,
    topics,
)
from keepword_events.thread_refs import new_thread_id
from keepword_platform.kafka import PRODUCER_OPTIONS, create_topics, describe_topics
from keepword_platform.messaging import store
from keepword_testkit.broker_warmup import warm_broker
from keepword_testkit.fault_run.stack import create_database
from keepword_testkit.local_kafka import private_broker
from keepword_testkit.measuring import (
    cores_busy,
    cpu_seconds_of,
    listening_pid,
    machine_busy_seconds,
    median_round,
    percentile,
    progress,
    scratch_directory,
    stat_fields,
)
from keepword_testkit.processes import ServiceProcess, members_per_process, running_service
from keepword_testkit.profiling import print_profile, profile_summary, sampled

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
DATABASE = "keepword_bench_commitments"
GROUP = "keepword-commitments"
SERVICE_INPUTS = (topics.COMMITMENT_REQUESTS, topics.MESSAGES)
BASELINE_TOPIC = "bench.commitments-baseline.v1"
BASELINE_PARTITIONS = 6
# Members of the group in the service's process: its default, or KEEPWORD_CONSUMERS_PER_PROCESS.
MEMBERS = members_per_process("commitments")
BATCH = 500  # the baseline's getmany size, the same as the service's subscriber
PROMISES_PER_THREAD = 10
TRICKLE_RATE = 50.0  # declarations/s of the light-load phase: the service keeps up easily
STALL_SECONDS = 30.0  # no new output for this long: the run failed, say so rather than hang
SETTLE_SECONDS = 120.0
# Larger batches than aiokafka's 16 KiB default, as intake's producer uses: the pre-production
# should be limited by the broker, not by request overhead.
MAX_BATCH_BYTES = 512 * 1024

SALES = Person(email="sam@keepword.example", name="Sam Sales", role=Role.SALES)
CUSTOMER = Customer(email="dana@example.com", name="Dana Whitfield")


@dataclass(frozen=True)
class Measured:
    """One phase's figures: events/s over the whole phase and per-event latency (ms)."""

    events: int
    elapsed_s: float
    latencies_ms: list[float] = field(repr=False)

    def summary(self) -> dict[str, float]:
        return {
            "events": self.events,
            "elapsed_s": self.elapsed_s,
            "rate": self.events / self.elapsed_s,
            "p50_ms": statistics.median(self.latencies_ms),
            "p99_ms": percentile(self.latencies_ms, 0.99),
            "min_ms": min(self.latencies_ms),
            "max_ms": max(self.latencies_ms),
        }


@dataclass(frozen=True)
class Written:
    """Where the inputs landed: per partition the first offset and the offset after the last,
    and each commitment's input record timestamp (ms)."""

    first: dict[TopicPartition, int]
    end: dict[TopicPartition, int]
    timestamps: dict[str, int]


# --- inputs ---------------------------------------------------------------------------------


def commitment_ids(count: int, run: str) -> list[str]:
    return [f"cmt-bench-{run}-{i}" for i in range(count)]


def declarations(ids: Sequence[str]) -> list[KafkaRecord]:
    """Response-time promises (they need no confirmation, so each makes one output at once),
    a few per thread, on threads spread over every partition, due an hour from now."""
    now = datetime.now(UTC)
    threads = [new_thread_id() for _ in range(max(1, len(ids) // PROMISES_PER_THREAD))]
    records = []
    for i, commitment_id in enumerate(ids):
        thread = threads[i % len(threads)]
        event = CommitmentDeclared(
            thread_id=thread,
            correlation_id=thread,
            commitment_id=commitment_id,
            made_by=SALES,
            kind=CommitmentKind.RESPONSE_TIME,
            text="We will answer your question about the ranking report within the hour.",
            due_at=now + timedelta(hours=1),
            customer=CUSTOMER,
        )
        records.append(encode(new_envelope(event, source="/keepword/bench")))
    return records


def producer(bootstrap: str) -> AIOKafkaProducer:
    """acks=all and idempotent, as every Keepword producer."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, max_batch_size=MAX_BATCH_BYTES, **PRODUCER_OPTIONS
    )


async def produce(sender: AIOKafkaProducer, records: Sequence[KafkaRecord]) -> list[Any]:
    """Send every record without waiting for each; returns their metadata once all are acked."""
    pending = [
        await sender.send(r.topic, r.value, key=r.key, headers=list(r.headers)) for r in records
    ]
    return list(await asyncio.gather(*pending))


async def produce_paced(
    sender: AIOKafkaProducer, records: Sequence[KafkaRecord], rate: float
) -> list[Any]:
    """One record every 1/`rate` seconds, as a live stream arrives; returns their metadata."""
    pending = []
    started = time.perf_counter()
    for i, r in enumerate(records):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        pending.append(await sender.send(r.topic, r.value, key=r.key, headers=list(r.headers)))
    return list(await asyncio.gather(*pending))


# --- the consumer group of the service --------------------------------------------------------


async def partitions(bootstrap: str, names: Sequence[str]) -> list[TopicPartition]:
    return [
        TopicPartition(state.name, p)
        for state in await describe_topics(bootstrap, names)
        for p in range(state.partitions)
    ]


@dataclass
class GroupState:
    """How far the service's consumer group and its outbox are behind."""

    lag: int
    unpublished: int
    members: int

    @property
    def settled(self) -> bool:
        # One process's members: a second instance (another engineer's test) would take some
        # partitions, and its relay might be the one publishing our outbox rows.
        return self.lag == 0 and self.unpublished == 0 and self.members == MEMBERS


async def group_state(
    admin: AIOKafkaAdminClient,
    probe: AIOKafkaConsumer,
    pool: asyncpg.Pool,
    inputs: list[TopicPartition],
) -> GroupState:
    ends = await probe.end_offsets(inputs)
    starts = await probe.beginning_offsets(inputs)
    committed = await admin.list_consumer_group_offsets(GROUP, partitions=inputs)
    lag = 0
    for tp in inputs:
        position = committed[tp].offset if tp in committed else -1
        # Never committed: the group starts at the beginning (auto_offset_reset=earliest).
        lag += ends[tp] - (position if position >= 0 else starts[tp])
    groups = (await admin.describe_consumer_groups([GROUP]))[0].to_object()["groups"]
    members = len(groups[0]["members"]) if groups else 0
    return GroupState(lag, await store.unpublished_count(pool, SCHEMA), members)


async def settle(bootstrap: str, database_url: str, patience_s: float) -> GroupState:
    """Wait until the service has consumed and published everything that was there before."""
    inputs = await partitions(bootstrap, SERVICE_INPUTS)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="keepword-bench")
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    await admin.start()
    await probe.start()
    try:
        deadline = time.monotonic() + patience_s
        next_report = 0.0
        while True:
            state = await group_state(admin, probe, pool, inputs)
            if state.settled:
                return state
            if time.monotonic() > deadline:
                raise SystemExit(f"the service did not settle in {patience_s:.0f}s: {state}")
            if time.monotonic() > next_report:
                progress(f"waiting for the service to settle: {state}")
                next_report = time.monotonic() + 5
            await asyncio.sleep(0.5)
    finally:
        await probe.stop()
        await admin.close()
        await pool.close()


# --- phase 1: the service end to end ---------------------------------------------------------


@dataclass
class Outputs:
    """Status-changed records of this run's commitments as they appear on the output topic."""

    wanted: set[str]
    timestamps: dict[str, int] = field(default_factory=dict)
    completed_at: float = 0.0  # perf_counter when the last wanted output was seen
    last_progress: float = field(default_factory=time.perf_counter)


def commitment_of(value: bytes | None) -> str | None:
    # Every record on keepword.commitments.v1 is a status-changed event; reading one field of
    # its JSON is all the matching needs (and keeps this reader well ahead of the service).
    try:
        found = json.loads(value or b"{}").get("commitment_id")
    except ValueError:
        return None
    return found if isinstance(found, str) else None


async def watch(consumer: AIOKafkaConsumer, outputs: Outputs) -> None:
    """Collect the first output of each wanted commitment until all have appeared."""
    while len(outputs.timestamps) < len(outputs.wanted):
        batches = await consumer.getmany(timeout_ms=200, max_records=5000)
        for records in batches.values():
            for record in records:
                commitment = commitment_of(record.value)
                if commitment in outputs.wanted and commitment not in outputs.timestamps:
                    outputs.timestamps[commitment] = record.timestamp
                    outputs.last_progress = time.perf_counter()
    outputs.completed_at = time.perf_counter()


async def output_reader(bootstrap: str) -> AIOKafkaConsumer:
    """A group-less reader of the output topic positioned at its current end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
    )
    await consumer.start()
    tps = await partitions(bootstrap, [topics.COMMITMENTS])
    consumer.assign(tps)
    for tp, end in (await consumer.end_offsets(tps)).items():
        consumer.seek(tp, end)
    return consumer


async def until_complete(
    task: asyncio.Task[None], outputs: Outputs, stall_s: float, advice: str
) -> None:
    """Wait for `task`; fail with `advice` if no new output arrives for `stall_s` seconds."""
    while not task.done():
        await asyncio.wait({task}, timeout=1.0)
        if time.perf_counter() - outputs.last_progress > stall_s:
            task.cancel()
            raise SystemExit(
                f"only {len(outputs.timestamps)} of {len(outputs.wanted)} outputs after "
                f"{stall_s:.0f}s without progress: {advice}"
            )
    task.result()


def written(ids: Sequence[str], metadata: Sequence[Any]) -> Written:
    first: dict[TopicPartition, int] = {}
    end: dict[TopicPartition, int] = {}
    for meta in metadata:
        tp = TopicPartition(meta.topic, meta.partition)
        first[tp] = min(first.get(tp, meta.offset), meta.offset)
        end[tp] = max(end.get(tp, 0), meta.offset + 1)
    return Written(first, end, {i: m.timestamp for i, m in zip(ids, metadata, strict=True)})


async def keepword_phase(
    bootstrap: str,
    ids: list[str],
    rate: float | None = None,
    stall_s: float = STALL_SECONDS,
    advice: str = f"see the service log and {topics.COMMITMENT_REQUESTS}.dlq",
) -> tuple[Measured, Written, float]:
    """Produce the declarations (all at once, or `rate` a second) and time until every status
    change is out."""
    records = declarations(ids)
    outputs = Outputs(wanted=set(ids))
    reader = await output_reader(bootstrap)
    sender = producer(bootstrap)
    await sender.start()
    try:
        task = asyncio.create_task(watch(reader, outputs))
        started = time.perf_counter()
        if rate is None:
            metadata = await produce(sender, records)
        else:
            metadata = await produce_paced(sender, records, rate)
        produced_s = time.perf_counter() - started
        progress(f"inputs produced: {len(records):,} in {produced_s:.1f}s; waiting for outputs")
        await until_complete(task, outputs, stall_s, advice)
    finally:
        await sender.stop()
        await reader.stop()
    inputs = written(ids, metadata)
    latencies = [float(outputs.timestamps[i] - inputs.timestamps[i]) for i in ids]
    return Measured(len(ids), outputs.completed_at - started, latencies), inputs, produced_s


# --- phase 2: the baseline --------------------------------------------------------------------


def naive_output(record: Any) -> KafkaRecord:
    """What a service without a database would publish for a declaration: the same
    status-changed event, built by the same rules and encoded by the same codec."""
    envelope = decode(record.value, record.headers)
    data = envelope.data
    if not isinstance(data, CommitmentDeclared):
        raise TypeError(f"unexpected {envelope.type} in the benchmark's inputs")
    change = domain.declare(
        commitment_id=data.commitment_id,
        thread_id=data.thread_id,
        kind=data.kind,
        text=data.text,
        made_by=data.made_by,
        customer=data.customer,
        due_at=data.due_at,
        source=CommitmentSource(kind="declared"),
        at=envelope.time,
    )
    event = status_changed(change, causation_id=envelope.id)
    return encode(new_envelope(event, source=SOURCE))


async def baseline_reader(bootstrap: str, inputs: Written) -> AIOKafkaConsumer:
    """A fresh consumer group, positioned where the inputs were written."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"bench-commitments-baseline-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
    )
    await consumer.start()
    consumer.assign(list(inputs.first))
    for tp, offset in inputs.first.items():
        consumer.seek(tp, offset)
    return consumer


async def relay_batch(
    sender: AIOKafkaProducer, batch: dict[TopicPartition, list[Any]], inputs: Written
) -> list[int]:
    """Publish one output per input of `batch`; returns the outputs' timestamps once acked."""
    sent = []
    for tp, records in batch.items():
        for record in records:
            if record.offset >= inputs.end[tp]:
                continue  # written after our inputs (someone else's): not part of the run
            out = naive_output(record)
            sent.append(
                await sender.send(BASELINE_TOPIC, out.value, key=out.key, headers=list(out.headers))
            )
    return [meta.timestamp for meta in await asyncio.gather(*sent)]


async def baseline_phase(bootstrap: str, inputs: Written) -> Measured:
    """Consume the same inputs, produce one output each, commit after every batch."""
    await create_topics(bootstrap, BASELINE_PARTITIONS, [BASELINE_TOPIC])
    reader = await baseline_reader(bootstrap, inputs)
    sender = producer(bootstrap)
    await sender.start()
    outputs: list[int] = []
    started = started_ms = 0.0
    try:
        while len(outputs) < len(inputs.timestamps):
            batch = await reader.getmany(timeout_ms=1000, max_records=BATCH)
            if batch and not outputs:
                started, started_ms = time.perf_counter(), time.time() * 1000
            outputs += await relay_batch(sender, batch, inputs)
            await reader.commit()
        elapsed = time.perf_counter() - started
    finally:
        await sender.stop()
        await reader.stop()
    # The inputs already wait when the baseline starts (their own timestamps would count phase
    # 1 too), so its latency runs from its first consume: a backlog of N handled from then on,
    # as phase 1's N arrive within a second and wait for the service.
    return Measured(len(outputs), elapsed, [out_ts - started_ms for out_ts in outputs])


# --- the profile ------------------------------------------------------------------------------


# --- CPU used by each party, to tell a busy service from a waiting one -------------------------


@dataclass(frozen=True)
class Parties:
    """The processes whose CPU the benchmark reports. The broker and the database are found by
    the ports the service uses: other engineers' tests may run private brokers meanwhile."""

    service: int
    broker: int | None
    postmaster: int | None

    @classmethod
    def of(cls, service_pid: int, settings: CommitmentsSettings) -> Parties:
        kafka_port = int(settings.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1])
        database_port = urlsplit(settings.database_url).port or 5432
        return cls(service_pid, listening_pid(kafka_port), listening_pid(database_port))

    def party(self, pid: int, parent: int) -> str | None:
        if pid == self.service:
            return "service"
        if pid == os.getpid():
            return "bench"
        if pid == self.broker:
            return "kafka"
        if self.postmaster in (pid, parent):
            return "postgres"
        return None


def cpu_snapshot(parties: Parties) -> dict[str, float]:
    """CPU seconds so far of the service, of this benchmark, of PostgreSQL (every backend, other
    clients' too), of the Kafka broker and of the whole machine."""
    totals = dict.fromkeys(("service", "bench", "postgres", "kafka"), 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # the process ended meanwhile
            pid = int(entry.name)
            stat = (entry / "stat").read_text()
            party = parties.party(pid, parent=int(stat_fields(stat)[1]))
            if party:
                # The postmaster reaps its backends: counting its ended children keeps the
                # CPU of connections that closed during the phase.
                totals[party] += cpu_seconds_of(stat, with_ended_children=pid == parties.postmaster)
    return totals | {"machine": machine_busy_seconds()}


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRun:
    """What phase 1 measured: each bulk round, what it wrote, and the CPU it took."""

    bulk: list[Measured]
    inputs: list[Written]
    trickle: Measured | None
    context: list[dict[str, Any]]


def run_service_phase(
    settings: CommitmentsSettings,
    marker_id: str,
    bulk_rounds: list[list[str]],
    trickle_ids: list[str],
    profile: Path | None,
) -> ServiceRun:
    """Phase 1 with its own commitments process, stopped at the end whatever happens."""
    progress("starting commitments (one process)")
    # INFO, as in production: whatever the service logs per event is part of the cost.
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "KEEPWORD_DATABASE_URL": settings.database_url,
        "KEEPWORD_LOG_LEVEL": "INFO",
    }
    with running_service("commitments", log_dir=RESULTS / "logs", env=env, timeout=60) as service:
        state = asyncio.run(settle(settings.kafka_bootstrap, settings.database_url, SETTLE_SECONDS))
        progress(f"settled: {state}; a first declaration through (its relay publishes)")
        asyncio.run(keepword_phase(settings.kafka_bootstrap, [marker_id], stall_s=SETTLE_SECONDS))
        trickle = None
        if trickle_ids:
            progress(f"phase 1a: {len(trickle_ids)} declarations at {TRICKLE_RATE:.0f}/s")
            trickle = asyncio.run(
                keepword_phase(settings.kafka_bootstrap, trickle_ids, rate=TRICKLE_RATE)
            )[0]
        run = ServiceRun([], [], trickle, [])
        for n, bulk_ids in enumerate(bulk_rounds):
            progress(f"phase 1b, round {n + 1}: {len(bulk_ids):,} declarations at once")
            bulk, inputs, context = measure_bulk(
                service, settings, bulk_ids, profile if n == 0 else None
            )
            run.bulk.append(bulk)
            run.inputs.append(inputs)
            run.context.append(context)
        return run


def measure_bulk(
    service: ServiceProcess, settings: CommitmentsSettings, ids: list[str], profile: Path | None
) -> tuple[Measured, Written, dict[str, Any]]:
    parties = Parties.of(service.process.pid, settings)
    with sampled(service.process.pid, profile):
        cpu_before = cpu_snapshot(parties)
        measured, inputs, produced_s = asyncio.run(keepword_phase(settings.kafka_bootstrap, ids))
        cpu_after = cpu_snapshot(parties)
    cpu = cores_busy(cpu_before, cpu_after, measured.elapsed_s)
    return measured, inputs, {"produce_s": produced_s, "cpu_cores_busy": cpu}


def print_table(rows: Sequence[tuple[str, dict[str, Any]]], ratio: float) -> None:
    print("| measure | events/s | p50 (ms) | p99 (ms) | elapsed (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, row in rows:
        print(
            f"| {label} | {row['rate']:,.0f} | {row['p50_ms']:,.0f} | {row['p99_ms']:,.0f} "
            f"| {row['elapsed_s']:.1f} |"
        )
    print(f"\ncommitments / baseline (events/s, all at once, median rounds) = {ratio:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="declarations, all at once")
    parser.add_argument(
        "--trickle",
        type=int,
        default=250,
        help=f"declarations at {TRICKLE_RATE:.0f}/s first, for latency under light load (0: none)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="bulk rounds of the service, then as many of the baseline; each side's median counts",
    )
    parser.add_argument("--profile", action="store_true", help="sample the service with py-spy")
    args = parser.parse_args()

    shared = CommitmentsSettings()
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    run = uuid.uuid4().hex[:8]
    bulk_rounds = [commitment_ids(args.events, f"{run}-r{n}") for n in range(args.rounds)]
    trickle_ids = commitment_ids(args.trickle, f"{run}-t")
    marker_id = f"cmt-bench-{run}-marker"
    profile = RESULTS / "logs" / f"commitments-{stamp}.pyspy.raw" if args.profile else None
    database_url = asyncio.run(create_database(shared.database_url, DATABASE))
    with scratch_directory("keepword-bench-commitments-") as tmp:
        progress("starting a private Kafka broker")
        with private_broker(Path(tmp) / "kafka", shared.topic_partitions) as bootstrap:
            asyncio.run(warm_broker(bootstrap))
            settings = shared.model_copy(
                update={"kafka_bootstrap": bootstrap, "database_url": database_url}
            )
            service = run_service_phase(settings, marker_id, bulk_rounds, trickle_ids, profile)
            baselines = []
            for n, inputs in enumerate(service.inputs):
                progress(f"phase 2, round {n + 1}: raw consume → produce, fresh group, same inputs")
                baselines.append(asyncio.run(baseline_phase(bootstrap, inputs)).summary())

    rounds = [
        measured.summary() | cpu
        for measured, cpu in zip(service.bulk, service.context, strict=True)
    ]
    bulk, baseline = median_round(rounds), median_round(baselines)
    ratio = bulk["rate"] / baseline["rate"]
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count()},
        "settings": vars(args) | {"trickle_rate": TRICKLE_RATE},
        "keepword": bulk,
        "keepword_trickle": service.trickle.summary() if service.trickle else None,
        "baseline": baseline,
        "ratio": ratio,
    }
    if profile is not None:
        result["profile"] = profile_summary(profile, top_self=15) | {"raw": str(profile)}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"commitments-{stamp}.json"
    path.write_text(json.dumps(result, indent=2))

    label = f"commitments, {args.events:,} at once (consume → ledger → relay → publish), median"
    rows = [(label, bulk)]
    rows += [(f"… round {n + 1}", r) for n, r in enumerate(rounds)]
    if result["keepword_trickle"]:
        label = f"commitments, {args.trickle} at {TRICKLE_RATE:.0f}/s (light load)"
        rows.append((label, result["keepword_trickle"]))
    rows.append(("raw aiokafka consume → produce, same inputs (decode + encode), median", baseline))
    rows += [(f"… round {n + 1}", r) for n, r in enumerate(baselines)]
    print_table(rows, ratio)
    busy = ", ".join(f"{k} {v:.2f}" for k, v in bulk["cpu_cores_busy"].items())
    print(f"CPU cores busy during the median bulk round: {busy} (of {os.cpu_count()})")
    if profile is not None:
        print_profile(result["profile"], "during the bulk phase")
    print(f"written to {path}")


if __name__ == "__main__":
    main()

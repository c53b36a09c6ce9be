"""Intake benchmark: single POSTs and batches against a raw aiokafka producer, in one run.

    .venv/bin/python bench/intake/run.py [--seconds 10] [--connections 32] [--workers N]

Needs the local PostgreSQL and the Kafka jars the local broker installed (`make bench`).
Nothing shared is touched, so it runs beside `make up`: intake works in a database of its own
(`keepword_bench_intake`, made afresh) and on a private broker with the catalog's topics (a
running intake on the shared broker would share its partitions and its disk). Starts its own
intake process (`--workers` HTTP workers, one per core unless told), drives single POSTs with
wrk and batches with httpx (`--rounds` rounds of about a second each, the median counting),
then sends the same records with a raw aiokafka producer with the same settings (acks=all,
idempotent) to the same private broker as the baseline (its bulk send in as many rounds).
Prints a table and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from keepword_events import MessageReceived, encode, new_envelope
from keepword_intake.settings import IntakeSettings
from keepword_platform import auth
from keepword_platform.auth.store import create_api_key
from keepword_platform.migrations import apply_migrations
from keepword_platform.producer import MAX_BATCH_BYTES
from keepword_testkit.fault_run.stack import create_database
from keepword_testkit.local_kafka import private_broker
from keepword_testkit.measuring import median_round, percentile, progress, scratch_directory
from keepword_testkit.processes import running_service

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
BATCH_SIZE = 1000
DATABASE = "keepword_bench_intake"


def message(i: int) -> dict[str, Any]:
    return {
        "direction": "inbound",
        "channel": "web",
        "customer": {"email": "dana@example.com", "name": "Dana Whitfield"},
        "author": {"email": "dana@example.com", "name": "Dana Whitfield", "role": "customer"},
        "subject": "Where is my ranking report?",
        "body": f"I paid a deposit two weeks ago and have not heard back. Please call me. #{i}",
        "deposit": {"amount": "1500.00", "currency": "USD"},
    }


async def api_key(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        await apply_migrations(conn, auth.SCHEMA, auth.MIGRATIONS)
        return (await create_api_key(conn, f"bench-{uuid.uuid4().hex[:8]}")).text
    finally:
        await conn.close()


_WRK_LATENCY = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_single_posts(url: str, key: str, seconds: int, connections: int) -> dict[str, float]:
    """Single POSTs with wrk: requests/s and latency percentiles (ms)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (make bench does it)")
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(HERE / "post_message.lua"),
        f"{url}/v1/messages",
    ]
    env = os.environ | {"KEEPWORD_BENCH_API_KEY": key}
    output = subprocess.run(  # noqa: S603 - wrk, found on PATH, with our own arguments
        command, env=env, capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        raise SystemExit(f"wrk saw {non2xx[1]} failed requests:\n{output}")
    latency = {p: float(v) * _UNIT[u] for p, v, u in _WRK_LATENCY.findall(output)}
    return {"rate": rate, "p50_ms": latency["50"], "p99_ms": latency["99"]}


async def batches(
    url: str, key: str, count: int, concurrency: int, first: int = 0
) -> dict[str, float]:
    """`count` batches of 1,000 messages (numbered from batch `first`), `concurrency` at a time:
    messages/s and batch latency."""
    bodies = [
        json.dumps({"messages": [message(b * BATCH_SIZE + i) for i in range(BATCH_SIZE)]})
        for b in range(first, first + count)
    ]
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            answer = await client.post(f"{url}/v1/messages:batch", content=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            result = answer.json()
            if answer.status_code != 200 or result["accepted"] != BATCH_SIZE:
                raise SystemExit(f"batch failed: {answer.status_code} {answer.text[:500]}")

    async with httpx.AsyncClient(timeout=120) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "rate": count * BATCH_SIZE / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
    }


def records(count: int) -> list[Any]:
    """The records intake would write for `count` messages, encoded the same way."""
    now = datetime.now(UTC)
    from keepword_events import Customer, Money, Person, Role
    from keepword_events.thread_refs import new_thread_id

    customer = Customer(email="dana@example.com", name="Dana Whitfield")
    author = Person(email="dana@example.com", name="Dana Whitfield", role=Role.CUSTOMER)
    made = []
    for i in range(count):
        thread = new_thread_id()
        event = MessageReceived(
            thread_id=thread,
            correlation_id=thread,
            message_id=f"msg-{uuid.uuid4().hex}",
            channel="web",
            customer=customer,
            author=author,
            subject="Where is my ranking report?",
            body=message(i)["body"],
            sent_at=now,
            received_at=now,
            deposit=Money(amount="1500.00", currency="USD"),
        )
        made.append(encode(new_envelope(event, source="/keepword/bench")))
    return made


async def raw_producer(
    bootstrap: str, count: int, seconds: int, concurrency: int, rounds: int
) -> dict[str, Any]:
    """The baseline: aiokafka with acks=all and idempotence, bulk (`rounds` times, the median
    counting) and one-at-a-time."""
    prepared = records(count)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_batch_size=MAX_BATCH_BYTES,  # the same settings as intake's producer
    )
    await producer.start()
    try:
        bulk_rates = []
        for _ in range(rounds):
            started = time.perf_counter()
            pending = [
                await producer.send(r.topic, r.value, key=r.key, headers=list(r.headers))
                for r in prepared
            ]
            await asyncio.gather(*pending)
            bulk_rates.append(count / (time.perf_counter() - started))

        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def one_at_a_time(offset: int) -> None:
            i = offset
            while time.perf_counter() < deadline:
                r = prepared[i % count]
                t0 = time.perf_counter()
                await producer.send_and_wait(r.topic, r.value, key=r.key, headers=list(r.headers))
                latencies.append((time.perf_counter() - t0) * 1000)
                i += concurrency

        t0 = time.perf_counter()
        await asyncio.gather(*(one_at_a_time(c) for c in range(concurrency)))
        single_rate = len(latencies) / (time.perf_counter() - t0)
    finally:
        await producer.stop()
    return {
        "bulk": {"rate": statistics.median(bulk_rates), "rounds": bulk_rates},
        "single": {
            "rate": single_rate,
            "p50_ms": statistics.median(latencies),
            "p99_ms": percentile(latencies, 0.99),
        },
    }


def warm_up(url: str, key: str, args: argparse.Namespace) -> None:
    """Single POSTs in rounds of 5 s: `args.warmup` seconds, then on until two rounds agree
    within 5% (at most as long again).

    A broker started a moment ago spends much of a core compiling itself (the JVM's JIT) for
    its first 20 to 40 s, and the baseline runs last, on a warm broker: measured cold, intake
    paid for the broker's warm-up (1,900 to 2,400/s, against 3,400 to 4,300/s warm).
    """
    rates: list[float] = []
    started = time.monotonic()
    while time.monotonic() - started < 2 * args.warmup:
        rates.append(wrk_single_posts(url, key, 5, args.connections)["rate"])
        progress(f"warm-up: {rates[-1]:,.0f} single POSTs/s")
        settled = len(rates) > 1 and abs(rates[-1] - rates[-2]) <= 0.05 * rates[-2]
        if settled and time.monotonic() - started >= args.warmup:
            return


def measure(
    args: argparse.Namespace, bootstrap: str, database_url: str, key: str
) -> tuple[dict[str, float], dict[str, Any], dict[str, Any]]:
    """Single POSTs and batches through intake, then the raw producer: all on `bootstrap`."""
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": bootstrap,
        "KEEPWORD_DATABASE_URL": database_url,
        # INFO, as in production: one log line per accepted message is part of the cost.
        "KEEPWORD_LOG_LEVEL": "INFO",
        "KEEPWORD_INTAKE_WORKERS": str(args.workers),
    }
    progress(f"starting intake ({args.workers} worker(s)) against {bootstrap}")
    with running_service("intake", log_dir=RESULTS / "logs", env=env, timeout=60) as intake:
        warm_up(intake.url, key, args)
        progress(f"single POSTs: {args.seconds}s, {args.connections} connections (wrk)")
        single = wrk_single_posts(intake.url, key, args.seconds, args.connections)
        rounds = []
        for n in range(args.rounds):
            progress(
                f"batches, round {n + 1}: {args.batches} x {BATCH_SIZE} messages, "
                f"{args.in_flight} at a time"
            )
            rounds.append(
                asyncio.run(
                    batches(
                        intake.url,
                        key,
                        args.batches,
                        concurrency=args.in_flight,
                        first=n * args.batches,
                    )
                )
            )
        batch = median_round(rounds)
    progress("baseline: raw aiokafka producer, same records, acks=all, idempotent")
    raw = asyncio.run(
        raw_producer(
            bootstrap, args.batches * BATCH_SIZE, args.seconds, args.connections, args.rounds
        )
    )
    return single, batch, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each timed phase")
    parser.add_argument(
        "--warmup",
        type=int,
        default=30,
        help="seconds of single POSTs before measuring (longer while the rate still moves)",
    )
    parser.add_argument("--connections", type=int, default=32, help="concurrent single POSTs")
    parser.add_argument("--batches", type=int, default=30, help="batches of 1,000 messages")
    parser.add_argument("--in-flight", type=int, default=4, help="batches sent concurrently")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of the batches and of the raw bulk send (a second each); medians count",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="intake's HTTP worker processes (KEEPWORD_INTAKE_WORKERS); default: one per core",
    )
    args = parser.parse_args()

    settings = IntakeSettings()
    database_url = asyncio.run(create_database(settings.database_url, DATABASE))
    key = asyncio.run(api_key(database_url))
    with scratch_directory("keepword-bench-intake-") as tmp:
        progress("starting a private Kafka broker")
        with private_broker(Path(tmp) / "kafka", settings.topic_partitions) as bootstrap:
            single, batch, raw = measure(args, bootstrap, database_url, key)

    ratios = {
        "batch_vs_raw_bulk": batch["rate"] / raw["bulk"]["rate"],
        "single_post_vs_raw_single": single["rate"] / raw["single"]["rate"],
    }
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count()},
        "single_post": single,
        "batch": batch,
        "settings": vars(args),
        "raw_producer": raw,
        "ratios": ratios,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"intake-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2))

    print("| measure | rate (msg/s) | p50 (ms) | p99 (ms) |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| intake x{args.workers}, single POST ({args.connections} connections) "
        f"| {single['rate']:,.0f} "
        f"| {single['p50_ms']:.1f} | {single['p99_ms']:.1f} |"
    )
    print(
        f"| intake x{args.workers}, batch of 1,000 ({args.in_flight} in flight) "
        f"| {batch['rate']:,.0f} "
        f"| {batch['p50_ms']:.0f} | {batch['p99_ms']:.0f} |"
    )
    print(f"| raw aiokafka, bulk send | {raw['bulk']['rate']:,.0f} | | |")
    batch_rounds = ", ".join(f"{r:,.0f}" for r in batch["rounds"])
    bulk_rounds = ", ".join(f"{r:,.0f}" for r in raw["bulk"]["rounds"])
    print(f"\nmedian rounds: batches of {batch_rounds}; raw bulk of {bulk_rounds}")
    print(
        f"| raw aiokafka, send_and_wait x{args.connections} | {raw['single']['rate']:,.0f} "
        f"| {raw['single']['p50_ms']:.1f} | {raw['single']['p99_ms']:.1f} |"
    )
    print(
        f"\nbatch / raw bulk = {ratios['batch_vs_raw_bulk']:.0%}   "
        f"single POST / raw send_and_wait = {ratios['single_post_vs_raw_single']:.0%}"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()

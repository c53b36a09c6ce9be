"""Notifier benchmark: emails per second through the notifier to a local SMTP server, against a
raw aiosmtplib send loop to the same server in the same run.

    .venv/bin/python bench/notifier/run.py [--emails 2000] [--notifiers 1] [--profile]

Needs the local PostgreSQL and the Kafka jars the local broker installed (`make up` or `make
bench`). Nothing shared is touched: the notifier works in a database of its own
(`keepword_bench_notifier`, its `notifier` schema dropped at the start) and on a private broker
(a new consumer group on the shared broker would first read its whole history, and a running
`make up` notifier would share the work).

1. The SMTP server: aiosmtpd in a process of its own (bench/notifier/sink.py), accepting every
   email and counting Message-IDs, so duplicates and losses show. It offers PIPELINING, as
   production servers do; the notifier uses it, aiosmtplib (the raw loops) never does.
2. Baseline, raw aiosmtplib: the same email (an escalation rendered by the notifier's
   templates, as bytes) sent `--emails` times, (a) over one connection, one after the other,
   and (b) a connection per email, `--concurrency` at a time (the notifier's way); `--rounds`
   rounds of both before the notifier and one after it, the fastest round of each counting
   (the loops scatter from round to round on a shared machine: the best is the demanding
   baseline).
3. The notifier as its own process (production settings: INFO logs, digests on) — or
   `--notifiers` processes sharing the work (the topics' partitions, and the send log through
   its leases), their consumer group formed —, healthy, then
   `--emails` EscalationOpened events, encoded beforehand, published at once as a relay
   publishes them (one per manager: digests release each on its own): consume → send log →
   sender → SMTP → NotificationSent through the outbox. Rate = emails / (last email accepted
   - first event published); also the sending rate alone (first to last accepted) and each
   email's latency (event time to accepted). `--rounds` rounds of `--emails` new escalations
   each, one after the other; the median round counts.

Prints progress on stderr, a markdown table on stdout, writes JSON to bench/results/. With
--profile, samples the (first) notifier with py-spy while it works (`pip install py-spy`,
outside the venv).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from keepword_events import (
    Customer,
    EscalationOpened,
    EscalationRule,
    Option,
    OptionKind,
    Person,
    Role,
    encode,
    new_envelope,
)
from keepword_notifier.compose import compose, to_wire
from keepword_notifier.recipients import notices_for
from keepword_notifier.rendering import render
from keepword_notifier.sendlog import Send
from keepword_notifier.settings import NotifierSettings
from keepword_platform.company import CompanyConfig, load_company_config
from keepword_platform.producer import FailFastProducer
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.broker_warmup import warm_broker
from keepword_testkit.fault_run.stack import create_database
from keepword_testkit.local_kafka import private_broker
from keepword_testkit.measuring import (
    cpu_seconds,
    median_round,
    percentile,
    progress,
    scratch_directory,
)
from keepword_testkit.processes import (
    ServiceProcess,
    free_port,
    members_per_process,
    running_service,
)
from keepword_testkit.profiling import print_profile, profile_summary, sampled

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
LOGS = RESULTS / "logs"
DATABASE = "keepword_bench_notifier"
GROUP = "keepword-notifier"  # the notifiers' consumer group
# Members of the group in the service's process: its default, or KEEPWORD_CONSUMERS_PER_PROCESS.
MEMBERS = members_per_process("notifier")
# Both loops name themselves once, as the notifier does (aiosmtplib would look it up for every
# connection otherwise).
LOCAL_HOSTNAME = socket.getfqdn()
STALL_SECONDS = 60.0  # no email for this long: the run failed, say so rather than hang

CONFIG = """\
# Written by bench/notifier/run.py.
[company]
name = "Keepword Bench Co."
support_address = "support@bench.example"
timezone = "UTC"

[sla]
manager_decision = "4h"
"""

# --- what is sent -----------------------------------------------------------------------------


def escalation(i: int) -> EscalationOpened:
    """Escalation `i`, for a manager of its own (so digests release it on its own)."""
    thread = f"thr-{i:016x}"
    return EscalationOpened(
        thread_id=thread,
        correlation_id=thread,
        escalation_id=f"esc-{i}",
        rule=EscalationRule.STALLED,
        level=1,
        manager=Person(email=f"manager{i}@bench.example", name="A Manager", role=Role.MANAGEMENT),
        customer=Customer(email=f"customer{i}@example.com", name=f"Customer {i}"),
        reason="The customer has waited 26 hours for a first reply.",
        options=(
            Option(kind=OptionKind.PHONE_CALL, summary="Call the customer"),
            Option(kind=OptionKind.REFUND, summary="Refund the deposit"),
            Option(kind=OptionKind.HANDLE_IT, summary="Handle it (no decision)"),
        ),
        decide_by=datetime.now(UTC) + timedelta(hours=4),
        unanswered_messages=2,
    )


def raw_email(company: CompanyConfig) -> bytes:
    """The bytes the notifier would send for an escalation: the raw loop sends these."""
    event = escalation(0)
    [notice] = notices_for(
        new_envelope(event, source="/bench"),
        company,
        now=datetime.now(UTC),
        links=lambda e, o, m: f"http://127.0.0.1:8081/decisions/{e}.{o.value}",
    )
    email = render(notice, company)
    send = Send(
        idempotency_key="bench",
        notification_id="ntf-bench",
        source_event_id="evt-bench",
        thread_id=event.thread_id,
        template=notice.template,
        recipient=notice.recipient,
        recipient_role=notice.recipient_role.value,
        message_id="<raw.MESSAGE@bench.example>",
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
    )
    message = compose(
        send,
        sender_name="Keepword Bench Co.",
        sender_address="support@bench.example",
        at=datetime.now(UTC),
    )
    return to_wire(message)


# --- the SMTP server --------------------------------------------------------------------------


@dataclass
class Sink:
    port: int
    process: subprocess.Popen[bytes]
    counts_path: Path

    def counts(self) -> dict[str, int]:
        """Stop the server and read what it counted."""
        self.process.terminate()
        self.process.wait(timeout=30)
        counted: dict[str, int] = json.loads(self.counts_path.read_text())
        return counted


@contextlib.contextmanager
def sink(folder: Path) -> Iterator[Sink]:
    port = free_port()
    counts = folder / "sink-counts.json"
    process = subprocess.Popen(  # noqa: S603 - our interpreter and our script
        [sys.executable, str(HERE / "sink.py"), str(port), str(counts)],
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"ready":
            raise SystemExit("the SMTP sink did not start")
        yield Sink(port, process, counts)
    finally:
        if process.poll() is None:
            process.kill()


# --- the raw baseline -------------------------------------------------------------------------


async def raw_one_connection(port: int, template: bytes, count: int, tag: str) -> dict[str, float]:
    """`count` emails over one connection, one after the other."""
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1", port=port, start_tls=False, local_hostname=LOCAL_HOSTNAME
    )
    await client.connect()
    started = time.perf_counter()
    for i in range(count):
        data = template.replace(b"<raw.MESSAGE@", f"<raw.{tag}seq{i}@".encode())
        await client.sendmail("support@bench.example", [f"manager{i}@bench.example"], data)
    elapsed = time.perf_counter() - started
    await client.quit()
    return {"emails": count, "seconds": elapsed, "rate": count / elapsed}


async def raw_parallel(
    port: int, template: bytes, count: int, concurrency: int, tag: str
) -> dict[str, float]:
    """`count` emails, a connection each, `concurrency` at a time (what the notifier does)."""
    queue = list(range(count))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            data = template.replace(b"<raw.MESSAGE@", f"<raw.{tag}par{i}@".encode())
            await aiosmtplib.send(
                data,
                sender="support@bench.example",
                recipients=[f"manager{i}@bench.example"],
                hostname="127.0.0.1",
                port=port,
                start_tls=False,
                local_hostname=LOCAL_HOSTNAME,
            )

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"emails": count, "seconds": elapsed, "rate": count / elapsed}


def baseline_round(
    port: int, template: bytes, args: argparse.Namespace, n: int
) -> dict[str, dict[str, float]]:
    """Both raw loops, once each."""
    progress(f"raw aiosmtplib, round {n + 1}: one connection, {args.emails:,} emails")
    sequential = asyncio.run(raw_one_connection(port, template, args.emails, f"r{n}"))
    progress(f"raw aiosmtplib, round {n + 1}: a connection each, {args.concurrency} at a time")
    parallel = asyncio.run(raw_parallel(port, template, args.emails, args.concurrency, f"r{n}"))
    return {"one_connection": sequential, "connection_each": parallel}


def best_of(rounds: list[dict[str, dict[str, float]]], loop: str) -> dict[str, Any]:
    """The fastest round of one raw loop, with every round's rate (the loops scatter from one
    round to the next on a shared 2-core machine; the best is the demanding baseline)."""
    best = max((r[loop] for r in rounds), key=lambda m: m["rate"])
    return best | {"rounds": [r[loop]["rate"] for r in rounds]}


# --- the notifier -----------------------------------------------------------------------------


async def fresh_database(settings: KeepwordSettings) -> str:
    """The benchmark's own database, made afresh (the service migrates its schema)."""
    return await create_database(settings.database_url, DATABASE)


@contextlib.contextmanager
def notifiers(
    bootstrap: str, database_url: str, config: Path, smtp_port: int, count: int
) -> Iterator[list[ServiceProcess]]:
    """`count` notifier processes against the same database and consumer group: they share
    the topics' partitions and, through the send log's leases, the sending."""
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": bootstrap,
        "KEEPWORD_DATABASE_URL": database_url,
        "KEEPWORD_CONFIG": str(config),
        "KEEPWORD_SMTP_HOST": "127.0.0.1",
        "KEEPWORD_SMTP_PORT": str(smtp_port),
        "KEEPWORD_SMTP_SECURITY": "none",
        # INFO, as in production: a line per email is part of the cost.
        "KEEPWORD_LOG_LEVEL": "INFO",
    }
    with contextlib.ExitStack() as stack:
        services = [
            stack.enter_context(running_service("notifier", log_dir=LOGS, env=env))
            for _ in range(count)
        ]
        asyncio.run(group_formed(bootstrap, count * MEMBERS))
        yield services


async def group_formed(bootstrap: str, members: int) -> None:
    """Wait until the notifiers' consumer group is stable with all `members` in it, so that no
    rebalance pauses the measurement."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="keepword-bench")
    await admin.start()
    try:
        deadline = time.monotonic() + STALL_SECONDS
        while True:
            [found] = (await admin.describe_consumer_groups([GROUP]))[0].to_object()["groups"]
            if found["state"] == "Stable" and len(found["members"]) == members:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"the notifiers' group did not form: {found['state']}")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def through_notifier(
    bootstrap: str,
    database_url: str,
    emails: range,
    services: list[ServiceProcess],
    sink_pid: int,
) -> dict[str, Any]:
    """Publish escalations `emails` at once; wait until each of their emails was accepted."""
    count = len(emails)
    # Encoded before the clock starts, and published as a service's relay publishes (batches
    # per partition): what is measured is the notifier, not the benchmark's own producer.
    events = [escalation(i) for i in emails]
    records = [encode(new_envelope(event, source="/bench")) for event in events]
    producer = FailFastProducer(bootstrap, client_id="bench", timeout_seconds=30)
    await producer.start()
    conn = await asyncpg.connect(database_url)
    pids = [service.process.pid for service in services]
    cpu_before = (sum(map(cpu_seconds, pids)), cpu_seconds(sink_pid))
    try:
        # The rounds before this one were all sent: what is sent beyond them is this round's.
        before = await conn.fetchval("SELECT count(*) FROM notifier.sends WHERE status = 'sent'")
        started_wall = datetime.now(UTC)
        started = time.perf_counter()
        outcomes = await producer.send_many(records)
        published_s = time.perf_counter() - started
        if failed := [o for o in outcomes if isinstance(o, Exception)]:
            raise SystemExit(f"{len(failed):,} events not published: {failed[0]}")
        progress(f"published {count:,} events in {published_s:.2f}s; waiting for the emails")
        sent, last_change, last = 0, time.monotonic(), -1
        while sent < count:
            await asyncio.sleep(0.2)
            sent = (
                await conn.fetchval("SELECT count(*) FROM notifier.sends WHERE status = 'sent'")
                - before
            )
            if sent != last:
                last, last_change = sent, time.monotonic()
            elif time.monotonic() - last_change > STALL_SECONDS:
                raise SystemExit(f"stalled at {sent:,} of {count:,} emails")
        elapsed = time.perf_counter() - started
        cpu_after = (sum(map(cpu_seconds, pids)), cpu_seconds(sink_pid))
        rows = await conn.fetch(
            "SELECT created_at, finished_at, status FROM notifier.sends"
            " WHERE recipient = ANY($1::text[]) ORDER BY finished_at",
            [event.manager.email for event in events],
        )
    finally:
        await conn.close()
        await producer.stop()
    finished = [r["finished_at"] for r in rows]
    recorded = [r["created_at"] for r in rows]
    # The sender stamps finished_at when the server accepted the email (its commit follows).
    all_sent_s = (max(finished) - started_wall).total_seconds()
    sending_s = (max(finished) - min(finished)).total_seconds()
    latencies_ms = [(f - started_wall).total_seconds() * 1000 for f in finished]
    return {
        "emails": count,
        "published_s": published_s,
        "recorded_s": (max(recorded) - started_wall).total_seconds(),
        "all_sent_s": all_sent_s,
        "observed_s": elapsed,
        "rate": count / all_sent_s,
        "sending_rate": (count - 1) / sending_s if sending_s > 0 else float("inf"),
        "latency_p50_ms": statistics.median(latencies_ms),
        "latency_p99_ms": percentile(latencies_ms, 0.99),
        "cpu_cores_busy": {
            "notifier": (cpu_after[0] - cpu_before[0]) / elapsed,
            "smtp_server": (cpu_after[1] - cpu_before[1]) / elapsed,
        },
    }


# --- the run -----------------------------------------------------------------------------------


def run(args: argparse.Namespace, profile: Path | None) -> dict[str, Any]:
    settings = NotifierSettings()
    database_url = asyncio.run(fresh_database(settings))
    with scratch_directory("keepword-bench-notifier-") as tmp:
        folder = Path(tmp)
        config = folder / "keepword.toml"
        config.write_text(CONFIG)
        template = raw_email(load_company_config(config))
        with sink(folder) as server:
            rounds = [baseline_round(server.port, template, args, n) for n in range(args.rounds)]
            progress("starting a private Kafka broker")
            with private_broker(folder / "kafka", settings.topic_partitions) as bootstrap:
                asyncio.run(warm_broker(bootstrap))
                progress(f"starting the notifier against {bootstrap}")
                with notifiers(
                    bootstrap, database_url, config, server.port, args.notifiers
                ) as services:
                    measured = []
                    for n in range(args.rounds):
                        progress(f"the notifier, round {n + 1} of {args.rounds}")
                        emails = range(n * args.emails, (n + 1) * args.emails)
                        with sampled(services[0].process.pid, profile if n == 0 else None):
                            measured.append(
                                asyncio.run(
                                    through_notifier(
                                        bootstrap,
                                        database_url,
                                        emails,
                                        services,
                                        server.process.pid,
                                    )
                                )
                            )
                    log = ", ".join(str(service.log_path) for service in services)
            # One more round once the notifier is done: the baseline brackets its measurement.
            rounds.append(baseline_round(server.port, template, args, args.rounds))
            counts = server.counts()
    theirs = {k: v for k, v in counts.items() if k.startswith("<kw.")}
    return {
        "email_bytes": len(template),
        "notifiers": args.notifiers,
        "raw_one_connection": best_of(rounds, "one_connection"),
        "raw_connection_each": best_of(rounds, "connection_each"),
        "notifier": median_round(measured),
        "received": {
            "raw": sum(v for k, v in counts.items() if k.startswith("<raw.")),
            "notifier_distinct": len(theirs),
            "notifier_duplicates": sum(theirs.values()) - len(theirs),
        },
        "service_log": log,
    }


def print_table(result: dict[str, Any]) -> None:
    seq, par, nt = (
        result["raw_one_connection"],
        result["raw_connection_each"],
        result["notifier"],
    )
    best = max(seq["rate"], par["rate"])
    rows = [
        ("raw aiosmtplib, one connection, sequential", _best(seq), ""),
        ("raw aiosmtplib, a connection per email, 10 at a time", _best(par), ""),
        (
            f"notifier x{result['notifiers']}, end to end (published → accepted), median round",
            _median(nt),
            f"{nt['latency_p50_ms']:,.0f} / {nt['latency_p99_ms']:,.0f}",
        ),
        ("notifier, sending alone (first → last accepted)", f"{nt['sending_rate']:,.0f}", ""),
    ]
    print("| measure | emails/s | latency p50 / p99 (ms) |\n| --- | ---: | ---: |")
    for label, rate, latency in rows:
        print(f"| {label} | {rate} | {latency} |")
    received = result["received"]
    cores = nt["cpu_cores_busy"]
    print(
        f"\nnotifier / best raw loop: {nt['rate'] / best:.1%} end to end, "
        f"{nt['sending_rate'] / best:.1%} sending alone; "
        f"emails of {result['email_bytes']:,} bytes; received from the notifier "
        f"{received['notifier_distinct']:,} distinct, {received['notifier_duplicates']} "
        f"duplicates; CPU cores busy: notifier{'s' if result['notifiers'] > 1 else ''} "
        f"{cores['notifier']:.2f}, "
        f"SMTP server {cores['smtp_server']:.2f} (of {os.cpu_count()})"
    )


def _median(measured: dict[str, Any]) -> str:
    rounds = ", ".join(f"{rate:,.0f}" for rate in measured.get("rounds", []))
    return f"{measured['rate']:,.0f}" + (f" (of {rounds})" if rounds else "")


def _best(loop: dict[str, Any]) -> str:
    rounds = ", ".join(f"{rate:,.0f}" for rate in loop.get("rounds", []))
    return f"{loop['rate']:,.0f}" + (f" (best of {rounds})" if rounds else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--emails", type=int, default=2000, help="emails per measurement")
    parser.add_argument("--concurrency", type=int, default=10, help="raw loop's connections")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of the notifier (its median counts) and of the raw loops before it (one "
        "more follows it; the best counts)",
    )
    parser.add_argument(
        "--notifiers", type=int, default=1, help="notifier processes sharing the work"
    )
    parser.add_argument(
        "--profile", action="store_true", help="sample the (first) notifier with py-spy"
    )
    args = parser.parse_args()

    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    profile = LOGS / f"notifier-{stamp}.pyspy.raw" if args.profile else None
    LOGS.mkdir(parents=True, exist_ok=True)
    result = run(args, profile)
    output: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count()},
        "settings": vars(args),
    } | result
    if profile is not None:
        output["profile"] = profile_summary(profile, top_self=20) | {"raw": str(profile)}
    path = RESULTS / f"notifier-{stamp}.json"
    path.write_text(json.dumps(output, indent=2, default=str))

    print_table(result)
    if profile is not None:
        print_profile(output["profile"], "while sending")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()

"""A few hundred threads through the five services, twice at the same time: once cleanly and
once while everything that can break does — every service SIGKILLed and restarted, the broker
restarted, PostgreSQL stopped for ten seconds, poison records on every input topic. The faulty
run must end with exactly the clean run's escalations and emails (count and content) and the
poison in the dead letter topics with their reasons. The test prints how long each recovery
took.

A Message-ID arrives twice only from the one window SMTP leaves open: the notifier killed after
the server accepted an email and before it logged that. The email then arrives again, byte for
byte the same; there can be no more of those than the SMTP conversations in flight at the kill.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from keepword_events import topics
from keepword_testkit.fault_run.expected import (
    Run,
    expected_emails,
    unexpected_emails,
    wait_until,
)
from keepword_testkit.fault_run.outcome import (
    emails_outcome,
    escalation_counts,
)
from keepword_testkit.fault_run.stack import Stack, create_database, healthy, new_stack
from keepword_testkit.fault_run.workload import CONFIG, Driver, Plan, plans
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.local_postgres import LocalPostgres
from keepword_testkit.processes import SERVICES, free_port
from keepword_testkit.reporting import REPORT

# Its own broker, databases and services: `make test` runs it beside the rest (conftest.APART).
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp, pytest.mark.timeout(900)]

THREADS = 240
FEED_SECONDS = 45.0  # the threads start evenly over this long, faults happening meanwhile
# SLAs far longer than any recovery: a fault may delay an answer, never past its deadline.
FIRST_REPLY_S = 90
ACKNOWLEDGE_AFTER_S = 60
SMTP_IN_FLIGHT = 10  # the notifier's SMTP conversations at once: the most a kill can resend
SETTLE_S = 8.0  # after the last expected email, keep listening this long for duplicates
POISON = {  # each input topic gets records nobody can read
    topics.MESSAGES: b"\x00\xffnot an event",
    topics.COMMITMENTS: b'{"half": "a json',
    topics.ESCALATIONS: b"<html>hello</html>",
}


def all_ready(stack: Stack) -> bool:
    return all(healthy(process.url) for process in stack.services.values())


@dataclass
class Faults:
    """Each fault at its moment after the feed began (or when the one before has recovered)."""

    stack: Stack
    postgres: LocalPostgres
    run: Run

    async def play(self, began: float) -> None:
        schedule: list[tuple[float, Callable[[], None]]] = [
            (4, lambda: self.kill("commitments")),
            (8, lambda: self.kill("escalation")),
            (12, lambda: self.kill("notifier")),
            (16, lambda: self.kill("intake")),
            (18, lambda: self.kill("insights")),
            (20, self.restart_broker),
            (30, self.stop_database),
        ]
        for at, fault in schedule:
            await asyncio.sleep(max(0.0, began + at - time.monotonic()))
            await asyncio.to_thread(fault)

    def kill(self, name: str) -> None:
        took = self.stack.kill_and_restart(name)
        self.run.recovery[f"{name} SIGKILL -> restarted and ready"] = took

    def restart_broker(self) -> None:
        began = time.monotonic()
        self.stack.kafka.restart()
        asyncio.run(poison(self.stack.kafka.bootstrap))  # the broker is back: poison it now
        self._until_ready("broker restart")
        self.run.recovery["broker restart -> every service ready"] = time.monotonic() - began

    def stop_database(self) -> None:
        began = time.monotonic()
        self.postgres.stop()
        time.sleep(10)
        self.postgres.start()
        self._until_ready("PostgreSQL's return")
        self.run.recovery["PostgreSQL down 10 s -> every service ready"] = time.monotonic() - began

    def _until_ready(self, after: str) -> None:
        deadline = time.monotonic() + 120
        while not all_ready(self.stack):
            if time.monotonic() > deadline:
                raise TimeoutError(f"services not ready 120 s after {after}")
            time.sleep(0.5)


async def feed(driver: Driver, workload: list[Plan], began: float) -> None:
    """Start the threads evenly over FEED_SECONDS, each playing its steps as it goes."""
    spacing = FEED_SECONDS / len(workload)
    plays = []
    for number, plan in enumerate(workload):
        await asyncio.sleep(max(0.0, began + number * spacing - time.monotonic()))
        plays.append(asyncio.create_task(driver.play(plan)))
    await asyncio.gather(*plays)


async def play(stack: Stack, workload: list[Plan], faults: Faults | None) -> Run:
    """Feed the workload (with the faults meanwhile), then wait for every email."""
    run = faults.run if faults else Run()
    began = time.monotonic()
    await asyncio.to_thread(stack.start_all)
    driver = Driver(stack.intake_url, await stack.api_key(), stack.name)
    want = expected_emails(workload)

    def arrived() -> int:
        return len({str(c.message["Message-ID"]) for c in stack.catcher.emails()})

    try:
        fed = time.monotonic()
        await asyncio.gather(feed(driver, workload, fed), faults.play(fed) if faults else asleep())
        run.retries = driver.retries
        await wait_until(
            lambda: arrived() >= want,
            within=FIRST_REPLY_S + 180,
            what=f"{stack.name}: {arrived()} of {want} emails arrived",
        )
        await asyncio.sleep(SETTLE_S)
    except BaseException as error:
        raise AssertionError(f"{error}\n{stack.logs()}") from error
    finally:
        await driver.close()
    labels = {thread_id: label for label, thread_id in driver.thread_ids.items()}
    run.outcome = emails_outcome(stack.catcher.emails(), labels)
    run.outcome.escalations = await escalation_counts(
        stack.kafka.bootstrap, topics.ESCALATIONS, labels
    )
    run.seconds = time.monotonic() - began
    return run


async def asleep() -> None:
    return None


async def poison(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic, value in POISON.items():
            await producer.send_and_wait(topic, value, key=b"thr-0000000000000000")
    finally:
        await producer.stop()


async def dead_letters(bootstrap: str) -> list[dict[str, str]]:
    found = []
    for topic in POISON:
        dead = topics.dead_letter_topic(topic)
        for record in await TopicProbe(bootstrap, [dead]).records():  # from the topic's start
            named = {k: v.decode(errors="replace") for k, v in record.headers}
            dlq = {k: v for k, v in named.items() if k.startswith("keepword-dlq")}
            found.append({"topic": topic, "value": repr(record.value)} | dlq)
    return found


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LocalPostgres]]:
    """A PostgreSQL cluster for each run: the faulty run stops its own."""
    made = {
        name: LocalPostgres(tmp_path_factory.mktemp(f"postgres-{name}"), port=free_port())
        for name in ("clean", "faulty")
    }
    try:
        for cluster in made.values():
            cluster.start()
        yield made
    finally:
        for cluster in made.values():
            cluster.destroy()


def make_stack(name: str, root: Path, postgres: LocalPostgres) -> Stack:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "keepword.toml"
    config.write_text(
        CONFIG.format(first_reply=FIRST_REPLY_S, acknowledge_after=ACKNOWLEDGE_AFTER_S)
    )
    database_url = asyncio.run(create_database(postgres.url, f"keepword_{name}"))
    return new_stack(name, root, database_url, config)


def test_the_faulty_run_ends_exactly_as_the_clean_one(
    clusters: dict[str, LocalPostgres],
    tmp_path_factory: pytest.TempPathFactory,
    record_property: Callable[[str, object], None],
) -> None:
    workload = plans(THREADS)
    clean_stack = make_stack("clean", tmp_path_factory.mktemp("clean"), clusters["clean"])
    faulty_stack = make_stack("faulty", tmp_path_factory.mktemp("faulty"), clusters["faulty"])

    async def both() -> tuple[Run, Run, list[dict[str, str]]]:
        faults = Faults(faulty_stack, clusters["faulty"], Run())
        clean, faulty = await asyncio.gather(
            play(clean_stack, workload, None), play(faulty_stack, workload, faults)
        )
        return clean, faulty, await dead_letters(faulty_stack.kafka.bootstrap)

    try:
        clean, faulty, letters = asyncio.run(both())
    finally:
        for stack in (clean_stack, faulty_stack):
            stack.stop_all()
            stack.catcher.stop()
            stack.kafka.stop()

    report = {
        "threads": THREADS,
        "emails": sum(faulty.outcome.emails.values()),
        "clean_run_s": round(clean.seconds, 1),
        "faulty_run_s": round(faulty.seconds, 1),
        "client_retries": faulty.retries,
        "emails_resent_after_the_notifier_kill": faulty.outcome.copies(),
        "recovery_s": {k: round(v, 1) for k, v in faulty.recovery.items()},
    }
    record_property(REPORT, "fault run: " + json.dumps(report, indent=2))

    assert unexpected_emails(clean.outcome, workload) == []
    assert clean.outcome.duplicate_message_ids() == []
    differences = faulty.outcome.differences(clean.outcome)
    assert not differences, "\n".join(differences)
    assert faulty.outcome.altered_copies == []
    assert faulty.outcome.copies() <= SMTP_IN_FLIGHT, faulty.outcome.duplicate_message_ids()
    assert {letter["topic"] for letter in letters} == set(POISON), letters
    assert all(letter.get("keepword-dlq-reason") for letter in letters), letters
    assert len(faulty.recovery) == len(SERVICES) + 2

"""The fault run scaled out as production runs it: a Kafka cluster of three brokers (replication
3, min.insync.replicas=2) and two instances of every service sharing each consumer group's
partitions. Mid-run one broker is SIGKILLed for good and one instance of each service is
SIGKILLed (and started again a little later, as a supervisor would); the surviving instances
take over the dead ones' partitions and the cluster carries on with two brokers. The run must
end exactly as a clean run of the same threads (one broker, one instance of each service): the
same escalations and emails, nothing lost, no Message-ID twice beyond the one SMTP window of
the killed notifier.

Not in `make test` (it takes minutes and three more JVMs): `make faultrun-cluster`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from keepword_events import topics
from keepword_testkit.fault_run.expected import (
    Run,
    expected_emails,
    unexpected_emails,
    wait_until,
)
from keepword_testkit.fault_run.outcome import emails_outcome, escalation_counts
from keepword_testkit.fault_run.stack import (
    Stack,
    create_database,
    healthy,
    instance_key,
    new_stack,
)
from keepword_testkit.fault_run.workload import CONFIG, Driver, Plan, plans
from keepword_testkit.local_kafka import LocalKafkaCluster
from keepword_testkit.local_postgres import LocalPostgres
from keepword_testkit.processes import SERVICES, free_port, members_per_process
from keepword_testkit.reporting import REPORT

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.postgres,
    pytest.mark.smtp,
    pytest.mark.timeout(1500),
]

THREADS = 240
FEED_SECONDS = 45.0  # the threads start evenly over this long, faults happening meanwhile
FIRST_REPLY_S = 90  # SLAs far longer than any recovery: a fault may delay, never change, one
ACKNOWLEDGE_AFTER_S = 60
SMTP_IN_FLIGHT = 10  # one notifier instance is killed: at most its conversations are resent
SETTLE_S = 8.0  # after the last expected email, keep listening this long for duplicates
INSTANCES = 2
# Members of each group in a service process: each service's default, or
# `KEEPWORD_CONSUMERS_PER_PROCESS=2 make faultrun-cluster` for two everywhere.
MEMBERS_PER_PROCESS = {f"keepword-{name}": members_per_process(name) for name in SERVICES}
PARTITIONS = 6  # three per instance
KILLED_BROKER = 1  # in every bootstrap list (clients try its servers in random order)
DOWN_S = 10.0  # a killed instance stays down this long: its partitions move to the survivor
FAULTS_AT = {  # seconds after the feed began
    "commitments": 4.0,
    "escalation": 8.0,
    "notifier": 12.0,
    "intake": 16.0,
    "insights": 18.0,
}
BROKER_KILL_AT = 21.0


def first_instances_ready(stack: Stack) -> bool:
    """Are the instances that are never killed (the first of each service) all ready?"""
    return all(healthy(stack.services[name].url) for name in SERVICES)


@dataclass
class Faults:
    """One instance of each service SIGKILLed (back DOWN_S later), one broker killed for good."""

    stack: Stack
    cluster: LocalKafkaCluster
    run: Run

    async def play(self, began: float) -> None:
        async def at(moment: float, fault: Callable[[], Awaitable[None]]) -> None:
            await asyncio.sleep(max(0.0, began + moment - time.monotonic()))
            await fault()

        await asyncio.gather(
            *(at(moment, partial(self.kill_instance, name)) for name, moment in FAULTS_AT.items()),
            at(BROKER_KILL_AT, self.kill_broker),
        )

    async def kill_instance(self, name: str) -> None:
        key = instance_key(name, INSTANCES)
        port = self.stack.services[key].port
        await asyncio.to_thread(self.stack.kill, key)
        await asyncio.sleep(DOWN_S)
        began = time.monotonic()
        await asyncio.to_thread(self.stack.start, key, port)
        self.run.recovery[f"{key} SIGKILL, {DOWN_S:.0f} s down -> started and ready"] = (
            time.monotonic() - began
        )

    async def kill_broker(self) -> None:
        began = time.monotonic()
        await asyncio.to_thread(self.cluster.kill, KILLED_BROKER)
        await wait_until(
            lambda: first_instances_ready(self.stack), 120, "services not ready after the kill"
        )
        self.run.recovery[f"broker {KILLED_BROKER} SIGKILL (for good) -> first instances ready"] = (
            time.monotonic() - began
        )


async def feed(drivers: list[Driver], workload: list[Plan], began: float) -> None:
    """Start the threads evenly over FEED_SECONDS, taking turns among the intake instances."""
    spacing = FEED_SECONDS / len(workload)
    plays = []
    for number, plan in enumerate(workload):
        await asyncio.sleep(max(0.0, began + number * spacing - time.monotonic()))
        plays.append(asyncio.create_task(drivers[number % len(drivers)].play(plan)))
    await asyncio.gather(*plays)


async def play(stack: Stack, workload: list[Plan], faults: Faults | None) -> Run:
    """Feed the workload (with the faults meanwhile), then wait for every email."""
    run = faults.run if faults else Run()
    began = time.monotonic()
    await asyncio.to_thread(stack.start_all)
    key = await stack.api_key()
    drivers = [
        Driver(stack.services[instance_key("intake", i)].url, key, stack.name)
        for i in range(1, stack.instances + 1)
    ]
    want = expected_emails(workload)

    def arrived() -> int:
        return len({str(c.message["Message-ID"]) for c in stack.catcher.emails()})

    async def no_faults() -> None:
        return None

    try:
        fed = time.monotonic()
        await asyncio.gather(
            feed(drivers, workload, fed), faults.play(fed) if faults else no_faults()
        )
        run.retries = sum(driver.retries for driver in drivers)
        await wait_until(
            lambda: arrived() >= want,
            within=FIRST_REPLY_S + 180,
            what=f"{stack.name}: {arrived()} of {want} emails arrived",
        )
        await asyncio.sleep(SETTLE_S)
    except BaseException as error:
        raise AssertionError(f"{error}\n{stack.logs()}") from error
    finally:
        for driver in drivers:
            await driver.close()
    labels = {
        thread_id: label for driver in drivers for label, thread_id in driver.thread_ids.items()
    }
    run.outcome = emails_outcome(stack.catcher.emails(), labels)
    run.outcome.escalations = await escalation_counts(
        stack.kafka.bootstrap, topics.ESCALATIONS, labels
    )
    run.seconds = time.monotonic() - began
    return run


async def group_members(bootstrap: str) -> dict[str, int]:
    """Members of each of the services' consumer groups, as the cluster has them now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith("keepword-")]
        members: dict[str, int] = {}
        for name in names:  # one at a time: aiokafka misreads an answer about several groups
            for response in await admin.describe_consumer_groups([name]):
                members.update({group.group_id: len(group.members) for group in _groups(response)})
        return members
    finally:
        await admin.close()


@dataclass(frozen=True)
class _Group:
    group_id: str
    members: list[object]


def _groups(response: object) -> list[_Group]:
    # DescribeGroupsResponse: (error, group_id, state, protocol_type, protocol, members, ...)
    return [_Group(g[1], list(g[5])) for g in getattr(response, "groups", [])]


async def replicas(bootstrap: str) -> set[int]:
    """The replica counts of the catalog's topics' partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics.ALL_TOPICS))
        return {len(p["replicas"]) for t in described for p in t["partitions"]}
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    """A PostgreSQL cluster of its own; each run gets a database on it."""
    cluster = LocalPostgres(tmp_path_factory.mktemp("postgres"), port=free_port())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def make_stack(
    name: str, root: Path, postgres: LocalPostgres, *, brokers: int, instances: int
) -> Stack:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "keepword.toml"
    config.write_text(
        CONFIG.format(first_reply=FIRST_REPLY_S, acknowledge_after=ACKNOWLEDGE_AFTER_S)
    )
    database_url = asyncio.run(create_database(postgres.url, f"keepword_cluster_{name}"))
    return new_stack(
        name,
        root,
        database_url,
        config,
        brokers=brokers,
        instances=instances,
        partitions=PARTITIONS,
    )


def finish(stack: Stack) -> None:
    stack.stop_all()
    stack.catcher.stop()
    stack.kafka.stop()


def test_a_cluster_losing_a_broker_and_an_instance_of_each_service_ends_as_the_clean_run(
    postgres: LocalPostgres,
    tmp_path_factory: pytest.TempPathFactory,
    record_property: Callable[[str, object], None],
) -> None:
    workload = plans(THREADS)
    # The clean run first, alone: two runs at once on two shared cores would crowd each other.
    clean_stack = make_stack(
        "clean", tmp_path_factory.mktemp("clean"), postgres, brokers=1, instances=1
    )
    try:
        clean = asyncio.run(play(clean_stack, workload, None))
    finally:
        finish(clean_stack)

    stack = make_stack(
        "cluster", tmp_path_factory.mktemp("cluster"), postgres, brokers=3, instances=INSTANCES
    )
    assert isinstance(stack.kafka, LocalKafkaCluster)
    survivors = ",".join(
        f"127.0.0.1:{port}" for n, port in enumerate(stack.kafka.ports, 1) if n != KILLED_BROKER
    )
    try:
        faulty = asyncio.run(play(stack, workload, Faults(stack, stack.kafka, Run())))
        members = asyncio.run(group_members(survivors))
        replica_counts = asyncio.run(replicas(survivors))
    finally:
        finish(stack)

    report = {
        "threads": THREADS,
        "emails": sum(faulty.outcome.emails.values()),
        "clean_run_s": round(clean.seconds, 1),
        "cluster_run_s": round(faulty.seconds, 1),
        "client_retries": faulty.retries,
        "emails_resent_after_the_notifier_kill": faulty.outcome.copies(),
        "group_members_at_the_end": members,
        "recovery_s": {k: round(v, 1) for k, v in faulty.recovery.items()},
    }
    record_property(REPORT, "cluster fault run: " + json.dumps(report, indent=2))

    assert unexpected_emails(clean.outcome, workload) == []
    assert clean.outcome.duplicate_message_ids() == []
    differences = faulty.outcome.differences(clean.outcome)
    assert not differences, "\n".join(differences)
    assert faulty.outcome.altered_copies == []
    assert faulty.outcome.copies() <= SMTP_IN_FLIGHT, faulty.outcome.duplicate_message_ids()
    assert replica_counts == {3}
    # Both instances of every consuming service were back in their group at the end, with
    # every member of each.
    assert members
    assert {group: INSTANCES * MEMBERS_PER_PROCESS[group] for group in members} == members
    assert len(faulty.recovery) == len(SERVICES) + 1

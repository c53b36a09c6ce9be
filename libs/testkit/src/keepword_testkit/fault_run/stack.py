"""One world for a run: a private broker (or cluster of three) and database, an SMTP catcher and
the services, each as one or more processes that can be SIGKILLed and started again on the same
port."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from keepword_platform.auth.store import create_api_key
from keepword_platform.kafka import create_topics

from keepword_testkit.local_kafka import LocalKafka, LocalKafkaCluster
from keepword_testkit.processes import SERVICES, ServiceProcess, free_port, start_service

from .catcher import MailCatcher

LINK_SECRET = "fault-run-link-secret-0123456789abcdef"  # noqa: S105 - a test-only secret
PARTITIONS = 3


def instance_key(name: str, instance: int) -> str:
    """How a stack names the `instance`-th (from 1) process of service `name`: `name` for the
    first, `name-2`, `name-3`... for the others."""
    return name if instance == 1 else f"{name}-{instance}"


@dataclass
class Stack:
    """The services of one run and the servers they use.

    `instances` processes of each service share its consumer group (and so the topics'
    partitions), its database and its outbox; `services` maps instance_key -> process.
    """

    name: str
    root: Path
    kafka: LocalKafka | LocalKafkaCluster
    database_url: str
    catcher: MailCatcher
    config: Path
    instances: int = 1
    partitions: int = PARTITIONS
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    incarnations: dict[str, int] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """What every service of this run is started with."""
        return {
            "KEEPWORD_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "KEEPWORD_DATABASE_URL": self.database_url,
            "KEEPWORD_CONFIG": str(self.config),
            "KEEPWORD_SMTP_HOST": "127.0.0.1",
            "KEEPWORD_SMTP_PORT": str(self.catcher.port),
            "KEEPWORD_SMTP_SECURITY": "none",
            "KEEPWORD_ENV": "test",  # plain-text database and http:// links, on purpose
            "KEEPWORD_LINK_SECRET": LINK_SECRET,
            "KEEPWORD_TOPIC_PARTITIONS": str(self.partitions),
            "KEEPWORD_TOPIC_REPLICATION": str(self.replication),
            # Every escalation email on its own: a digest would merge emails by timing, and
            # the two runs are compared email by email.
            "KEEPWORD_NOTIFIER_DIGEST_SECONDS": "0",
            "KEEPWORD_LOG_LEVEL": "INFO",
        }

    @property
    def replication(self) -> int:
        """Replicas of each topic: one per broker, up to three."""
        return 3 if isinstance(self.kafka, LocalKafkaCluster) else 1

    @property
    def intake_url(self) -> str:
        """Where intake's HTTP API answers."""
        return self.services["intake"].url

    def start(self, key: str, port: int | None = None) -> ServiceProcess:
        """Start (or start again) one service instance (`intake`, `notifier-2`); returns once it
        is healthy."""
        process = self._launch(key, port)
        process.wait_healthy(timeout=90)
        return process

    def start_all(self) -> None:
        """Start every instance of every service at once (their migrations queue on a lock per
        schema); returns once all are healthy."""
        keys = [instance_key(name, i) for name in SERVICES for i in range(1, self.instances + 1)]
        for process in [self._launch(key) for key in keys]:
            process.wait_healthy(timeout=120)

    def _launch(self, key: str, port: int | None = None) -> ServiceProcess:
        count = self.incarnations.get(key, 0) + 1
        self.incarnations[key] = count
        name = key if key in SERVICES else key.rsplit("-", 1)[0]  # notifier-2 -> notifier
        process = start_service(
            name, log_dir=self.root / "logs" / f"{key}-{count}", env=self.env, port=port
        )
        self.services[key] = process
        return process

    def kill(self, key: str) -> None:
        """SIGKILL one service instance, as when its machine dies; `start(key, port)` brings it
        back."""
        self.services[key].kill()

    def kill_and_restart(self, key: str) -> float:
        """SIGKILL one service instance, start it again on its port; returns seconds until
        healthy."""
        began = time.monotonic()
        old = self.services[key]
        old.kill()
        self.start(key, port=old.port)
        return time.monotonic() - began

    def stop_all(self) -> None:
        """SIGTERM every service (SIGKILL one that will not go)."""
        for process in self.services.values():
            if process.process.poll() is not None:  # killed and not started again
                continue
            try:
                process.stop(timeout=20)
            except Exception:  # stuck: it is a test run, make sure nothing is left behind
                with contextlib.suppress(Exception):
                    process.kill()

    def logs(self) -> str:
        """The tail of every service log of the run, for a failure's message."""
        tails = []
        for path in sorted((self.root / "logs").rglob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace")
            tails.append(f"== {path.name}\n{text[-3000:]}")
        return "\n".join(tails)

    async def api_key(self) -> str:
        """A fresh intake API key (intake has created the `auth` schema by now)."""
        pool = await asyncpg.create_pool(self.database_url, min_size=1, max_size=1)
        try:
            return (await create_api_key(pool, f"{self.name}-driver")).text
        finally:
            await pool.close()


async def create_database(server_url: str, name: str) -> str:
    """A new, empty database on the server of `server_url`; returns its URL."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


def new_stack(
    name: str,
    root: Path,
    database_url: str,
    config: Path,
    *,
    brokers: int = 1,
    instances: int = 1,
    partitions: int = PARTITIONS,
) -> Stack:
    """A private broker (`brokers=1`) or cluster of three (`brokers=3`: replication 3, min ISR
    2) with the catalog's topics, and a catcher; the services (`instances` of each) not yet
    started."""
    if brokers not in (1, 3):
        raise ValueError(f"a stack has 1 broker or a cluster of 3, not {brokers}")
    root.mkdir(parents=True, exist_ok=True)
    kafka: LocalKafka | LocalKafkaCluster
    if brokers == 3:
        kafka = LocalKafkaCluster.on_free_ports(root / "kafka-cluster")
    else:
        kafka = LocalKafka(root / "kafka", port=free_port(), controller_port=free_port())
    kafka.start()
    catcher = MailCatcher(free_port())
    stack = Stack(
        name=name,
        root=root,
        kafka=kafka,
        database_url=database_url,
        catcher=catcher,
        config=config,
        instances=instances,
        partitions=partitions,
    )
    asyncio.run(create_topics(kafka.bootstrap, partitions, replication=stack.replication))
    catcher.start()
    return stack


def healthy(url: str) -> bool:
    """Does the service at `url` say it is ready?"""
    try:
        return httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False

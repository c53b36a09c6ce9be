"""One world for a run: a private broker and database, an SMTP catcher and the four services,
each a process that can be SIGKILLed and started again on the same port."""

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

from keepword_testkit.local_kafka import LocalKafka
from keepword_testkit.processes import SERVICES, ServiceProcess, free_port, start_service

from .catcher import MailCatcher

LINK_SECRET = "fault-run-link-secret-0123456789abcdef"  # noqa: S105 - a test-only secret
PARTITIONS = 3


@dataclass
class Stack:
    """The four services of one run and the servers they use."""

    name: str
    root: Path
    kafka: LocalKafka
    database_url: str
    catcher: MailCatcher
    config: Path
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
            "KEEPWORD_TOPIC_PARTITIONS": str(PARTITIONS),
            # Every escalation email on its own: a digest would merge emails by timing, and
            # the two runs are compared email by email.
            "KEEPWORD_NOTIFIER_DIGEST_SECONDS": "0",
            "KEEPWORD_LOG_LEVEL": "INFO",
        }

    @property
    def intake_url(self) -> str:
        """Where intake's HTTP API answers."""
        return self.services["intake"].url

    def start(self, name: str, port: int | None = None) -> ServiceProcess:
        """Start (or start again) one service; returns once it is healthy."""
        process = self._launch(name, port)
        process.wait_healthy(timeout=90)
        return process

    def start_all(self) -> None:
        """Start every service at once (their migrations queue on a lock per schema); returns
        once all are healthy."""
        for process in [self._launch(name) for name in SERVICES]:
            process.wait_healthy(timeout=120)

    def _launch(self, name: str, port: int | None = None) -> ServiceProcess:
        count = self.incarnations.get(name, 0) + 1
        self.incarnations[name] = count
        process = start_service(
            name, log_dir=self.root / "logs" / f"{name}-{count}", env=self.env, port=port
        )
        self.services[name] = process
        return process

    def kill_and_restart(self, name: str) -> float:
        """SIGKILL one service, start it again on its port; returns seconds until healthy."""
        began = time.monotonic()
        old = self.services[name]
        old.kill()
        self.start(name, port=old.port)
        return time.monotonic() - began

    def stop_all(self) -> None:
        """SIGTERM every service (SIGKILL one that will not go)."""
        for process in self.services.values():
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


def new_stack(name: str, root: Path, database_url: str, config: Path) -> Stack:
    """A private broker with the catalog's topics and a catcher; the services not yet started."""
    root.mkdir(parents=True, exist_ok=True)
    kafka = LocalKafka(root / "kafka", port=free_port(), controller_port=free_port())
    kafka.start()
    asyncio.run(create_topics(kafka.bootstrap, PARTITIONS))
    catcher = MailCatcher(free_port())
    catcher.start()
    return Stack(
        name=name,
        root=root,
        kafka=kafka,
        database_url=database_url,
        catcher=catcher,
        config=config,
    )


def healthy(url: str) -> bool:
    """Does the service at `url` say it is ready?"""
    try:
        return httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False

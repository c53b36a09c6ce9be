"""The whole system for the end-to-end stories: the four services as separate processes on a
private broker (`fresh_kafka`), the test database and a real aiosmtpd mail catcher, with the
demo's configuration (deploy/local/demo.toml: SLAs in seconds). Started once per module."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox as MaildirHandler
from keepword_platform.auth.store import create_api_key
from keepword_testkit.demo import play_and_show
from keepword_testkit.processes import ServiceProcess, free_port, start_service
from keepword_testkit.stories import STORIES, EventFeed, Finding, Mailbox, Stack, StoryRun
from keepword_testkit.stories.smtp_logins import smtp_login_env
from rich.console import Console

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "deploy" / "local" / "demo.toml"


@dataclass
class RunningSystem:
    """The five services, the catcher's Maildir and where intake listens."""

    services: dict[str, ServiceProcess]
    maildir: Path
    intake_smtp_port: int
    bootstrap: str
    database_url: str

    def troubles(self) -> str:
        """The warnings and errors each service logged: for failure messages."""
        return "\n".join(
            f"--- {name}: {line[:600]}"
            for name, process in self.services.items()
            for line in process.log().splitlines()
            if '"level":"warning"' in line or '"level":"error"' in line or "Traceback" in line
        )


def _fresh_database(server_url: str) -> str:
    """A new, empty database beside the tests' one (`<name>_e2e`), made again for every module.

    Like `fresh_kafka` for the broker: no timers, outbox rows or send log of an earlier run
    wake up and act while the stories play.
    """
    base, name = server_url.rsplit("/", 1)
    fresh = f"{name.split('?')[0]}_e2e"

    async def make() -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{fresh}"')
        finally:
            await conn.close()

    asyncio.run(make())
    return f"{base}/{fresh}"


@pytest.fixture(scope="module")
def system(
    fresh_kafka: str,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[RunningSystem]:
    """Start the catcher and the five services; stop them after the module's tests.

    A module sets `NOTIFIER_DIGEST_SECONDS` to change the digest window (10 s unless set).
    """
    database_url = _fresh_database(database_url)
    base = tmp_path_factory.mktemp("e2e")
    maildir = base / "mail"
    catcher_port = free_port()
    # The same handler `make up` runs: one file per email in mail/new/.
    catcher = Controller(MaildirHandler(maildir), hostname="127.0.0.1", port=catcher_port)
    catcher.start()
    escalation_port, intake_smtp_port = free_port(), free_port()
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": fresh_kafka,
        "KEEPWORD_DATABASE_URL": database_url,
        "KEEPWORD_CONFIG": str(DEMO_CONFIG),
        "KEEPWORD_SMTP_HOST": "127.0.0.1",
        "KEEPWORD_SMTP_PORT": str(catcher_port),
        "KEEPWORD_ESCALATION_PUBLIC_URL": f"http://127.0.0.1:{escalation_port}",
        "KEEPWORD_INTAKE_SMTP_PORT": str(intake_smtp_port),
        # Escalation emails to one manager within this window come as one digest: seconds,
        # like the SLAs (the stories find their part of a digest).
        "KEEPWORD_NOTIFIER_DIGEST_SECONDS": str(
            getattr(request.module, "NOTIFIER_DIGEST_SECONDS", 10)
        ),
        **smtp_login_env(DEMO_CONFIG),  # staff replies by email log in: proven, not believed
    }
    services: dict[str, ServiceProcess] = {}
    try:
        for name in ("intake", "commitments", "escalation", "notifier", "insights"):
            port = escalation_port if name == "escalation" else None
            services[name] = start_service(name, log_dir=base / "logs", env=env, port=port)
        for process in services.values():
            process.wait_healthy(timeout=120)
        yield RunningSystem(services, maildir, intake_smtp_port, fresh_kafka, database_url)
    finally:
        for process in services.values():
            try:
                process.stop(timeout=30)
            except Exception:  # it did not stop in time: do not leave it behind
                with contextlib.suppress(Exception):
                    process.kill()
        catcher.stop()


@dataclass
class PlayedStories:
    """Every story played at once: each one's run and findings, and what came out."""

    runs: dict[str, StoryRun]
    findings: dict[str, list[Finding]]
    feed: EventFeed
    mailbox: Mailbox
    system: RunningSystem
    shown: str  # what the demo's display printed
    api_key: str
    began: datetime


@pytest_asyncio.fixture(scope="module")
async def played(system: RunningSystem) -> AsyncIterator[PlayedStories]:
    """Play all the stories at once, as `make demo` does (the slowest one sets the time), with
    the demo's display written to a string; once per module."""
    conn = await asyncpg.connect(system.database_url)
    try:
        key = await create_api_key(conn, "e2e")
    finally:
        await conn.close()
    intake = system.services["intake"]
    stack = Stack(intake_url=intake.url, intake_smtp_port=system.intake_smtp_port, api_key=key.text)
    mailbox = Mailbox(system.maildir)
    output = io.StringIO()
    console = Console(file=output, width=160, highlight=False)
    began = datetime.now(UTC)
    async with EventFeed(system.bootstrap) as feed, httpx.AsyncClient(timeout=30) as http:
        runs, findings = await play_and_show(
            console, stack, feed, mailbox, http, STORIES, wait_limit=90
        )
        shown = output.getvalue()
        yield PlayedStories(runs, findings, feed, mailbox, system, shown, key.text, began)

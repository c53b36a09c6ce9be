"""KEEPWORD_INTAKE_WORKERS=2: two HTTP workers on one port, everything else once.

Intake runs as a real process (the supervisor and its forked workers) against the real broker
and database: every request is answered and counted once in /metrics whichever worker took it,
an Idempotency-Key holds across workers, the SMTP listener (worker 0 only) takes mail, a killed
worker is forked again, and SIGTERM ends them all.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import smtplib
import socket
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import httpx
import pytest
from keepword_events import MessageReceived, topics
from keepword_intake.publishing import SOURCE as INTAKE
from keepword_platform.auth.store import create_api_key
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import ServiceProcess, start_service

from .test_http_api import inbound

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CONFIG = Path(__file__).resolve().parents[4] / "deploy" / "local" / "keepword.toml"
REQUESTS = 60


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so read after its closing paren.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _accepted(metrics: str) -> int:
    pattern = r'keepword_intake_requests_total\{route="POST /v1/messages",status="202"\} (\S+)'
    match = re.search(pattern, metrics)
    return 0 if match is None else int(float(match[1]))


async def _api_key(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        return (await create_api_key(conn, f"workers-{uuid.uuid4().hex[:8]}")).text
    finally:
        await conn.close()


def _deliver(port: int, subject: str) -> None:
    email = EmailMessage()
    email["From"] = "Dana Whitfield <dana@example.com>"
    email["To"] = "support@brightline.example"
    email["Subject"] = subject
    email.set_content("Is my report ready?")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.send_message(email)


async def test_two_workers_keep_every_guarantee(
    catalog_topics: str, database_url: str, tmp_path: Path
) -> None:
    key = await _api_key(database_url)
    env = {
        "KEEPWORD_INTAKE_WORKERS": "2",
        "KEEPWORD_KAFKA_BOOTSTRAP": catalog_topics,
        "KEEPWORD_DATABASE_URL": database_url,
        "KEEPWORD_CONFIG": str(CONFIG),
    }
    service: ServiceProcess = start_service("intake", log_dir=tmp_path / "logs", env=env)
    try:
        service.wait_healthy(timeout=90)
        workers = _children(service.process.pid)
        assert len(workers) == 2, service.log()[-3000:]
        auth = {"Authorization": f"Bearer {key}"}
        subject = f"Report {uuid.uuid4()}"
        async with (
            httpx.AsyncClient(base_url=service.url, timeout=30) as http,
            TopicProbe(catalog_topics, [topics.MESSAGES], source=INTAKE) as probe,
        ):
            before = _accepted((await http.get("/metrics/")).text)
            # Many connections at once, so that both workers take some.
            limits = httpx.Limits(max_connections=REQUESTS)
            async with httpx.AsyncClient(base_url=service.url, timeout=30, limits=limits) as many:
                answers = await asyncio.gather(
                    *(
                        many.post("/v1/messages", json=inbound(), headers=auth)
                        for _ in range(REQUESTS)
                    )
                )
            assert [a.status_code for a in answers] == [202] * REQUESTS
            # Counted once each, whichever worker answers the scrape.
            for _ in range(4):
                assert _accepted((await http.get("/metrics/")).text) - before == REQUESTS

            # An Idempotency-Key is the database's: a retry on any worker replays.
            once = auth | {"Idempotency-Key": str(uuid.uuid4())}
            body = inbound()
            replies = []
            for _ in range(6):  # a fresh connection each: any worker may take it
                async with httpx.AsyncClient(base_url=service.url, timeout=30) as fresh:
                    replies.append(await fresh.post("/v1/messages", json=body, headers=once))
            assert {r.status_code for r in replies} == {202}
            assert len({r.json()["event_id"] for r in replies}) == 1

            # The SMTP listener runs once (a second would not have bound the port).
            await asyncio.to_thread(_deliver, _smtp_port(service), subject)
            emails: list[MessageReceived] = []
            for _ in range(200):
                emails = await _with_subject(probe, subject)
                if emails:
                    break
                await asyncio.sleep(0.3)
            assert len(emails) == 1

            # A killed worker is forked again; the service stays up meanwhile.
            victim = min(workers)
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                now = _children(service.process.pid)
                if len(now) == 2 and victim not in now:
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError(f"no worker replaced {victim}: {service.log()[-3000:]}")
            service.wait_healthy(timeout=90)
            answer = await http.post("/v1/messages", json=inbound(), headers=auth)
            assert answer.status_code == 202
    finally:
        code = service.stop(timeout=60)
    assert code == -signal.SIGTERM, service.log()[-3000:]
    assert _children(service.process.pid) == set()


async def _with_subject(probe: TopicProbe, subject: str) -> list[MessageReceived]:
    return [
        e.data
        for e in await probe.events()
        if isinstance(e.data, MessageReceived) and e.data.subject == subject
    ]


def _smtp_port(service: ServiceProcess) -> int:
    match = re.search(r'"port":(\d+),"max_connections"', service.log())
    assert match, service.log()[-3000:]
    return int(match[1])


def test_a_port_in_use_is_a_failed_start(database_url: str, tmp_path: Path) -> None:
    # SO_REUSEPORT must not let the workers share a port something else listens on.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"KEEPWORD_INTAKE_WORKERS": "2", "KEEPWORD_DATABASE_URL": database_url}
        service = start_service("intake", log_dir=tmp_path / "logs", env=env, port=port)
        assert service.process.wait(timeout=60) == 3, service.log()[-3000:]
        assert "is in use" in service.log()

"""The mailbox connector against a real Dovecot (STARTTLS here), Kafka and PostgreSQL: a message
that cannot be read is set aside (where and why, no content) and the ones after it are published."""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import asyncpg
import pytest
from keepword_events import MessageReceived, topics
from keepword_intake.publishing import SOURCE as INTAKE
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.local_dovecot import LocalDovecot, mailbox_table
from keepword_testkit.processes import free_port

from .conftest import running_intake

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CONFIG = Path(__file__).resolve().parents[4] / "deploy" / "local" / "keepword.toml"


def customer_mail(subject: str, domain: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Dana Whitfield <dana@example.com>"
    message["To"] = "support@brightline.example"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content("Where is my order?")
    return message.as_bytes()


async def test_a_broken_message_is_set_aside_and_the_next_ones_are_published(
    dovecot: LocalDovecot, catalog_topics: str, database_url: str, tmp_path: Path
) -> None:
    name = f"broken-{uuid.uuid4().hex[:8]}"
    domain = f"{name}.example.com"
    config = tmp_path / "keepword.toml"
    config.write_text(
        CONFIG.read_text() + mailbox_table(dovecot, name, inbox=name, sent=None, starttls=True)
    )
    no_sender = b"Subject: who wrote this?\r\nMessage-ID: <nobody@x>\r\n\r\nno From header\r\n"
    dovecot.deliver([customer_mail("first", domain), no_sender], folder=name)

    async with (
        TopicProbe(catalog_topics, [topics.MESSAGES], source=INTAKE) as probe,
        running_intake(
            kafka_bootstrap=catalog_topics,
            database_url=database_url,
            config=config,
            smtp_listen_port=free_port(),
        ),
    ):
        dovecot.deliver([customer_mail("second", domain)], folder=name)
        subjects: list[str | None] = []
        async with asyncio.timeout(60):
            while len(subjects) < 2:
                await asyncio.sleep(0.3)
                subjects = [
                    e.data.subject
                    for e in await probe.events()
                    if isinstance(e.data, MessageReceived)
                    and (e.data.email_message_id or "").endswith(f"@{domain}>")
                ]

    assert sorted(s or "" for s in subjects) == ["first", "second"]
    conn = await asyncpg.connect(database_url)
    try:
        aside = await conn.fetch(
            "SELECT folder, uid, reason FROM intake.mailbox_set_aside WHERE mailbox = $1", name
        )
        position = await conn.fetchrow(
            "SELECT last_uid FROM intake.mailbox_positions WHERE mailbox = $1", name
        )
    finally:
        await conn.close()
    assert [(r["folder"], r["uid"]) for r in aside] == [(name, 2)]
    assert aside[0]["reason"].startswith("unreadable: no sender")
    assert position is not None
    assert position["last_uid"] == 3

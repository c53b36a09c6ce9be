"""Digests through the running notifier, the real broker, database and SMTP server: three
escalations for one manager published together become at most two emails — one of them a
digest — with each escalation in exactly one of them and announced once on Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from keepword_events import NotificationSent, decode, topics
from keepword_notifier.app import create_app
from keepword_notifier.settings import NotifierSettings
from keepword_testkit.kafka_probe import TopicProbe

from .mail import Catcher, catching
from .running import CONFIG, escalation, new_thread, send_events, until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

WINDOW_SECONDS = 5  # long enough for the three to be recorded, short for the test


@pytest.fixture
async def digesting(
    fresh_kafka: str, database_url: str, tmp_path: Path, db: asyncpg.Pool
) -> AsyncIterator[Catcher]:
    config = tmp_path / "k.toml"
    config.write_text(CONFIG)
    with catching() as (catcher, port):
        app = create_app(
            NotifierSettings(
                kafka_bootstrap=fresh_kafka,
                database_url=database_url,
                config=config,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                digest_seconds=WINDOW_SECONDS,
            )
        )
        async with app.router.lifespan_context(app):
            yield catcher


async def test_a_managers_escalations_come_as_a_digest(
    digesting: Catcher, fresh_kafka: str
) -> None:
    manager = f"morgan.{uuid.uuid4().hex[:8]}@brightline.example"
    threads = [new_thread() for _ in range(3)]
    async with TopicProbe(fresh_kafka, [topics.NOTIFICATIONS]) as probe:
        await send_events(fresh_kafka, [escalation(manager, t) for t in threads])

        async def all_told() -> bool:
            told = "".join(m.raw.decode("utf-8", "replace") for m in digesting.to(manager))
            return all(t in told for t in threads)

        await until(all_told, "every escalation to reach the manager", within=90)

        async def all_announced() -> bool:
            return len(_sent(await probe.records(), threads)) == len(threads)

        await until(all_announced, "a notification.sent for each escalation")
        announced = _sent(await probe.records(), threads)

    emails = digesting.to(manager)
    print(f"{len(emails)} emails for 3 escalations")  # one digest, and maybe one alone
    assert 1 <= len(emails) <= 2  # not three: the ones within the window came together
    # Which goes alone depends on when the sender first sees them: the first alone and the
    # others as a digest after the window, or the ones recorded together as a digest at once
    # and the last alone after the window. Either way exactly one email is a digest.
    [digest] = [m for m in emails if m.message_id.startswith("<kw.digest.")]
    assert digest.message["Subject"].endswith("escalations need your decision")
    assert digest.rcpt_tos == [manager]
    for thread in threads:  # each escalation in exactly one email
        assert sum(thread in m.raw.decode("utf-8", "replace") for m in emails) == 1
    # Announced once each, under the Message-ID of the email that carried it.
    assert sorted(e.thread_id for e in announced) == sorted(threads)
    carried = {e.thread_id: e.email_message_id for e in announced}
    for thread in threads:
        [carrier] = [m for m in emails if thread in m.raw.decode("utf-8", "replace")]
        assert carried[thread] == carrier.message_id
    html = digest.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    in_digest = [t for t in threads if t in digest.raw.decode("utf-8", "replace")]
    assert html.count("/decisions/") == 2 * len(in_digest)  # each one's own links


def _sent(
    records: Sequence[ConsumerRecord[bytes, bytes]], threads: list[str]
) -> list[NotificationSent]:
    events = [decode(r.value, r.headers).data for r in records]
    return [e for e in events if isinstance(e, NotificationSent) and e.thread_id in threads]

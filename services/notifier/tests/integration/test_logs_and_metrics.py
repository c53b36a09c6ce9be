"""What the running notifier process says about its sending: Prometheus metrics on /metrics
(sent, failed, retries, queue age, SMTP time) and structlog lines that name every email by its
ids and its recipient by a reference — never an address or a word of the body."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import httpx
import pytest
from keepword_events import Customer
from keepword_notifier.privacy import recipient_ref
from prometheus_client.parser import text_string_to_metric_families

from .conftest import settle
from .mail import Catcher, catching
from .running import customer_message, escalation, own_pool, send_events, start_notifier, until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
SECRET_WORDS = "the invoice number is KW-77231 and my daughter's name is Ottilie"


async def test_a_send_is_counted_and_logged_without_addresses_or_bodies(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    customers = [
        Customer(email=f"dana.{run}@example.com", name="Dana Whitfield"),
        Customer(email=f"lee.{run}@example.org", name="Lee Park"),
    ]
    manager = f"morgan.{run}@brightline.example"
    events = [
        customer_message(c, body=f"Hello,\n\nPlease help: {SECRET_WORDS}.") for c in customers
    ] + [escalation(manager, customer=customers[0], reason=f"She wrote: {SECRET_WORDS}")]
    recipients = [str(c.email) for c in customers] + [manager]
    threads = [e.thread_id for e in events]

    db = await own_pool(database_url)
    try:
        async with db.acquire() as conn:
            await settle(conn)
        # The server defers the first email (451, retried) and refuses the second (550).
        with catching(Catcher(replies=["451 4.3.0 Try later", "550 5.1.1 No such user"])) as (
            catcher,
            port,
        ):
            service = start_notifier(
                tmp_path, fresh_kafka, database_url, port, KEEPWORD_LOG_LEVEL="INFO"
            )
            try:
                await asyncio.to_thread(service.wait_healthy, 60)
                await send_events(fresh_kafka, events)

                async def settled() -> bool:
                    done = await db.fetchval(
                        """SELECT count(*) FROM notifier.sends WHERE thread_id = ANY($1::text[])
                              AND status IN ('sent', 'failed')""",
                        threads,
                    )
                    return int(done) == len(recipients)

                await until(settled, "all three emails to be sent or failed")
                async with httpx.AsyncClient(base_url=service.url, follow_redirects=True) as http:
                    metrics = _metrics((await http.get("/metrics")).text)
            finally:
                service.stop()
            log = service.log()
        outcomes = await db.fetch(
            "SELECT status, attempts FROM notifier.sends WHERE thread_id = ANY($1::text[])",
            threads,
        )
    finally:
        await db.close()

    assert sorted((r["status"], r["attempts"]) for r in outcomes) == [
        ("failed", 1),
        ("sent", 1),
        ("sent", 2),
    ]
    assert len(catcher.mail) == 2

    # Metrics: this process sent two, failed one, retried one, and timed four SMTP exchanges.
    assert metrics["keepword_notifier_sent_total"] == 2
    assert metrics["keepword_notifier_failed_total"] == 1
    assert metrics["keepword_notifier_retries_total"] == 1
    assert metrics["keepword_notifier_smtp_seconds_count"] == 4
    assert "keepword_notifier_queue_age_seconds" in metrics

    # Logs: every outcome is there, naming the recipient by reference only.
    assert log.count('"email sent"') == 2
    assert log.count('"email failed"') == 1
    assert log.count('"email deferred"') == 1
    refs = {recipient_ref(r) for r in recipients}
    logged_refs = set(re.findall(r'"rcpt":"([0-9a-f]{12})"', log))
    assert logged_refs == refs
    for address in recipients:
        assert address not in log
        assert address.split("@")[0] not in log  # not even the local part
    assert not ADDRESS.search(log), ADDRESS.search(log)
    assert "KW-77231" not in log
    assert "Ottilie" not in log


def _metrics(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.labels:
                found[sample.name] = sample.value
    return found

"""A customer rates us in a real headless Chromium (Debian's package, driven by Playwright),
with the keyboard only, against intake and escalation running as their own processes on the
real broker and database: the answered thread's customer is asked, opening the rating link
changes nothing, the posted rating is on keepword.feedback.v1, and a low one opens an
unhappy-customer escalation whose manager reads the comment."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from keepword_events import (
    Channel,
    Customer,
    CustomerRated,
    EscalationOpened,
    EscalationRule,
    Event,
    FeedbackRequested,
    MessageReceived,
    Person,
    ReplySent,
    Role,
    decode,
    new_envelope,
    topics,
)
from keepword_platform.kafka import make_broker, publish
from keepword_platform.rating_links import rating_url, sign_rating
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import ServiceProcess, start_service
from playwright.async_api import async_playwright

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SECRET = "a-test-secret-for-rating-links-32b"
CONFIG = """
[company]
name = "Brightline Digital"
support_address = "support@brightline.example"

[sla]
first_reply = "1h"
next_reply = "1h"
manager_decision = "1h"

[feedback]
enabled = true
ask_after = "2s"

[[people]]
email = "casey.service@brightline.example"
name = "Casey Brooks"
role = "service"

[[people]]
email = "morgan.lead@brightline.example"
name = "Morgan Reyes"
role = "management"
level = 1
"""
DANA = Customer(email="dana@example.com", name="Dana Whitfield")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("no chromium: run `bash deploy/local/browser.sh install` (make test does)")
    return found


def _answered_thread(thread: str) -> list[Event]:
    now = datetime.now(UTC)
    ids = {"thread_id": thread, "correlation_id": thread, "sent_at": now, "received_at": now}
    customer = Person(email="dana@example.com", name="Dana Whitfield", role=Role.CUSTOMER)
    casey = Person(email="casey.service@brightline.example", name="Casey", role=Role.SERVICE)
    return [
        MessageReceived(
            **ids, message_id="m1", channel=Channel.EMAIL, customer=DANA, author=customer,
            subject="My report", body="Where is my report?",
        ),
        ReplySent(
            **ids, message_id="m2", channel=Channel.EMAIL, customer=DANA, author=casey,
            body="It will be with you on Monday; I will call you then.",
        ),
    ]  # fmt: skip


async def _seen(probe: TopicProbe, thread: str, kind: type[Event], within: float = 30) -> Event:
    for _ in range(int(within / 0.2)):
        for record in await probe.records():
            data = decode(record.value, record.headers).data
            if isinstance(data, kind) and data.thread_id == thread:
                return data
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {kind.__name__} on {thread}")


async def _count(probe: TopicProbe, thread: str, kind: type[Event]) -> int:
    records = await probe.records()
    return sum(
        1
        for r in records
        if isinstance(d := decode(r.value, r.headers).data, kind) and d.thread_id == thread
    )


async def test_a_customer_rates_us_low_in_a_real_browser(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "keepword.toml"
    config.write_text(CONFIG)
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": fresh_kafka,
        "KEEPWORD_DATABASE_URL": database_url,
        "KEEPWORD_CONFIG": str(config),
        "KEEPWORD_LINK_SECRET": SECRET,
    }
    services: list[ServiceProcess] = []
    try:
        for name in ("intake", "escalation"):
            services.append(start_service(name, log_dir=tmp_path, env=env))
        for service in services:
            await asyncio.to_thread(service.wait_healthy, 60)
        intake = services[0]
        thread = f"thr-{uuid.uuid4().hex[:16]}"
        async with TopicProbe(fresh_kafka, [topics.FEEDBACK, topics.ESCALATIONS]) as probe:
            producer = make_broker(KeepwordSettings(kafka_bootstrap=fresh_kafka), client_id="t")
            await producer.start()
            for event in _answered_thread(thread):
                await publish(producer, new_envelope(event, source="/test"))
            await producer.stop()
            asked = await _seen(probe, thread, FeedbackRequested)
            assert isinstance(asked, FeedbackRequested)
            assert asked.customer == DANA

            # The notifier's link for "2 - Badly", as the email carries it.
            url = rating_url(intake.url, sign_rating(SECRET, thread_id=thread, rating=2))
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=_chromium(), args=CHROMIUM_FLAGS
                )
                page = await browser.new_page()
                await page.goto(url)
                assert await page.is_checked("#rating-2")
                assert await page.inner_text("legend") == "How well did we keep our word to you?"
                await page.screenshot(path=str(tmp_path / "rating.png"))
                await asyncio.sleep(1)
                assert await _count(probe, thread, CustomerRated) == 0  # opening changed nothing

                # Keyboard only: the arrow moves the choice to "1 - Very badly", Tab reaches
                # the comment box and then the button.
                await page.focus("#rating-2")
                await page.keyboard.press("ArrowDown")
                assert await page.is_checked("#rating-1")
                await page.keyboard.press("Tab")
                await page.keyboard.type("You said you would call on Monday. Nobody did.")
                await page.keyboard.press("Tab")
                async with page.expect_navigation():
                    await page.keyboard.press("Enter")
                thanks = await page.inner_text("main")
                await browser.close()
            assert "We recorded your answer: 1 (Very badly)" in thanks

            rated = await _seen(probe, thread, CustomerRated)
            assert isinstance(rated, CustomerRated)
            assert (rated.rating, rated.revision) == (1, 1)
            assert rated.comment == "You said you would call on Monday. Nobody did."
            opened = await _seen(probe, thread, EscalationOpened)
            assert isinstance(opened, EscalationOpened)
            assert opened.rule is EscalationRule.UNHAPPY_CUSTOMER
            assert opened.manager.email == "morgan.lead@brightline.example"
            assert opened.customer_comment == rated.comment
    finally:
        for service in services:
            service.stop()

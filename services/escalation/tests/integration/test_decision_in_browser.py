"""A manager decides through the decision page in a real headless Chromium (Debian's package,
driven by Playwright with that executable), against escalation running as its own process."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import httpx
import pytest
from keepword_events import EscalationOpened, OptionKind, decode, new_envelope, topics
from keepword_platform.decision_links import decision_url, sign_decision
from keepword_platform.kafka import make_broker, publish
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import start_service
from playwright.async_api import async_playwright

from .conftest import FAST_SLA
from .test_rules import customer_message

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SECRET = "a-test-secret-for-decision-links"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
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


async def test_a_manager_decides_in_a_real_browser(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "sla.toml"
    # A decision time long enough that the escalation is still at level 1 when the page opens.
    config.write_text(FAST_SLA.replace('manager_decision = "3s"', 'manager_decision = "1h"'))
    service = start_service(
        "escalation",
        log_dir=tmp_path,
        env={
            "KEEPWORD_KAFKA_BOOTSTRAP": fresh_kafka,
            "KEEPWORD_DATABASE_URL": database_url,
            "KEEPWORD_CONFIG": str(config),
            "KEEPWORD_LINK_SECRET": SECRET,
        },
    )
    try:
        await asyncio.to_thread(service.wait_healthy, 60)
        thread = f"thr-{uuid.uuid4().hex[:16]}"
        async with TopicProbe(fresh_kafka, [topics.ESCALATIONS]) as probe:
            producer = make_broker(KeepwordSettings(kafka_bootstrap=fresh_kafka), client_id="t")
            await producer.start()
            await publish(producer, new_envelope(customer_message(thread), source="/test"))
            await producer.stop()
            opened = None
            for _ in range(150):
                for record in await probe.records():
                    data = decode(record.value, record.headers).data
                    if isinstance(data, EscalationOpened) and data.thread_id == thread:
                        opened = data
                if opened:
                    break
                await asyncio.sleep(0.2)
        assert opened is not None, service.log()[-3000:]
        token = sign_decision(
            SECRET,
            escalation_id=opened.escalation_id,
            option=OptionKind.PHONE_CALL.value,
            manager=str(opened.manager.email),
        )
        url = decision_url(service.url, token)
        reader = bearer(await new_key(database_url, ["read"]))

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=_chromium(), args=CHROMIUM_FLAGS
            )
            page = await browser.new_page()
            await page.goto(url)
            assert "Confirm your decision" in await page.inner_text("h1")
            await page.screenshot(path=str(tmp_path / "confirm.png"))
            async with httpx.AsyncClient(base_url=service.url, headers=reader) as http:
                before = (await http.get(f"/v1/threads/{thread}")).json()
            assert before["escalations"][0]["state"] == "open"  # the GET changed nothing

            await page.fill("#note", "Call her this afternoon.")
            async with page.expect_navigation():
                await page.click("#confirm")
            assert "Decision recorded" in await page.inner_text("#done")
            await page.goto(url)  # the same link again
            refused = await page.inner_text("#refused")
            await browser.close()

        async with httpx.AsyncClient(base_url=service.url, headers=reader) as http:
            after = (await http.get(f"/v1/threads/{thread}")).json()
        assert after["escalations"][0]["state"] == "decided"
        assert after["escalations"][0]["decided_option"] == "phone_call"
        assert "already used" in refused
    finally:
        service.stop()

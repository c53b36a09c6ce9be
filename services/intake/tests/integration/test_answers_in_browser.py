"""Production answers promises through intake's answer pages in a real headless Chromium
(Debian's package, driven by Playwright), against intake and commitments running as processes
on a private broker: each answer reaches the ledger once; GET changes nothing; a used link, a
tampered one and another promise's answer link are refused."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from keepword_events import (
    CommitmentAnswered,
    CommitmentStatus,
    CommitmentStatusChanged,
    Verdict,
    decode,
    topics,
)
from keepword_platform.answer_links import answer_url, sign_answer
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import ServiceProcess, start_service
from playwright.async_api import Page, async_playwright

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SECRET = "a-test-secret-for-answer-links!!"
PRODUCTION = "pat.production@brightline.example"
COMPANY = f"""
[company]
name = "Brightline Digital"
support_address = "support@brightline.example"
timezone = "Europe/Warsaw"

[[people]]
email = "{PRODUCTION}"
name = "Pat Production"
role = "production"

[[people]]
email = "sam.sales@brightline.example"
name = "Sam Sales"
role = "sales"
"""
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("no chromium: run `bash deploy/local/browser.sh install` (make test does)")
    return found


async def _declare(http: httpx.AsyncClient, writer: dict[str, str], n: int) -> tuple[str, str]:
    who = {"email": f"ada{n}.{uuid.uuid4().hex[:6]}@example.org", "name": "Ada Lovelace"}
    message = {
        "direction": "inbound",
        "channel": "web",
        "customer": who,
        "author": {**who, "role": "customer"},
        "body": "When will the new site be live?",
    }
    sent = await http.post("/v1/messages", json=message, headers=writer)
    assert sent.status_code == 202, sent.text
    thread = sent.json()["thread_id"]
    promise = {
        "thread_id": thread,
        "made_by": {"email": "sam.sales@brightline.example", "name": "Sam Sales", "role": "sales"},
        "kind": "delivery",
        "text": "Your new site goes live on Friday.",
        "due_at": "2030-01-04T16:00:00Z",
        "customer": who,
    }
    declared = await http.post("/v1/commitments", json=promise, headers=writer)
    assert declared.status_code == 202, declared.text
    return declared.json()["commitment_id"], thread


def _link(intake: ServiceProcess, event: CommitmentStatusChanged, verdict: Verdict) -> str:
    # What the notifier puts in production's email about `event`.
    return answer_url(intake.url, sign_answer(SECRET, event, verdict, PRODUCTION))


async def _awaiting(probe: TopicProbe, ids: list[str]) -> dict[str, CommitmentStatusChanged]:
    """The ledger's "awaiting confirmation" event of each promise: what production is emailed."""
    found: dict[str, CommitmentStatusChanged] = {}
    for _ in range(150):
        for record in await probe.records():
            data = decode(record.value, record.headers).data
            if (
                isinstance(data, CommitmentStatusChanged)
                and data.commitment_id in ids
                and data.status is CommitmentStatus.AWAITING_CONFIRMATION
            ):
                found[data.commitment_id] = data
        if len(found) == len(ids):
            break
        await asyncio.sleep(0.2)
    return found


async def _status(commitments: ServiceProcess, reader: dict[str, str], commitment: str) -> Any:
    async with httpx.AsyncClient(base_url=commitments.url, headers=reader) as http:
        for _ in range(100):
            found = await http.get(f"/v1/commitments/{commitment}")
            if found.status_code == 200:
                return found.json()["status"]
            await asyncio.sleep(0.2)
    return None


async def _answer(page: Page, url: str, *, note: str, feasible: tuple[str, str] | None) -> str:
    await page.goto(url)
    await page.fill("#note", note)
    if feasible:
        await page.fill("#feasible_date", feasible[0])
        await page.fill("#feasible_time", feasible[1])
    async with page.expect_navigation():
        await page.keyboard.press("Tab")  # the button is reached from the keyboard
        await page.focus("#send")
        await page.keyboard.press("Enter")
    return await page.inner_text("h1")


async def test_production_confirms_rejects_and_counters_in_a_real_browser(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "company.toml"
    config.write_text(COMPANY)
    env = {
        "KEEPWORD_KAFKA_BOOTSTRAP": fresh_kafka,
        "KEEPWORD_DATABASE_URL": database_url,
        "KEEPWORD_CONFIG": str(config),
        "KEEPWORD_LINK_SECRET": SECRET,
    }
    intake = start_service("intake", log_dir=tmp_path, env=env)
    commitments = start_service("commitments", log_dir=tmp_path, env=env)
    try:
        await asyncio.gather(
            asyncio.to_thread(intake.wait_healthy, 60),
            asyncio.to_thread(commitments.wait_healthy, 60),
        )
        writer = bearer(await new_key(database_url, ["write"]))
        reader = bearer(await new_key(database_url, ["read"]))
        async with (
            TopicProbe(fresh_kafka, [topics.COMMITMENTS]) as ledger,
            httpx.AsyncClient(base_url=intake.url) as http,
        ):
            declared = [await _declare(http, writer, n) for n in range(3)]
            confirm_id, reject_id, counter_id = ids = [c for c, _ in declared]
            awaiting = await _awaiting(ledger, ids)
        assert len(awaiting) == 3, commitments.log()[-3000:]
        confirm = _link(intake, awaiting[confirm_id], Verdict.CONFIRMED)
        reject = _link(intake, awaiting[reject_id], Verdict.REJECTED)
        counter = _link(intake, awaiting[counter_id], Verdict.COUNTERED)
        other_answer = _link(intake, awaiting[confirm_id], Verdict.REJECTED)

        async with TopicProbe(fresh_kafka, [topics.COMMITMENT_REQUESTS]) as probe:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=_chromium(), args=CHROMIUM_FLAGS
                )
                page = await browser.new_page()
                await page.goto(counter)
                shown = await page.inner_text("main")
                assert "Your new site goes live on Friday." in shown
                assert "Ada Lovelace" in shown
                assert "Sam Sales" in shown
                assert "Friday 4 January 2030, 17:00 (Europe/Warsaw)" in shown
                assert await page.get_attribute("#feasible_date", "type") == "date"
                await page.screenshot(path=str(tmp_path / "counter.png"))
                # Opening the page changed nothing.
                assert await _status(commitments, reader, counter_id) == "awaiting_confirmation"

                headings = [
                    await _answer(page, confirm, note="We can do it.", feasible=None),
                    await _answer(page, reject, note="Not this week.", feasible=None),
                    await _answer(
                        page, counter, note="Monday works.", feasible=("2030-01-07", "09:30")
                    ),
                ]
                await page.goto(confirm)  # the same link again
                used = await page.inner_text("#refused")
                await page.goto(other_answer)  # another answer to a promise answered already
                closed = await page.inner_text("#refused")
                await page.goto(confirm[:-3] + ("abc" if not confirm.endswith("abc") else "xyz"))
                tampered = await page.inner_text("#refused")
                await browser.close()

            assert headings == ["Answer recorded"] * 3
            assert "already used" in used
            assert "already answered" in closed
            assert "not valid" in tampered
            statuses = {
                c: await _status(commitments, reader, c)
                for c in (confirm_id, reject_id, counter_id)
            }
            for _ in range(100):
                if list(statuses.values()) == ["confirmed", "rejected", "countered"]:
                    break
                await asyncio.sleep(0.2)
                statuses = {c: await _status(commitments, reader, c) for c in statuses}
            assert list(statuses.values()) == ["confirmed", "rejected", "countered"]

            answers: list[CommitmentAnswered] = []
            for record in await probe.records():
                data = decode(record.value, record.headers).data
                if isinstance(data, CommitmentAnswered):
                    answers.append(data)
        assert sorted(a.commitment_id for a in answers) == sorted(
            [confirm_id, reject_id, counter_id]
        )
        [countered] = [a for a in answers if a.commitment_id == counter_id]
        assert countered.feasible_due_at is not None
        assert countered.feasible_due_at.isoformat() == "2030-01-07T08:30:00+00:00"
        assert countered.answered_by.name == "Pat Production"
        async with httpx.AsyncClient(base_url=commitments.url, headers=reader) as http:
            history = (await http.get(f"/v1/commitments/{confirm_id}")).json()["history"]
        assert [m["to_status"] for m in history].count("confirmed") == 1
    finally:
        intake.stop()
        commitments.stop()

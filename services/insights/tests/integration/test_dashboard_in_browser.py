"""A manager reads the dashboard in a real headless Chromium (Debian's package, driven by
Playwright with that executable), against insights served by uvicorn on the real PostgreSQL and
a private Kafka broker, over a few hundred threads of the seeded month recorded by the
service's own handlers.

Nothing is readable before signing in; the emailed link signs in; every chart is drawn (the
screenshots are kept under .local/test-artefacts/dashboard/); a filter changes the numbers; a
number leads to the threads behind it.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from keepword_insights.app import create_app
from keepword_insights.dashboard_filters import filters_of
from keepword_insights.handlers import INPUTS, Recorder
from keepword_insights.settings import InsightsSettings
from keepword_platform.dashboard_links import dashboard_link, sign_dashboard
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.processes import free_port
from keepword_testkit.seeded_threads import SeededThreads
from playwright.async_api import Page, async_playwright

from .test_seeded_month import COMPANY, DESK, END, SEED, START, ZONE, drop_facts

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SECRET = "a-test-secret-for-the-dashboard-links"
MANAGER = "lead0@brightline.example"
STAFF_MEMBER = "sales0@brightline.example"
PEOPLE = f"""
[[people]]
email = "{MANAGER}"
name = "Lee Lead"
role = "management"
level = 1

[[people]]
email = "{STAFF_MEMBER}"
name = "Sam Sales"
role = "sales"
"""
THREADS = 300
ARTEFACTS = Path(__file__).resolve().parents[4] / ".local" / "test-artefacts" / "dashboard"
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
CHARTS = ("chart-replies", "chart-promises", "chart-escalations")
WHOLE = {"from": START.date().isoformat(), "to": (END - timedelta(days=1)).date().isoformat()}


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("no chromium: run `bash deploy/local/browser.sh install` (make test does)")
    return found


@dataclass
class Served:
    url: str
    events: int
    reader: dict[str, str]


async def _seed(app: Any) -> int:
    """A few hundred threads of the seeded month, each event through the service's handler."""
    month = SeededThreads(SEED, DESK, source="/test/month")
    span = int((END - START).total_seconds()) - 5 * 86400
    for n in range(THREADS):
        month.thread(f"month-{n:05d}", START, span)
    recorder = Recorder()
    async with app.state.runtime.db.acquire() as conn, conn.transaction():
        for envelope in month.envelopes:
            await INPUTS.handle(recorder, conn, envelope)
    return len(month.envelopes)


@pytest.fixture(scope="module")
async def served(
    fresh_kafka: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Served]:
    config = tmp_path_factory.mktemp("dashboard") / "company.toml"
    config.write_text(COMPANY + PEOPLE)
    await drop_facts(database_url)  # an earlier run's facts, on the same database
    port = free_port()
    settings = InsightsSettings(
        kafka_bootstrap=fresh_kafka,
        database_url=database_url,
        config=config,
        link_secret=SECRET,
        insights_public_url=f"http://127.0.0.1:{port}",
        gauge_refresh_seconds=3600,
    )
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(300):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        events = await _seed(app)
        reader = bearer(await new_key(database_url, ["read"]))
        yield Served(f"http://127.0.0.1:{port}", events, reader)
    finally:
        server.should_exit = True
        await serving


async def _number(page: Page, selector: str) -> int:
    return int((await page.inner_text(selector)).strip())


async def _apply(page: Page, first: str, last: str, team: str) -> None:
    await page.fill("#from", first)
    await page.fill("#to", last)
    await page.select_option("#team", team)
    async with page.expect_navigation():
        await page.click("#apply")


async def test_a_manager_signs_in_from_the_email_and_reads_the_dashboard(served: Served) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    link = dashboard_link(SECRET, served.url, MANAGER)
    async with httpx.AsyncClient(base_url=served.url, headers=served.reader) as api:
        whole = (await api.get("/v1/indices", params=_rfc3339(WHOLE))).json()
        service = await api.get("/v1/indices", params=_rfc3339(WHOLE) | {"team": "service"})
        service_first = service.json()["replies"]["first_reply"]["all"]["count"]

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        stranger = await browser.new_page()
        for path in ("/dashboard", f"/dashboard/threads?cell=reply:all&from={WHOLE['from']}"):
            answer = await stranger.goto(served.url + path)
            assert answer is not None
            assert answer.status == 401
            assert "Sign in from your email" in await stranger.inner_text("h1")
        await stranger.screenshot(path=str(ARTEFACTS / "not-signed-in.png"))

        manager = await browser.new_page()
        answer = await manager.goto(link)
        assert answer is not None
        assert answer.status == 200
        assert manager.url == f"{served.url}/dashboard"
        assert f"Signed in as {MANAGER}" in await manager.inner_text(".who")
        [cookie] = await manager.context.cookies()
        assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Lax", False)

        # The whole seeded period, all teams: the numbers are the API's.
        await _apply(manager, WHOLE["from"], WHOLE["to"], "")
        first_replies = await _number(manager, "#first-replies")
        assert first_replies == whole["replies"]["first_reply"]["all"]["count"] > 100
        assert await _number(manager, "#promises-made") == whole["promises"]["all"]["made"]
        assert await _number(manager, "#promise-gap") == whole["promises"]["all"]["gap"] > 0
        for chart in CHARTS:
            figure = manager.locator(f"#{chart}")
            box = await figure.locator("svg").bounding_box()
            assert box is not None
            assert box["width"] > 300, chart
            assert box["height"] > 150, chart
            assert await figure.locator("svg path").count() > 20, chart  # bars, axes, ticks
            await figure.screenshot(path=str(ARTEFACTS / f"{chart}.png"))
        assert "SLA (first reply)" in await manager.inner_text("#chart-replies")
        await manager.screenshot(path=str(ARTEFACTS / "dashboard.png"), full_page=True)

        # A filter: the service team only.
        await _apply(manager, WHOLE["from"], WHOLE["to"], "service")
        assert "service" in manager.url
        narrowed = await _number(manager, "#first-replies")
        assert narrowed == service_first < first_replies
        assert await manager.locator("#table-gap tbody th").all_inner_texts() == [
            "service",
            "all teams",
        ]
        await manager.screenshot(path=str(ARTEFACTS / "dashboard-service.png"), full_page=True)

        # A number, followed to its threads: the service team's first replies within the SLA.
        within = manager.locator("#within-sla a")
        shown = int(await within.inner_text())
        async with manager.expect_navigation():
            await within.click()
        assert "First replies within the SLA" in await manager.inner_text("h1")
        assert await _number(manager, "#count") == shown
        rows = manager.locator("#threads tbody tr")
        listed = await _number(manager, "#thread-count")
        assert 0 < listed <= shown
        assert await rows.count() == listed
        first_row = await rows.first.locator("td, th").all_inner_texts()
        assert first_row[0].startswith("month-")
        assert first_row[1] == f"{first_row[0]}@customer.example"
        assert first_row[2].startswith(("waiting since", "answered"))
        await manager.screenshot(path=str(ARTEFACTS / "threads.png"), full_page=True)
        async with manager.expect_navigation():
            await manager.click("#back")
        assert await _number(manager, "#first-replies") == narrowed  # the filters kept

        # The stranger still sees nothing, even with the page's own URLs.
        answer = await stranger.goto(manager.url)
        assert answer is not None
        assert answer.status == 401
        await browser.close()
    print(f"\ndashboard screenshots: {ARTEFACTS}")


def _rfc3339(days: dict[str, str]) -> dict[str, str]:
    """The API's form of the dashboard's whole days (company time: Berlin)."""
    period = filters_of(days, START.date(), ZONE).period()
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


async def test_links_keys_and_sessions_are_checked(served: Served, database_url: str) -> None:
    writer = bearer(await new_key(database_url, ["write"]))
    async with httpx.AsyncClient(base_url=served.url) as http:
        assert (await http.get("/dashboard", headers=served.reader)).status_code == 200
        assert (await http.get("/dashboard", headers=writer)).status_code == 403
        assert (await http.get("/dashboard", headers=bearer("kw_x_y"))).status_code == 401
        async with httpx.AsyncClient(
            base_url=served.url, cookies={"keepword_dashboard": "forged.value"}
        ) as forger:
            assert (await forger.get("/dashboard")).status_code == 401
        token = sign_dashboard(SECRET, manager=MANAGER)
        assert (await http.get(f"/dashboard/sign-in/{token}x")).status_code == 400
        not_a_manager = sign_dashboard(SECRET, manager=STAFF_MEMBER)
        assert (await http.get(f"/dashboard/sign-in/{not_a_manager}")).status_code == 403
        signed_in = await http.get(f"/dashboard/sign-in/{token}")
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/dashboard"
        assert signed_in.headers["cache-control"] == "no-store"
        assert signed_in.headers["referrer-policy"] == "no-referrer"
        page = await http.get("/dashboard", params={"from": "2025-13-01"})
        assert page.status_code == 422
        assert "must be a date" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        unknown = await http.get("/dashboard/threads", params={"cell": "reply:99"})
        assert unknown.status_code == 404

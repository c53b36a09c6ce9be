"""The stories of `make demo`, played through the public interfaces of the five services running
as processes (HTTP API, inbound SMTP, the links in the emails), checked on what comes out: the
emails in a real mail catcher and the events on the topics.

Assertions say what must be true (the right people got the right kinds of email, the links
work, the customer never gets internal mail), not exact counts: a digest of repeated
escalation emails may change how many there are.
"""

from __future__ import annotations

import io
import re

import httpx
import pytest
from keepword_events import EscalationOpened
from keepword_platform.company import load_company_config
from keepword_platform.settings import DEVELOPMENT_LINK_SECRET
from keepword_testkit.demo_indices import show_indices
from keepword_testkit.stories import STORIES
from keepword_testkit.stories.describe import describe
from rich.console import Console

from .conftest import DEMO_CONFIG, PlayedStories

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]


@pytest.mark.parametrize("key", [story.key for story in STORIES])
async def test_story(played: PlayedStories, key: str) -> None:
    run = played.runs[key]

    missing = [f.what for f in played.findings[key] if not f.ok]

    if missing:
        timeline = "\n".join(
            f"  {e.time:%H:%M:%S.%f}"[:-3] + f"  {describe(e)[1]}"
            for e in played.feed.of_thread(run.thread_id or "-")
        )
        pytest.fail(
            "\n".join(missing)
            + f"\nthread {run.thread_id}, timeline:\n{timeline}\n{played.system.troubles()}",
            pytrace=False,
        )


async def test_the_demo_shows_each_thread_as_it_happens(played: PlayedStories) -> None:
    shown = played.shown

    for run in played.runs.values():
        assert f"thread {run.thread_id}" in shown  # the thread's timeline at the end
        live = [line for line in shown.splitlines() if f" {run.story.key} " in line]
        assert any("message in" in line for line in live), live
        assert any("escalation opened" in line for line in live), live
        assert any("email sent" in line for line in live), live
    assert "expectations met" in shown


async def test_the_demo_ends_with_the_stories_indices_and_the_dashboard_link(
    played: PlayedStories,
) -> None:
    opened = sum(
        1
        for run in played.runs.values()
        for envelope in played.feed.of_thread(run.thread_id or "-")
        if isinstance(envelope.data, EscalationOpened)
    )
    output = io.StringIO()
    async with httpx.AsyncClient(timeout=30) as http:
        await show_indices(
            Console(file=output, width=160, highlight=False),
            http,
            insights_url=played.system.services["insights"].url,
            api_key=played.api_key,
            since=played.began,
            escalations_expected=opened,
            company=load_company_config(DEMO_CONFIG),
            link_secret=DEVELOPMENT_LINK_SECRET,
            public_url="http://127.0.0.1:8084",
        )
    shown = output.getvalue()

    counted = re.search(r"escalations opened\s+(\d+)", shown)
    assert counted, shown
    assert int(counted[1]) == opened > 0
    assert re.search(r"first replies\s+\d+, median", shown), shown
    assert "/dashboard/sign-in/" in shown

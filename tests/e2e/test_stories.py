"""The stories of `make demo`, played through the public interfaces of the four services running
as processes (HTTP API, inbound SMTP, the links in the emails), checked on what comes out: the
emails in a real mail catcher and the events on the topics.

Assertions say what must be true (the right people got the right kinds of email, the links
work, the customer never gets internal mail), not exact counts: a digest of repeated
escalation emails may change how many there are.
"""

from __future__ import annotations

import pytest
from keepword_testkit.stories import STORIES
from keepword_testkit.stories.describe import describe

from .conftest import PlayedStories

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]


@pytest.mark.parametrize("key", [story.key for story in STORIES])
async def test_story(played: PlayedStories, key: str) -> None:
    run = played.runs[key]
    timeline = "\n".join(
        f"  {e.time:%H:%M:%S.%f}"[:-3] + f"  {describe(e)[1]}"
        for e in played.feed.of_thread(run.thread_id or "-")
    )
    context = f"\nthread {run.thread_id}, timeline:\n{timeline}"
    if key in played.failures:
        pytest.fail(f"{played.failures[key]}{context}\n{played.system.troubles()}", pytrace=False)

    missing = [f.what for f in played.findings[key] if not f.ok]
    assert not missing, "\n".join(missing) + context

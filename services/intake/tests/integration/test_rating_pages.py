"""The rating page against the real broker and database: GET changes nothing, POST needs the
page's token and publishes CustomerRated on keepword.feedback.v1, a change is a new revision,
a week later the rating stands; tampered and expired links are refused."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import httpx
from keepword_events import CustomerRated, decode, topics
from keepword_platform.rating_links import rating_url, sign_rating
from keepword_testkit.kafka_probe import TopicProbe

from .conftest import IntakeClient


def _link(intake: IntakeClient, thread: str, rating: int | None) -> str:
    secret = intake.app.state.runtime.settings.link_secret
    token = sign_rating(secret, thread_id=thread, rating=rating)
    return rating_url("", token)


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


async def _ratings(probe: TopicProbe, thread: str) -> list[CustomerRated]:
    found = []
    for record in await probe.records():
        data = decode(record.value, record.headers).data
        if isinstance(data, CustomerRated) and data.thread_id == thread:
            found.append(data)
    return found


async def test_a_customer_rates_changes_it_and_a_week_later_it_stands(
    intake: IntakeClient, catalog_topics: str
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    url = _link(intake, thread, 2)
    async with TopicProbe(catalog_topics, [topics.FEEDBACK]) as probe:
        page = await intake.http.get(url)
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert re.search(r'id="rating-2"[^>]*checked', page.text)
        assert "<script" not in page.text
        assert "<legend>How well did we keep our word to you?</legend>" in page.text
        assert '<label for="comment">' in page.text

        forged = await intake.http.post(url, data={"rating": "1"})  # no token from the page
        assert forged.status_code == 403

        await asyncio.sleep(1)
        assert await _ratings(probe, thread) == []  # neither the GET nor the forged POST
        pool = intake.app.state.runtime.db
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM intake.customer_ratings WHERE thread_id = $1", thread
            )
            == 0
        )

        done = await intake.http.post(
            url, data={"csrf_token": _csrf(page), "rating": "2", "comment": "Late, twice."}
        )
        assert done.status_code == 200, done.text
        assert "We recorded your answer: 2 (Badly)" in done.text

        other = _link(intake, thread, 4)  # another link of the same email: a change
        again = await intake.http.get(other)
        assert "You answered 2 (Badly)" in again.text
        changed = await intake.http.post(other, data={"csrf_token": _csrf(again), "rating": "4"})
        assert changed.status_code == 200

        for _ in range(50):
            rated = await _ratings(probe, thread)
            if len(rated) == 2:
                break
            await asyncio.sleep(0.2)
        assert [(r.rating, r.comment, r.revision) for r in rated] == [
            (2, "Late, twice.", 1),
            (4, None, 2),
        ]

        await pool.execute(  # a week and a day later
            """UPDATE intake.customer_ratings SET first_rated_at = first_rated_at - $2::interval
                WHERE thread_id = $1""",
            thread,
            timedelta(days=8),
        )
        late = await intake.http.get(url)
        assert late.status_code == 409
        assert "Your answer stands" in late.text
        posted = await intake.http.post(url, data={"csrf_token": _csrf(page), "rating": "1"})
        assert posted.status_code == 409
        await asyncio.sleep(1)
        assert len(await _ratings(probe, thread)) == 2


async def test_a_form_without_an_answer_is_shown_again(intake: IntakeClient) -> None:
    url = _link(intake, f"thr-{uuid.uuid4().hex[:16]}", None)
    page = await intake.http.get(url)
    assert "checked" not in page.text
    again = await intake.http.post(url, data={"csrf_token": _csrf(page), "comment": "Hm."})
    assert again.status_code == 422
    assert "Please choose one answer" in again.text
    assert "Hm.</textarea>" in again.text


async def test_tampered_and_expired_links_get_the_refused_page(intake: IntakeClient) -> None:
    url = _link(intake, "thr-x", 5)
    tampered = await intake.http.get(url[:-3] + "abc")
    assert tampered.status_code == 400
    assert 'id="refused"' in tampered.text
    posted = await intake.http.post(url[:-3] + "abc", data={"rating": "5"})
    assert posted.status_code == 400
    config = intake.app.state.runtime.company
    short = config.model_copy(
        update={"feedback": config.feedback.model_copy(update={"links_valid_for": timedelta(0)})}
    )
    intake.app.state.runtime.company = short
    try:
        await asyncio.sleep(1.1)  # the token's timestamp has a resolution of a second
        expired = await intake.http.get(url)
    finally:
        intake.app.state.runtime.company = config
    assert expired.status_code == 410

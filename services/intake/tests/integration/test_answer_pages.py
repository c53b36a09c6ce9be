"""Intake's answer pages in-process on the real database: what is refused, and how."""

from __future__ import annotations

import time

import pytest
from keepword_platform import signed_links
from keepword_platform.settings import DEVELOPMENT_LINK_SECRET

from .conftest import IntakeClient

CLAIMS = {
    "c": "cmt-pages",
    "t": "thr-pages",
    "v": "countered",
    "p": "pat.production@brightline.example",
    "k": "delivery",
    "x": "Your new site goes live on Friday.",
    "d": "2030-01-04T16:00:00+00:00",
    "m": "Sam Sales",
    "w": "Ada Lovelace",
}


def _token(**changes: str) -> str:
    return signed_links.sign(DEVELOPMENT_LINK_SECRET, "answer", CLAIMS | changes)


async def test_the_page_is_private_and_its_form_accessible(intake: IntakeClient) -> None:
    shown = await intake.http.get(f"/answers/{_token()}")
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert shown.headers["x-frame-options"] == "DENY"
    html = shown.text
    assert '<label for="feasible_date">' in html
    assert '<input type="date" id="feasible_date"' in html
    zone = intake.app.state.runtime.company.company.timezone  # KEEPWORD_CONFIG's
    assert f"<legend>The time you can meet ({zone})</legend>" in html
    assert "<script" not in html


async def test_an_expired_link_is_refused(
    intake: IntakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _token()
    hours = intake.app.state.runtime.settings.answer_link_hours
    later = time.time() + hours * 3600 + 1
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    refused = await intake.http.get(f"/answers/{token}")
    assert refused.status_code == 410
    assert "expired" in refused.text


async def test_another_purposes_token_and_a_form_without_its_token_are_refused(
    intake: IntakeClient,
) -> None:
    decision = signed_links.sign(DEVELOPMENT_LINK_SECRET, "decision", CLAIMS)
    assert (await intake.http.get(f"/answers/{decision}")).status_code == 400
    posted = await intake.http.post(
        f"/answers/{_token()}",
        content="note=hi",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert posted.status_code == 403


async def test_a_counter_in_the_past_is_asked_again_and_nothing_is_recorded(
    intake: IntakeClient,
) -> None:
    token = _token()
    link = signed_links.read(DEVELOPMENT_LINK_SECRET, "answer", token, max_age_seconds=60)
    csrf = signed_links.csrf_token(DEVELOPMENT_LINK_SECRET, "answer", token)
    posted = await intake.http.post(
        f"/answers/{token}",
        data={"csrf_token": csrf, "feasible_date": "2020-01-01", "feasible_time": "09:00"},
    )
    assert posted.status_code == 422
    assert "in the future" in posted.text
    used = await intake.app.state.runtime.db.fetchval(
        "SELECT count(*) FROM intake.link_uses WHERE nonce = $1", link.nonce
    )
    assert used == 0

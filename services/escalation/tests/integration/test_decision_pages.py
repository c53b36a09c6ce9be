"""Decision pages behind signed links: GET changes nothing, POST with the page's CSRF token
decides once; tampered, expired, reused and misdirected links are refused."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from keepword_escalation import repository
from keepword_events import EscalationOpened, EscalationResolved, OptionKind
from keepword_platform.decision_links import sign_decision

from .conftest import Escalation
from .test_rules import customer_message

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

MORGAN = "morgan.lead@brightline.example"


async def _opened(escalation: Escalation) -> EscalationOpened:
    t = f"thr-{uuid.uuid4().hex[:16]}"
    await escalation.send(customer_message(t))
    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))
    return next(e for e in events if isinstance(e, EscalationOpened))


def _link(
    escalation: Escalation, opened: EscalationOpened, option: str, manager: str = MORGAN
) -> str:
    secret = escalation.app.state.runtime.settings.link_secret
    token = sign_decision(
        secret, escalation_id=opened.escalation_id, option=option, manager=manager
    )
    return f"/decisions/{token}"


async def _state(escalation: Escalation, escalation_id: str) -> str:
    async with escalation.app.state.runtime.db.acquire() as conn:
        found = await repository.load_escalation(conn, escalation_id)
    assert found is not None
    return found.state.value


async def test_get_shows_and_changes_nothing_post_decides_once(escalation: Escalation) -> None:
    opened = await _opened(escalation)
    link = _link(escalation, opened, OptionKind.REFUND.value)

    pages = [await escalation.http.get(link) for _ in range(3)]  # a mail scanner, then a person
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert "Confirm your decision" in pages[0].text
    assert pages[0].headers["cache-control"] == "no-store"
    assert await _state(escalation, opened.escalation_id) == "open"

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', pages[-1].text)
    assert csrf is not None
    forged = await escalation.http.post(link, data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert await _state(escalation, opened.escalation_id) == "open"

    decided = await escalation.http.post(link, data={"csrf_token": csrf[1], "note": "Refund her."})
    assert decided.status_code == 200
    assert "Decision recorded" in decided.text
    assert await _state(escalation, opened.escalation_id) == "resolved"
    events = await escalation.wait_for(
        opened.thread_id, lambda e: any(isinstance(x, EscalationResolved) for x in e)
    )
    assert any(getattr(e, "note", None) == "Refund her." for e in events)

    reused = await escalation.http.post(link, data={"csrf_token": csrf[1]})
    again = await escalation.http.get(link)
    assert (reused.status_code, again.status_code) == (409, 409)
    assert "already used" in again.text


async def test_tampered_expired_and_misdirected_links_are_refused(
    escalation: Escalation, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = await _opened(escalation)
    good = _link(escalation, opened, OptionKind.PHONE_CALL.value)
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    other_manager = _link(
        escalation, opened, OptionKind.PHONE_CALL.value, "drew.director@brightline.example"
    )
    not_offered = _link(escalation, opened, "teleport")
    real_time = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real_time() - 4 * 86_400)
    expired = _link(escalation, opened, OptionKind.PHONE_CALL.value)
    monkeypatch.undo()

    answers = {
        name: await escalation.http.get(link)
        for name, link in {
            "tampered": tampered,
            "expired": expired,
            "other manager": other_manager,
            "not offered": not_offered,
        }.items()
    }

    assert {k: v.status_code for k, v in answers.items()} == {
        "tampered": 400,
        "expired": 410,
        "other manager": 403,
        "not offered": 409,
    }
    assert "expired" in answers["expired"].text
    assert await _state(escalation, opened.escalation_id) == "open"

"""A signed link acts once, even when Kafka fails the first time (real PostgreSQL)."""

from __future__ import annotations

from typing import Any

from keepword_intake.pages.link_uses import act_once, use_of
from keepword_intake.publishing import BrokerUnavailable
from keepword_platform import signed_links

from .conftest import IntakeClient

SECRET = "a-test-secret-of-thirty-two-bytes!"


async def test_a_failed_publish_is_retried_with_the_stored_action_and_the_same_event_id(
    intake: IntakeClient,
) -> None:
    pool = intake.app.state.runtime.db
    token = signed_links.sign(SECRET, "answer", {"c": "cmt_x"})
    link = signed_links.read(SECRET, "answer", token, max_age_seconds=60)
    published: list[tuple[dict[str, Any], str]] = []
    broker_up = False

    async def publish(action: dict[str, Any], event_id: str) -> None:
        if not broker_up:
            raise BrokerUnavailable("down")
        published.append((action, event_id))

    first = await act_once(pool, link, subject="cmt_x", action={"note": "A"}, publish=publish)
    assert first == "unavailable"
    use = await use_of(pool, link.nonce)
    assert use is not None
    assert not use.done

    broker_up = True
    second = await act_once(pool, link, subject="cmt_x", action={"note": "B"}, publish=publish)
    third = await act_once(pool, link, subject="cmt_x", action={"note": "C"}, publish=publish)
    assert (second, third) == ("done", "used")
    assert published == [({"note": "A"}, use.event_id)]

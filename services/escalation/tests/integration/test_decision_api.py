"""The decision API follows the decision pages' policy: only the manager the escalation is with
now may decide (another manager of the chain is refused with 403, nothing changes), and only
through a `decide` key bound to that manager."""

from __future__ import annotations

import uuid

import pytest
from keepword_escalation import repository
from keepword_events import EscalationOpened, OptionKind
from keepword_testkit.api_keys import bearer, new_key

from .conftest import Escalation
from .test_rules import customer_message

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

MORGAN = "morgan.lead@brightline.example"  # level 1: the escalation opens to them
DREW = "drew.director@brightline.example"  # level 2


async def test_only_the_manager_asked_decides_through_the_api(escalation: Escalation) -> None:
    t = f"thr-{uuid.uuid4().hex[:16]}"
    await escalation.send(customer_message(t))
    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))
    opened = next(e for e in events if isinstance(e, EscalationOpened))
    db = escalation.app.state.runtime.db
    url = f"/v1/escalations/{opened.escalation_id}/decisions"
    headers = bearer(await new_key(db, ["decide"], manager=MORGAN))
    drews = bearer(await new_key(db, ["decide"], manager=DREW))

    def decision(by: str) -> dict[str, str]:
        return {"option": OptionKind.PHONE_CALL.value, "decided_by": by}

    other = await escalation.http.post(url, json=decision(DREW), headers=drews)
    assert other.status_code == 403, other.text
    assert other.json()["type"].endswith("not-yours")
    posing = await escalation.http.post(url, json=decision(DREW), headers=headers)
    assert posing.status_code == 403, posing.text
    assert posing.json()["type"].endswith("not-this-keys-manager")
    async with db.acquire() as conn:
        unchanged = await repository.load_escalation(conn, opened.escalation_id)
    assert unchanged is not None
    assert unchanged.state.value == "open"

    missing = await escalation.http.post(
        "/v1/escalations/esc-none/decisions", json=decision(MORGAN), headers=headers
    )
    assert missing.status_code == 404

    asked = await escalation.http.post(url, json=decision(MORGAN.upper()), headers=headers)
    assert asked.status_code == 200, asked.text
    assert asked.json()["state"] == "decided"


async def test_a_decide_key_bound_to_no_manager_decides_nothing(escalation: Escalation) -> None:
    t = f"thr-{uuid.uuid4().hex[:16]}"
    await escalation.send(customer_message(t))
    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))
    opened = next(e for e in events if isinstance(e, EscalationOpened))
    db = escalation.app.state.runtime.db
    unbound = bearer(await new_key(db, ["read", "decide"]))

    answer = await escalation.http.post(
        f"/v1/escalations/{opened.escalation_id}/decisions",
        json={"option": OptionKind.PHONE_CALL.value, "decided_by": MORGAN},
        headers=unbound,
    )

    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith("key-not-bound")
    async with db.acquire() as conn:
        unchanged = await repository.load_escalation(conn, opened.escalation_id)
    assert unchanged is not None
    assert unchanged.state.value == "open"

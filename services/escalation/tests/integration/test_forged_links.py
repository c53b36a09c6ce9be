"""A decision link signed with the public development secret decides nothing in production:
a production deployment must run with a secret of its own (production_checks), and with it
the forged link is refused while a genuine one decides."""

from __future__ import annotations

import uuid

import pytest
from keepword_events import EscalationOpened, OptionKind
from keepword_platform.decision_links import csrf_token, sign_decision
from keepword_platform.production_checks import production_problems
from keepword_platform.settings import DEVELOPMENT_LINK_SECRET

from .conftest import Escalation
from .test_rules import customer_message

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

REAL_SECRET = "a-production-secret-of-forty-bytes-00000"  # a test-only secret
MORGAN = "morgan.lead@brightline.example"


@pytest.fixture(autouse=True)
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    """The escalation fixture's settings read these: a production deployment's."""
    monkeypatch.setenv("KEEPWORD_ENV", "production")
    monkeypatch.setenv("KEEPWORD_LINK_SECRET", REAL_SECRET)


async def test_a_link_forged_with_the_development_secret_is_refused(
    escalation: Escalation,
) -> None:
    settings = escalation.app.state.runtime.settings
    assert (settings.env, settings.link_secret) == ("production", REAL_SECRET)
    assert not any("LINK_SECRET" in p for p in production_problems(settings))
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    await escalation.send(customer_message(thread))
    events = await escalation.wait_for(
        thread, lambda e: any(isinstance(x, EscalationOpened) for x in e)
    )
    opened = next(e for e in events if isinstance(e, EscalationOpened))
    claim = {
        "escalation_id": opened.escalation_id,
        "option": OptionKind.REFUND.value,
        "manager": MORGAN,
    }
    forged = sign_decision(DEVELOPMENT_LINK_SECRET, **claim)
    genuine = sign_decision(REAL_SECRET, **claim)

    page = await escalation.http.get(f"/decisions/{forged}")
    decided = await escalation.http.post(
        f"/decisions/{forged}",
        data={"csrf_token": csrf_token(DEVELOPMENT_LINK_SECRET, forged)},
    )

    assert (page.status_code, decided.status_code) == (400, 403)
    assert "not valid" in page.text
    # The genuine link decides (and leaves no escalation waiting for later tests' services).
    real_page = await escalation.http.get(f"/decisions/{genuine}")
    assert real_page.status_code == 200
    real = await escalation.http.post(
        f"/decisions/{genuine}", data={"csrf_token": csrf_token(REAL_SECRET, genuine)}
    )
    assert real.status_code == 200
    assert "Decision recorded" in real.text

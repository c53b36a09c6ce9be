"""Answer links: what production's email signs is what intake's page reads back."""

from __future__ import annotations

from datetime import UTC, datetime

from keepword_events import (
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    Person,
    Role,
    Verdict,
)
from keepword_platform import signed_links
from keepword_platform.answer_links import (
    PURPOSE,
    REQUIRED,
    answer_link,
    answer_url,
    sign_answer,
)

SECRET = "a-test-secret-of-thirty-two-bytes!"


def test_a_signed_answer_link_reads_back_as_the_promise_it_answers() -> None:
    due = datetime(2030, 1, 4, 16, tzinfo=UTC)
    event = CommitmentStatusChanged(
        thread_id="thr-1",
        correlation_id="thr-1",
        commitment_id="cmt-1",
        status=CommitmentStatus.AWAITING_CONFIRMATION,
        kind=CommitmentKind.DELIVERY,
        text="Your new site goes live on Friday. " * 20,
        made_by=Person(email="sam@brightline.example", name="Sam Sales", role=Role.SALES),
        customer=Customer(name="Ada Lovelace", email="ada@example.org"),
        due_at=due,
        source=CommitmentSource(kind="declared"),
        changed_at=due,
    )
    token = sign_answer(SECRET, event, Verdict.COUNTERED, "Pat@Brightline.example")
    claims = signed_links.read(SECRET, PURPOSE, token, max_age_seconds=60, required=REQUIRED)
    link = answer_link(dict(claims.claims))

    assert link is not None
    assert (link.commitment_id, link.thread_id, link.verdict) == ("cmt-1", "thr-1", "countered")
    assert link.person == "pat@brightline.example"
    assert link.due_at == due
    assert len(link.text) == 280
    assert (link.made_by, link.customer) == ("Sam Sales", "Ada Lovelace")
    assert "ada@example.org" not in str(claims.claims)  # no customer address in a URL
    assert answer_url("https://k.example/", token) == f"https://k.example/answers/{token}"

"""The maker's promise pages and customer relations' call page, in-process on the real broker
and database: each publishes what the API would, once; reuse and a second change are refused."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from keepword_events import (
    Channel,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    Event,
    Person,
    ReplySent,
    Role,
    decode,
    topics,
)
from keepword_platform.call_links import call_url, sign_call
from keepword_platform.promise_links import PromiseChange, promise_url, sign_change
from keepword_platform.settings import DEVELOPMENT_LINK_SECRET
from keepword_testkit.kafka_probe import TopicProbe

from .conftest import IntakeClient

MAKER = "sam.sales@brightline.example"


def _countered(thread: str, commitment: str) -> CommitmentStatusChanged:
    due = datetime(2030, 1, 4, 16, tzinfo=UTC)
    return CommitmentStatusChanged(
        thread_id=thread,
        correlation_id=thread,
        commitment_id=commitment,
        status=CommitmentStatus.COUNTERED,
        kind=CommitmentKind.DELIVERY,
        text="Your new site goes live on Friday.",
        made_by=Person(email=MAKER, name="Sam Sales", role=Role.SALES),
        customer=Customer(name="Ada Lovelace", email="ada@example.org"),
        due_at=due,
        feasible_due_at=datetime(2030, 1, 7, 9, 30, tzinfo=UTC),
        source=CommitmentSource(kind="declared"),
        changed_at=due,
    )


async def _post(intake: IntakeClient, url: str, fields: dict[str, str]) -> tuple[int, str]:
    path = url.removeprefix("http://127.0.0.1:8080")
    page = await intake.http.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    posted = await intake.http.post(path, data={"csrf_token": found[1], **fields})
    return posted.status_code, posted.text


async def _events(probe: TopicProbe) -> list[Event]:
    return [decode(r.value, r.headers).data for r in await probe.records()]


async def test_the_maker_renegotiates_once_and_the_withdraw_link_then_says_so(
    intake: IntakeClient, catalog_topics: str
) -> None:
    thread, old = f"thr-{uuid.uuid4().hex[:16]}", f"cmt-{uuid.uuid4().hex}"
    event = _countered(thread, old)
    base = "http://127.0.0.1:8080"
    renegotiate = promise_url(
        base, sign_change(DEVELOPMENT_LINK_SECRET, event, PromiseChange.RENEGOTIATE, MAKER)
    )
    withdraw = promise_url(
        base, sign_change(DEVELOPMENT_LINK_SECRET, event, PromiseChange.WITHDRAW, MAKER)
    )
    async with TopicProbe(catalog_topics, [topics.COMMITMENT_REQUESTS]) as probe:
        shown = await intake.http.get(renegotiate.removeprefix(base))
        assert 'value="2030-01-07"' in shown.text  # production's time, filled in
        assert await _events(probe) == []  # GET published nothing
        status, _ = await _post(
            intake,
            renegotiate,
            {
                "text": "Your new site goes live on Monday.",
                "due_date": "2030-01-07",
                "due_time": "09:30",
            },
        )
        assert status == 200
        again = await intake.http.get(renegotiate.removeprefix(base))
        other = await intake.http.get(withdraw.removeprefix(base))
        declared = [e for e in await _events(probe) if isinstance(e, CommitmentDeclared)]
    assert again.status_code == 409
    assert "already used" in again.text
    assert other.status_code == 409
    assert "already changed" in other.text
    [terms] = declared
    assert terms.supersedes == old
    assert terms.text == "Your new site goes live on Monday."
    # The form's date and time are the company's wall clock (KEEPWORD_CONFIG's time zone).
    zone = ZoneInfo(intake.app.state.runtime.company.company.timezone)
    assert terms.due_at == datetime(2030, 1, 7, 9, 30, tzinfo=zone).astimezone(UTC)
    assert terms.made_by.email == MAKER


async def test_the_maker_withdraws_with_a_reason(intake: IntakeClient, catalog_topics: str) -> None:
    thread, old = f"thr-{uuid.uuid4().hex[:16]}", f"cmt-{uuid.uuid4().hex}"
    event = _countered(thread, old)
    url = promise_url(
        "http://127.0.0.1:8080",
        sign_change(DEVELOPMENT_LINK_SECRET, event, PromiseChange.WITHDRAW, MAKER),
    )
    async with TopicProbe(catalog_topics, [topics.COMMITMENT_REQUESTS]) as probe:
        without_reason, _ = await _post(intake, url, {"reason": ""})
        status, _ = await _post(intake, url, {"reason": "The customer took a refund."})
        cancelled = [e for e in await _events(probe) if isinstance(e, CommitmentCancelled)]
    assert (without_reason, status) == (422, 200)
    assert [(c.commitment_id, c.reason) for c in cancelled] == [
        (old, "The customer took a refund.")
    ]


async def test_customer_relations_logs_the_call_once(
    intake: IntakeClient, catalog_topics: str
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    url = call_url(
        "http://127.0.0.1:8080",
        sign_call(
            DEVELOPMENT_LINK_SECRET,
            thread_id=thread,
            escalation_id="esc-1",
            person="casey.service@brightline.example",
            customer=Customer(name="Ada Lovelace", email="ada@example.org"),
        ),
    )
    async with TopicProbe(catalog_topics, [topics.MESSAGES]) as probe:
        status, _ = await _post(intake, url, {"summary": "Called Ada; new date agreed."})
        again = await intake.http.get(url.removeprefix("http://127.0.0.1:8080"))
        logged = [
            e for e in await _events(probe) if isinstance(e, ReplySent) and e.thread_id == thread
        ]
    assert status == 200
    assert again.status_code == 409
    [call] = logged
    assert call.channel is Channel.PHONE
    assert call.author.role is Role.SERVICE
    assert call.body == "Called Ada; new date agreed."
    assert str(call.customer.email) == "ada@example.org"

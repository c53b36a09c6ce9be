"""The ledger against the real broker and database: transitions, refusals, promises found in
replies, timers, and redelivery changing nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from keepword_commitments.app import SERVICE
from keepword_commitments.handlers import SCHEMA
from keepword_commitments.handlers import Ledger as LedgerRules
from keepword_events import (
    Channel,
    CommitmentAnswered,
    CommitmentDeclared,
    CommitmentFulfilled,
    CommitmentKind,
    CommitmentStatusChanged,
    Customer,
    Person,
    ReplySent,
    Role,
    Verdict,
    decode,
    topics,
)
from keepword_platform.messaging.consumer import EventConsumer
from keepword_platform.messaging.records import DLQ_REASON

from .conftest import Ledger

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SALES = Person(email="sam.sales@brightline.example", name="Sam Ortega", role=Role.SALES)
MARKETING = Person(email="mia.marketing@brightline.example", name="Mia Chen", role=Role.MARKETING)
PRODUCTION = Person(email="pat.production@brightline.example", role=Role.PRODUCTION)
DANA = Customer(email="dana@example.com", name="Dana Whitfield")


def new_thread() -> str:
    return f"thr-{uuid.uuid4().hex[:16]}"


def statuses(
    records: list[ConsumerRecord[bytes, bytes]], thread: str
) -> list[CommitmentStatusChanged]:
    found = []
    for record in records:
        if record.topic == topics.COMMITMENTS and record.key == thread.encode():
            data = decode(record.value, record.headers).data
            assert isinstance(data, CommitmentStatusChanged)
            found.append(data)
    return found


def declared(thread: str, commitment_id: str, **changes: Any) -> CommitmentDeclared:
    fields: dict[str, Any] = {
        "thread_id": thread,
        "correlation_id": thread,
        "commitment_id": commitment_id,
        "made_by": MARKETING,
        "kind": CommitmentKind.OUTCOME,
        "text": "Guaranteed first-page ranking in 30 days",
        "due_at": datetime.now(UTC) + timedelta(days=30),
        "customer": DANA,
    }
    return CommitmentDeclared(**(fields | changes))


def answered(
    thread: str, commitment_id: str, verdict: Verdict, **changes: Any
) -> CommitmentAnswered:
    return CommitmentAnswered(
        thread_id=thread,
        correlation_id=thread,
        commitment_id=commitment_id,
        answered_by=PRODUCTION,
        verdict=verdict,
        **changes,
    )


async def test_promise_countered_renegotiated_confirmed_and_kept(ledger: Ledger) -> None:
    thread = new_thread()
    a, b = f"cmt-a-{thread}", f"cmt-b-{thread}"
    await ledger.send(declared(thread, a))
    await ledger.send(
        answered(
            thread,
            a,
            Verdict.COUNTERED,
            note="Page two in 60 days is feasible.",
            feasible_due_at=datetime.now(UTC) + timedelta(days=60),
        )
    )
    await ledger.send(declared(thread, b, text="Page two within 60 days", supersedes=a))
    await ledger.send(answered(thread, b, Verdict.CONFIRMED))
    await ledger.send(
        CommitmentFulfilled(
            thread_id=thread,
            correlation_id=thread,
            commitment_id=b,
            reported_by=PRODUCTION,
            kept=True,
        )
    )

    records = await ledger.wait_for(lambda r: len(statuses(r, thread)) == 6)

    moves = [(s.commitment_id, s.previous_status, s.status) for s in statuses(records, thread)]
    S = CommitmentKind
    del S
    assert [(c, p.value if p else None, s.value) for c, p, s in moves] == [
        (a, None, "awaiting_confirmation"),
        (a, "awaiting_confirmation", "countered"),
        (a, "countered", "renegotiated"),
        (b, None, "awaiting_confirmation"),
        (b, "awaiting_confirmation", "confirmed"),
        (b, "confirmed", "kept"),
    ]
    countered = statuses(records, thread)[1]
    assert countered.production_note == "Page two in 60 days is feasible."
    assert countered.feasible_due_at is not None

    listed = (await ledger.http.get("/v1/commitments", params={"thread_id": thread})).json()
    assert [(c["commitment_id"], c["status"]) for c in listed["commitments"]] == [
        (a, "renegotiated"),
        (b, "kept"),
    ]
    detail = (await ledger.http.get(f"/v1/commitments/{a}")).json()
    assert [m["to_status"] for m in detail["history"]] == [
        "awaiting_confirmation",
        "countered",
        "renegotiated",
    ]
    assert detail["history"][2]["reason"] == f"renegotiated as {b}"


async def test_an_illegal_answer_is_refused_with_its_reason(ledger: Ledger) -> None:
    thread = new_thread()
    await ledger.send(declared(thread, f"cmt-{thread}"))
    await ledger.send(answered(thread, f"cmt-{thread}", Verdict.REJECTED))
    bad = await ledger.send(answered(thread, f"cmt-{thread}", Verdict.CONFIRMED))

    def refused(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return any(
            r.topic == f"{topics.COMMITMENT_REQUESTS}.dlq" and r.key == thread.encode()
            for r in records
        )

    records = await ledger.wait_for(refused)

    [letter] = [r for r in records if r.topic.endswith(".dlq") and r.key == thread.encode()]
    reason = dict(letter.headers)[DLQ_REASON].decode()
    assert (
        reason
        == f"rejected: commitment cmt-{thread} is rejected; production can no longer answer it"
    )
    assert decode(letter.value, letter.headers).id == bad.id
    assert [s.status.value for s in statuses(records, thread)] == [
        "awaiting_confirmation",
        "rejected",
    ]
    detail = (await ledger.http.get(f"/v1/commitments/cmt-{thread}")).json()
    assert detail["status"] == "rejected"


async def test_a_promise_in_a_reply_is_recorded_and_kept_by_the_next_reply(ledger: Ledger) -> None:
    thread = new_thread()
    now = datetime.now(UTC)

    def reply(body: str, at: datetime) -> ReplySent:
        return ReplySent(
            thread_id=thread,
            correlation_id=thread,
            message_id=f"msg-{uuid.uuid4().hex}",
            channel=Channel.EMAIL,
            customer=DANA,
            author=SALES,
            body=body,
            sent_at=at,
            received_at=at,
        )

    await ledger.send(reply("Thanks Dana. We will respond within three hours.", now))
    await ledger.send(reply("Here is the report you asked for.", now + timedelta(hours=1)))

    records = await ledger.wait_for(lambda r: len(statuses(r, thread)) == 2)

    made, kept = statuses(records, thread)
    assert made.kind is CommitmentKind.RESPONSE_TIME
    assert made.source.kind == "extracted"
    assert made.source.matched_text
    assert made.due_at == now + timedelta(hours=3)
    assert (kept.commitment_id, kept.status.value, kept.reason) == (
        made.commitment_id,
        "kept",
        "answered in time",
    )


async def test_timers_raise_at_risk_then_break_a_promise_not_kept(ledger: Ledger) -> None:
    thread = new_thread()
    await ledger.send(
        declared(
            thread,
            f"cmt-{thread}",
            kind=CommitmentKind.RESPONSE_TIME,
            made_by=SALES,
            text="You will hear from us within four seconds",
            due_at=datetime.now(UTC) + timedelta(seconds=4),
        )
    )

    records = await ledger.wait_for(lambda r: len(statuses(r, thread)) == 3, within=30)

    made, risky, broken = statuses(records, thread)
    assert (made.status.value, made.at_risk) == ("declared", False)
    assert (risky.status.value, risky.at_risk) == ("declared", True)
    assert broken.status.value == "broken"
    assert broken.changed_at >= made.due_at  # type: ignore[operator]


async def test_redelivering_every_input_changes_nothing(ledger: Ledger) -> None:
    thread = new_thread()
    await ledger.send(declared(thread, f"cmt-{thread}"))
    await ledger.send(answered(thread, f"cmt-{thread}", Verdict.CONFIRMED))
    records = await ledger.wait_for(lambda r: len(statuses(r, thread)) == 2)
    inputs = [
        r for r in records if r.topic == topics.COMMITMENT_REQUESTS and r.key == thread.encode()
    ]
    runtime = ledger.app.state.runtime
    before = await runtime.db.fetchval(f"SELECT count(*) FROM {SCHEMA}.outbox")

    replay = EventConsumer(
        SERVICE, SCHEMA, lambda: runtime.db, LedgerRules(lambda: runtime.company).on_event
    )
    await replay.handle_batch(inputs)
    await replay.handle_batch(inputs)

    assert await runtime.db.fetchval(f"SELECT count(*) FROM {SCHEMA}.outbox") == before
    detail = (await ledger.http.get(f"/v1/commitments/cmt-{thread}")).json()
    assert len(detail["history"]) == 2


async def test_unknown_commitment_is_a_404_problem(ledger: Ledger) -> None:
    answer = await ledger.http.get("/v1/commitments/cmt-nope")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"

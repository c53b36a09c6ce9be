"""Inputs folded over the commitments a batch touches: each event sees what the ones before it
made, refusals name their reason, and the timers follow the last move of each commitment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from keepword_commitments import moves
from keepword_commitments.domain import IllegalTransition
from keepword_commitments.extraction import Reading, read_reply
from keepword_commitments.moves import DUE, WARN, Book, UnknownCommitment
from keepword_events import (
    Channel,
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentKind,
    Customer,
    Person,
    ReplySent,
    Role,
    Verdict,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SALES = Person(email="sam@brightline.example", role=Role.SALES)
PRODUCTION = Person(email="pat@brightline.example", role=Role.PRODUCTION)
DANA = Customer(email="dana@example.com")


def declaration(commitment_id: str, **changes: Any) -> CommitmentDeclared:
    fields: dict[str, Any] = {
        "thread_id": "thr-1",
        "correlation_id": "thr-1",
        "commitment_id": commitment_id,
        "made_by": SALES,
        "kind": CommitmentKind.RESPONSE_TIME,
        "text": "We will answer within the hour",
        "due_at": T0 + timedelta(hours=1),
    }
    return CommitmentDeclared(**(fields | changes))


def answer(commitment_id: str, verdict: Verdict) -> CommitmentAnswered:
    return CommitmentAnswered(
        thread_id="thr-1",
        correlation_id="thr-1",
        commitment_id=commitment_id,
        answered_by=PRODUCTION,
        verdict=verdict,
    )


def reply(body: str, at: datetime, **changes: Any) -> ReplySent:
    fields: dict[str, Any] = {
        "thread_id": "thr-1",
        "correlation_id": "thr-1",
        "message_id": "msg-1",
        "channel": Channel.EMAIL,
        "customer": DANA,
        "author": SALES,
        "body": body,
        "sent_at": at,
        "received_at": at,
    }
    return ReplySent(**(fields | changes))


def test_each_event_sees_what_the_ones_before_it_made() -> None:
    book = Book()
    made = moves.declared(book, declaration("a", kind=CommitmentKind.OUTCOME), at=T0)
    book.apply(made)
    confirmed = moves.answered(book, answer("a", Verdict.CONFIRMED), at=T0 + timedelta(1))
    book.apply(confirmed)

    assert [m.after.status.value for m in [*made, *confirmed]] == [
        "awaiting_confirmation",
        "confirmed",
    ]
    assert book.get("a").status.value == "confirmed"
    with pytest.raises(IllegalTransition, match="already confirmed"):
        moves.answered(book, answer("a", Verdict.CONFIRMED), at=T0)


def test_a_declaration_twice_or_of_an_unknown_commitment_is_refused() -> None:
    book = Book()
    book.apply(moves.declared(book, declaration("a"), at=T0))

    with pytest.raises(IllegalTransition, match="already declared"):
        moves.declared(book, declaration("a"), at=T0)
    with pytest.raises(UnknownCommitment, match="unknown commitment b"):
        moves.declared(book, declaration("c", supersedes="b"), at=T0)
    with pytest.raises(UnknownCommitment):
        moves.answered(book, answer("zz", Verdict.CONFIRMED), at=T0)


def test_a_reply_keeps_the_threads_open_promises_oldest_first_and_declares_its_own() -> None:
    book = Book()
    for i, name in enumerate(["b", "a"]):
        book.apply(moves.declared(book, declaration(name), at=T0 + timedelta(minutes=i)))
    sent = reply("Thanks Dana. We will call you back within two hours.", T0 + timedelta(minutes=5))
    reading = read_reply(sent.body, sent_at=sent.sent_at, timezone="UTC")
    recorded = moves.extracted_ids(reading, "evt-1")

    made = moves.replied(book, sent, recorded)

    assert [(m.after.commitment_id, m.after.status.value) for m in made] == [
        ("b", "kept"),
        ("a", "kept"),
        (recorded[reading.promises[0]], "declared"),
    ]
    assert moves.extracted_ids(reading, "evt-1") == recorded  # the same ids when read again


def test_a_reply_of_an_unproven_sender_changes_nothing() -> None:
    book = Book()
    book.apply(moves.declared(book, declaration("a"), at=T0))
    sent = reply("Done.", T0 + timedelta(minutes=5), sender_verified=False)

    assert moves.replied(book, sent, moves.extracted_ids(Reading([], []), "evt-1")) == []
    assert not moves.is_read_for_promises(sent)


def test_timers_follow_the_last_move_of_each_commitment() -> None:
    book = Book()
    made = [*moves.declared(book, declaration("a"), at=T0)]
    book.apply(made)
    made += moves.declared(book, declaration("b"), at=T0)
    book.apply(made[-1:])
    gone = CommitmentCancelled(
        thread_id="thr-1", correlation_id="thr-1", commitment_id="a", cancelled_by=SALES, reason="x"
    )
    made += moves.cancelled(book, gone, at=T0 + timedelta(minutes=1))

    plan = moves.timer_plan(made, warn_at=0.5)

    assert plan.cancelled == ["a"]
    assert plan.due == [
        (DUE, "b", T0 + timedelta(hours=1)),
        (WARN, "b", T0 + timedelta(minutes=30)),
    ]

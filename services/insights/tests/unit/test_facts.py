"""What each event adds to the facts, and a batch folded at once equals its events one by one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from keepword_events import (
    CommitmentStatus,
    CommitmentStatusChanged,
    CustomerRated,
    Envelope,
    Event,
    MessageReceived,
    ReplySent,
    new_envelope,
)
from keepword_events.examples import NOW, every_event
from keepword_insights import facts
from keepword_insights.changes import Changes, applied, needed

EXAMPLES = every_event("thr-1")


def example(kind: type[Any], **changes: Any) -> Any:
    found = next(e for e in EXAMPLES if type(e) is kind)
    return found.model_copy(update=changes)


def wrote(minutes: int) -> MessageReceived:
    at = NOW + timedelta(minutes=minutes)
    message: MessageReceived = example(MessageReceived, received_at=at, sent_at=at)
    return message


def replied(minutes: int, **changes: Any) -> ReplySent:
    reply: ReplySent = example(ReplySent, sent_at=NOW + timedelta(minutes=minutes), **changes)
    return reply


def test_a_wait_begins_with_the_first_unanswered_message_and_a_reply_ends_it() -> None:
    thread = facts.customer_wrote(None, wrote(0))
    thread = facts.customer_wrote(thread, wrote(10))
    after, ended = facts.person_replied(thread, replied(60))
    assert ended is not None
    assert (ended.began_at, ended.messages, ended.answered_before) == (NOW, 2, False)
    assert ended.replied_at == NOW + timedelta(minutes=60)
    assert (after.waiting_since, after.unanswered, after.replies) == (None, 0, 1)
    assert after.last_replier_role == "sales"
    assert after.deposit_amount is not None  # the example's first message carries a deposit

    later = facts.customer_wrote(after, wrote(120))
    _, next_wait = facts.person_replied(later, replied(130))
    assert next_wait is not None
    assert next_wait.answered_before is True  # a next-reply wait


def test_a_reply_with_no_wait_open_ends_nothing_and_automatic_ones_do_not_count() -> None:
    after, ended = facts.person_replied(None, replied(0))
    assert ended is None
    assert after.replies == 1
    assert not facts.counts_as_reply(replied(0, automatic=True))
    assert not facts.counts_as_reply(replied(0, sender_verified=False))
    assert facts.counts_as_reply(replied(0))


def moved(status: CommitmentStatus, minutes: int) -> CommitmentStatusChanged:
    change: CommitmentStatusChanged = example(
        CommitmentStatusChanged, status=status, changed_at=NOW + timedelta(minutes=minutes)
    )
    return change


def test_a_promise_keeps_its_verdict_and_an_older_statement_only_adds_history() -> None:
    made, _ = facts.promise_moved(None, moved(CommitmentStatus.AWAITING_CONFIRMATION, 0), "e1")
    confirmed, _ = facts.promise_moved(made, moved(CommitmentStatus.CONFIRMED, 10), "e2")
    kept, _ = facts.promise_moved(confirmed, moved(CommitmentStatus.KEPT, 20), "e3")
    assert (kept.status, kept.verdict, kept.made_at) == ("kept", "confirmed", NOW)
    late, move = facts.promise_moved(kept, moved(CommitmentStatus.BROKEN, 15), "e4")
    assert late == kept
    assert (move.event_id, move.to_status) == ("e4", "broken")


def rated(rating: int, revision: int, thread: str = "thr-1") -> CustomerRated:
    return CustomerRated(
        thread_id=thread,
        correlation_id=thread,
        rating=rating,
        rated_at=NOW + timedelta(hours=revision),
        revision=revision,
    )


def test_the_latest_revision_of_a_rating_stands_whichever_comes_first() -> None:
    first = facts.customer_rated(None, rated(2, 1))
    second = facts.customer_rated(first, rated(5, 2))
    assert (second.rating, second.revision) == (5, 2)
    assert facts.customer_rated(second, rated(1, 1)) == second  # stale, read late
    assert facts.customer_rated(second, rated(3, 2)) == second  # the same revision again
    assert facts.customer_rated(facts.customer_rated(None, rated(5, 2)), rated(2, 1)).rating == 5


def envelopes(events: list[Event]) -> list[Envelope[Event]]:
    return [new_envelope(e, source="/test", time=NOW) for e in events]


def test_a_batch_folded_at_once_leaves_the_facts_its_events_leave_one_by_one() -> None:
    batch = envelopes(
        [
            *[e for e in every_event("thr-a") if type(e) is not ReplySent],
            wrote(5),
            replied(30),
            wrote(40),
            replied(90),
            *every_event("thr-b"),
            rated(4, 2, "thr-a"),
            rated(1, 1, "thr-a"),
        ]
    )
    at_once = applied(Changes(), batch)
    assert at_once.ratings["thr-a"].rating == 4  # revision 2, though revision 1 came later
    assert len(at_once.waits) == 3  # thr-1's two, thr-b's one
    assert at_once.escalations
    assert at_once.notifications
    for split in range(1, len(batch)):
        first = applied(Changes(), batch[:split])
        # The second batch loads what the first one wrote.
        loaded = Changes(
            threads=dict(first.threads),
            promises=dict(first.promises),
            escalations=dict(first.escalations),
            ratings=dict(first.ratings),
        )
        second = applied(loaded, batch[split:])
        assert second.threads == at_once.threads
        assert second.promises == at_once.promises
        assert second.escalations == at_once.escalations
        assert second.ratings == at_once.ratings
        for rows in ("waits", "moves", "answers", "raises", "decisions", "notifications"):
            assert getattr(first, rows) + getattr(second, rows) == getattr(at_once, rows)


def test_a_batch_needs_the_facts_its_events_change() -> None:
    found = needed(envelopes([*every_event("thr-a"), rated(3, 1, "thr-r")]))
    assert found.threads == {"thr-a"}
    assert found.ratings == {"thr-a", "thr-r"}
    assert len(found.promises) == 1
    assert len(found.escalations) == 1

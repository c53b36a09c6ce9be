"""The batch's threads in memory keep the database's semantics (`store.BatchStore`): a timer
cancelled drops those set before it, a stale rating changes nothing, a promise or a feedback
mark needs the thread's row, times come back in UTC, the evidence is the latest lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

from keepword_escalation import repository
from keepword_escalation.clocks import ThreadClock
from keepword_escalation.rules import Line
from keepword_escalation.store import EVIDENCE_LINES, BatchStore
from keepword_events import Customer, CustomerRated, EvidenceItem, PromiseInQuestion
from keepword_platform.database import Connection

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NEW_YORK = timezone(timedelta(hours=-5))


def empty(**known: Any) -> BatchStore:
    fields: dict[str, Any] = {"threads": {}, "escalations": {}, "ratings": {}} | known
    return BatchStore(conn=cast(Connection, None), schema="escalation", **fields)


def rated(rating: int, revision: int, at: datetime) -> CustomerRated:
    return CustomerRated(
        thread_id="t1", correlation_id="t1", rating=rating, revision=revision, rated_at=at
    )


async def test_a_cancel_drops_the_timers_set_before_it_in_the_batch() -> None:
    store = empty()
    await store.set_timers([("reply_warn", "t1", T0), ("reply_due", "t1", T0), ("x", "t2", T0)])
    await store.cancel_timers("t1")
    await store.set_timers([("feedback_ask", "t1", T0 + timedelta(hours=1))])

    assert store._cancelled == {"t1"}
    assert store._timers == {("x", "t2"): T0, ("feedback_ask", "t1"): T0 + timedelta(hours=1)}


async def test_an_older_rating_revision_changes_nothing() -> None:
    kept = repository.Rating(2, 2, T0)
    store = empty(ratings={"t1": kept})

    assert not await store.note_rating(rated(5, 1, T0 + timedelta(minutes=1)))
    assert not await store.note_rating(rated(5, 2, T0))  # the same revision and time
    assert await store.note_rating(rated(4, 2, T0 + timedelta(seconds=1)))
    assert store.ratings == {"t1": repository.Rating(4, 2, T0 + timedelta(seconds=1))}
    assert await store.feedback_asked("t1")  # a rated thread counts as asked


async def test_a_promise_and_a_feedback_mark_need_the_threads_row() -> None:
    store = empty()
    promise = PromiseInQuestion(commitment_id="c1", text="a week")

    await store.note_promise("t1", promise, T0)
    assert not await store.mark_feedback_asked("t1", T0)
    assert await store.terms(["t1"]) == {}

    await store.save_clock(ThreadClock(thread_id="t1", customer=Customer()))
    await store.note_promise("t1", promise, None)
    assert (await store.terms(["t1"]))["t1"].promise == promise
    assert await store.mark_feedback_asked("t1", T0)
    assert not await store.mark_feedback_asked("t1", T0)  # once


async def test_times_come_back_in_utc_and_a_stored_first_contact_stays() -> None:
    store = empty()
    local = T0.astimezone(NEW_YORK)
    await store.save_clock(ThreadClock(thread_id="t1", customer=Customer(), first_contact_at=local))
    later = ThreadClock(thread_id="t1", customer=Customer(), first_contact_at=T0 + timedelta(1))
    clock = await store.clock("t1")
    assert clock is not None
    assert clock.first_contact_at == T0
    assert clock.first_contact_at.tzinfo is UTC

    await store.save_clock(later)
    clock = await store.clock("t1")
    assert clock is not None
    assert clock.first_contact_at == T0


async def test_the_evidence_is_the_latest_lines_oldest_first() -> None:
    store = empty()
    stored = [EvidenceItem(at=T0 + timedelta(minutes=m), what=f"old {m}") for m in range(50)]
    store._read["t1"] = list(stored)  # as read from the database
    await store.add_lines(
        [
            Line("t1", T0 + timedelta(hours=2), "new, latest"),
            Line("t1", T0 + timedelta(minutes=10), "new, earlier"),  # read late, happened early
        ]
    )

    evidence = (await store.timelines(["t1"]))["t1"]
    assert len(evidence) == EVIDENCE_LINES
    assert [e.what for e in evidence[-2:]] == ["old 49", "new, latest"]
    assert "new, earlier" in [e.what for e in evidence]
    assert evidence[0].what == "old 2"  # the two oldest fall out

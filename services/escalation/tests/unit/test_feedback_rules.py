"""Asking for feedback and the unhappy-customer rule, as pure functions: once, never while the
customer waits or an escalation is open; a low rating escalates with the comment; a changed
rating that is no longer low withdraws an undecided unhappy-customer escalation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from keepword_escalation import escalations, feedback
from keepword_escalation.clocks import ThreadClock
from keepword_escalation.escalations import State
from keepword_events import (
    Customer,
    CustomerRated,
    EscalationRule,
    FeedbackOccasion,
    OptionKind,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAYS_3 = timedelta(days=3)
DANA = Customer(email="dana@example.com", name="Dana")
ANSWERED = ThreadClock(thread_id="thr-1", customer=DANA, last_reply_at=T0)
WAITING = replace(ANSWERED, unanswered=1, waiting_since=T0 + timedelta(hours=1))


def open_escalation(
    rule: EscalationRule = EscalationRule.UNHAPPY_CUSTOMER,
) -> escalations.Escalation:
    return escalations.open_escalation(
        escalation_id="esc-1",
        thread_id="thr-1",
        rule=rule,
        manager_email="morgan@b.example",
        reason="why",
        at=T0,
        decision_time=timedelta(hours=4),
        options=escalations.options_for(DANA, deposit=None, feasible_due_at=None, owner=None),
        evidence=(),
    )


def rated(rating: int, comment: str | None = None, revision: int = 1) -> CustomerRated:
    return CustomerRated(
        thread_id="thr-1",
        correlation_id="thr-1",
        rating=rating,
        comment=comment,
        rated_at=T0,
        revision=revision,
    )


def may_ask(clock: ThreadClock | None, **given: object) -> bool:
    facts: dict[str, object] = {
        "active": None,
        "asked": False,
        "occasion": FeedbackOccasion.ANSWERED,
        "now": T0 + DAYS_3,
        "ask_after": DAYS_3,
    } | given
    return feedback.may_ask(clock, **facts)  # type: ignore[arg-type]


def test_an_answered_thread_is_asked_once_it_stayed_quiet() -> None:
    assert feedback.quiet_from(ANSWERED, DAYS_3) == T0 + DAYS_3
    assert may_ask(ANSWERED)
    assert not may_ask(ANSWERED, now=T0 + DAYS_3 - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("clock", "given"),
    [
        (ANSWERED, {"asked": True}),  # once per thread
        (WAITING, {}),  # the customer wrote again: never while they wait
        (WAITING, {"occasion": FeedbackOccasion.RESOLVED}),
        (ANSWERED, {"active": open_escalation()}),  # its resolution asks
        (replace(ANSWERED, customer=Customer()), {}),  # nobody to write to
        (replace(ANSWERED, last_reply_at=None), {}),  # never answered
        (None, {"occasion": FeedbackOccasion.RESOLVED}),
    ],
)
def test_no_ask(clock: ThreadClock | None, given: dict[str, object]) -> None:
    assert not may_ask(clock, **given)


def test_a_resolution_asks_at_once() -> None:
    assert may_ask(ANSWERED, occasion=FeedbackOccasion.RESOLVED, now=T0)
    asked = feedback.request(ANSWERED, FeedbackOccasion.RESOLVED, T0)
    assert (asked.thread_id, asked.customer, asked.requested_at) == ("thr-1", DANA, T0)


def test_a_waiting_thread_has_no_quiet_time() -> None:
    assert feedback.quiet_from(WAITING, DAYS_3) is None


@pytest.mark.parametrize(("rating", "low"), [(1, True), (2, True), (3, False), (5, False)])
def test_low_ratings_escalate_with_the_comment(rating: int, low: bool) -> None:
    ask = feedback.unhappy_ask(ANSWERED, rated(rating, "Too slow."), low_at_most=2, event_id="e1")
    assert (ask is not None) is low
    if ask is not None:
        assert ask.rule is EscalationRule.UNHAPPY_CUSTOMER
        assert ask.comment == "Too slow."
        assert f"{rating} out of 5 and wrote why" in ask.reason
        assert (ask.caused_at, ask.causation_id) == (T0, "e1")


def test_what_counts_as_low_is_configurable() -> None:
    assert feedback.unhappy_ask(ANSWERED, rated(3), low_at_most=3, event_id="e1") is not None


def test_the_timeline_quotes_the_start_of_the_comment() -> None:
    assert feedback.rating_line(rated(4)) == "Customer rated us 4 of 5"
    line = feedback.rating_line(rated(2, "word " * 100, revision=2))
    assert line.startswith('Customer rated us 2 of 5 (changed): "word word')
    assert line.endswith('…"')
    assert len(line) < 260


def test_a_better_rating_withdraws_an_undecided_unhappy_escalation() -> None:
    active = open_escalation()
    assert feedback.withdrawn(active, rated(4, revision=2), low_at_most=2)
    assert not feedback.withdrawn(active, rated(2, revision=2), low_at_most=2)
    assert not feedback.withdrawn(None, rated(4, revision=2), low_at_most=2)
    # another rule's escalation stands: its cause was not the rating
    assert not feedback.withdrawn(
        open_escalation(EscalationRule.STALLED), rated(5, revision=2), low_at_most=2
    )
    # a manager already decided (a call, a refund): that action still happens
    decided = escalations.decide(
        active,
        option=OptionKind.PHONE_CALL,
        by="morgan@b.example",
        at=T0,
        decision_time=timedelta(hours=4),
    )
    assert decided.state is State.DECIDED
    assert not feedback.withdrawn(decided, rated(5, revision=2), low_at_most=2)

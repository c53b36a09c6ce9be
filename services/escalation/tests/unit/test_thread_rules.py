"""Escalation's rules as pure functions, to the second and without I/O: the promise gap, stall
versus warning, one escalation per thread, whom it is raised to, what settles it, and who may
decide (the one decision policy of the pages, the API and "handle it" by email)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from keepword_escalation import escalations, rules
from keepword_escalation.clocks import ThreadClock, person_replied
from keepword_escalation.escalations import Escalation, Refusal, ReminderPolicy, State
from keepword_escalation.rules import REPLY_DUE, REPLY_WARN
from keepword_events import (
    Channel,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    EscalationRule,
    EvidenceItem,
    Money,
    OptionKind,
    Person,
    Role,
)
from keepword_platform.company import PersonEntry

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DANA = Customer(email="dana@example.com", name="Dana")
MORGAN = PersonEntry(email="morgan@b.example", name="Morgan", role=Role.MANAGEMENT, level=1)
DREW = PersonEntry(email="drew@b.example", name="Drew", role=Role.MANAGEMENT, level=2)
CHAIN = (MORGAN, DREW)
POLICY = ReminderPolicy(decision_time=4 * HOUR, longest=24 * HOUR)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules never touch a socket (a database or a broker would need one)."""

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("a rule tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def waiting(**changes: Any) -> ThreadClock:
    fields: dict[str, Any] = {
        "thread_id": "thr-1",
        "customer": DANA,
        "first_contact_at": T0,
        "last_customer_at": T0,
        "unanswered": 1,
        "waiting_since": T0,
        "reply_due_at": T0 + 24 * HOUR,
        "warn_at": T0 + 18 * HOUR,
    }
    return ThreadClock(**(fields | changes))


def escalation(**changes: Any) -> Escalation:
    opened = escalations.open_escalation(
        escalation_id="esc-1",
        thread_id="thr-1",
        rule=EscalationRule.STALLED,
        manager_email=MORGAN.email,
        reason="r",
        at=T0,
        decision_time=POLICY.decision_time,
        options=escalations.options_for(DANA, deposit=None, feasible_due_at=None, owner=None),
        evidence=(),
        caused_at=T0,
    )
    return escalations.Escalation(**{**_fields(opened), **changes})


def _fields(e: Escalation) -> dict[str, Any]:
    return {name: getattr(e, name) for name in Escalation.__slots__}


def change(status: CommitmentStatus, *, at_risk: bool = False, note: str | None = None) -> Any:
    return CommitmentStatusChanged(
        thread_id="thr-1",
        correlation_id="thr-1",
        commitment_id="cmt-1",
        status=status,
        at_risk=at_risk,
        kind=CommitmentKind.DELIVERY,
        text="We will deliver the report by Friday.",
        made_by=Person(email="mia@b.example", name="Mia", role=Role.SALES),
        source=CommitmentSource(kind="declared"),
        production_note=note,
        changed_at=T0 + HOUR,
    )


# ----- the promise gap ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "at_risk", "gap"),
    [
        (CommitmentStatus.REJECTED, False, True),
        (CommitmentStatus.COUNTERED, False, True),
        (CommitmentStatus.BROKEN, False, True),
        (CommitmentStatus.AWAITING_CONFIRMATION, True, True),
        (CommitmentStatus.CONFIRMED, True, True),
        (CommitmentStatus.CONFIRMED, False, False),
        (CommitmentStatus.AWAITING_CONFIRMATION, False, False),
        (CommitmentStatus.KEPT, True, False),  # kept: nothing left at risk
        (CommitmentStatus.RENEGOTIATED, False, False),
    ],
)
def test_a_promise_gap_is_a_lost_or_endangered_promise(
    status: CommitmentStatus, at_risk: bool, gap: bool
) -> None:
    assert (rules.promise_gap(change(status, at_risk=at_risk)) is not None) is gap


def test_a_promise_gap_says_what_and_production_s_word_and_asks_for_a_gap_escalation() -> None:
    moved = change(CommitmentStatus.COUNTERED, at_risk=True, note="We can do it by the 20th.")
    what = rules.promise_gap(moved)
    assert what == (
        "Promise 'We will deliver the report by Friday' is countered and at risk; "
        "production: We can do it by the 20th"
    )
    ask = rules.gap_ask(waiting(), moved, what, "evt-1")
    assert (ask.rule, ask.caused_at, ask.causation_id) == (
        EscalationRule.PROMISE_GAP,
        T0 + HOUR,
        "evt-1",
    )
    assert ask.reason.endswith("while the customer still believes it.")


# ----- a customer wrote -----------------------------------------------------------------------


def test_follow_ups_past_the_limit_and_a_difficult_tone_each_ask_for_an_escalation() -> None:
    calm = rules.message_asks(
        waiting(unanswered=2), difficult=None, max_unanswered_followups=2, at=T0, event_id="e"
    )
    assert calm == []
    deposit = Money(amount=Decimal("100"), currency="USD")
    paid = waiting(unanswered=2, deposit=deposit)
    both = rules.message_asks(
        paid, difficult=("refund demand",), max_unanswered_followups=2, at=T0, event_id="e"
    )
    assert [a.rule for a in both] == [
        EscalationRule.REPEATED_CONTACT,
        EscalationRule.DIFFICULT_CONVERSATION,
    ]
    assert both[0].reason == "The customer wrote 2 times without an answer (deposit paid)."
    assert both[1].reason == "A difficult conversation (refund demand): call rather than email."


# ----- stall versus warning -------------------------------------------------------------------


def test_the_warning_timer_warns_and_the_deadline_stalls_under_one_escalation_id() -> None:
    clock = waiting(unanswered=2)
    warned = rules.replies_overdue([(REPLY_WARN, clock)], T0 + 18 * HOUR)
    stalled = rules.replies_overdue([(REPLY_DUE, clock)], T0 + 24 * HOUR)

    assert (warned.stalls, [line.what for line in warned.lines]) == (
        [],
        ["Warning: first reply due soon"],
    )
    (warning,) = warned.warnings
    assert warning.due_at == T0 + 24 * HOUR
    assert stalled.warnings == []
    (stall,) = stalled.stalls
    assert stall.rule is EscalationRule.STALLED
    assert stall.escalation_id == warning.escalation_id  # the opening follows its warning
    assert (
        stall.reason
        == "The customer has waited 24 hours for a first reply (2 messages unanswered)."
    )
    assert stall.caused_at == T0


def test_a_wait_already_answered_neither_warns_nor_stalls() -> None:
    answered = person_replied(waiting(), at=T0 + HOUR)
    for kind in (REPLY_WARN, REPLY_DUE):
        found = rules.replies_overdue([(kind, answered), (kind, None)], T0 + 24 * HOUR)
        assert (found.lines, found.warnings, found.stalls) == ([], [], [])


def test_after_an_answer_the_stall_is_for_the_next_reply() -> None:
    clock = waiting(last_reply_at=T0 - HOUR)
    (stall,) = rules.replies_overdue([(REPLY_DUE, clock)], T0 + 90 * timedelta(minutes=1)).stalls
    assert (
        stall.reason
        == "The customer has waited 90 minutes for a next reply (1 message unanswered)."
    )


# ----- one escalation per thread --------------------------------------------------------------


def _ask(rule: EscalationRule, thread_id: str = "thr-1") -> rules.Ask:
    return rules.Ask(waiting(thread_id=thread_id), rule, f"{rule.value}", caused_at=T0)


def test_one_escalation_per_thread_a_second_cause_adds_evidence_only() -> None:
    evidence = {"thr-1": (EvidenceItem(at=T0, what="Customer wrote"),)}
    ids = iter(["esc-a", "esc-b", "esc-c"])
    done = rules.escalate(
        [
            _ask(EscalationRule.REPEATED_CONTACT),
            _ask(EscalationRule.DIFFICULT_CONVERSATION),
            _ask(EscalationRule.STALLED, "thr-2"),
        ],
        active={},
        evidence=evidence,
        terms={},
        manager=MORGAN,
        at=T0,
        decision_time=POLICY.decision_time,
        new_id=lambda: next(ids),
    )
    assert [(o.escalation.escalation_id, o.escalation.rule) for o in done.opened] == [
        ("esc-a", EscalationRule.REPEATED_CONTACT),
        ("esc-b", EscalationRule.STALLED),
    ]
    assert [e.escalation_id for e in done.saved] == ["esc-a", "esc-b"]
    first = done.opened[0].escalation
    assert (first.manager_email, first.decide_by, first.evidence) == (
        MORGAN.email,
        T0 + 4 * HOUR,
        evidence["thr-1"],
    )
    assert [line.what for line in done.lines] == [
        "Escalated to morgan@b.example: repeated_contact",
        "Escalated to morgan@b.example: stalled",
    ]


def test_a_thread_with_an_active_escalation_gets_no_new_one() -> None:
    active = escalation()
    newer = (EvidenceItem(at=T0 + HOUR, what="Customer wrote again"),)
    done = rules.escalate(
        [_ask(EscalationRule.REPEATED_CONTACT)],
        active={"thr-1": active},
        evidence={"thr-1": newer},
        terms={},
        manager=MORGAN,
        at=T0 + HOUR,
        decision_time=POLICY.decision_time,
        new_id=lambda: "never",
    )
    assert (done.opened, done.lines) == ([], [])
    assert [(e.escalation_id, e.evidence) for e in done.saved] == [("esc-1", newer)]


def test_production_s_feasible_terms_become_the_renegotiate_option() -> None:
    terms = {"thr-1": rules.Terms(feasible_due_at=T0 + 240 * HOUR)}
    done = rules.escalate(
        [_ask(EscalationRule.PROMISE_GAP)],
        active={},
        evidence={},
        terms=terms,
        manager=MORGAN,
        at=T0,
        decision_time=POLICY.decision_time,
        new_id=lambda: "esc-a",
    )
    renegotiate = next(
        o for o in done.opened[0].escalation.options if o.kind is OptionKind.RENEGOTIATE
    )
    assert renegotiate.feasible_due_at == T0 + 240 * HOUR


# ----- raised up the chain --------------------------------------------------------------------


def test_not_deciding_in_time_raises_to_the_next_level() -> None:
    past = T0 + 4 * HOUR
    assert (
        rules.raise_up(
            escalation(), chain=CHAIN, at=past - timedelta(seconds=1), policy=POLICY, evidence=()
        )
        is None
    )
    raised = rules.raise_up(escalation(), chain=CHAIN, at=past, policy=POLICY, evidence=())
    assert raised is not None
    assert (raised.manager, raised.previous) == (DREW, MORGAN)
    assert (raised.escalation.level, raised.escalation.manager_email) == (2, DREW.email)
    assert raised.escalation.decide_by == past + 4 * HOUR
    assert raised.reason == "morgan@b.example did not decide within 4 hours."
    assert raised.line == f"Raised to drew@b.example: {raised.reason}"


def test_handle_it_without_action_is_raised_and_says_so() -> None:
    delegated = escalations.decide(
        escalation(), option=OptionKind.HANDLE_IT, by=MORGAN.email, at=T0, decision_time=4 * HOUR
    )
    raised = rules.raise_up(delegated, chain=CHAIN, at=T0 + 4 * HOUR, policy=POLICY, evidence=())
    assert raised is not None
    assert "said 'handle it' and no concrete action followed" in raised.reason


def test_the_top_of_the_chain_is_reminded_not_raised_to_itself() -> None:
    at_top = escalation(level=2, manager_email=DREW.email)
    reminded = rules.raise_up(at_top, chain=CHAIN, at=T0 + 4 * HOUR, policy=POLICY, evidence=())
    assert reminded is not None
    assert (reminded.manager, reminded.escalation.reminders) == (DREW, 1)
    assert reminded.escalation.decide_by == T0 + 12 * HOUR  # twice the decision time
    assert reminded.reason.startswith("Reminder 1: drew@b.example did not decide yet.")
    assert reminded.line.startswith("Reminded drew@b.example: ")


def test_a_decision_stops_the_raising() -> None:
    decided = escalations.decide(
        escalation(), option=OptionKind.PHONE_CALL, by=MORGAN.email, at=T0, decision_time=HOUR
    )
    assert (
        rules.raise_up(decided, chain=CHAIN, at=T0 + 100 * HOUR, policy=POLICY, evidence=()) is None
    )


# ----- what settles it ------------------------------------------------------------------------


def test_a_reply_after_the_cause_settles_it_one_before_does_not() -> None:
    caused = escalation(caused_at=T0 + HOUR)
    assert not rules.settles(caused, Channel.EMAIL, T0 + 30 * timedelta(minutes=1))
    assert rules.settles(caused, Channel.EMAIL, T0 + HOUR)


def test_a_difficult_conversation_or_a_decided_call_is_settled_only_by_a_call() -> None:
    difficult = escalation(rule=EscalationRule.DIFFICULT_CONVERSATION)
    call = escalations.decide(
        escalation(), option=OptionKind.PHONE_CALL, by=MORGAN.email, at=T0, decision_time=HOUR
    )
    for needs_call in (difficult, call):
        assert not rules.settles(needs_call, Channel.EMAIL, T0 + HOUR)
        assert rules.settles(needs_call, Channel.PHONE, T0 + HOUR)


# ----- who may decide -------------------------------------------------------------------------


def test_only_the_manager_now_asked_may_decide_an_offered_option_while_it_is_open() -> None:
    open_ = escalation()
    assert escalations.refusal(open_, option="refund", by="MORGAN@b.example") is None
    refusals = {
        "another manager": escalations.refusal(open_, option="refund", by=DREW.email),
        "not offered": escalations.refusal(open_, option="teleport", by=MORGAN.email),
        "resolved": escalations.refusal(
            escalations.resolve(open_), option="refund", by=MORGAN.email
        ),
    }
    assert {k: v.why if v else None for k, v in refusals.items()} == {
        "another manager": Refusal.NOT_YOURS,
        "not offered": Refusal.NOT_OFFERED,
        "resolved": Refusal.CLOSED,
    }


def test_handle_it_by_email_is_a_delegation_only_from_the_manager_asked() -> None:
    assert rules.delegation(escalation(), MORGAN.email) is OptionKind.HANDLE_IT
    assert rules.delegation(escalation(), DREW.email) is None
    assert rules.delegation(None, MORGAN.email) is None
    raised = escalation(level=2, manager_email=DREW.email, state=State.OPEN)
    assert rules.delegation(raised, DREW.email) is OptionKind.HANDLE_IT

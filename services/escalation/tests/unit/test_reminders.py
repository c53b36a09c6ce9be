"""The top of the management chain is reminded less often each time, never raised to itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from keepword_escalation import escalations
from keepword_escalation.escalations import Escalation, ReminderPolicy, State
from keepword_events import EscalationRule, Option, OptionKind

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MORGAN = "morgan@b.example"  # level 1
DREW = "drew@b.example"  # level 2, the top
# The test configuration's decision time, and the default longest wait between reminders.
FAST = ReminderPolicy(decision_time=5 * SECOND, longest=DAY)


def opened(decision_time: timedelta) -> Escalation:
    return escalations.open_escalation(
        escalation_id="esc-1",
        thread_id="thr-1",
        rule=EscalationRule.STALLED,
        manager_email=MORGAN,
        reason="r",
        at=T0,
        decision_time=decision_time,
        options=(Option(kind=OptionKind.HANDLE_IT, summary="Handle it (no decision)"),),
        evidence=(),
    )


def nobody_decides(policy: ReminderPolicy, until: datetime) -> list[Escalation]:
    """Every time the escalation is asked again (raised or reminded) up to `until`, on a chain
    of two, as the deadline timer would do it."""
    escalation = opened(policy.decision_time)
    asked: list[Escalation] = []
    while escalation.decide_by <= until:
        assert escalations.needs_raising(escalation, escalation.decide_by)
        # The chain above level 1 is Drew; above Drew there is nobody, so Drew again.
        escalation = escalations.ask_again(
            escalation, level=2, manager_email=DREW, at=escalation.decide_by, policy=policy
        )
        asked.append(escalation)
    return asked


def test_an_hour_undecided_sends_the_backed_off_number_of_reminders() -> None:
    asked = nobody_decides(FAST, T0 + HOUR)

    # Raised to Drew at 5 s, then reminded at 10, 20, 40, 80 ... 2560 s: ten emails in the
    # hour, where one every 5 s made 719.
    assert len(asked) == 10
    assert [a.reminders for a in asked] == list(range(10))
    assert [(a.decide_by - T0) // SECOND for a in asked] == [10 * 2**n for n in range(10)]
    assert all((a.level, a.manager_email, a.state) == (2, DREW, State.OPEN) for a in asked)


def test_reminders_double_from_the_decision_time_then_come_daily() -> None:
    policy = ReminderPolicy(decision_time=4 * HOUR, longest=DAY)

    asked = nobody_decides(policy, T0 + 10 * DAY)

    waits = [later.decide_by - earlier.decide_by for earlier, later in pairwise(asked)]
    assert waits[:4] == [8 * HOUR, 16 * HOUR, DAY, DAY]
    assert set(waits[3:]) == {DAY}


def test_the_interval_doubles_up_to_the_longest_and_never_below_the_decision_time() -> None:
    assert [escalations.reminder_interval(FAST, n) for n in range(4)] == [
        5 * SECOND,
        10 * SECOND,
        20 * SECOND,
        40 * SECOND,
    ]
    assert escalations.reminder_interval(FAST, 10_000) == DAY  # no overflow, however long
    too_short = ReminderPolicy(decision_time=4 * HOUR, longest=HOUR)
    assert escalations.reminder_interval(too_short, 3) == 4 * HOUR


def test_someone_new_gets_the_full_decision_time_and_the_count_starts_again() -> None:
    reminded = nobody_decides(FAST, T0 + 30 * SECOND)[-1]
    assert reminded.reminders == 2

    # The chain changed: someone else now sits at the top.
    raised = escalations.ask_again(
        reminded, level=3, manager_email="ceo@b.example", at=T0 + HOUR, policy=FAST
    )

    assert (raised.level, raised.manager_email, raised.reminders) == (3, "ceo@b.example", 0)
    assert raised.decide_by == T0 + HOUR + FAST.decision_time


def test_a_handle_it_at_the_top_is_asked_again_as_a_reminder() -> None:
    at_top = nobody_decides(FAST, T0 + 5 * SECOND)[-1]
    delegated = escalations.decide(
        at_top, option=OptionKind.HANDLE_IT, by=DREW, at=T0 + 6 * SECOND, decision_time=5 * SECOND
    )
    assert delegated.state is State.DELEGATED

    again = escalations.ask_again(
        delegated, level=2, manager_email=DREW.upper(), at=delegated.decide_by, policy=FAST
    )

    assert (again.reminders, again.state, again.decided_option) == (1, State.OPEN, None)
    assert again.manager_email == DREW

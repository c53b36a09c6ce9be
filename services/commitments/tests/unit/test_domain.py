"""The ledger's rules: every move, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from keepword_commitments import domain
from keepword_commitments.domain import Commitment, IllegalTransition
from keepword_events import (
    Channel,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    Person,
    Role,
    Verdict,
)

S = CommitmentStatus
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SALES = Person(email="sam@brightline.example", role=Role.SALES)


def made(kind: CommitmentKind, due: timedelta | None = timedelta(days=30)) -> Commitment:
    return domain.declare(
        commitment_id="cmt-1",
        thread_id="thr-1",
        kind=kind,
        text="Guaranteed first-page ranking",
        made_by=SALES,
        customer=None,
        due_at=T0 + due if due else None,
        source=CommitmentSource(kind="declared"),
        at=T0,
    ).after


def test_delivery_and_outcome_promises_await_confirmation() -> None:
    assert made(CommitmentKind.OUTCOME).status is S.AWAITING_CONFIRMATION
    assert made(CommitmentKind.DELIVERY).status is S.AWAITING_CONFIRMATION
    assert made(CommitmentKind.RESPONSE_TIME).status is S.DECLARED


@pytest.mark.parametrize(
    ("verdict", "status"),
    [(Verdict.CONFIRMED, S.CONFIRMED), (Verdict.REJECTED, S.REJECTED)],
)
def test_production_confirms_or_rejects(verdict: Verdict, status: S) -> None:
    change = domain.answer(
        made(CommitmentKind.OUTCOME), verdict=verdict, note="n", feasible_due_at=None, at=T0
    )
    assert change.after.status is status
    assert change.previous_status is S.AWAITING_CONFIRMATION
    assert change.reason == f"production {verdict.value}"


def test_a_counter_offer_carries_feasible_terms_and_can_be_confirmed_later() -> None:
    feasible = T0 + timedelta(days=60)
    countered = domain.answer(
        made(CommitmentKind.OUTCOME),
        verdict=Verdict.COUNTERED,
        note="Page two in 60 days",
        feasible_due_at=feasible,
        at=T0,
    ).after
    assert (countered.status, countered.feasible_due_at) == (S.COUNTERED, feasible)
    confirmed = domain.answer(
        countered, verdict=Verdict.CONFIRMED, note=None, feasible_due_at=None, at=T0
    )
    assert confirmed.after.status is S.CONFIRMED


def test_a_counter_offer_without_terms_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="feasible due time"):
        domain.answer(
            made(CommitmentKind.OUTCOME),
            verdict=Verdict.COUNTERED,
            note=None,
            feasible_due_at=None,
            at=T0,
        )


def test_the_same_answer_twice_is_refused() -> None:
    confirmed = domain.answer(
        made(CommitmentKind.OUTCOME),
        verdict=Verdict.CONFIRMED,
        note=None,
        feasible_due_at=None,
        at=T0,
    ).after
    with pytest.raises(IllegalTransition, match="already confirmed"):
        domain.answer(confirmed, verdict=Verdict.CONFIRMED, note=None, feasible_due_at=None, at=T0)


@pytest.mark.parametrize("final", [S.KEPT, S.BROKEN, S.RENEGOTIATED, S.CANCELLED])
def test_nothing_moves_a_final_promise(final: S) -> None:
    done = replace(made(CommitmentKind.OUTCOME), status=final)
    with pytest.raises(IllegalTransition, match=f"is {final.value}|already {final.value}"):
        domain.answer(done, verdict=Verdict.CONFIRMED, note=None, feasible_due_at=None, at=T0)
    moves: list[Callable[[], domain.Change]] = [
        lambda: domain.fulfil(done, kept=True, note=None, at=T0),
        lambda: domain.cancel(done, reason="x", at=T0),
        lambda: domain.supersede(done, by="cmt-2", at=T0),
    ]
    for move in moves:
        with pytest.raises(IllegalTransition, match=f"already {final.value}"):
            move()
    assert domain.fall_due(done, at=T0) is None
    assert domain.warn(done, at=T0) is None


def test_renegotiation_and_cancellation() -> None:
    rejected = domain.answer(
        made(CommitmentKind.OUTCOME),
        verdict=Verdict.REJECTED,
        note=None,
        feasible_due_at=None,
        at=T0,
    ).after
    renegotiated = domain.supersede(rejected, by="cmt-2", at=T0)
    assert renegotiated.after.status is S.RENEGOTIATED
    assert renegotiated.reason == "renegotiated as cmt-2"
    cancelled = domain.cancel(made(CommitmentKind.REFUND), reason="refunded", at=T0)
    assert (cancelled.after.status, cancelled.reason) == (S.CANCELLED, "cancelled: refunded")


def test_fulfilment_keeps_or_breaks() -> None:
    confirmed = domain.answer(
        made(CommitmentKind.DELIVERY),
        verdict=Verdict.CONFIRMED,
        note=None,
        feasible_due_at=None,
        at=T0,
    ).after
    assert domain.fulfil(confirmed, kept=True, note=None, at=T0).after.status is S.KEPT
    assert domain.fulfil(confirmed, kept=False, note="late", at=T0).after.status is S.BROKEN


def test_a_reply_in_time_keeps_a_response_time_promise() -> None:
    promise = made(CommitmentKind.RESPONSE_TIME, due=timedelta(hours=3))
    kept = domain.reply_sent(
        promise, channel=Channel.EMAIL, by_person=True, at=T0 + timedelta(hours=2)
    )
    assert kept is not None
    assert kept.after.status is S.KEPT
    late = domain.reply_sent(
        promise, channel=Channel.EMAIL, by_person=True, at=T0 + timedelta(hours=4)
    )
    assert late is None
    automatic = domain.reply_sent(promise, channel=Channel.EMAIL, by_person=False, at=T0)
    assert automatic is None


def test_a_logged_call_keeps_a_callback_promise_but_an_email_does_not() -> None:
    promise = made(CommitmentKind.CALLBACK, due=timedelta(days=1))
    assert domain.reply_sent(promise, channel=Channel.EMAIL, by_person=True, at=T0) is None
    call = domain.reply_sent(promise, channel=Channel.PHONE, by_person=True, at=T0)
    assert call is not None
    assert call.after.status is S.KEPT


def test_past_due_and_not_kept_is_broken() -> None:
    change = domain.fall_due(made(CommitmentKind.RESPONSE_TIME), at=T0 + timedelta(days=31))
    assert change is not None
    assert change.after.status is S.BROKEN


def test_at_risk_is_a_flag_raised_once_while_unconfirmed() -> None:
    promise = made(CommitmentKind.OUTCOME)
    risky = domain.warn(promise, at=T0)
    assert risky is not None
    assert (risky.after.status, risky.after.at_risk) == (S.AWAITING_CONFIRMATION, True)
    assert "awaiting production's confirmation" in risky.reason
    assert domain.warn(risky.after, at=T0) is None


def test_the_warning_point_is_a_fraction_of_the_time_given() -> None:
    assert domain.warning_time(T0, T0 + timedelta(hours=4), 0.75) == T0 + timedelta(hours=3)

"""Who hears of a promise's move: its maker when it is rejected, countered, broken or at risk,
or when it named only a vague time; production when it awaits their confirmation. Pure, like
`recipients`."""

from __future__ import annotations

from typing import Any, Final, Protocol

from keepword_events import (
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    Role,
    VagueTimePromised,
    Verdict,
)
from keepword_platform.company import CompanyConfig
from keepword_platform.promise_links import PromiseChange

from .notices import Notice, staff_name


class AnswerLinkMaker(Protocol):
    """Makes the signed URL of one answer in production's email.

    The service builds it from `keepword_platform.answer_links`; tests pass a fake.
    """

    def __call__(self, event: CommitmentStatusChanged, verdict: Verdict, person: str) -> str: ...


class PromiseLinkMaker(Protocol):
    """Makes the signed URL of one change the maker can make to a promise production could not
    keep as made (`keepword_platform.promise_links`); tests pass a fake."""

    def __call__(
        self, event: CommitmentStatusChanged, change: PromiseChange, person: str
    ) -> str: ...


_OWNER_TEMPLATES: Final = {
    CommitmentStatus.REJECTED: "promise_rejected_owner",
    CommitmentStatus.COUNTERED: "promise_countered_owner",
    CommitmentStatus.BROKEN: "promise_broken_owner",
}
# Production could not keep these as made: the maker withdraws them or gives new terms.
_CHANGEABLE: Final = frozenset({"promise_rejected_owner", "promise_countered_owner"})
# A promise in one of these states can no longer be "at risk": it is kept, lost or replaced.
_SETTLED: Final = frozenset(
    {
        CommitmentStatus.KEPT,
        CommitmentStatus.BROKEN,
        CommitmentStatus.REJECTED,
        CommitmentStatus.RENEGOTIATED,
        CommitmentStatus.CANCELLED,
    }
)


def _promise_context(event: CommitmentStatusChanged, company: CompanyConfig) -> dict[str, Any]:
    return {
        "commitment_id": event.commitment_id,
        "kind": event.kind.value,
        "text": event.text,
        "status": event.status.value,
        "due_at": event.due_at,
        "feasible_due_at": event.feasible_due_at,
        "production_note": event.production_note,
        "reason": event.reason,
        "made_by": staff_name(event.made_by, company),
        "customer": event.customer or Customer(),
        "at_risk": event.at_risk,
    }


def promise_for_owner(
    event: CommitmentStatusChanged,
    company: CompanyConfig,
    changes: PromiseLinkMaker | None = None,
) -> list[Notice]:
    """The person who made the promise hears when it is rejected, countered, broken or at risk;
    when rejected or countered, with links to withdraw it or give new terms (with `changes`)."""
    moved = event.status is not event.previous_status
    template = _OWNER_TEMPLATES.get(event.status) if moved else None
    # Without a move, the event is the at-risk flag being raised (commitments' `warn`).
    if template is None and event.at_risk and not moved and event.status not in _SETTLED:
        template = "promise_at_risk_owner"
    if template is None or event.made_by.role is Role.CUSTOMER:
        return []
    return [
        Notice(
            template=template,
            recipient=str(event.made_by.email),
            recipient_name=staff_name(event.made_by, company),
            recipient_role=event.made_by.role,
            internal=True,
            context={
                **_promise_context(event, company),
                "change_links": _change_links(event, template, changes),
            },
            thread_id=event.thread_id,
        )
    ]


def _change_links(
    event: CommitmentStatusChanged, template: str, changes: PromiseLinkMaker | None
) -> dict[str, str]:
    if changes is None or template not in _CHANGEABLE:
        return {}
    maker = str(event.made_by.email)
    return {change.value: changes(event, change, maker) for change in PromiseChange}


def promise_for_production(
    event: CommitmentStatusChanged,
    company: CompanyConfig,
    answers: AnswerLinkMaker | None = None,
) -> list[Notice]:
    """Production hears when a promise awaits its confirmation, and again when it turns at risk
    while still unanswered; each person gets their own links to confirm, reject or counter
    (without `answers`, only the API's example)."""
    if event.status is not CommitmentStatus.AWAITING_CONFIRMATION:
        return []
    if event.previous_status is CommitmentStatus.AWAITING_CONFIRMATION and not event.at_risk:
        return []
    context = {
        **_promise_context(event, company),
        "answer_path": f"/v1/commitments/{event.commitment_id}/answer",
        # Intake finds the thread of a promise declared through it, not of one found in a
        # reply: the example answer names it, so it works as written for every promise.
        "thread_id": event.thread_id,
    }
    return [
        Notice(
            template="promise_awaiting_confirmation_production",
            recipient=str(person.email),
            recipient_name=person.name,
            recipient_role=Role.PRODUCTION,
            internal=True,
            context={
                **context,
                "recipient_email": str(person.email),
                "answer_links": _answer_links(event, str(person.email), answers),
            },
            thread_id=event.thread_id,
        )
        for person in company.people
        if person.role is Role.PRODUCTION
    ]


def _answer_links(
    event: CommitmentStatusChanged, person: str, answers: AnswerLinkMaker | None
) -> dict[str, str]:
    if answers is None:
        return {}
    return {verdict.value: answers(event, verdict, person) for verdict in Verdict}


def vague_time_for_maker(event: VagueTimePromised, company: CompanyConfig) -> list[Notice]:
    """The person who promised by a time no clock can check ("as soon as possible") is asked to
    give the customer a date and time. Staff only: a customer never hears of it, even as the
    author of an event that claims otherwise."""
    maker = event.made_by
    customer_email = event.customer.email if event.customer else None
    is_the_customer = customer_email is not None and customer_email.lower() == maker.email.lower()
    if maker.role is Role.CUSTOMER or is_the_customer:
        return []
    context = {
        "kind": event.kind.value,
        "text": event.text,
        "vague_time": event.vague_time,
        "recorded": event.recorded,
        "commitment_id": event.commitment_id,
        "customer": event.customer or Customer(),
        "sent_at": event.sent_at,
    }
    return [
        Notice(
            template="promise_vague_time_owner",
            recipient=str(maker.email),
            recipient_name=staff_name(maker, company),
            recipient_role=maker.role,
            internal=True,
            context=context,
            thread_id=event.thread_id,
        )
    ]

"""Who must hear about each event, and what their email has to say.

Pure rules: the caller passes the event, the company configuration, the time and a way to sign
decision links; nothing here sends, stores or reads a clock. `rendering.render` turns a Notice
into the email itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from keepword_events import (
    CommitmentStatusChanged,
    Customer,
    Envelope,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    Event,
    FeedbackRequested,
    MessageReceived,
    Money,
    OptionKind,
    Person,
    PreferredChannel,
    Role,
    VagueTimePromised,
    WeeklyReportDue,
)
from keepword_platform.company import CompanyConfig

from .feedback_notices import RatingLinkMaker, feedback_request_for
from .notices import CUSTOMER_TEMPLATES, STAFF_TEMPLATES, TEMPLATES, Notice, staff_name
from .promise_notices import (
    AnswerLinkMaker,
    PromiseLinkMaker,
    promise_for_owner,
    promise_for_production,
    vague_time_for_maker,
)
from .report_notices import ReportLinks, weekly_report_for

# A manager needs the recent story, not fifty lines of it.
EVIDENCE_SHOWN: Final = 12
# How much of a customer's message is quoted back: a paragraph, not the thread.
QUOTE_LIMIT: Final = 400

_CUSTOMER_DECISIONS: Final = {
    OptionKind.REFUND: "refund_confirmed_customer",
    OptionKind.PHONE_CALL: "phone_call_proposed_customer",
    OptionKind.RENEGOTIATE: "promise_renegotiated_customer",
}


class CallLinkMaker(Protocol):
    """Makes the signed URL that logs the call a manager decided on
    (`keepword_platform.call_links`); tests pass a fake."""

    def __call__(
        self, thread_id: str, escalation_id: str, person: str, customer: Customer
    ) -> str: ...


class LinkMaker(Protocol):
    """Makes the signed URL behind one option of a manager's email.

    The service builds it from `keepword_platform.decision_links.sign_decision` and
    `decision_url`; tests pass a fake.
    """

    def __call__(self, escalation_id: str, option: OptionKind, manager_email: str) -> str: ...


@dataclass(frozen=True)
class ThreadContext:
    """What the notifier remembers of a thread from earlier events.

    Some events do not carry what a good email needs (`EscalationDecided` names neither the
    customer nor the currency; no escalation event quotes the customer or the promise), so the
    caller passes what it learnt from `keepword.messages.v1` and `keepword.commitments.v1`.
    Everything is optional: an email says less, or is not sent, when a fact is unknown.
    """

    customer: Customer | None = None
    subject: str | None = None  # the thread's subject, as the customer wrote it
    last_customer_message: str | None = None  # the body of their latest message
    deposit: Money | None = None
    promise: str | None = None  # the promise in question, in the words it was made
    production_note: str | None = None
    feasible_due_at: datetime | None = None
    waiting_since: datetime | None = None  # oldest customer message still unanswered
    last_customer_email_id: str | None = None  # Message-ID of their latest email, as received


def notices_for(
    envelope: Envelope[Event],
    company: CompanyConfig,
    *,
    now: datetime,
    links: LinkMaker,
    thread: ThreadContext | None = None,
    ratings: RatingLinkMaker | None = None,
    answers: AnswerLinkMaker | None = None,
    changes: PromiseLinkMaker | None = None,
    calls: CallLinkMaker | None = None,
    reports: ReportLinks | None = None,
) -> list[Notice]:
    """Every email an event calls for; [] for events nobody needs to hear about (or, without
    `ratings` to sign its links, the feedback request; without `reports`, the weekly report).

    A customer's message alone calls for nothing here: the acknowledgement waits for a timer
    (see `acknowledgement_for`), because a person's answer within minutes is better.
    """
    event = envelope.data
    known = thread or ThreadContext()
    if isinstance(event, EscalationOpened | EscalationRaised):
        return [_escalation_for_manager(event, company, now=now, links=links, thread=known)]
    if isinstance(event, EscalationDecided):
        to_customer = _decision_for_customer(event, now=now, thread=known)
        told = to_customer is not None
        to_service = _decision_for_service(
            event, company, thread=known, customer_told=told, now=now, calls=calls
        )
        return [*([to_customer] if to_customer else []), *to_service]
    if isinstance(event, CommitmentStatusChanged):
        to_production = promise_for_production(event, company, answers)
        return [*promise_for_owner(event, company, changes), *to_production]
    if isinstance(event, VagueTimePromised):
        return vague_time_for_maker(event, company)
    if isinstance(event, FeedbackRequested) and ratings is not None:
        asked = feedback_request_for(event, company, now=now, links=ratings, subject=known.subject)
        return [asked] if asked else []
    if isinstance(event, WeeklyReportDue) and reports is not None:
        return [weekly_report_for(event, company, reports)]
    return []


def acknowledgement_for(
    message: MessageReceived, company: CompanyConfig, *, due_by: datetime
) -> Notice:
    """The customer's "we received your message" when no person answered in time.

    `due_by` is when a person's answer is due (the escalation service's reply deadline);
    the email states it in the company's time zone.
    """
    customer = message.customer
    return Notice(
        template="acknowledgement_customer",
        recipient=str(customer.email or message.author.email),
        recipient_name=customer.name or message.author.name,
        recipient_role=Role.CUSTOMER,
        internal=False,
        context={
            "subject": message.subject,
            "quoted": relevant_part(message.body),
            "due_by": due_by,
        },
        thread_id=message.thread_id,
    )


def relevant_part(body: str | None, limit: int = QUOTE_LIMIT) -> str | None:
    """The part of a customer's message worth quoting back: its first paragraph with substance.

    Quoted history (`>` lines) and a bare greeting ("Hello,") are skipped; a long paragraph is
    cut at a word and marked with an ellipsis.
    """
    for paragraph in re.split(r"\n\s*\n", body or ""):
        lines = [ln for ln in paragraph.splitlines() if not ln.lstrip().startswith(">")]
        text = " ".join(" ".join(lines).split())
        if not text or _is_greeting(text):
            continue
        if len(text) <= limit:
            return text
        return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return None


def _is_greeting(text: str) -> bool:
    return len(text) <= 40 and text.endswith(",")


# ----- management -----------------------------------------------------------------------------


def _escalation_for_manager(
    event: EscalationOpened | EscalationRaised,
    company: CompanyConfig,
    *,
    now: datetime,
    links: LinkMaker,
    thread: ThreadContext,
) -> Notice:
    manager = event.manager
    raised = isinstance(event, EscalationRaised)
    shown = event.evidence[-EVIDENCE_SHOWN:]
    options = [
        {
            "kind": option.kind.value,
            "summary": option.summary,
            "refund": option.refund,
            "phone": option.phone,
            "feasible_due_at": option.feasible_due_at,
            "url": links(event.escalation_id, option.kind, str(manager.email)),
        }
        for option in event.options
    ]
    reminder = event.reminder if isinstance(event, EscalationRaised) else 0
    previous = event.previous_manager if isinstance(event, EscalationRaised) else None
    if previous is not None and (reminder or _same_person(previous, manager)):
        previous = None  # asked again at the top of the chain: not raised from them to them
    return Notice(
        template="escalation_raised_manager" if raised else "escalation_opened_manager",
        recipient=str(manager.email),
        recipient_name=staff_name(manager, company),
        recipient_role=Role.MANAGEMENT,
        internal=True,
        context={
            "escalation_id": event.escalation_id,
            "rule": event.rule.value,
            "level": event.level,
            "reason": event.reason,
            "previous_manager": staff_name(previous, company) if previous else None,
            "reminder": reminder,
            "customer": event.customer or thread.customer or Customer(),
            "deposit": event.deposit or thread.deposit,
            "unanswered_messages": event.unanswered_messages,
            "waiting_for": now - thread.waiting_since if thread.waiting_since else None,
            "first_entry_ago": now - event.evidence[0].at if event.evidence else None,
            # A low rating's comment is what they wrote last, and all of it matters.
            "customer_wrote": (
                event.customer_comment
                if isinstance(event, EscalationOpened) and event.customer_comment
                else relevant_part(thread.last_customer_message)
            ),
            # The event's own account first: the ledger's events on the other topic may not
            # have been read yet.
            "promise": event.promise.text if event.promise else thread.promise,
            "production_note": (
                event.promise.production_note if event.promise else thread.production_note
            ),
            "feasible_due_at": _feasible_due_at(event) or thread.feasible_due_at,
            "evidence": [{"at": item.at, "what": item.what} for item in shown],
            "evidence_omitted": len(event.evidence) - len(shown),
            "options": options,
            "decide_by": event.decide_by,
            "decision_time": company.sla.manager_decision,
        },
        thread_id=event.thread_id,
    )


# ----- decisions ------------------------------------------------------------------------------


def _decision_for_customer(
    event: EscalationDecided, *, now: datetime, thread: ThreadContext
) -> Notice | None:
    """The outcome, told to the customer: built from whitelisted facts only, so the manager's
    note, the evidence and colleagues' names cannot reach them."""
    template = _CUSTOMER_DECISIONS.get(event.option)
    customer = thread.customer
    if template is None or customer is None or customer.email is None:
        return None  # reassign and "handle it" are internal; no address, no email
    return Notice(
        template=template,
        recipient=str(customer.email),
        recipient_name=customer.name,
        recipient_role=Role.CUSTOMER,
        internal=False,
        context={
            "subject": thread.subject,
            "decided_at": now,
            "refund_amount": event.refund_amount,
            "currency": thread.deposit.currency if thread.deposit else None,
            "deposit": thread.deposit,
            "phone": customer.phone,
            "prefers_phone": customer.preferred_channel is PreferredChannel.PHONE,
            "promise": thread.promise,
            "feasible_due_at": thread.feasible_due_at,
        },
        thread_id=event.thread_id,
    )


def _decision_for_service(
    event: EscalationDecided,
    company: CompanyConfig,
    *,
    thread: ThreadContext,
    customer_told: bool,
    now: datetime,
    calls: CallLinkMaker | None,
) -> list[Notice]:
    """Customer relations (people with role service) hear of every decision: what it was, what
    the customer was told, and the next step they own; a call decided comes with its call-by
    time and a link to log it."""
    customer = thread.customer or Customer()
    can_log = calls is not None and (customer.email or customer.phone)
    context = {
        "escalation_id": event.escalation_id,
        "option": event.option.value,
        "level": event.level,
        "decided_by": staff_name(event.decided_by, company),
        "note": event.note,
        "refund_amount": event.refund_amount,
        "currency": thread.deposit.currency if thread.deposit else None,
        "customer": thread.customer or Customer(),
        "customer_told": customer_told,
        "promise": thread.promise,
        "feasible_due_at": thread.feasible_due_at,
        "decision_time": company.sla.manager_decision,
        # The company's time for a concrete action after a decision: the call is due by then.
        "call_by": now + company.sla.manager_decision,
    }
    return [
        Notice(
            template="decision_made_service",
            recipient=str(person.email),
            recipient_name=person.name,
            recipient_role=Role.SERVICE,
            internal=True,
            context={
                **context,
                "call_url": calls(event.thread_id, event.escalation_id, str(person.email), customer)
                if can_log and calls is not None and event.option is OptionKind.PHONE_CALL
                else None,
            },
            thread_id=event.thread_id,
        )
        for person in company.people
        if person.role is Role.SERVICE
    ]


def _feasible_due_at(event: EscalationOpened | EscalationRaised) -> datetime | None:
    """Production's feasible terms, as the renegotiate option states them."""
    return next((o.feasible_due_at for o in event.options if o.feasible_due_at), None)


def _same_person(one: Person, other: Person) -> bool:
    return str(one.email).lower() == str(other.email).lower()


__all__ = [
    "CUSTOMER_TEMPLATES",
    "STAFF_TEMPLATES",
    "TEMPLATES",
    "LinkMaker",
    "Notice",
    "ThreadContext",
    "acknowledgement_for",
    "notices_for",
    "relevant_part",
]

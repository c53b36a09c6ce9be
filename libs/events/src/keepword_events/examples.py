"""One realistic example of every event type: for docs, smoke checks and contract tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .base import Event
from .commitments import (
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentFulfilled,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    CommitmentStatusChanged,
    VagueTimePromised,
    Verdict,
)
from .common import Channel, Customer, Money, Person, PreferredChannel, Role
from .escalations import (
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationRule,
    EscalationWarned,
    EvidenceItem,
    Option,
    OptionKind,
)
from .feedback import CustomerRated, FeedbackOccasion, FeedbackRequested
from .messages import MessageReceived, ReplySent
from .notifications import NotificationFailed, NotificationSent
from .reports import BrokenPromise, ReplyTimes, Wait, WeekFigures, WeeklyReportDue

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
CUSTOMER = Customer(
    email="dana@example.com",
    name="Dana Whitfield",
    phone="+1 555 0100",
    preferred_channel=PreferredChannel.PHONE,
)
DANA = Person(email="dana@example.com", name="Dana Whitfield", role=Role.CUSTOMER)
SALES = Person(email="sam@keepword.example", name="Sam Sales", role=Role.SALES)
PRODUCTION = Person(email="pat@keepword.example", name="Pat Production", role=Role.PRODUCTION)
MANAGER = Person(email="morgan@keepword.example", name="Morgan Manager", role=Role.MANAGEMENT)
DIRECTOR = Person(email="drew@keepword.example", name="Drew Director", role=Role.MANAGEMENT)
DEPOSIT = Money(amount=Decimal("1500.00"), currency="USD")


def every_event(thread_id: str = "thr-example-1") -> list[Event]:
    """One event of each type, all on the thread `thread_id`."""
    ids = {"thread_id": thread_id, "correlation_id": thread_id}
    promise = CommitmentSource(kind="declared")
    return [
        MessageReceived(
            **ids,
            message_id="msg-1",
            channel=Channel.EMAIL,
            customer=CUSTOMER,
            author=DANA,
            subject="Where is my ranking report?",
            body="I paid a deposit two weeks ago.",
            sent_at=NOW,
            received_at=NOW,
            deposit=DEPOSIT,
        ),
        ReplySent(
            **ids,
            causation_id="msg-1",
            message_id="msg-2",
            channel=Channel.EMAIL,
            customer=CUSTOMER,
            author=SALES,
            subject="Re: Where is my ranking report?",
            body="We will respond within three hours.",
            sent_at=NOW,
            received_at=NOW,
        ),
        CommitmentDeclared(
            **ids,
            commitment_id="cmt-1",
            made_by=SALES,
            kind=CommitmentKind.OUTCOME,
            text="Guaranteed first-page ranking in 30 days",
            due_at=NOW + timedelta(days=30),
            customer=CUSTOMER,
        ),
        CommitmentAnswered(
            **ids,
            commitment_id="cmt-1",
            answered_by=PRODUCTION,
            verdict=Verdict.COUNTERED,
            note="Page two in 60 days is feasible.",
            feasible_due_at=NOW + timedelta(days=60),
        ),
        CommitmentFulfilled(
            **ids,
            commitment_id="cmt-1",
            reported_by=PRODUCTION,
            kept=False,
            note="Ranking reached page two only.",
        ),
        CommitmentCancelled(
            **ids, commitment_id="cmt-1", cancelled_by=MANAGER, reason="Deposit refunded."
        ),
        CommitmentStatusChanged(
            **ids,
            commitment_id="cmt-1",
            status=CommitmentStatus.COUNTERED,
            previous_status=CommitmentStatus.AWAITING_CONFIRMATION,
            kind=CommitmentKind.OUTCOME,
            text="Guaranteed first-page ranking in 30 days",
            made_by=SALES,
            customer=CUSTOMER,
            due_at=NOW + timedelta(days=30),
            feasible_due_at=NOW + timedelta(days=60),
            production_note="Page two in 60 days is feasible.",
            source=promise,
            reason="production countered",
            changed_at=NOW,
        ),
        EscalationOpened(
            **ids,
            escalation_id="esc-1",
            rule=EscalationRule.PROMISE_GAP,
            level=1,
            manager=MANAGER,
            customer=CUSTOMER,
            reason="Production countered a promise.",
            evidence=(EvidenceItem(at=NOW, what="Production countered", event_id="evt-1"),),
            options=(
                Option(kind=OptionKind.REFUND, summary="Refund the deposit", refund=DEPOSIT),
                Option(kind=OptionKind.PHONE_CALL, summary="Call Dana", phone="+1 555 0100"),
            ),
            decide_by=NOW + timedelta(hours=4),
            unanswered_messages=3,
            deposit=DEPOSIT,
        ),
        EscalationWarned(
            **ids,
            escalation_id="esc-1",
            rule=EscalationRule.STALLED,
            level=1,
            reason="Next reply due in one hour.",
            due_at=NOW + timedelta(hours=1),
        ),
        EscalationRaised(
            **ids,
            escalation_id="esc-1",
            rule=EscalationRule.HANDLE_IT,
            level=2,
            manager=DIRECTOR,
            previous_manager=MANAGER,
            reason="'Handle it' with no action in 4 hours.",
            decide_by=NOW + timedelta(hours=8),
        ),
        EscalationDecided(
            **ids,
            escalation_id="esc-1",
            rule=EscalationRule.HANDLE_IT,
            level=2,
            option=OptionKind.REFUND,
            decided_by=DIRECTOR,
            refund_amount=Decimal("1500.00"),
        ),
        EscalationResolved(
            **ids,
            escalation_id="esc-1",
            rule=EscalationRule.HANDLE_IT,
            level=2,
            resolution="Refund confirmed to the customer.",
        ),
        FeedbackRequested(
            **ids,
            customer=CUSTOMER,
            occasion=FeedbackOccasion.RESOLVED,
            requested_at=NOW,
        ),
        CustomerRated(
            **ids,
            rating=2,
            comment="The refund came, but only after I wrote three times.",
            rated_at=NOW,
            revision=1,
        ),
        NotificationSent(
            **ids,
            notification_id="ntf-1",
            idempotency_key="evt-1:dana@example.com:ack",
            source_event_id="evt-1",
            template="customer_ack",
            recipient_role=Role.CUSTOMER,
            recipient="dana@example.com",
            attempts=1,
            email_message_id="<ntf-1@keepword>",
            subject="We received your message",
        ),
        NotificationFailed(
            **ids,
            notification_id="ntf-2",
            idempotency_key="evt-1:morgan@keepword.example:esc",
            source_event_id="evt-1",
            template="escalation",
            recipient_role=Role.MANAGEMENT,
            recipient="morgan@keepword.example",
            attempts=1,
            error="550 mailbox unavailable",
            smtp_code=550,
            permanent=True,
        ),
        # Last, so that the list's earlier positions (which tests pick by index) stay put.
        VagueTimePromised(
            **ids,
            causation_id="evt-2",
            message_id="msg-2",
            made_by=SALES,
            kind=CommitmentKind.RESPONSE_TIME,
            vague_time="as soon as possible",
            text="We'll get back to you as soon as possible.",
            recorded=False,
            customer=CUSTOMER,
            sent_at=NOW,
        ),
        WeeklyReportDue(
            **ids,
            week="2026-W44",
            week_starts_at=datetime(2026, 10, 26, 13, tzinfo=UTC),
            week_ends_at=datetime(2026, 11, 2, 14, tzinfo=UTC),
            timezone="America/New_York",
            manager=MANAGER,
            this_week=WeekFigures(
                first_reply=ReplyTimes(
                    count=41, p50_seconds=5400, p90_seconds=30600, within_sla_percent=87.8
                ),
                promises_kept=12,
                promises_broken=1,
                escalations_opened=3,
                handle_it=1,
                refunds=1,
                refund_total=Decimal("1500.00"),
            ),
            week_before=WeekFigures(
                first_reply=ReplyTimes(count=0),
                promises_kept=9,
                promises_broken=2,
                escalations_opened=5,
                handle_it=0,
                refunds=0,
            ),
            worst_waits=(
                Wait(
                    thread_id=thread_id,
                    began_at=NOW - timedelta(days=3),
                    business_seconds=61200,
                    answered=True,
                ),
            ),
            broken_promises=(
                BrokenPromise(
                    commitment_id="cmt-1",
                    thread_id=thread_id,
                    kind=CommitmentKind.DELIVERY.value,
                    maker_email=str(SALES.email),
                    broken_at=NOW - timedelta(days=1),
                ),
            ),
        ),
    ]

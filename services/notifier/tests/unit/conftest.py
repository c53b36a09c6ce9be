"""One realistic thread for the notifier's unit tests, and a tiny snapshot helper.

Dana paid a deposit for a first-page ranking that sales promised and production countered; she
wrote three times without an answer; the escalation went to Morgan, then up to Drew. The
company is the development configuration's (deploy/local/keepword.toml), built here so that an
edit to that file cannot change these tests.

Builders are plain functions (the rendered examples need them at collection time, to
parametrize the snapshot test); the tests get them through fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from keepword_events import (
    Channel,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    Envelope,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationRule,
    Event,
    EvidenceItem,
    FeedbackOccasion,
    FeedbackRequested,
    MessageReceived,
    Money,
    Option,
    OptionKind,
    Person,
    PreferredChannel,
    Role,
    VagueTimePromised,
    Verdict,
    WeeklyReportDue,
    new_envelope,
)
from keepword_events.reports import BrokenPromise, ReplyTimes, Wait, WeekFigures
from keepword_notifier.digest import digest_notice
from keepword_notifier.recipients import (
    Notice,
    ThreadContext,
    acknowledgement_for,
    notices_for,
)
from keepword_notifier.rendering import render, render_part
from keepword_notifier.sendlog import Send
from keepword_platform.company import CompanyConfig
from keepword_platform.promise_links import PromiseChange

THREAD = "thr-0123456789abcdef"
# 09:30 in New York, the day after the clocks went back (EST).
NOW = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

COMPANY = CompanyConfig.model_validate(
    {
        "company": {
            "name": "Brightline Digital",
            "support_address": "support@brightline.example",
            "timezone": "America/New_York",
        },
        "sla": {"manager_decision": "4h"},
        "people": [
            {"email": "sam.sales@brightline.example", "name": "Sam Ortega", "role": "sales"},
            {"email": "mia.marketing@brightline.example", "name": "Mia Chen", "role": "marketing"},
            {
                "email": "casey.service@brightline.example",
                "name": "Casey Brooks",
                "role": "service",
            },
            {
                "email": "pat.production@brightline.example",
                "name": "Pat Novak",
                "role": "production",
            },
            {
                "email": "morgan.lead@brightline.example",
                "name": "Morgan Reyes",
                "role": "management",
                "level": 1,
            },
            {
                "email": "drew.director@brightline.example",
                "name": "Drew Adler",
                "role": "management",
                "level": 2,
            },
        ],
    }
)

DANA = Customer(
    email="dana@example.com",
    name="Dana Whitfield",
    phone="+1 555 0100",
    preferred_channel=PreferredChannel.PHONE,
)
DEPOSIT = Money(amount=Decimal("1500.00"), currency="USD")
SAM = Person(email="sam.sales@brightline.example", name="Sam", role=Role.SALES)
MORGAN = Person(email="morgan.lead@brightline.example", name="Morgan", role=Role.MANAGEMENT)
DREW = Person(email="drew.director@brightline.example", name="Drew", role=Role.MANAGEMENT)
PROMISE = "Guaranteed first-page ranking in 30 days"
PRODUCTION_NOTE = "Page two in 60 days is feasible; page one cannot be guaranteed."
FEASIBLE = NOW + 60 * DAY
# What the manager writes is for staff: it must never reach the customer.
INTERNAL_NOTE = "INTERNAL: she has complained before; keep it short."
BODY = (
    "Hello,\n\n"
    "I paid a deposit of 1,500 dollars two weeks ago and was promised a first-page\n"
    "ranking within 30 days. Nobody has answered my last three emails.\n\n"
    "Please tell me what is going on.\n\nDana\n\n"
    "> On 20 October you wrote:\n> We will respond within three hours."
)
IDS = {"thread_id": THREAD, "correlation_id": THREAD}

EVIDENCE = (
    EvidenceItem(
        at=NOW - 2 * DAY, what="Customer wrote (1 unanswered): Where is my ranking report?"
    ),
    EvidenceItem(
        at=NOW - DAY,
        what=f"Promise '{PROMISE}' is countered; production: {PRODUCTION_NOTE}",
    ),
    EvidenceItem(at=NOW - HOUR, what="Customer wrote (3 unanswered): Still nothing?"),
)
OPTIONS = (
    Option(
        kind=OptionKind.PHONE_CALL,
        summary="Call Dana Whitfield (prefers the phone)",
        phone="+1 555 0100",
    ),
    Option(kind=OptionKind.REFUND, summary="Refund the deposit of 1500.00 USD", refund=DEPOSIT),
    Option(
        kind=OptionKind.RENEGOTIATE,
        summary="Renegotiate to production's feasible terms: thank the customer, give the news "
        "plainly, say what we will do",
        feasible_due_at=FEASIBLE,
    ),
    Option(kind=OptionKind.REASSIGN, summary="Reassign to an owner"),
    Option(kind=OptionKind.HANDLE_IT, summary="Handle it (no decision)"),
)


@dataclass
class FakeLinks:
    """Stands in for signed decision links: a readable URL, and a record of what was asked."""

    calls: list[tuple[str, OptionKind, str]] = field(default_factory=list)

    def __call__(self, escalation_id: str, option: OptionKind, manager_email: str) -> str:
        self.calls.append((escalation_id, option, manager_email))
        return f"https://decide.brightline.example/decisions/{escalation_id}.{option.value}"


def fake_answer_link(event: CommitmentStatusChanged, verdict: Verdict, person: str) -> str:
    """Stands in for signed answer links: a readable URL."""
    return f"https://brightline.example/answers/{event.commitment_id}.{verdict.value}"


def fake_change_link(event: CommitmentStatusChanged, change: PromiseChange, person: str) -> str:
    """Stands in for signed promise links: a readable URL."""
    return f"https://brightline.example/promises/{event.commitment_id}.{change.value}"


def fake_call_link(thread_id: str, escalation_id: str, person: str, customer: Customer) -> str:
    """Stands in for signed call links: a readable URL."""
    return f"https://brightline.example/calls/{escalation_id}"


def fake_rating_link(thread_id: str, rating: int | None) -> str:
    """Stands in for signed rating links: a readable URL."""
    return f"https://brightline.example/feedback/{thread_id}.{rating or 'words'}"


def feedback_requested(**changes: Any) -> FeedbackRequested:
    """Escalation asks Dana how well we kept our word: her escalation was resolved."""
    base = FeedbackRequested(
        **IDS, customer=DANA, occasion=FeedbackOccasion.RESOLVED, requested_at=NOW
    )
    return base.model_copy(update=changes)


@dataclass
class FakeReportLinks:
    """Stands in for the weekly report's links: readable URLs."""

    def dashboard(self, manager: str) -> str:
        return f"https://insights.brightline.example/dashboard/sign-in/{manager}"

    def week(self, first: date, last: date) -> str:
        return f"https://insights.brightline.example/dashboard?from={first}&to={last}"


def weekly_report(**changes: Any) -> WeeklyReportDue:
    """Morgan's report of week 44 (26 October to 1 November 2026: New York's clocks went back
    on its last day), against week 43."""
    week = WeekFigures(
        first_reply=ReplyTimes(
            count=41, p50_seconds=5_400, p90_seconds=30_600, within_sla_percent=87.8
        ),
        promises_kept=12,
        promises_broken=2,
        escalations_opened=3,
        handle_it=1,
        refunds=1,
        refund_total=Decimal("1500.00"),
    )
    before = WeekFigures(
        first_reply=ReplyTimes(
            count=38, p50_seconds=7_200, p90_seconds=28_800, within_sla_percent=90.0
        ),
        promises_kept=9,
        promises_broken=2,
        escalations_opened=5,
        handle_it=0,
        refunds=0,
    )
    base = WeeklyReportDue(
        thread_id="report-5d41402abc4b2a76",
        correlation_id="report-5d41402abc4b2a76",
        week="2026-W44",
        week_starts_at=datetime(2026, 10, 26, 4, tzinfo=UTC),
        week_ends_at=datetime(2026, 11, 2, 5, tzinfo=UTC),
        timezone="America/New_York",
        manager=MORGAN,
        this_week=week,
        week_before=before,
        worst_waits=(
            Wait(thread_id=THREAD, began_at=NOW - 6 * DAY, business_seconds=61_200, answered=True),
            Wait(
                thread_id="thr-00000000000000b2",
                began_at=NOW - 3 * DAY,
                business_seconds=36_000,
                answered=False,
            ),
        ),
        broken_promises=(
            BrokenPromise(
                commitment_id="cmt-1",
                thread_id=THREAD,
                kind="delivery",
                maker_email="sam.sales@brightline.example",
                broken_at=NOW - 2 * DAY,
            ),
            BrokenPromise(
                commitment_id="cmt-2",
                thread_id="thr-00000000000000c3",
                kind="callback",
                maker_email="someone.gone@brightline.example",
                broken_at=NOW - DAY,
            ),
        ),
    )
    return base.model_copy(update=changes)


def envelope(event: Event) -> Envelope[Event]:
    """`event` as the notifier receives it."""
    return new_envelope(event, source="/tests", event_id="evt-1", time=NOW)


def message(**changes: Any) -> MessageReceived:
    """Dana's latest message."""
    base = MessageReceived(
        **IDS,
        message_id="msg-3",
        channel=Channel.EMAIL,
        customer=DANA,
        author=Person(email="dana@example.com", name="Dana Whitfield", role=Role.CUSTOMER),
        subject="Where is my ranking report?",
        body=BODY,
        sent_at=NOW - HOUR,
        received_at=NOW - HOUR,
        deposit=DEPOSIT,
    )
    return base.model_copy(update=changes)


def thread_context(**changes: Any) -> ThreadContext:
    """What the notifier remembers of Dana's thread."""
    fields: dict[str, Any] = {
        "customer": DANA,
        "subject": "Where is my ranking report?",
        "last_customer_message": BODY,
        "deposit": DEPOSIT,
        "promise": PROMISE,
        "production_note": PRODUCTION_NOTE,
        "feasible_due_at": FEASIBLE,
        "waiting_since": NOW - 2 * DAY,
    }
    return ThreadContext(**{**fields, **changes})


def opened(**changes: Any) -> EscalationOpened:
    """The escalation put in front of Morgan."""
    base = EscalationOpened(
        **IDS,
        escalation_id="esc-1",
        rule=EscalationRule.PROMISE_GAP,
        level=1,
        manager=MORGAN,
        customer=DANA,
        reason=f"Promise '{PROMISE}' is countered; production: {PRODUCTION_NOTE}, while the "
        "customer still believes it.",
        evidence=EVIDENCE,
        options=OPTIONS,
        decide_by=NOW + 4 * HOUR,
        unanswered_messages=3,
        deposit=DEPOSIT,
    )
    return base.model_copy(update=changes)


def raised(**changes: Any) -> EscalationRaised:
    """Morgan said "handle it" and nothing followed: Drew is asked."""
    base = EscalationRaised(
        **IDS,
        escalation_id="esc-1",
        rule=EscalationRule.PROMISE_GAP,
        level=2,
        manager=DREW,
        previous_manager=MORGAN,
        reason="morgan.lead@brightline.example said 'handle it' and no concrete action followed "
        "within 4 hours.",
        decide_by=NOW + 4 * HOUR,
        customer=DANA,
        evidence=EVIDENCE,
        options=OPTIONS,
        unanswered_messages=4,
        deposit=DEPOSIT,
    )
    return base.model_copy(update=changes)


def decided(option: OptionKind, **changes: Any) -> EscalationDecided:
    """Morgan picked `option`."""
    base = EscalationDecided(
        **IDS,
        escalation_id="esc-1",
        rule=EscalationRule.PROMISE_GAP,
        level=1,
        option=option,
        decided_by=MORGAN,
        note=INTERNAL_NOTE,
        refund_amount=DEPOSIT.amount if option is OptionKind.REFUND else None,
    )
    return base.model_copy(update=changes)


def status_changed(**changes: Any) -> CommitmentStatusChanged:
    """The ledger moved Sam's promise (by default: production countered it)."""
    base = CommitmentStatusChanged(
        **IDS,
        commitment_id="cmt-1",
        status=CommitmentStatus.COUNTERED,
        previous_status=CommitmentStatus.AWAITING_CONFIRMATION,
        kind=CommitmentKind.OUTCOME,
        text=PROMISE,
        made_by=SAM,
        customer=DANA,
        due_at=NOW + 28 * DAY,
        feasible_due_at=FEASIBLE,
        production_note=PRODUCTION_NOTE,
        source=CommitmentSource(kind="declared"),
        reason="production countered",
        changed_at=NOW,
    )
    return base.model_copy(update=changes)


def vague_time(**changes: Any) -> VagueTimePromised:
    """Sam answered Dana "as soon as possible": a promise no clock can keep or break."""
    base = VagueTimePromised(
        **IDS,
        causation_id="evt-reply",
        message_id="msg-4",
        made_by=SAM,
        kind=CommitmentKind.RESPONSE_TIME,
        vague_time="as soon as possible",
        text="We'll get back to you as soon as possible.",
        recorded=False,
        customer=DANA,
        sent_at=NOW - HOUR,
    )
    return base.model_copy(update=changes)


def notices(event: Event, thread: ThreadContext | None = None) -> list[Notice]:
    """Every notice `event` calls for, with the standard company, time and fake links."""
    return notices_for(
        envelope(event),
        COMPANY,
        now=NOW,
        links=FakeLinks(),
        thread=thread or thread_context(),
        answers=fake_answer_link,
        changes=fake_change_link,
        calls=fake_call_link,
    )


def _pick(found: list[Notice], template: str) -> Notice:
    return next(n for n in found if n.template == template)


def _examples() -> dict[str, Notice]:
    """One rendered example per template and per interesting variant; each has a snapshot."""
    bare = ThreadContext()
    unnamed = Customer(email="lee@example.com")
    awaiting = {"status": CommitmentStatus.AWAITING_CONFIRMATION, "previous_status": None}
    examples = {
        "acknowledgement_customer": acknowledgement_for(message(), COMPANY, due_by=NOW + DAY),
        "acknowledgement_customer_minimal": acknowledgement_for(
            message(customer=unnamed, subject=None, body=""), COMPANY, due_by=NOW + DAY
        ),
        "escalation_opened_manager": notices(opened())[0],
        "escalation_opened_manager_minimal": notices(
            opened(customer=Customer(), evidence=(), options=(), deposit=None), bare
        )[0],
        "escalation_raised_manager": notices(raised())[0],
        "escalation_raised_manager_reminder": notices(
            raised(
                previous_manager=DREW,
                reminder=2,
                reason="Reminder 2: drew.director@brightline.example did not decide yet. "
                "Top of the chain: asked again, less often each time.",
                decide_by=NOW + 16 * HOUR,
            )
        )[0],
        "promise_rejected_owner": notices(
            status_changed(
                status=CommitmentStatus.REJECTED,
                feasible_due_at=None,
                production_note="We cannot guarantee any ranking.",
                reason="production rejected",
            )
        )[0],
        "promise_countered_owner": notices(status_changed())[0],
        "promise_at_risk_owner": notices(
            status_changed(
                status=CommitmentStatus.CONFIRMED,
                previous_status=CommitmentStatus.CONFIRMED,
                at_risk=True,
                feasible_due_at=None,
                production_note=None,
                reason="at risk: still confirmed and not yet kept",
            )
        )[0],
        "promise_broken_owner": notices(
            status_changed(
                status=CommitmentStatus.BROKEN,
                previous_status=CommitmentStatus.CONFIRMED,
                reason="reported not kept: ranking reached page two only",
            )
        )[0],
        "promise_awaiting_confirmation_production": notices(
            status_changed(**awaiting, feasible_due_at=None, production_note=None, reason="")
        )[0],
        "promise_awaiting_confirmation_production_at_risk": _pick(
            notices(
                status_changed(
                    status=CommitmentStatus.AWAITING_CONFIRMATION,
                    previous_status=CommitmentStatus.AWAITING_CONFIRMATION,
                    at_risk=True,
                    feasible_due_at=None,
                    production_note=None,
                    reason="at risk: still awaiting production's confirmation",
                )
            ),
            "promise_awaiting_confirmation_production",
        ),
    }
    examples["promise_vague_time_owner"] = notices(vague_time())[0]
    examples["promise_vague_time_owner_recorded"] = notices(
        vague_time(
            kind=CommitmentKind.REFUND,
            vague_time="asap",
            text="I will refund your deposit ASAP.",
            recorded=True,
            commitment_id="cmt-2",
            customer=None,
        )
    )[0]
    customer_templates = {
        OptionKind.REFUND: "refund_confirmed_customer",
        OptionKind.PHONE_CALL: "phone_call_proposed_customer",
        OptionKind.RENEGOTIATE: "promise_renegotiated_customer",
    }
    for option in OptionKind:
        found = notices(decided(option))
        examples[f"decision_made_service_{option.value}"] = _pick(found, "decision_made_service")
        if option in customer_templates:
            examples[customer_templates[option]] = _pick(found, customer_templates[option])
    examples["decision_made_service_customer_not_told"] = notices(
        decided(OptionKind.PHONE_CALL), bare
    )[0]
    examples["refund_confirmed_customer_amount_unknown"] = _pick(
        notices(decided(OptionKind.REFUND, refund_amount=None), thread_context(deposit=None)),
        "refund_confirmed_customer",
    )
    examples["phone_call_proposed_customer_no_number"] = _pick(
        notices(decided(OptionKind.PHONE_CALL), thread_context(customer=unnamed, subject=None)),
        "phone_call_proposed_customer",
    )
    examples["promise_renegotiated_customer_terms_unknown"] = _pick(
        notices(
            decided(OptionKind.RENEGOTIATE),
            thread_context(promise=None, feasible_due_at=None, deposit=None),
        ),
        "promise_renegotiated_customer",
    )
    for name, asked, known in (
        ("feedback_request_customer", feedback_requested(), thread_context()),
        ("feedback_request_customer_minimal", feedback_requested(customer=unnamed), bare),
    ):
        [examples[name]] = notices_for(
            envelope(asked),
            COMPANY,
            now=NOW,
            links=FakeLinks(),
            thread=known,
            ratings=fake_rating_link,
        )
    examples["escalation_opened_manager_unhappy_customer"] = notices(
        opened(
            rule=EscalationRule.UNHAPPY_CUSTOMER,
            reason="The customer rated how well we kept our word 1 out of 5 and wrote why.",
            customer_comment="You said someone would call me on Monday.\n\nNobody did.",
        )
    )[0]
    for name, report in (
        ("weekly_report_manager", weekly_report()),
        (
            "weekly_report_manager_quiet_week",
            weekly_report(
                this_week=WeekFigures(
                    first_reply=ReplyTimes(count=0),
                    promises_kept=0,
                    promises_broken=0,
                    escalations_opened=0,
                    handle_it=0,
                    refunds=0,
                ),
                worst_waits=(),
                broken_promises=(),
            ),
        ),
    ):
        [examples[name]] = notices_for(
            envelope(report), COMPANY, now=NOW, links=FakeLinks(), reports=FakeReportLinks()
        )
    examples["escalation_digest_manager"] = digest_notice(
        [held_send(examples["escalation_opened_manager"]), held_send(_second_escalation())],
        COMPANY,
        DIGEST_WINDOW,
    )
    return examples


DIGEST_WINDOW = timedelta(minutes=5)
OTHER_THREAD = "thr-fedcba9876543210"


def _second_escalation() -> Notice:
    """Another customer's escalation, for Morgan too, minutes after Dana's."""
    lee = Customer(email="lee@example.com", name="Lee Park")
    other = {"thread_id": OTHER_THREAD, "correlation_id": OTHER_THREAD}
    event = opened(
        **other,
        escalation_id="esc-2",
        rule=EscalationRule.STALLED,
        customer=lee,
        reason="The customer has waited 26 hours for a first reply.",
        evidence=(EvidenceItem(at=NOW - 26 * HOUR, what="Customer wrote (1 unanswered): Hello?"),),
        options=(
            Option(kind=OptionKind.PHONE_CALL, summary="Call Lee Park (no number on file)"),
            Option(kind=OptionKind.HANDLE_IT, summary="Handle it (no decision)"),
        ),
        unanswered_messages=1,
        deposit=None,
    )
    return notices(event, ThreadContext(customer=lee, waiting_since=NOW - 26 * HOUR))[0]


def held_send(notice: Notice) -> Send:
    """`notice` as the send log holds it while it may still join a digest."""
    email, part = render(notice, COMPANY), render_part(notice, COMPANY)
    key = f"evt-{notice.thread_id}:{notice.recipient}:{notice.template}"
    return Send(
        idempotency_key=key,
        notification_id=f"ntf-{notice.thread_id[4:]}",
        source_event_id=f"evt-{notice.thread_id}",
        thread_id=notice.thread_id,
        template=notice.template,
        recipient=notice.recipient,
        recipient_role=notice.recipient_role.value,
        message_id=f"<kw.{notice.thread_id}.x@brightline.example>",
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
        digest_group=f"manager:{notice.recipient}",
        digest_text=part.text,
        digest_html=part.html,
    )


EXAMPLES = _examples()
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_SNAPSHOTS = os.environ.get("KEEPWORD_UPDATE_SNAPSHOTS") == "1"

Snapshot = Callable[[str, str], None]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`example_name` runs a test once per rendered example."""
    if "example_name" in metafunc.fixturenames:
        metafunc.parametrize("example_name", sorted(EXAMPLES))


def assert_snapshot(file_name: str, actual: str) -> None:
    """`actual` must equal snapshots/`file_name`; KEEPWORD_UPDATE_SNAPSHOTS=1 rewrites it."""
    path = SNAPSHOTS / file_name
    if UPDATE_SNAPSHOTS:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"no snapshot {path.name}: run with KEEPWORD_UPDATE_SNAPSHOTS=1, then review it"
        )
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{path.name} changed; if that is intended, rerun with KEEPWORD_UPDATE_SNAPSHOTS=1 and "
        "review the diff"
    )


@pytest.fixture
def snapshot() -> Snapshot:
    """Compare text with its committed snapshot (see `assert_snapshot`)."""
    return assert_snapshot


@pytest.fixture
def examples() -> dict[str, Notice]:
    """Every rendered example, by snapshot name."""
    return EXAMPLES


@pytest.fixture
def company() -> CompanyConfig:
    return COMPANY


@pytest.fixture
def now() -> datetime:
    return NOW


# The builders, as fixtures: test modules cannot import from a conftest.
@pytest.fixture
def make_message() -> Callable[..., MessageReceived]:
    return message


@pytest.fixture
def make_thread() -> Callable[..., ThreadContext]:
    return thread_context


@pytest.fixture
def make_opened() -> Callable[..., EscalationOpened]:
    return opened


@pytest.fixture
def make_raised() -> Callable[..., EscalationRaised]:
    return raised


@pytest.fixture
def make_decided() -> Callable[..., EscalationDecided]:
    return decided


@pytest.fixture
def make_status_changed() -> Callable[..., CommitmentStatusChanged]:
    return status_changed


@pytest.fixture
def make_vague_time() -> Callable[..., VagueTimePromised]:
    return vague_time


@pytest.fixture
def notices_of() -> Callable[..., list[Notice]]:
    """`notices_of(event, thread=None)`: the notices with the standard company, time, links."""
    return notices


@pytest.fixture
def make_held() -> Callable[[Notice], Send]:
    """`make_held(notice)`: the notice as a held row of the send log, with its digest part."""
    return held_send

"""Who hears about each event: recipients, roles, the internal flag, and what the templates get."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from keepword_events import (
    Channel,
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    Event,
    MessageReceived,
    OptionKind,
    Person,
    PromiseInQuestion,
    ReplySent,
    Role,
    VagueTimePromised,
    new_envelope,
)
from keepword_events.examples import every_event
from keepword_notifier.dispatcher import INPUTS
from keepword_notifier.recipients import (
    CUSTOMER_TEMPLATES,
    Notice,
    ThreadContext,
    acknowledgement_for,
    notices_for,
    relevant_part,
)
from keepword_notifier.rendering import render
from keepword_platform.company import CompanyConfig

THREAD = "thr-0123456789abcdef"
MORGAN = "morgan.lead@brightline.example"
DREW = "drew.director@brightline.example"
SERVICE = "casey.service@brightline.example"
PRODUCTION = "pat.production@brightline.example"
SALES = "sam.sales@brightline.example"

Notices = Callable[..., list[Notice]]


def who(found: list[Notice]) -> list[tuple[str, str, Role, bool]]:
    return [(n.template, n.recipient, n.recipient_role, n.internal) for n in found]


# ----- the customer ---------------------------------------------------------------------------


def test_a_customer_message_alone_calls_for_nothing(
    notices_of: Notices, make_message: Callable[..., MessageReceived]
) -> None:
    # The acknowledgement waits for the "no person answered" timer: see acknowledgement_for.
    assert notices_of(make_message()) == []


def test_the_acknowledgement_goes_to_the_customer_with_the_time_they_will_hear_by(
    company: CompanyConfig, now: datetime, make_message: Callable[..., MessageReceived]
) -> None:
    notice = acknowledgement_for(make_message(), company, due_by=now + timedelta(hours=24))

    assert who([notice]) == [("acknowledgement_customer", "dana@example.com", Role.CUSTOMER, False)]
    assert notice.recipient_name == "Dana Whitfield"
    assert notice.thread_id == THREAD
    assert notice.context["due_by"] == now + timedelta(hours=24)
    assert notice.context["quoted"] == (
        "I paid a deposit of 1,500 dollars two weeks ago and was promised a first-page ranking "
        "within 30 days. Nobody has answered my last three emails."
    )


def test_the_acknowledgement_falls_back_to_the_author_when_the_customer_has_no_address(
    company: CompanyConfig, now: datetime, make_message: Callable[..., MessageReceived]
) -> None:
    message = make_message(customer=Customer(phone="+1 555 0100"))

    notice = acknowledgement_for(message, company, due_by=now)

    assert notice.recipient == "dana@example.com"
    assert notice.recipient_name == "Dana Whitfield"


def _reply(**changes: Any) -> ReplySent:
    [reply] = [e for e in every_event(THREAD) if isinstance(e, ReplySent)]
    return reply.model_copy(update=changes)


MANAGER = Person(email=MORGAN, name="Morgan Reyes", role=Role.MANAGEMENT)


@pytest.mark.parametrize(
    ("reply", "counts"),
    [
        (_reply(), True),  # sales answered the customer
        (_reply(automatic=True), False),  # an automatic acknowledgement
        # A manager's answer to our escalation email ("Handle it."): no customer address.
        (_reply(author=MANAGER, customer=Customer(), body="Handle it."), False),
        (_reply(author=MANAGER), True),  # a manager writing to the customer
        # A phone call by service: no address, still the customer's answer.
        (_reply(channel=Channel.PHONE, customer=Customer(phone="+1 555 0100")), True),
    ],
)
def test_only_a_persons_reply_that_reached_the_customer_ends_their_wait(
    reply: ReplySent, counts: bool
) -> None:
    assert reply.reached_the_customer is counts


@pytest.mark.parametrize(
    ("body", "quoted"),
    [
        ("", None),
        ("Hi team,\n\n> old quoted text\n\nWhere is it?", "Where is it?"),
        ("> only quoted history", None),
        ("Line one\nline two\n\nSecond paragraph", "Line one line two"),
        ("word " * 200, ("word " * 80).strip() + " …"),
    ],
)
def test_only_the_relevant_part_of_a_message_is_quoted(body: str, quoted: str | None) -> None:
    assert relevant_part(body) == quoted


@pytest.mark.parametrize(
    ("option", "template"),
    [
        (OptionKind.REFUND, "refund_confirmed_customer"),
        (OptionKind.PHONE_CALL, "phone_call_proposed_customer"),
        (OptionKind.RENEGOTIATE, "promise_renegotiated_customer"),
    ],
)
def test_a_decision_reaches_the_customer_and_customer_relations(
    notices_of: Notices,
    make_decided: Callable[..., EscalationDecided],
    option: OptionKind,
    template: str,
) -> None:
    found = notices_of(make_decided(option))

    assert who(found) == [
        (template, "dana@example.com", Role.CUSTOMER, False),
        ("decision_made_service", SERVICE, Role.SERVICE, True),
    ]
    assert found[1].context["customer_told"] is True


@pytest.mark.parametrize("option", [OptionKind.REASSIGN, OptionKind.HANDLE_IT])
def test_reassigning_and_handle_it_are_internal(
    notices_of: Notices, make_decided: Callable[..., EscalationDecided], option: OptionKind
) -> None:
    found = notices_of(make_decided(option))

    assert who(found) == [("decision_made_service", SERVICE, Role.SERVICE, True)]
    assert found[0].context["option"] == option.value


def test_without_the_customers_address_only_customer_relations_hears_and_is_told_so(
    notices_of: Notices, make_decided: Callable[..., EscalationDecided]
) -> None:
    # EscalationDecided names no customer: the address comes from what the notifier remembers.
    found = notices_of(make_decided(OptionKind.REFUND), ThreadContext())

    assert who(found) == [("decision_made_service", SERVICE, Role.SERVICE, True)]
    assert found[0].context["customer_told"] is False


def test_the_customers_decision_email_carries_facts_not_the_managers_note(
    notices_of: Notices, make_decided: Callable[..., EscalationDecided]
) -> None:
    to_customer, to_service = notices_of(make_decided(OptionKind.REFUND, note="SECRET note"))

    assert to_customer.context["refund_amount"] == Decimal("1500.00")
    assert to_customer.context["currency"] == "USD"
    assert "note" not in to_customer.context
    assert "decided_by" not in to_customer.context
    assert to_service.context["note"] == "SECRET note"
    assert to_service.context["decided_by"] == "Morgan Reyes"  # the configuration's name


# ----- management -----------------------------------------------------------------------------


class RecordingLinks:
    def __init__(self) -> None:
        self.calls: list[tuple[str, OptionKind, str]] = []

    def __call__(self, escalation_id: str, option: OptionKind, manager_email: str) -> str:
        self.calls.append((escalation_id, option, manager_email))
        return f"https://decide.example/{escalation_id}/{option.value}"


def test_an_opened_escalation_goes_to_its_manager_with_one_signed_link_per_option(
    company: CompanyConfig,
    now: datetime,
    make_opened: Callable[..., EscalationOpened],
    make_thread: Callable[..., ThreadContext],
) -> None:
    links = RecordingLinks()
    event = make_opened()

    found = notices_for(
        new_envelope(event, source="/t"), company, now=now, links=links, thread=make_thread()
    )

    assert who(found) == [("escalation_opened_manager", MORGAN, Role.MANAGEMENT, True)]
    assert links.calls == [("esc-1", o.kind, MORGAN) for o in event.options]
    context = found[0].context
    assert [o["url"] for o in context["options"]] == [
        f"https://decide.example/esc-1/{o.kind.value}" for o in event.options
    ]
    assert found[0].recipient_name == "Morgan Reyes"
    assert context["unanswered_messages"] == 3
    assert context["deposit"] == event.deposit
    assert context["waiting_for"] == timedelta(days=2)
    assert context["first_entry_ago"] == timedelta(days=2)
    assert context["promise"] == "Guaranteed first-page ranking in 30 days"
    assert context["decision_time"] == timedelta(hours=4)


def test_the_promise_comes_from_the_escalation_when_the_ledger_was_not_read_yet(
    notices_of: Notices, make_opened: Callable[..., EscalationOpened]
) -> None:
    promise = PromiseInQuestion(
        commitment_id="cmt-7",
        text="Delivery within a week",
        production_note="The parts arrive next month.",
    )

    (notice,) = notices_of(make_opened(promise=promise), ThreadContext())

    assert notice.context["promise"] == "Delivery within a week"
    assert notice.context["production_note"] == "The parts arrive next month."


def test_a_long_timeline_is_cut_to_its_latest_entries(
    notices_of: Notices, make_opened: Callable[..., EscalationOpened]
) -> None:
    event = make_opened()
    many = tuple(event.evidence[0].model_copy(update={"what": f"entry {i}"}) for i in range(30))

    (notice,) = notices_of(make_opened(evidence=many))

    assert [e["what"] for e in notice.context["evidence"]] == [f"entry {i}" for i in range(18, 30)]
    assert notice.context["evidence_omitted"] == 18


def test_a_raised_escalation_goes_to_the_next_manager_and_names_the_one_before(
    notices_of: Notices, make_raised: Callable[..., EscalationRaised]
) -> None:
    (notice,) = notices_of(make_raised())

    assert who([notice]) == [("escalation_raised_manager", DREW, Role.MANAGEMENT, True)]
    assert notice.context["previous_manager"] == "Morgan Reyes"
    assert "handle it" in notice.context["reason"]
    assert len(notice.context["options"]) == 5


def test_a_reminder_at_the_top_of_the_chain_is_one_email_that_names_nobody_as_asked_before(
    notices_of: Notices, make_raised: Callable[..., EscalationRaised], company: CompanyConfig
) -> None:
    drew = Person(email=DREW, name="Drew", role=Role.MANAGEMENT)
    reminder = make_raised(previous_manager=drew, reminder=3, reason="Reminder 3: no decision.")

    (notice,) = notices_of(reminder)
    email = render(notice, company)

    assert who([notice]) == [("escalation_raised_manager", DREW, Role.MANAGEMENT, True)]
    assert (notice.context["reminder"], notice.context["previous_manager"]) == (3, None)
    assert email.subject.startswith("Reminder 3, still waiting for your decision by ")
    assert "still waiting for your decision (reminder 3)" in email.text
    for body in (email.text, email.html):
        assert "raised to you" not in body
        assert "Asked before you" not in body


def test_a_raise_from_a_manager_to_the_same_manager_names_nobody_as_asked_before(
    notices_of: Notices, make_raised: Callable[..., EscalationRaised], company: CompanyConfig
) -> None:
    # What an older escalation service sent at the top of the chain, without a reminder count.
    drew = Person(email=DREW.upper(), name="Drew", role=Role.MANAGEMENT)

    (notice,) = notices_of(make_raised(previous_manager=drew))

    assert notice.context["previous_manager"] is None
    assert "Asked before you" not in render(notice, company).text


def test_a_raised_escalation_without_a_customer_uses_the_remembered_one(
    notices_of: Notices,
    make_raised: Callable[..., EscalationRaised],
    make_thread: Callable[..., ThreadContext],
) -> None:
    remembered = Customer(email="lee@example.com", name="Lee")

    (notice,) = notices_of(make_raised(customer=None), make_thread(customer=remembered))

    assert notice.context["customer"] == remembered


# ----- promises -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "template"),
    [
        (CommitmentStatus.REJECTED, "promise_rejected_owner"),
        (CommitmentStatus.COUNTERED, "promise_countered_owner"),
        (CommitmentStatus.BROKEN, "promise_broken_owner"),
    ],
)
def test_the_person_who_promised_hears_of_a_gap(
    notices_of: Notices,
    make_status_changed: Callable[..., CommitmentStatusChanged],
    status: CommitmentStatus,
    template: str,
) -> None:
    found = notices_of(make_status_changed(status=status))

    assert who(found) == [(template, SALES, Role.SALES, True)]
    assert found[0].recipient_name == "Sam Ortega"
    assert found[0].context["feasible_due_at"] is not None


def test_marketing_hears_as_marketing(
    notices_of: Notices, make_status_changed: Callable[..., CommitmentStatusChanged]
) -> None:
    mia = Person(email="mia.marketing@brightline.example", role=Role.MARKETING)

    found = notices_of(make_status_changed(made_by=mia))

    assert who(found) == [
        ("promise_countered_owner", "mia.marketing@brightline.example", Role.MARKETING, True)
    ]
    assert found[0].recipient_name == "Mia Chen"


def test_the_at_risk_flag_alone_warns_the_promiser(
    notices_of: Notices, make_status_changed: Callable[..., CommitmentStatusChanged]
) -> None:
    confirmed = CommitmentStatus.CONFIRMED
    flagged = make_status_changed(status=confirmed, previous_status=confirmed, at_risk=True)

    assert who(notices_of(flagged)) == [("promise_at_risk_owner", SALES, Role.SALES, True)]


def test_production_is_asked_to_confirm_a_new_promise(
    notices_of: Notices, make_status_changed: Callable[..., CommitmentStatusChanged]
) -> None:
    declared = make_status_changed(
        status=CommitmentStatus.AWAITING_CONFIRMATION, previous_status=None
    )

    found = notices_of(declared)

    assert who(found) == [
        ("promise_awaiting_confirmation_production", PRODUCTION, Role.PRODUCTION, True)
    ]
    assert found[0].context["answer_path"] == "/v1/commitments/cmt-1/answer"
    assert found[0].context["recipient_email"] == PRODUCTION


def test_an_unanswered_promise_at_risk_reminds_production_and_warns_the_promiser(
    notices_of: Notices, make_status_changed: Callable[..., CommitmentStatusChanged]
) -> None:
    awaiting = CommitmentStatus.AWAITING_CONFIRMATION
    flagged = make_status_changed(status=awaiting, previous_status=awaiting, at_risk=True)

    assert who(notices_of(flagged)) == [
        ("promise_at_risk_owner", SALES, Role.SALES, True),
        ("promise_awaiting_confirmation_production", PRODUCTION, Role.PRODUCTION, True),
    ]


def test_every_production_person_is_asked(
    company: CompanyConfig,
    now: datetime,
    make_status_changed: Callable[..., CommitmentStatusChanged],
) -> None:
    second = {"email": "kim.production@brightline.example", "name": "Kim", "role": "production"}
    bigger = CompanyConfig.model_validate(
        {**company.model_dump(), "people": [*company.model_dump()["people"], second]}
    )
    declared = make_status_changed(
        status=CommitmentStatus.AWAITING_CONFIRMATION, previous_status=None
    )

    found = notices_for(
        new_envelope(declared, source="/t"), bigger, now=now, links=RecordingLinks()
    )

    assert [n.recipient for n in found] == [PRODUCTION, "kim.production@brightline.example"]


@pytest.mark.parametrize(
    ("status", "previous"),
    [
        (CommitmentStatus.DECLARED, None),
        (CommitmentStatus.CONFIRMED, CommitmentStatus.AWAITING_CONFIRMATION),
        (CommitmentStatus.KEPT, CommitmentStatus.CONFIRMED),
        (CommitmentStatus.RENEGOTIATED, CommitmentStatus.COUNTERED),
        (CommitmentStatus.CANCELLED, CommitmentStatus.CONFIRMED),
    ],
)
def test_good_or_settled_moves_of_a_promise_are_not_news(
    notices_of: Notices,
    make_status_changed: Callable[..., CommitmentStatusChanged],
    status: CommitmentStatus,
    previous: CommitmentStatus | None,
) -> None:
    assert notices_of(make_status_changed(status=status, previous_status=previous)) == []


# ----- everything else ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        e
        for e in every_event(THREAD)
        if not isinstance(
            e,
            EscalationOpened
            | EscalationRaised
            | EscalationDecided
            | CommitmentStatusChanged
            | VagueTimePromised,
        )
    ],
    ids=lambda e: type(e).__name__,
)
def test_other_events_call_for_nothing(notices_of: Notices, event: Event) -> None:
    assert notices_of(event) == []


# ----- promises with a vague time --------------------------------------------------------------


def test_the_maker_of_a_promise_with_a_vague_time_is_asked_for_a_time(
    notices_of: Notices, make_vague_time: Callable[..., VagueTimePromised]
) -> None:
    event = make_vague_time()

    found = notices_of(event)

    assert who(found) == [("promise_vague_time_owner", SALES, Role.SALES, True)]
    assert found[0].recipient_name == "Sam Ortega"
    assert {k: found[0].context[k] for k in ("text", "vague_time", "recorded", "sent_at")} == {
        "text": "We'll get back to you as soon as possible.",
        "vague_time": "as soon as possible",
        "recorded": False,
        "sent_at": event.sent_at,
    }
    assert INPUTS.wants(new_envelope(event, source="/tests"))


@pytest.mark.parametrize(
    "maker",
    [
        Person(email="dana@example.com", name="Dana Whitfield", role=Role.CUSTOMER),
        # A staff role on the customer's own address: still the customer's mailbox.
        Person(email="Dana@Example.com", role=Role.SALES),
    ],
)
def test_a_vague_time_is_never_told_to_the_customer(
    notices_of: Notices, make_vague_time: Callable[..., VagueTimePromised], maker: Person
) -> None:
    assert notices_of(make_vague_time(made_by=maker)) == []


# ----- the customer never receives an internal email ------------------------------------------


def _everything(
    make_opened: Callable[..., EscalationOpened],
    make_raised: Callable[..., EscalationRaised],
    make_decided: Callable[..., EscalationDecided],
    make_status_changed: Callable[..., CommitmentStatusChanged],
) -> list[Event]:
    built: list[Event] = [make_opened(), make_raised()]
    built += [make_decided(option) for option in OptionKind]
    built += [
        make_status_changed(status=status, previous_status=previous, at_risk=at_risk)
        for status in CommitmentStatus
        for previous in (None, status, CommitmentStatus.AWAITING_CONFIRMATION)
        for at_risk in (False, True)
    ]
    return [*every_event(THREAD), *built]


def test_the_customer_never_receives_an_internal_template(
    notices_of: Notices,
    company: CompanyConfig,
    make_thread: Callable[..., ThreadContext],
    make_opened: Callable[..., EscalationOpened],
    make_raised: Callable[..., EscalationRaised],
    make_decided: Callable[..., EscalationDecided],
    make_status_changed: Callable[..., CommitmentStatusChanged],
) -> None:
    secret = "SECRET-INTERNAL-NOTE"
    events = _everything(make_opened, make_raised, make_decided, make_status_changed)
    events += [make_decided(option, note=secret) for option in OptionKind]
    seen: set[str] = set()
    for event in events:
        for thread in (make_thread(), ThreadContext()):
            for notice in notices_of(event, thread):
                seen.add(notice.template)
                to_customer = notice.recipient == "dana@example.com"
                assert to_customer == (notice.recipient_role is Role.CUSTOMER)
                assert to_customer == (notice.template in CUSTOMER_TEMPLATES)
                assert to_customer != notice.internal
                if to_customer:
                    email = render(notice, company)
                    for words in (secret, "Morgan", "production said", "Production said"):
                        assert words not in email.text
                        assert words not in email.html
    assert seen >= {
        "escalation_opened_manager",
        "refund_confirmed_customer",
        "phone_call_proposed_customer",
        "promise_renegotiated_customer",
        "decision_made_service",
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"template": "escalation_opened_manager", "recipient_role": Role.CUSTOMER},
        {"template": "escalation_opened_manager", "internal": False},
        {"template": "acknowledgement_customer", "recipient_role": Role.SERVICE},
        {"template": "acknowledgement_customer", "internal": True},
        {"template": "no_such_template"},
    ],
)
def test_a_notice_refuses_to_mix_customer_and_staff(kwargs: dict[str, Any]) -> None:
    fields: dict[str, Any] = {
        "recipient": "someone@example.com",
        "recipient_name": None,
        "context": {},
        "thread_id": THREAD,
    }
    if kwargs["template"] == "acknowledgement_customer":
        fields |= {"recipient_role": Role.CUSTOMER, "internal": False}
    else:
        fields |= {"recipient_role": Role.MANAGEMENT, "internal": True}

    with pytest.raises(ValueError, match="template"):
        Notice(**(fields | kwargs))


def test_a_notices_context_cannot_be_changed_afterwards(
    notices_of: Notices, make_opened: Callable[..., EscalationOpened]
) -> None:
    (notice,) = notices_of(make_opened())

    with pytest.raises(TypeError):
        notice.context["reason"] = "something else"  # type: ignore[index]

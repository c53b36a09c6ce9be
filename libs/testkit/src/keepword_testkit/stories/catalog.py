"""The stories `make demo` plays and `tests/e2e/` asserts on, written down as data.

The people are those of deploy/local/demo.toml (the development company with SLAs in seconds:
first reply 20 s, warning at half of it, acknowledgement after 5 s, manager decision 15 s).
Every step goes through a public interface: intake's HTTP API and SMTP listener, and the
links in the emails the notifier sends.
"""

from __future__ import annotations

from datetime import timedelta

from .model import (
    AnswerEmail,
    AwaitEmail,
    AwaitEvent,
    ChooseOption,
    Customer,
    CustomerWrites,
    ExpectedEmail,
    ExpectedEvent,
    ProductionAnswers,
    PromiseDeclared,
    Staff,
    StaffReplies,
    Story,
)

SAM = Staff("sam.sales@brightline.example", "Sam Ortega", "sales")
MIA = Staff("mia.marketing@brightline.example", "Mia Chen", "marketing")
CASEY = Staff("casey.service@brightline.example", "Casey Brooks", "service")
PAT = Staff("pat.production@brightline.example", "Pat Novak", "production")
MORGAN = Staff("morgan.lead@brightline.example", "Morgan Reyes", "management")
DREW = Staff("drew.director@brightline.example", "Drew Adler", "management")

RECEIVED = "keepword.message.received.v1"
REPLIED = "keepword.reply.sent.v1"
PROMISE = "keepword.commitment.status-changed.v1"
WARNED = "keepword.escalation.warned.v1"
OPENED = "keepword.escalation.opened.v1"
RAISED = "keepword.escalation.raised.v1"
DECIDED = "keepword.escalation.decided.v1"
RESOLVED = "keepword.escalation.resolved.v1"
EMAILED = "keepword.notification.sent.v1"

# ----- a: a promise production rejects, a customer with a deposit, "handle it" ---------------

OLIVER = Customer("oliver.grant@example.com", "Oliver Grant", phone="+1 555 0142")

HANDLE_IT = Story(
    key="handle-it",
    title="Marketing promised page one; production says no; the manager says 'handle it'",
    customer=OLIVER,
    steps=(
        CustomerWrites(
            subject="Our SEO campaign",
            body="Hello,\n\nWe paid the deposit of 1,500 USD for the SEO campaign your marketing "
            "team sold us, which promised a first-page Google ranking within 30 days. When "
            "will the campaign start?\n\nOliver Grant",
            deposit=("1500.00", "USD"),
        ),
        PromiseDeclared(
            by=MIA,
            kind="outcome",
            text="Guaranteed first-page Google ranking for 'handmade oak furniture' within 30 days",
            due_in=timedelta(days=30),
        ),
        AwaitEmail(to=PAT.email, subject=r"confirm or reject", name="request"),
        ProductionAnswers(
            by=PAT,
            verdict="rejected",
            note="Nobody can guarantee a Google ranking. We can do the on-page work and report "
            "monthly.",
        ),
        AwaitEmail(to=MORGAN.email, subject=r"decision needed", name="escalation"),
        CustomerWrites(body="Hello again,\n\nIs there any news about the campaign?\n\nOliver"),
        AnswerEmail(email="escalation", by=MORGAN, body="Handle it.\n\nMorgan"),
        AwaitEvent(DECIDED, {"option": "handle_it"}),
        CustomerWrites(
            body="Good morning,\n\nI am writing for the third day in a row. Could someone tell "
            "us where the campaign stands?\n\nOliver"
        ),
        AwaitEmail(to=DREW.email, subject=r"raised to you", name="raised"),
        ChooseOption(
            email="raised",
            label=r"^Refund",
            expect="refund",
            note="Refund the deposit: we cannot promise rankings.",
        ),
        AwaitEvent(RESOLVED),
        StaffReplies(
            by=CASEY,
            body="Dear Mr Grant,\n\nThank you for your patience, and for the trust you placed in "
            "us. We cannot guarantee a first-page ranking, and we should not have promised one. "
            "Your deposit of 1,500 USD has been refunded in full.\n\nCasey Brooks",
        ),
    ),
    expected_emails=(
        ExpectedEmail(PAT.email, r"confirm or reject", "production is asked about the promise"),
        ExpectedEmail(MIA.email, r"production rejected your promise", "marketing hears no"),
        ExpectedEmail(MORGAN.email, r"decision needed", "level 1 is asked to decide"),
        ExpectedEmail(DREW.email, r"raised to you", "'handle it' is raised to level 2"),
        ExpectedEmail(CASEY.email, r"handle it", "service hears 'handle it' is no decision"),
        ExpectedEmail(CASEY.email, r"^decided", "service hears the decision"),
        ExpectedEmail(OLIVER.email, r"your refund .*approved", "the customer hears of the refund"),
    ),
    expected_events=(
        ExpectedEvent(RECEIVED, "the customer wrote, deposit paid", {"deposit.currency": "USD"}),
        ExpectedEvent(PROMISE, "production is asked", {"status": "awaiting_confirmation"}),
        ExpectedEvent(PROMISE, "production rejected the promise", {"status": "rejected"}),
        ExpectedEvent(
            OPENED,
            "a promise gap goes to level 1",
            {"rule": "promise_gap", "level": 1, "manager.email": MORGAN.email},
        ),
        ExpectedEvent(REPLIED, "the manager answered", {"author.email": MORGAN.email}),
        ExpectedEvent(DECIDED, "'handle it' is recorded", {"option": "handle_it"}),
        ExpectedEvent(RAISED, "raised to level 2", {"level": 2, "manager.email": DREW.email}),
        ExpectedEvent(DECIDED, "level 2 refunds", {"option": "refund"}),
        ExpectedEvent(RESOLVED, "the refund settles it"),
    ),
)

# ----- b: a prospect's first message that nobody answers --------------------------------------

PRIYA = Customer("priya@raman-studio.example", "Priya Raman")

UNANSWERED = Story(
    key="unanswered",
    title="A prospect's first email that nobody answers",
    customer=PRIYA,
    steps=(
        CustomerWrites(
            via="email",
            to="sales@brightline.example",
            subject="Quote for a new website",
            body="Hello,\n\nWe are a small architecture studio looking for a new website with a "
            "gallery of our projects. Could you send us a quote?\n\nBest regards,\nPriya Raman",
        ),
        AwaitEmail(to=PRIYA.email, subject=r"we received your message", name="acknowledgement"),
        AwaitEvent(WARNED),
        AwaitEmail(to=MORGAN.email, subject=r"decision needed", name="escalation"),
        StaffReplies(
            by=SAM,
            via="email",
            body="Dear Priya,\n\nThank you for thinking of us, and I am sorry for the slow "
            "answer. Our portfolio is attached. Could we talk about your gallery on "
            "Thursday?\n\nSam Ortega",
        ),
        AwaitEvent(RESOLVED),
    ),
    expected_emails=(
        ExpectedEmail(PRIYA.email, r"we received your message", "the prospect is acknowledged"),
        ExpectedEmail(MORGAN.email, r"decision needed", "the stalled thread reaches level 1"),
    ),
    expected_events=(
        ExpectedEvent(RECEIVED, "the prospect emailed", {"channel": "email"}),
        ExpectedEvent(WARNED, "the first reply is due soon", {"rule": "stalled"}),
        ExpectedEvent(OPENED, "nobody answered in time", {"rule": "stalled", "level": 1}),
        ExpectedEvent(EMAILED, "the acknowledgement went out", {"recipient": PRIYA.email}),
        ExpectedEvent(REPLIED, "sales answered at last", {"author.email": SAM.email}),
        ExpectedEvent(RESOLVED, "the reply settles it"),
    ),
)

# ----- c: "within three hours", missed ----------------------------------------------------------

TOMAS = Customer("tomas.ortiz@example.org", "Tomás Ortiz")

# The reply is logged late: sent 2 h 59 min 50 s ago, so its three hours end 10 s from now.
THREE_HOURS_AGO_BUT_TEN_SECONDS = timedelta(hours=3) - timedelta(seconds=10)

THREE_HOURS = Story(
    key="three-hours",
    title="A reply promises an answer 'within three hours' and misses it",
    customer=TOMAS,
    steps=(
        CustomerWrites(
            subject="Question about invoice 2291",
            body="Hello,\n\nInvoice 2291 lists 40 hours of design work, but our statement of "
            "work says 30. Could you check it for us?\n\nThank you,\nTomás Ortiz",
        ),
        StaffReplies(
            by=CASEY,
            body="Dear Mr Ortiz,\n\nThank you for pointing this out. We will get back to you "
            "with an answer within three hours.\n\nCasey Brooks",
            sent_ago=THREE_HOURS_AGO_BUT_TEN_SECONDS,
        ),
        AwaitEvent(PROMISE, {"status": "declared", "source.kind": "extracted"}),
        AwaitEvent(PROMISE, {"status": "broken"}),
        AwaitEmail(to=MORGAN.email, subject=r"decision needed", name="escalation"),
        StaffReplies(
            by=CASEY,
            body="Dear Mr Ortiz,\n\nThank you for your patience, and I am sorry for the delay. "
            "You are right: the invoice should say 30 hours. The corrected invoice is "
            "attached.\n\nCasey Brooks",
        ),
        AwaitEvent(RESOLVED),
    ),
    expected_emails=(
        ExpectedEmail(CASEY.email, r"your promise was broken", "the promise's maker hears"),
        ExpectedEmail(MORGAN.email, r"decision needed", "the promise gap reaches level 1"),
    ),
    expected_events=(
        ExpectedEvent(REPLIED, "service replied with a promise", {"author.email": CASEY.email}),
        ExpectedEvent(
            PROMISE,
            "the promise was found in the reply",
            {"status": "declared", "kind": "response_time", "source.kind": "extracted"},
        ),
        ExpectedEvent(PROMISE, "the promise fell due unkept", {"status": "broken"}),
        ExpectedEvent(OPENED, "the promise gap goes to level 1", {"rule": "promise_gap"}),
        ExpectedEvent(RESOLVED, "the answer settles it"),
    ),
)

# ----- d: an angry customer who prefers the phone -----------------------------------------------

MARTIN = Customer(
    "martin.keller@example.net", "Martin Keller", phone="+1 555 0199", prefers_phone=True
)

PHONE = Story(
    key="phone",
    title="An angry customer who prefers the phone",
    customer=MARTIN,
    steps=(
        CustomerWrites(
            subject="Our shop is still offline",
            body="This is the third time I am writing. Your team promised our shop would be "
            "back online on Monday and it is still down. This is unacceptable and it costs us "
            "sales every day. I want a refund. Call me, I am done with emails.",
        ),
        AwaitEmail(to=MORGAN.email, subject=r"decision needed", name="escalation"),
        ChooseOption(
            email="escalation",
            label=r"^Call",
            expect="phone_call",
            note="Call him today and offer a month of hosting.",
        ),
        AwaitEmail(to=MARTIN.email, subject=r"may we call you", name="call"),
        StaffReplies(
            by=CASEY,
            channel="phone",
            body="Called Mr Keller. Apologised; the shop has been back online since 14:00 and we "
            "agreed on a credit of one month's hosting.",
        ),
        AwaitEvent(RESOLVED),
    ),
    expected_emails=(
        ExpectedEmail(MORGAN.email, r"decision needed", "level 1 is asked; the call comes first"),
        ExpectedEmail(MARTIN.email, r"may we call you", "the customer is offered the call"),
        ExpectedEmail(CASEY.email, r"^decided", "service hears the decision"),
    ),
    expected_events=(
        ExpectedEvent(RECEIVED, "the customer wrote", {"customer.preferred_channel": "phone"}),
        ExpectedEvent(
            OPENED,
            "a difficult conversation, phone call first",
            {"rule": "difficult_conversation", "options.0.kind": "phone_call"},
        ),
        ExpectedEvent(DECIDED, "the manager chose the call", {"option": "phone_call"}),
        ExpectedEvent(REPLIED, "service logged the call", {"channel": "phone"}),
        ExpectedEvent(RESOLVED, "the call settles it"),
    ),
)

STORIES: tuple[Story, ...] = (HANDLE_IT, UNANSWERED, THREE_HOURS, PHONE)

# What a customer may receive: anything else addressed to them is internal mail gone astray.
CUSTOMER_SUBJECTS: tuple[str, ...] = (
    r"we received your message",
    r"your refund",
    r"may we call you",
    r"an update on what we promised you",
)

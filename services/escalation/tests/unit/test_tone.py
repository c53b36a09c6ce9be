"""Reading customers and managers: difficult conversations, and "handle it" non-decisions."""

from __future__ import annotations

import pytest
import structlog
from keepword_escalation.tone import (
    MAX_READ_CHARACTERS,
    NO_READING,
    NON_DECISION_MAX_CHARACTERS,
    NON_DECISION_MAX_WORDS,
    STRONGLY_NEGATIVE,
    ToneReading,
    is_non_decision,
    is_non_decision_in_time,
    own_words,
    read_customer_message,
    read_customer_message_in_time,
)
from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

COMPLAINT = "complaint"
REFUND = "refund demand"
LEGAL = "legal threat"
SARCASM = "sarcasm"
TONE = "strongly negative tone"  # the reason also carries the score: "... (-0.72)"

GMAIL_QUOTE = (
    "\n\nOn Mon, 2 Mar 2026 at 10:00, Keepword Support <support@keepword.example> wrote:\n"
)

# (what the customer wrote, the reasons it is a difficult conversation)
CUSTOMER_MESSAGES: list[tuple[str, set[str]]] = [
    # polite questions
    ("Hi, could you tell me when my order will ship? Thanks!", set()),
    ("Hello, what is your refund policy for annual plans?", set()),
    ("Could we move our call to Thursday?\n\nBest,\nAna", set()),
    ("Great work on the launch, very happy with the results!", set()),
    ("The export fails with an error and the report is broken. Can you look?", set()),
    ("This is not a complaint, just a question on the invoice.", set()),
    ("I don't want a refund, I just want the work finished.", set()),
    ("No complaints at all, the team was great.", set()),
    ("I spoke to Sue in accounts, she says the invoice is fine.", set()),
    # mild impatience: an email answers it
    ("Any update on this? It's been a few days.", set()),
    ("I'm a bit disappointed that it's late.", set()),
    ("I've been patient but this is getting frustrating.", set()),
    ("Nobody has replied in a week and I'm starting to lose patience.", set()),
    ("I am still waiting for a reply. This is the third time I've written.", set()),
    # angry
    ("Your team keeps ignoring me. I'm really frustrated and disappointed.", {TONE}),
    ("I am SO disappointed!!!", {TONE}),
    ("I'm extremely upset and angry about how I've been treated.", {TONE}),
    ("You people are useless. Worst service I have ever had.", {COMPLAINT, TONE}),
    ("WHERE IS MY ORDER??? THIS IS RIDICULOUS!!!", {COMPLAINT}),
    ("This is unacceptable. I paid a deposit weeks ago and nobody answers.", {COMPLAINT}),
    ("I have never had such terrible service.", {COMPLAINT}),
    ("Still no answer \U0001f620\U0001f620\U0001f620", {TONE}),  # three angry faces
    # refund demands
    ("I want my money back.", {REFUND}),
    ("Please refund my deposit by Friday.", {REFUND}),
    ("If this isn't fixed by Monday I will file a chargeback with my bank.", {REFUND}),
    ("Why can't I get my money back?", {REFUND}),
    ("Can I get a full refund?", {REFUND}),
    ("I am furious. You promised rankings. I want my money back!", {REFUND}),
    # legal threats
    ("My lawyer will be in touch.", {LEGAL}),
    ("I'll be taking this to small claims court.", {LEGAL}),
    ("I have reported this to the BBB and Trading Standards.", {LEGAL}),
    ("Refund me or I will sue you.", {REFUND, LEGAL}),
    ("I'd rather not involve my attorney, but I will if I must.", {LEGAL}),
    # sarcasm that VADER alone reads as praise
    ("Thanks for nothing.", {SARCASM}),
    ("Oh great, another week without a reply. Fantastic service.", {SARCASM}),
    ("Late again. What a surprise.", {SARCASM}),
    # short and not quite English
    ("Wo ist meine Bestellung?", set()),
    ("Merci beaucoup!", set()),
    ("\u00bfD\u00f3nde est\u00e1 mi reembolso?", {REFUND}),
    ("Ich will mein Geld zur\u00fcck!", {REFUND}),
    ("ok thx", set()),
    ("\U0001f44d", set()),  # thumbs up
    # someone else's words do not count
    (
        "Thanks, that works." + GMAIL_QUOTE + "> You may want your money back. Ask your lawyer.",
        set(),
    ),
    ("> I want my money back\n> My lawyer will call you\n\nNever mind, not for you.", set()),
    ("Fine by me.\n\n-----Original Message-----\nFrom: Bob\nUnacceptable, refund me!", set()),
    ("Please send the invoice.\n-- \nJane Doe\nHead of Complaints", set()),
    # numbers are not slang: VADER scores "187" -3.1 (found by the fault run's order 187)
    ("Could you tell me when order 187 ships? It was 86 dollars.", set()),
]


@pytest.mark.parametrize(
    ("body", "reasons"), CUSTOMER_MESSAGES, ids=[row[0][:40] for row in CUSTOMER_MESSAGES]
)
def test_customer_message(body: str, reasons: set[str]) -> None:
    reading = read_customer_message(None, body)

    assert {reason.split(" (")[0] for reason in reading.reasons} == reasons, reading
    assert reading.difficult == bool(reasons)
    assert -1.0 <= reading.sentiment <= 1.0


@pytest.mark.parametrize(
    ("subject", "reasons"),
    [
        ("Formal complaint", {COMPLAINT}),
        ("Re: RE: Fwd: Refund my deposit", {REFUND}),
        ("URGENT: my lawyer", {LEGAL}),
        ("Re: your quote", set()),
        (None, set()),
    ],
)
def test_the_subject_counts(subject: str | None, reasons: set[str]) -> None:
    reading = read_customer_message(subject, "Please see the attached letter.")

    assert set(reading.reasons) == reasons


def test_the_tone_reason_carries_the_score() -> None:
    reading = read_customer_message(None, "Your team keeps ignoring me. I'm really frustrated.")

    assert reading.sentiment <= STRONGLY_NEGATIVE
    assert reading.reasons == (f"strongly negative tone ({reading.sentiment:.2f})",)


def test_reasons_come_in_a_fixed_order() -> None:
    reading = read_customer_message(
        "Complaint", "Oh great, still nothing. Refund my deposit or my lawyer will sue you."
    )

    assert reading.reasons == ("complaint", "refund demand", "legal threat", "sarcasm")


@pytest.mark.parametrize(
    "sentence",
    [
        "Hi, could you tell me when my order will ship? Thanks!",
        "I'm not happy with the service but I understand these things happen.",
        "I am SO disappointed!!!",
        "You promised results and I got nothing, not even a call back",
        "Great work, very happy with the results :)",
    ],
)
def test_one_sentence_gets_exactly_the_vader_score(sentence: str) -> None:
    vader = SentimentIntensityAnalyzer()

    assert read_customer_message(None, sentence).sentiment == pytest.approx(
        vader.polarity_scores(sentence)["compound"], abs=1e-4
    )


def test_sentences_add_up_as_vader_would() -> None:
    one = read_customer_message(None, "I am disappointed.").sentiment
    two = read_customer_message(None, "I am disappointed. I am disappointed.").sentiment

    assert one > STRONGLY_NEGATIVE  # one disappointed sentence is mild
    assert two <= STRONGLY_NEGATIVE  # saying it twice is not
    assert (
        read_customer_message(None, "I am disappointed.\nThanks so much for trying.").sentiment
        > one
    )


def test_fault_words_are_not_feelings() -> None:
    report = "The import failed with an error, the page is broken and two files are missing."

    assert read_customer_message(None, report).sentiment == 0.0


def test_the_same_message_always_reads_the_same() -> None:
    body = "I've been patient but this is getting frustrating. Where is my report?"

    assert read_customer_message("Re: report", body) == read_customer_message("Re: report", body)
    assert read_customer_message(None, "") == ToneReading(
        difficult=False, reasons=(), sentiment=0.0
    )


# --- managers: a decision, or "handle it"? -----------------------------------------------------

# (what the manager wrote, whether it is a non-decision)
MANAGER_REPLIES: list[tuple[str, bool]] = [
    ("Handle it.", True),
    ("Deal with it.", True),
    ("Your call.", True),
    ("Just make it go away.", True),
    ("Sort it out please.", True),
    ("Whatever you think is best.", True),
    ("Use your judgement.", True),
    ("I trust you to handle this.", True),
    ("Up to you. I'm in meetings all day.", True),
    ("Handle it, call me if it gets worse.", True),  # a call to the manager is no remedy
    ("Thanks for flagging. Please take care of it.", True),
    ("Apologise and deal with it.", True),  # an apology decides nothing
    ("HANDLE IT", True),
    ("Not my problem, figure it out.", True),
    ("Handle it." + GMAIL_QUOTE + "> She wants a refund of her deposit.\n> Shall I call?", True),
    ("Your call, Tom.\n-- \nJohn Smith\nCEO | Call me on +1 555 0100", True),
    ("Refund her deposit, handle it today.", False),
    ("Call him tomorrow.", False),
    ("Handle it - call him tomorrow and offer a 20% discount.", False),
    ("Escalate to Maria, I'm travelling.", False),
    ("Deal with it. Ask Priya to ring her.", False),
    ("Sort it out, but no refund.", False),  # "no refund" is a decision
    ("Give her a call and sort it out.", False),
    ("Phone her back and push the deadline to Friday. Your call on wording.", False),
    ("Let's renegotiate the deadline with them, you handle it.", False),
    ("Have Tom handle it.", False),
    ("Credit their account for March and handle it.", False),
    ("Use your judgement on the wording, but offer a full refund.", False),
    ("OK", False),  # not a delegation at all
    ("Thanks for the update.", False),
    ("Handle it. " + "Some background on the account and what went wrong in spring. " * 4, False),
]


@pytest.mark.parametrize(
    ("reply", "expected"), MANAGER_REPLIES, ids=[row[0][:40] for row in MANAGER_REPLIES]
)
def test_manager_reply(reply: str, expected: bool) -> None:
    assert is_non_decision(reply) is expected


def test_length_limit() -> None:
    padding = "we are very busy this week "
    words_of_padding = len(padding.split())
    short = "Handle it, " + padding * ((NON_DECISION_MAX_WORDS - 3) // words_of_padding)
    long = "Handle it, " + padding * (NON_DECISION_MAX_WORDS // words_of_padding + 1)

    assert len(short.split()) < NON_DECISION_MAX_WORDS <= len(long.split())
    assert is_non_decision(short)
    assert not is_non_decision(long)


# --- the writer's own words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("Handle it.\n> quoted\n>> more quoted", "Handle it."),
        ("Handle it." + GMAIL_QUOTE + "> quoted", "Handle it."),
        ("Ok.\n\nFrom: Dana\nSent: Monday\nTo: Sam\nSubject: x\n\nold text", "Ok."),
        ("Ok.\n-- \nSam Lee\nDirector", "Ok."),
        ("Ok.\n\nSent from my iPhone", "Ok."),
        ("Hi,\nHandle it.\nThanks,\nSam", "Hi,\nHandle it.\nSam"),
        ("Thanks\nI still want my money back", "I still want my money back"),
        ("It\u2019s fine", "It's fine"),
    ],
)
def test_own_words(text: str, own: str) -> None:
    assert own_words(text) == own


# --- a long message ---------------------------------------------------------------------------

PARAGRAPHS = (
    "Hello, I am writing again about the website project we started in March. Your sales "
    "person promised us first page rankings within 30 days and we paid a deposit of $1,500. "
    "It is now June and nothing has changed, the site still does not show up at all. ",
    "This is the WORST experience I have ever had with any company. You lied to me, you took "
    "my money and you ignored every single email!!! I am furious and disgusted. I want my "
    "money back and I will be contacting my lawyer if I do not hear from you today. ",
)


# How fast: bench/escalation/tone_speed.py prints the figures (a timing is no test's business).
@pytest.mark.parametrize(
    ("paragraph", "reasons"),
    list(zip(PARAGRAPHS, [set(), {COMPLAINT, REFUND, LEGAL, TONE}], strict=True)),
    ids=["patient", "furious"],
)
def test_a_long_message_is_read_whole(paragraph: str, reasons: set[str]) -> None:
    for number in range(50):
        body = (f"Message {number}. " + paragraph * 10)[:2000]
        reading = read_customer_message("Re: project", body)
        assert {reason.split(" (")[0] for reason in reading.reasons} == reasons, reading


# --- hostile input: every reading finishes, with a sensible answer ------------------------------

ANGRY_FACE, SMILING_FACE = "\U0001f620", "\U0001f600"
LONGEST_BODY = 200_000  # the event contract's MessageReceived.body
LONGEST_SUBJECT = 300  # the event contract's HeaderText

# (what arrived, whether it reads as difficult): an emoji flood reads as its first four emoji,
# so a flood of angry faces is strongly negative and a flood of smiles is not.
HOSTILE_BODIES: list[tuple[str, str, bool]] = [
    ("200,000 angry faces", ANGRY_FACE * LONGEST_BODY, True),
    ("200,000 angry faces, two kinds", (ANGRY_FACE + "\U0001f621") * (LONGEST_BODY // 2), True),
    ("angry faces between spaces", (ANGRY_FACE + " ") * (LONGEST_BODY // 2), True),
    ("200,000 smiles", SMILING_FACE * LONGEST_BODY, False),
    ("1 MiB of one word", "a" * 2**20, False),
    ("only quote markers", "> " * (LONGEST_BODY // 2), False),
    ("only quote markers, one a line", ">\n" * (LONGEST_BODY // 2), False),
    ("a closing word and a run of spaces", "Thanks" + " " * LONGEST_BODY + "x", False),
    ("only spaces", " " * LONGEST_BODY, False),
    ("a run of exclamation marks", "!" * LONGEST_BODY + "x", False),
    ("a run of full stops", "." * LONGEST_BODY + "x", False),
    ("reply headers on every line", ("On " + "x" * 290 + "\n") * 680, False),
    ("Outlook headers on every line", "From: x\n" * 25_000, False),
    ("one endless angry sentence", ("you are useless and I am furious " * 7000)[:200_000], True),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("body", "difficult"),
    [(body, difficult) for _, body, difficult in HOSTILE_BODIES],
    ids=[name for name, _, _ in HOSTILE_BODIES],
)
def test_a_hostile_body_is_read_in_bounded_time(body: str, difficult: bool) -> None:
    reading = read_customer_message("Re: " * (LONGEST_SUBJECT // 4), body)

    assert reading.difficult is difficult, reading
    assert -1.0 <= reading.sentiment <= 1.0
    assert not is_non_decision(body)


@pytest.mark.timeout(30)
def test_a_flood_of_angry_faces_reads_as_four_of_them() -> None:
    four = read_customer_message(None, ANGRY_FACE * 4)

    assert read_customer_message(None, ANGRY_FACE * LONGEST_BODY) == four
    assert four.reasons == (f"strongly negative tone ({four.sentiment:.2f})",)


@pytest.mark.timeout(30)
def test_only_the_start_of_a_very_long_message_is_read() -> None:
    calm = "Please send the invoice for the March work to our accounts team. " * 400
    assert len(calm) > MAX_READ_CHARACTERS

    assert not read_customer_message(None, calm + "My lawyer will be in touch.").difficult
    assert read_customer_message(None, "My lawyer will be in touch. " + calm).reasons == (LEGAL,)


@pytest.mark.timeout(30)
def test_every_field_at_its_largest() -> None:
    subject = ("Formal complaint about order 1234 " * 10)[:LONGEST_SUBJECT]
    body = ("I am furious. I want my money back or my lawyer will sue you! " * 4000)[:LONGEST_BODY]

    reading = read_customer_message(subject, body)

    assert {reason.split(" (")[0] for reason in reading.reasons} == {
        COMPLAINT,
        REFUND,
        LEGAL,
        TONE,
    }


@pytest.mark.timeout(30)
def test_a_delegation_above_a_huge_quote_is_still_a_non_decision() -> None:
    reply = "Handle it.\n" + "> She wants a refund of her deposit.\n" * 5000

    assert is_non_decision(reply)
    assert not is_non_decision("Handle it. " + "x" * NON_DECISION_MAX_CHARACTERS)


async def test_a_reading_runs_off_the_event_loop_and_gives_the_same_answer() -> None:
    body = "I am SO disappointed!!! I want my money back."

    reading = await read_customer_message_in_time(None, body, thread_id="t-1", event_id="e-1")

    assert reading == read_customer_message(None, body)
    assert await is_non_decision_in_time("Handle it.", thread_id="t-1", event_id="e-1")


async def test_over_its_budget_a_message_is_not_difficult_and_the_log_has_no_text() -> None:
    body = "My lawyer will sue you. " * 100

    with structlog.testing.capture_logs() as logs:
        reading = await read_customer_message_in_time(
            None, body, thread_id="t-1", event_id="e-1", budget=0
        )
        verdict = await is_non_decision_in_time(
            "Handle it.", thread_id="t-1", event_id="e-1", budget=0
        )

    assert reading == NO_READING
    assert verdict is False  # a decision: the escalation's own deadline still runs
    assert [(line["thread_id"], line["event_id"], line["log_level"]) for line in logs] == [
        ("t-1", "e-1", "warning"),
        ("t-1", "e-1", "warning"),
    ]
    assert logs[0]["body_chars"] == len(body)
    assert "lawyer" not in str(logs)
    assert "Handle" not in str(logs)

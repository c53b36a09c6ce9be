"""Promise extraction: each rule, each guard, due times (DST included) and the labelled corpus."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import structlog
from keepword_commitments.extraction import (
    MAX_REPLY_CHARACTERS,
    MAX_SENTENCE_CHARACTERS,
    FoundPromise,
    explain_promises,
    find_promises,
    parse_quantity,
)
from keepword_commitments.extraction_scoring import Score, score
from keepword_commitments.handlers import promises_in_time
from keepword_events import Channel, CommitmentKind, Customer, Person, ReplySent, Role

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)
TUESDAY_10AM = datetime(2026, 3, 10, 10, 0, tzinfo=NY)  # after the March DST switch
CORPUS = Path(__file__).with_name("promise_corpus.jsonl")


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A New York wall-clock time, as the UTC instant the extractor returns."""
    return datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


def only(text: str, sent_at: datetime = TUESDAY_10AM, timezone: str = NEW_YORK) -> FoundPromise:
    found = find_promises(text, sent_at=sent_at, timezone=timezone)
    assert len(found) == 1, found
    return found[0]


def rejection(text: str) -> str | None:
    """Why the first rule match in `text` was rejected (None: it was accepted)."""
    candidates = explain_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    assert candidates, f"no rule matched {text!r}"
    return candidates[0].rejected_by


# --- one test per kind of rule ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "rule"),
    [
        ("We will respond within three hours.", "response_time", "response.we_respond"),
        ("You'll hear from us by Friday.", "response_time", "response.you_hear_from_us"),
        ("Expect an answer by end of day.", "response_time", "response.expect_an_answer"),
        ("I'll get back to you tomorrow morning.", "response_time", "response.we_respond"),
        ("Our support team replies within 24 hours.", "response_time", "response.we_respond"),
        ("We ship within 24 hours of your order.", "delivery", "delivery.we_deliver"),
        ("It will be delivered by the end of the month.", "delivery", "delivery.it_will_be_ready"),
        ("Your report will be ready on March 20.", "delivery", "delivery.it_will_be_ready"),
        ("You'll receive the audit on Friday.", "delivery", "delivery.you_receive_it"),
        ("We guarantee delivery within 10 days.", "delivery", "delivery.delivery_within"),
        ("We guarantee first-page rankings.", "outcome", "outcome.we_guarantee_results"),
        ("Top ranking in 30 days.", "outcome", "outcome.top_ranking_in"),
        ("You will definitely rank #1.", "outcome", "outcome.you_will_rank"),
        ("Guaranteed 50% more traffic.", "outcome", "outcome.guaranteed_results"),
        ("You'll see more leads within 60 days.", "outcome", "outcome.you_will_see_results"),
        ("Your traffic will double this year.", "outcome", "outcome.your_site_will_rank"),
        ("I will call you tomorrow at 10am.", "callback", "callback.we_call_you"),
        ("We'll phone you on Monday.", "callback", "callback.we_call_you"),
        ("Expect a call from me this afternoon.", "callback", "callback.expect_a_call"),
        ("We will refund your deposit within 5 business days.", "refund", "refund.we_refund"),
        ("You'll get your money back.", "refund", "refund.you_get_money_back"),
        ("Your deposit will be returned within a week.", "refund", "refund.passive"),
        ("We will match any lower price.", "price", "price.we_hold_price"),
        ("The price is locked at $500 until June.", "price", "price.price_is_locked"),
        ("We won't raise your fee this year.", "price", "price.we_wont_raise"),
        ("Your price won't change this year.", "price", "price.price_is_locked"),
    ],
)
def test_each_rule_finds_its_kind(text: str, kind: str, rule: str) -> None:
    promise = only(text)
    assert (promise.kind, promise.rule) == (CommitmentKind(kind), rule)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("We'll be sending the sitemap on Thursday.", "delivery"),
        ("We're sending the sitemap on Thursday.", "delivery"),
        ("We commit to getting the draft to you within 7 days.", "delivery"),
        ("We're committed to replying within one business day.", "response_time"),
        ("Our team finishes every audit within ten working days.", "delivery"),
        ("Casey will give you a call on Friday.", "callback"),
        ("I'll make sure you get an answer by Friday.", "response_time"),
        ("You can count on a reply by noon.", "response_time"),
        ("Your new blog section goes live next Monday.", "delivery"),
    ],
)
def test_verb_forms_named_colleagues_and_idioms(text: str, kind: str) -> None:
    assert only(text).kind == kind


def test_a_capitalised_third_party_is_not_a_colleague() -> None:
    for text in ("Google will call you tomorrow.", "Nothing will ship before Monday."):
        assert find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK) == []


@pytest.mark.parametrize(
    ("kind", "needs_confirmation"),
    [
        ("response_time", False),
        ("delivery", True),
        ("outcome", True),
        ("callback", False),
        ("refund", False),
        ("price", False),
    ],
)
def test_only_delivery_and_outcome_need_production(kind: str, needs_confirmation: bool) -> None:
    examples = {
        "response_time": "We will respond within three hours.",
        "delivery": "We'll deliver the audit by Friday.",
        "outcome": "We guarantee first-page rankings.",
        "callback": "I will call you tomorrow.",
        "refund": "We will refund your deposit.",
        "price": "We will match any lower price.",
    }
    assert only(examples[kind]).needs_confirmation is needs_confirmation


# --- guards: why something is not a promise --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "guard"),
    [
        ("We can't guarantee rankings.", "negation"),
        ("We don't ship on weekends within 24 hours.", "negation"),
        ("We will never guarantee first-page rankings.", "negation"),
        ("Shall I call you tomorrow morning?", "question"),
        ("Will we get back to you within a day?", "question"),
        ("If we ship within 24 hours, will you confirm?", "conditional"),
        ("The client asked whether we could deliver within a week.", "conditional"),
        ("Our competitors promise top rankings in 30 days.", "third_party"),
        ("Your old agency guaranteed page-one rankings.", "third_party"),
        ("Please confirm delivery by Friday.", "request"),
        ("We were going to deliver the audit by Friday.", "past_tense"),
        ("Last week we promised you top rankings in 30 days.", "past_tense"),
        ("I hope to get back to you soon.", "hedge"),
        ("We'll try to have the audit ready by Friday.", "hedge"),
        ("We usually reply within one business day.", "hedge"),
        ("We will deliver by Friday if possible.", "hedge"),
        ("We can have it ready by Friday.", "no_commitment"),
        ("Our team will review your site and get back to you.", "no_time_frame"),
    ],
)
def test_guards_reject_with_a_reason(text: str, guard: str) -> None:
    assert rejection(text) == guard
    assert find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK) == []


def test_only_the_negated_clause_is_rejected() -> None:
    text = "We can't guarantee rankings, but we will reply within 24 hours."
    promise = only(text)
    assert promise.kind is CommitmentKind.RESPONSE_TIME
    assert text[slice(*promise.span)] == "we will reply within 24 hours"


def test_the_main_clause_of_a_conditional_is_a_promise() -> None:
    assert only("If you sign today, we will ship within 24 hours.").kind == "delivery"


def test_a_proposal_followed_by_a_question_is_a_promise() -> None:
    assert only("We'll call you tomorrow at 10am, does that work?").kind == "callback"


def test_requests_to_the_customer_are_not_promises() -> None:
    for text in ("Please respond within three days.", "Can you send us your logo by Thursday?"):
        assert find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK) == []


def test_one_promise_per_clause_and_the_loser_is_explained() -> None:
    text = "We promise you'll see a 30% increase in leads."
    candidates = explain_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    assert [c.rejected_by for c in candidates] == [None, "one_per_clause"]


# --- quoted text -----------------------------------------------------------------------------


def test_quoted_lines_and_the_mail_below_the_attribution_are_ignored() -> None:
    text = (
        "Thanks Dana, we'll deliver the audit by Friday.\n\n"
        "On Mon, 9 Mar 2026 at 16:12, Dana Ruiz <dana@example.com> wrote:\n"
        "> You said you would call me back within the hour.\n"
        "We guarantee first-page rankings.\n"
    )
    assert [p.kind for p in find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK)] == [
        CommitmentKind.DELIVERY
    ]


def test_quoted_lines_inside_a_reply_are_ignored() -> None:
    text = "> We will refund your deposit within 5 days.\nThat was not what we agreed."
    assert find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK) == []


def test_words_in_double_quotes_are_someone_elses() -> None:
    text = 'Your email says: "Brightline will deliver the site by Friday." We never said that.'
    assert find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK) == []


def test_spans_point_into_the_original_text_and_sentences_are_normalised() -> None:
    text = "Hi Dana,\n\nGood news.  We will refund the $250 setup\nfee within 5 business days."
    promise = only(text)
    assert text[slice(*promise.span)] == "We will refund the $250 setup\nfee within 5 business days"
    assert promise.sentence == "We will refund the $250 setup fee within 5 business days."


# --- due times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("We will respond within three hours.", local(2026, 3, 10, 13, 0)),
        ("We will respond within 24 hours.", local(2026, 3, 11, 10, 0)),
        ("We will respond within twenty-four hours.", local(2026, 3, 11, 10, 0)),
        ("I will reply within a couple of hours.", local(2026, 3, 10, 12, 0)),
        ("We'll follow up within a few days.", local(2026, 3, 13, 10, 0)),
        ("We'll get back to you within half an hour.", local(2026, 3, 10, 10, 30)),
        ("You'll hear from us by Friday.", local(2026, 3, 13, 17, 0)),
        ("You'll hear from us by next Friday.", local(2026, 3, 20, 17, 0)),
        ("You'll hear from us on Monday.", local(2026, 3, 16, 17, 0)),
        ("I'll get back to you tomorrow morning.", local(2026, 3, 11, 9, 0)),
        ("I'll get back to you this afternoon.", local(2026, 3, 10, 15, 0)),
        ("I'll ring you first thing tomorrow.", local(2026, 3, 11, 9, 0)),
        ("Expect an answer by end of day.", local(2026, 3, 10, 17, 0)),
        ("We'll let you know by 3pm today.", local(2026, 3, 10, 15, 0)),
        ("Expect a call from me on Thursday at 2pm.", local(2026, 3, 12, 14, 0)),
        ("It will be delivered by the end of the month.", local(2026, 3, 31, 17, 0)),
        ("It will be delivered by the end of next month.", local(2026, 4, 30, 17, 0)),
        ("It will be delivered by the end of the week.", local(2026, 3, 13, 17, 0)),
        ("It will be delivered next week.", local(2026, 3, 20, 17, 0)),
        ("Your report will be ready on March 20.", local(2026, 3, 20, 17, 0)),
        ("Your report will be ready on the 20th of March.", local(2026, 3, 20, 17, 0)),
        ("Your report will be ready on March 10.", local(2026, 3, 10, 17, 0)),
        ("Your report will be ready on March 3.", local(2027, 3, 3, 17, 0)),
        ("Your report will be in your inbox by the 5th.", local(2026, 4, 5, 17, 0)),
        ("We will complete the migration in two weeks.", local(2026, 3, 24, 10, 0)),
        ("Top ranking in 30 days.", local(2026, 4, 9, 10, 0)),
        ("Guaranteed more traffic within six months.", local(2026, 9, 10, 10, 0)),
        ("We will refund your deposit within 5 business days.", local(2026, 3, 17, 10, 0)),
        ("We will refund it within 3 to 5 business days.", local(2026, 3, 17, 10, 0)),
        ("By Friday, you'll have the full keyword report.", local(2026, 3, 13, 17, 0)),
    ],
)
def test_due_times(text: str, due: datetime) -> None:
    assert only(text).due_at == due


@pytest.mark.parametrize(
    "text",
    [
        "We ship within 24 hours of your order.",  # the clock starts at the order
        "We guarantee first-page rankings.",
        "I'll get back to you shortly.",
        "I'll call you as soon as the developers have an update.",
    ],
)
def test_promises_without_a_due_time(text: str) -> None:
    assert only(text).due_at is None


def test_due_times_are_aware_utc() -> None:
    due = only("We will respond within three hours.").due_at
    assert due is not None
    assert due.tzinfo is UTC


def test_hours_are_elapsed_time_across_the_spring_dst_switch() -> None:
    # 2026-03-07 20:00 EST; clocks go forward at 02:00 on 2026-03-08.
    sent = datetime(2026, 3, 7, 20, 0, tzinfo=NY)
    due = only("We will respond within 24 hours.", sent_at=sent).due_at
    assert due == sent.astimezone(UTC) + timedelta(hours=24)
    assert due == local(2026, 3, 8, 21, 0)  # 21:00 EDT: a 24-hour day is not 24 hours long


def test_tomorrow_morning_across_the_spring_dst_switch() -> None:
    sent = datetime(2026, 3, 7, 20, 0, tzinfo=NY)
    due = only("I'll get back to you tomorrow morning.", sent_at=sent).due_at
    assert due == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert due - sent == timedelta(hours=12)  # only 12 real hours after 20:00 EST


def test_days_keep_the_wall_clock_across_the_autumn_dst_switch() -> None:
    sent = datetime(2026, 10, 31, 20, 0, tzinfo=NY)  # EDT; clocks go back on 2026-11-01
    due = only("We will deliver the audit in 1 day.", sent_at=sent).due_at
    assert due == local(2026, 11, 1, 20, 0)
    assert due - sent == timedelta(hours=25)


def test_business_days_skip_the_weekend() -> None:
    friday = datetime(2026, 3, 13, 15, 0, tzinfo=NY)
    due = only("We will refund your deposit within 5 business days.", sent_at=friday).due_at
    assert due == local(2026, 3, 20, 15, 0)


def test_a_weekday_named_on_that_weekday_is_the_next_one() -> None:
    friday = datetime(2026, 3, 13, 9, 0, tzinfo=NY)
    assert only("You'll hear from us by Friday.", sent_at=friday).due_at == local(
        2026, 3, 20, 17, 0
    )


def test_end_of_day_after_business_hours_is_midnight_not_the_past() -> None:
    evening = datetime(2026, 3, 10, 18, 30, tzinfo=NY)
    assert only("Expect an answer by end of day.", sent_at=evening).due_at == local(
        2026, 3, 10, 23, 59
    )


def test_a_clock_time_that_has_passed_today_is_tomorrow() -> None:
    afternoon = datetime(2026, 3, 10, 16, 0, tzinfo=NY)
    assert only("I will call you at 3pm.", sent_at=afternoon).due_at == local(2026, 3, 11, 15, 0)


def test_the_company_time_zone_is_used() -> None:
    sent = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    promise = only("You'll hear from us by Friday.", sent_at=sent, timezone="Europe/Berlin")
    assert promise.due_at == datetime(2026, 3, 13, 16, 0, tzinfo=UTC)  # 17:00 CET


def test_sent_at_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        find_promises("We will respond today.", sent_at=datetime(2026, 3, 10), timezone=NEW_YORK)


# --- number words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("three", 3),
        ("twenty-four", 24),
        ("twenty four", 24),
        ("forty-eight", 48),
        ("ninety", 90),
        ("fifteen", 15),
        ("a couple of", 2),
        ("a couple", 2),
        ("a few", 3),
        ("an", 1),
        ("half an", 0.5),
        ("36", 36),
    ],
)
def test_number_words(words: str, value: float) -> None:
    assert parse_quantity(words) == value


def test_number_words_in_a_reply() -> None:
    due = only("We will reply within forty-eight hours.").due_at
    assert due == TUESDAY_10AM + timedelta(hours=48)


# --- a whole reply, and how fast ------------------------------------------------------------

REPLY = Path(__file__).with_name("sample_reply.txt").read_text()


def test_a_whole_reply() -> None:
    found = find_promises(REPLY, sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    assert [(p.kind.value, REPLY[slice(*p.span)]) for p in found] == [
        ("delivery", "we will deliver the full technical audit by Friday, March 13"),
        ("callback", "I will call you on\nMonday at 10am"),
        ("refund", "we will refund the $250 setup fee within 5 business\ndays"),
        ("price", "your monthly retainer is locked at $1,200 until the end of the year"),
        ("response_time", "you'll hear from us within 24 hours"),
        ("delivery", "your monthly report will be in your inbox by the 5th"),
    ]
    assert [p.due_at for p in found] == [
        local(2026, 3, 13, 17, 0),
        local(2026, 3, 16, 10, 0),
        local(2026, 3, 17, 10, 0),
        local(2026, 12, 31, 17, 0),
        local(2026, 3, 11, 10, 0),
        local(2026, 4, 5, 17, 0),
    ]


def test_a_2000_character_reply_takes_well_under_10_ms() -> None:
    reply = (REPLY * 2)[:2000]
    find_promises(reply, sent_at=TUESDAY_10AM, timezone=NEW_YORK)  # dateparser loads its data
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        find_promises(reply, sent_at=TUESDAY_10AM, timezone=NEW_YORK)
        timings.append(time.perf_counter() - started)
    median_ms = statistics.median(timings) * 1000
    print(f"\n2,000-character reply: {median_ms:.2f} ms (median of 20)")
    assert median_ms < 10


# --- the labelled corpus ---------------------------------------------------------------------


def score_corpus(split: str) -> Score:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    in_split = [row for row in rows if row["split"] == split]
    return score(in_split, sent_at=TUESDAY_10AM, timezone=NEW_YORK)


def test_corpus_shape() -> None:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    kinds = {row["kind"] for row in rows}
    assert len(rows) >= 100
    assert sum(row["kind"] is not None for row in rows) >= 45
    assert sum(row["kind"] is None for row in rows) >= 45
    assert kinds == {None, *(kind.value for kind in CommitmentKind)}
    assert 0.15 <= sum(row["split"] == "holdout" for row in rows) / len(rows) <= 0.35


@pytest.mark.parametrize(
    ("split", "precision_floor", "recall_floor"),
    [("tuned", 0.95, 0.95), ("holdout", 0.95, 0.75)],
)
def test_corpus_precision_and_recall(
    split: str, precision_floor: float, recall_floor: float
) -> None:
    score = score_corpus(split)
    print(
        f"\n{split}: precision {score.precision:.3f} ({score.correct}/{score.found}), "
        f"recall {score.recall:.3f} ({score.correct}/{score.expected}), "
        f"due times {score.due_right}/{score.due_checked}"
    )
    assert score.precision >= precision_floor
    assert score.recall >= recall_floor
    assert score.due_right >= 0.9 * score.due_checked


# --- hostile input: every reply is read in bounded time, with a sensible answer ----------------

LONGEST_BODY = 200_000  # the event contract's ReplySent.body
PROMISE = "We will respond within three hours."

# (what arrived, how many promises it makes)
HOSTILE_REPLIES: list[tuple[str, str, int]] = [
    ("200,000 emoji", "\U0001f620" * LONGEST_BODY, 0),
    ("1 MiB of one word", "a" * 2**20, 0),
    ("only quote markers", "> " * (LONGEST_BODY // 2), 0),
    ("only quote markers, one a line", ">\n" * (LONGEST_BODY // 2), 0),
    ("a run of exclamation marks", "!" * LONGEST_BODY + "x", 0),
    ("a run of full stops", "." * LONGEST_BODY + "x", 0),
    ("a run of spaces after a subject", "we" + " " * LONGEST_BODY + "x", 0),
    ("a run of dashes", "in 5" + " -" * (LONGEST_BODY // 2) + "x", 0),
    ("blank lines", "\n" * LONGEST_BODY, 0),
    ("a quoted promise below a reply header", "Ok.\nOn Mon, Dana wrote:\n" + PROMISE * 5000, 0),
    ("a subject and verb flood", ("we send " * LONGEST_BODY)[:LONGEST_BODY], 0),
    ("a promise, then noise", PROMISE + " " + "\U0001f620" * LONGEST_BODY, 1),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("text", "promises"),
    [(text, promises) for _, text, promises in HOSTILE_REPLIES],
    ids=[name for name, _, _ in HOSTILE_REPLIES],
)
def test_a_hostile_reply_is_read_in_bounded_time(text: str, promises: int) -> None:
    assert len(find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK)) == promises


@pytest.mark.timeout(30)
def test_a_reply_of_promises_without_full_stops_is_read_in_pieces() -> None:
    endless = ("we will send it by Friday at 3pm and " * 6000)[:LONGEST_BODY]

    found = find_promises(endless, sent_at=TUESDAY_10AM, timezone=NEW_YORK)

    assert found
    assert all(p.span[1] <= MAX_REPLY_CHARACTERS for p in found)
    assert all(len(p.sentence) <= MAX_SENTENCE_CHARACTERS for p in found)
    # A cut may fall inside "by Friday at 3pm": only the piece's own words count there.
    due_times = Counter(p.due_at for p in found)
    assert due_times.most_common(1)[0][0] == local(2026, 3, 13, 15, 0)


@pytest.mark.timeout(30)
def test_every_promise_of_a_largest_reply_fits_the_contract() -> None:
    # CommitmentDeclared.text holds at most 5,000 characters, its matched_text 2,000.
    body = (PROMISE + " " + "Some more words about the project and the plan, " * 20) * 500

    found = find_promises(body[:LONGEST_BODY], sent_at=TUESDAY_10AM, timezone=NEW_YORK)

    assert found
    assert all(len(p.sentence) <= 5000 for p in found)
    assert all(p.span[1] - p.span[0] <= 2000 for p in found)


@pytest.mark.timeout(30)
def test_only_the_start_of_a_very_long_reply_is_read() -> None:
    filler = "Here are the notes from our meeting about the site. " * 400
    assert len(filler) > MAX_REPLY_CHARACTERS

    assert only(PROMISE + " " + filler).rule == "response.we_respond"
    assert find_promises(filler + PROMISE, sent_at=TUESDAY_10AM, timezone=NEW_YORK) == []


def sales_reply(body: str) -> ReplySent:
    sales = Person(email="sam.sales@brightline.example", name="Sam Ortega", role=Role.SALES)
    return ReplySent(
        thread_id="thr-1",
        correlation_id="thr-1",
        message_id="msg-1",
        channel=Channel.EMAIL,
        customer=Customer(email="dana@example.com", name="Dana Whitfield"),
        author=sales,
        body=body,
        sent_at=TUESDAY_10AM,
        received_at=TUESDAY_10AM,
    )


async def test_a_reply_is_read_off_the_event_loop_with_the_same_promises() -> None:
    reply = sales_reply(PROMISE)

    found = await promises_in_time(reply, timezone=NEW_YORK, event_id="evt-1")

    assert found == find_promises(PROMISE, sent_at=TUESDAY_10AM, timezone=NEW_YORK)


async def test_over_its_budget_a_reply_yields_no_promises_and_the_log_has_no_text() -> None:
    reply = sales_reply(PROMISE * 10)

    with structlog.testing.capture_logs() as logs:
        found = await promises_in_time(reply, timezone=NEW_YORK, event_id="evt-1", budget=0)

    assert found == []
    assert [(line["thread_id"], line["event_id"], line["body_chars"]) for line in logs] == [
        ("thr-1", "evt-1", len(reply.body))
    ]
    assert "respond" not in str(logs)

"""Promise rules: each kind, its verb forms and idioms, one promise per clause, a whole reply."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from keepword_commitments.extraction import (
    explain_promises,
    find_promises,
)
from keepword_events import CommitmentKind

from .conftest import NEW_YORK, TUESDAY_10AM, local, only

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


def test_one_promise_per_clause_and_the_loser_is_explained() -> None:
    text = "We promise you'll see a 30% increase in leads."
    candidates = explain_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    assert [c.rejected_by for c in candidates] == [None, "one_per_clause"]


# --- who speaks, perfect-tense plans, idioms, a second promise -----------------------------


@pytest.mark.parametrize(
    ("text", "kind", "due"),
    [
        # a first-party subject set off by commas
        (
            "I've sent this to our billing team, who will refund the fee within 3 business days.",
            "refund",
            local(2026, 3, 13, 10, 0),
        ),
        ("Your case is with our network team, who'll reply by Friday.", "response_time", None),
        ("Maya, who runs our help desk, will call you at 4 PM today.", "callback", None),
        ("Priya, our support lead, will reply by Thursday.", "response_time", None),
        # the company's name as subject
        ("Contoso Cloud will restore the service by 18:00 UTC.", "delivery", None),
        ("Fabrikam's support team will get back to you tomorrow.", "response_time", None),
        # plans told in the perfect tense
        ("We've booked you in for a callback on Friday at 9 AM.", "callback", None),
        ("I've scheduled a follow-up with you for Monday.", "response_time", None),
        ("We have scheduled the server upgrade for March 21.", "delivery", None),
        ("We've already refunded the fee; it will reach your card within 5 days.", "refund", None),
        # idioms
        ("We'll turn the translation around within 3 business days.", "delivery", None),
        ("Our devs will push the hotfix live by noon.", "delivery", None),
        ("I'll loop back to you by end of day.", "response_time", None),
    ],
)
def test_who_speaks_plans_and_idioms(text: str, kind: str, due: datetime | None) -> None:
    promise = only(text)
    assert promise.kind == kind
    assert due is None or promise.due_at == due


@pytest.mark.parametrize(
    "text",
    [
        "I had booked a call for Thursday, but the engineer is out.",
        "We haven't scheduled the migration yet.",
        "They have scheduled a call for Thursday.",
        "Our support team, who usually reply within a day, are behind this week.",
        "Jordan, who placed the order, will need to confirm it by Friday.",
        "Please check the delivery address by Friday.",
        "We can turn it around by Friday.",
        "Your order is packed and the courier collects it on Friday.",
    ],
)
def test_what_is_still_not_a_promise(text: str) -> None:
    assert find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK) == []


def test_a_second_promise_joined_by_and_is_found_too() -> None:
    text = "We'll refund the return postage and ship a new one by Friday."
    found = find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    assert [(p.kind, p.rule) for p in found] == [
        (CommitmentKind.REFUND, "refund.we_refund"),
        (CommitmentKind.DELIVERY, "delivery.we_deliver"),
    ]
    assert found[1].due_at == local(2026, 3, 13, 17, 0)


def test_an_and_goes_on_only_from_a_commitment_of_ours() -> None:
    for text in (
        "We'll try to refund the postage and ship a new one by Friday.",
        "They will refund the postage and ship a new one by Friday.",
        "We looked into it and shipped a new one yesterday.",
    ):
        assert find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK) == [], text
    found = find_promises(
        "We received the parcel and will refund you within 5 days.",
        sent_at=TUESDAY_10AM,
        timezone=NEW_YORK,
    )
    assert [p.kind for p in found] == [CommitmentKind.REFUND]


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

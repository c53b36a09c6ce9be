"""Guards: why a rule's match is not a promise, and only within its clause."""

from __future__ import annotations

import pytest
from keepword_commitments.extraction import (
    explain_promises,
    find_promises,
)
from keepword_events import CommitmentKind

from .conftest import NEW_YORK, TUESDAY_10AM, only


def rejection(text: str) -> str | None:
    """Why the first rule match in `text` was rejected (None: it was accepted)."""
    candidates = explain_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    assert candidates, f"no rule matched {text!r}"
    return candidates[0].rejected_by


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


# --- expectations and vague times ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "We anticipate the refund to be issued within 10 days.",
        "We expect your order to ship by Thursday, March 12.",
        "You should receive your refund within 3-5 business days.",
        "Your replacement unit should arrive within 3-5 business days.",
        "The outage is expected to be resolved by 16:00 UTC.",
        "We estimate the repair will be completed within 10 business days.",
    ],
)
def test_an_expectation_with_a_time_a_clock_can_check_is_a_promise(text: str) -> None:
    assert only(text).due_at is not None


@pytest.mark.parametrize(
    ("text", "guard"),
    [
        ("We expect to ship the audit soon.", "hedge"),
        ("We anticipate the refund to be issued.", "hedge"),
        ("Your package will likely arrive on Friday.", "hedge"),
        ("We'll get back to you shortly.", "vague_time"),
        ("Our team will be in touch in due course.", "vague_time"),
        ("We'll get your order out to you as soon as possible.", "vague_time"),
        ("We'll respond at our earliest convenience.", "vague_time"),
    ],
)
def test_hedges_and_vague_times_are_not_recorded(text: str, guard: str) -> None:
    assert rejection(text) == guard
    assert find_promises(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK) == []

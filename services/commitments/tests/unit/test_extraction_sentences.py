"""Sentences: quoted words are someone else's, spans point into the original, and every reply
is read in bounded time with a sensible answer."""

from __future__ import annotations

from collections import Counter

import pytest
from keepword_commitments.extraction import (
    MAX_REPLY_CHARACTERS,
    MAX_SENTENCE_CHARACTERS,
    find_promises,
)
from keepword_events import CommitmentKind

from .conftest import NEW_YORK, TUESDAY_10AM, local, only

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
